// Bad GGUF input: each case ends in a one-line error naming the file and the
// problem, without crashing or allocating what the header claims.
#include <gtest/gtest.h>

#include <fstream>

#include "gguf_builder.h"
#include "model/gguf.h"
#include "model/model.h"
#include "model_test_util.h"

namespace kiln::model::gguf {
namespace {

using test::GgufBuilder;
constexpr uint64_t k2p60 = uint64_t{1} << 60;

std::string parse_error(const std::vector<uint8_t>& bytes) {
  auto r = GgufFile::parse(std::as_bytes(std::span(bytes)), "bad.gguf");
  if (r.ok()) return "OK";
  EXPECT_EQ(r.message().rfind("bad.gguf: ", 0), 0u) << r.message();
  EXPECT_EQ(r.message().find('\n'), std::string::npos) << r.message();
  return r.message();
}

#define EXPECT_ERROR(bytes, text)                                     \
  do {                                                                \
    const std::string msg_ = parse_error(bytes);                      \
    EXPECT_NE(msg_.find(text), std::string::npos) << "got: " << msg_; \
  } while (0)

// A valid file: two F32 tensors of 8 elements and a few keys.
GgufBuilder valid() {
  GgufBuilder b;
  b.kv_str("general.architecture", "llama").kv_u32("llama.block_count", 1);
  b.tensor("a", 0, {8}, 0).tensor("b", 0, {4, 2}, 32).data(64, 1);
  return b;
}

TEST(GgufBadInput, ValidBaselineParses) {
  auto bytes = valid().build();
  auto r = GgufFile::parse(std::as_bytes(std::span(bytes)), "ok.gguf");
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ((*r)->tensors().size(), 2u);
  EXPECT_EQ((*r)->tensors()[1].ne, (std::vector<int64_t>{4, 2}));
  EXPECT_EQ((*r)->tensors()[1].n_bytes, 32u);
}

TEST(GgufBadInput, EveryTruncationFails) {
  const auto bytes = valid().build();
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(n));
    const std::string msg = parse_error(cut);
    EXPECT_NE(msg, "OK") << "prefix of " << n << " bytes parsed";
  }
}

TEST(GgufBadInput, TruncatedRealFile) {
  auto path = test::find_gguf("tiny-llama-q4_K.gguf");
  ASSERT_TRUE(path);
  std::ifstream in(*path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  bytes.resize(bytes.size() / 2);
  EXPECT_ERROR(bytes, "runs past the end of the file");
  bytes.resize(5000);  // inside the vocabulary
  EXPECT_ERROR(bytes, "truncated file");
}

TEST(GgufBadInput, WrongMagic) {
  auto bytes = valid().build();
  bytes[0] = 'X';
  EXPECT_ERROR(bytes, "not a GGUF file (bad magic)");
  const std::vector<uint8_t> tiny{'G', 'G'};
  EXPECT_ERROR(tiny, "file too small");
}

TEST(GgufBadInput, UnsupportedVersion) {
  EXPECT_ERROR(GgufBuilder(1).build(), "GGUF version 1 is not supported");
  EXPECT_ERROR(GgufBuilder(4).build(), "unsupported GGUF version 4");
  EXPECT_ERROR(GgufBuilder(0x03000000).build(), "big-endian");
  EXPECT_EQ(parse_error(GgufBuilder(2).build()), "OK");
}

TEST(GgufBadInput, TensorPastEnd) {
  GgufBuilder b;
  b.tensor("a", 0, {8}, 0).tensor("b", 0, {8}, 64).data(64);
  EXPECT_ERROR(b.build(), "tensor 'b' (offset 64, 32 bytes) runs past the end of the file");
  GgufBuilder c;
  c.tensor("big", 0, {1000}, 0).data(64);
  EXPECT_ERROR(c.build(), "tensor 'big' (offset 0, 4000 bytes) runs past the end");
  GgufBuilder d;
  d.tensor("far", 0, {8}, k2p60).data(64);
  EXPECT_ERROR(d.build(), "runs past the end");
}

TEST(GgufBadInput, OverlappingTensors) {
  GgufBuilder b;
  b.tensor("a", 0, {16}, 0).tensor("b", 0, {8}, 32).data(128);
  EXPECT_ERROR(b.build(), "tensors 'a' and 'b' overlap");
}

TEST(GgufBadInput, AbsurdCounts) {
  EXPECT_ERROR(GgufBuilder().counts(k2p60, 0).build(),
               "tensor count 1152921504606846976 cannot fit");
  EXPECT_ERROR(GgufBuilder().counts(0, k2p60).build(),
               "metadata count 1152921504606846976 cannot fit");

  std::vector<uint8_t> key_len;  // a key whose length is 2^60
  GgufBuilder::put_u64(key_len, k2p60);
  EXPECT_ERROR(GgufBuilder().kv_raw(key_len).data(64).build(),
               "metadata key length 1152921504606846976");

  std::vector<uint8_t> str;  // a string value whose length is 2^60
  GgufBuilder::put_str(str, "k");
  GgufBuilder::put_u32(str, 8);
  GgufBuilder::put_u64(str, k2p60);
  EXPECT_ERROR(GgufBuilder().kv_raw(str).build(), "string value length 1152921504606846976");

  for (uint32_t elem : {0u, 8u, 9u}) {  // u8, string and nested arrays of 2^60 elements
    std::vector<uint8_t> arr;
    GgufBuilder::put_str(arr, "arr");
    GgufBuilder::put_u32(arr, 9);
    GgufBuilder::put_u32(arr, elem);
    GgufBuilder::put_u64(arr, k2p60);
    EXPECT_ERROR(GgufBuilder().kv_raw(arr).build(),
                 "metadata key 'arr': array length 1152921504606846976 runs past the end");
  }

  GgufBuilder dims;  // 2^60 x 2^60 elements
  dims.tensor("t", 0, {k2p60, k2p60}, 0).data(64);
  EXPECT_ERROR(dims.build(), "tensor 't' has an absurd shape");
}

TEST(GgufBadInput, DeeplyNestedArrays) {
  std::vector<uint8_t> arr;
  GgufBuilder::put_str(arr, "deep");
  GgufBuilder::put_u32(arr, 9);
  for (int i = 0; i < 100; ++i) {
    GgufBuilder::put_u32(arr, 9);
    GgufBuilder::put_u64(arr, 1);
  }
  EXPECT_ERROR(GgufBuilder().kv_raw(arr).build(), "nested too deeply");
}

// Arrays of arrays (elements carry no type tag) parse, as gguf-py writes them.
TEST(GgufBadInput, NestedArraysParse) {
  std::vector<uint8_t> arr;
  GgufBuilder::put_str(arr, "nested");
  GgufBuilder::put_u32(arr, 9);
  GgufBuilder::put_u32(arr, 9);
  GgufBuilder::put_u64(arr, 2);
  for (uint32_t n : {2u, 1u}) {  // [[7, 8], [9]] as i32
    GgufBuilder::put_u32(arr, 5);
    GgufBuilder::put_u64(arr, n);
    for (uint32_t k = 0; k < n; ++k) GgufBuilder::put_u32(arr, 7 + k + (n == 1 ? 2 : 0));
  }
  const auto bytes = GgufBuilder().kv_raw(arr).build();
  auto r = GgufFile::parse(std::as_bytes(std::span(bytes)), "nested.gguf");
  ASSERT_TRUE(r.ok()) << r.message();
  const Value* v = (*r)->find("nested");
  ASSERT_NE(v, nullptr);
  ASSERT_EQ(v->size(), 2u);
  EXPECT_EQ(v->element_type(), ValueType::kArray);
  EXPECT_EQ(v->at(0).to_ints(), (std::vector<int64_t>{7, 8}));
  EXPECT_EQ(v->at(1).to_ints(), (std::vector<int64_t>{9}));
}

TEST(GgufBadInput, WrongTypesAndIds) {
  EXPECT_ERROR(GgufBuilder().kv_str("general.alignment", "32").build(),
               "'general.alignment' must be u32, not string");
  EXPECT_ERROR(GgufBuilder().kv_u32("general.alignment", 24).build(), "not a power of two");
  std::vector<uint8_t> kv;
  GgufBuilder::put_str(kv, "k");
  GgufBuilder::put_u32(kv, 13);
  EXPECT_ERROR(GgufBuilder().kv_raw(kv).build(), "metadata key 'k' has unknown value type 13");

  GgufBuilder t;
  t.tensor("t", 77, {8}, 0).data(64);
  EXPECT_ERROR(t.build(), "tensor 't' has unknown type id 77");
  GgufBuilder d5;
  d5.tensor("t", 0, {1, 1, 1, 1, 1}, 0).data(64);
  EXPECT_ERROR(d5.build(), "tensor 't' has 5 dimensions");
  GgufBuilder q;
  q.tensor("q", 12, {100}, 0).data(1024);  // Q4_K rows are whole 256-element blocks
  EXPECT_ERROR(q.build(), "row length 100 is not a multiple of the Q4_K block size 256");
  GgufBuilder mis;
  mis.tensor("t", 0, {4}, 4).data(64);
  EXPECT_ERROR(mis.build(), "offset 4 is not a multiple of the alignment 32");
}

TEST(GgufBadInput, Duplicates) {
  GgufBuilder t;
  t.tensor("w", 0, {8}, 0).tensor("w", 0, {8}, 32).data(64);
  EXPECT_ERROR(t.build(), "duplicate tensor name 'w'");
  EXPECT_ERROR(GgufBuilder().kv_u32("a", 1).kv_u32("a", 2).build(), "duplicate metadata key 'a'");
}

// A model-level key of the wrong type fails load_model with the key's name.
TEST(GgufBadInput, ModelKeyOfWrongType) {
  GgufBuilder b;
  b.kv_str("general.architecture", "llama").kv_str("llama.block_count", "two");
  const auto path = std::filesystem::path(::testing::TempDir()) / "wrong_type.gguf";
  {
    const auto bytes = b.build();
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
  }
  auto r = load_model(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("wrong_type.gguf: metadata key 'llama.context_length' is missing"),
            std::string::npos)
      << r.message();

  GgufBuilder c;
  c.kv_str("general.architecture", "llama")
      .kv_u32("llama.context_length", 8)
      .kv_str("llama.embedding_length", "64");
  {
    const auto bytes = c.build();
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
  }
  r = load_model(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(
      r.message().find("metadata key 'llama.embedding_length' should be an integer, not string"),
      std::string::npos)
      << r.message();

  GgufBuilder u;
  u.kv_str("general.architecture", "mamba");
  {
    const auto bytes = u.build();
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
  }
  r = load_model(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("unsupported architecture 'mamba'"), std::string::npos) << r.message();
}

}  // namespace
}  // namespace kiln::model::gguf
