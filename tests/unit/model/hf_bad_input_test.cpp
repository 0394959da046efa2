// Bad safetensors files and bad HF directories: one-line errors naming the
// file and the problem; no crash, no allocation sized by the header.
#include <gtest/gtest.h>

#include <fstream>

#include "model/model.h"
#include "model/safetensors.h"
#include "model_test_util.h"

namespace kiln::model {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> st_bytes(const std::string& header, size_t data_bytes, uint64_t len = 0) {
  std::vector<uint8_t> b(8 + header.size() + data_bytes, 0);
  const uint64_t n = len != 0 ? len : header.size();
  std::memcpy(b.data(), &n, 8);
  if (!header.empty()) std::memcpy(b.data() + 8, header.data(), header.size());
  return b;
}

std::string st_error(const std::vector<uint8_t>& bytes) {
  auto r = safetensors::SafetensorsFile::parse(std::as_bytes(std::span(bytes)), "bad.safetensors");
  if (r.ok()) return "OK";
  EXPECT_EQ(r.message().rfind("bad.safetensors: ", 0), 0u) << r.message();
  EXPECT_EQ(r.message().find('\n'), std::string::npos);
  return r.message();
}

#define EXPECT_HAS(msg, text) EXPECT_NE((msg).find(text), std::string::npos) << "got: " << (msg)

TEST(SafetensorsBadInput, Header) {
  EXPECT_EQ(st_error(st_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8)),
            "OK");
  EXPECT_HAS(st_error({1, 2, 3}), "file too small");
  EXPECT_HAS(st_error(st_bytes("{}", 0, uint64_t{1} << 60)), "over the 100 MB limit");
  EXPECT_HAS(st_error(st_bytes("{}", 0, 1000)), "header length 1000 runs past the end");
  EXPECT_HAS(st_error(st_bytes("{not json", 0)), "header is not valid JSON");
  EXPECT_HAS(st_error(st_bytes("[1, 2]", 0)), "header is not a JSON object");
  EXPECT_HAS(st_error(st_bytes(std::string(100, '[') + std::string(100, ']'), 0)),
             "nested too deeply");
  EXPECT_HAS(st_error(st_bytes(R"({"__metadata__":{"a":1}})", 0)), "__metadata__ value of 'a'");
}

TEST(SafetensorsBadInput, Entries) {
  EXPECT_HAS(st_error(st_bytes(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8)),
             "tensor 'a': data_offsets span 8 bytes but F32 shape needs 12");
  EXPECT_HAS(st_error(st_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4)),
             "tensor 'a' data_offsets end 8 runs past the end of the file");
  EXPECT_HAS(st_error(st_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8)),
             "bad data_offsets");
  EXPECT_HAS(st_error(st_bytes(R"({"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", 8)),
             "tensor 'a' has unknown dtype 'Q4'");
  EXPECT_HAS(st_error(st_bytes(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8)),
             "not a non-negative integer");
  EXPECT_HAS(st_error(st_bytes(R"({"a":{"dtype":"F32","shape":[2]}})", 8)), "no data_offsets");
  EXPECT_HAS(
      st_error(st_bytes(
          R"({"a":{"dtype":"F32","shape":[1152921504606846976,1152921504606846976],"data_offsets":[0,8]}})",
          8)),
      "absurd");
  EXPECT_HAS(st_error(st_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                               R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                               12)),
             "tensors 'a' and 'b' overlap");
  EXPECT_HAS(st_error(st_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                               R"("a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                               16)),
             "duplicate tensor name 'a'");
}

TEST(SafetensorsBadInput, EveryTruncationOfARealFileFails) {
  std::ifstream in(test::data_dir() / "models/safetensors/dtypes.safetensors", std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  ASSERT_EQ(st_error(bytes), "OK");
  for (size_t n = 0; n + 1 < bytes.size(); n += 7) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(n));
    EXPECT_NE(st_error(cut), "OK") << n;
  }
}

// A writable copy of hf-tiny-<name> for breaking one thing.
class HfDir {
 public:
  explicit HfDir(const std::string& name) {
    dir_ = fs::path(::testing::TempDir()) /
           ("kiln_bad_" + name + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::copy(test::data_dir() / "models" / ("hf-tiny-" + name), dir_);
  }
  ~HfDir() { fs::remove_all(dir_); }
  const fs::path& path() const { return dir_; }
  std::string read(const std::string& file) const {
    std::ifstream in(dir_ / file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  void write(const std::string& file, const std::string& text) const {
    std::ofstream(dir_ / file, std::ios::binary | std::ios::trunc) << text;
  }
  void edit_config(const std::string& from, const std::string& to) const {
    std::string s = read("config.json");
    const auto at = s.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    s.replace(at, from.size(), to);
    write("config.json", s);
  }
  std::string load_error() const {
    auto r = load_model(dir_);
    if (r.ok()) return "OK";
    EXPECT_EQ(r.message().find('\n'), std::string::npos) << r.message();
    return r.message();
  }

 private:
  fs::path dir_;
};

TEST(HfBadInput, UnknownArchitecture) {
  HfDir d("llama");
  d.edit_config("\"LlamaForCausalLM\"", "\"MambaForCausalLM\"");
  d.edit_config("\"model_type\": \"llama\"", "\"model_type\": \"mamba\"");
  const auto msg = d.load_error();
  EXPECT_HAS(msg, "config.json: unknown architecture 'MambaForCausalLM'");
}

TEST(HfBadInput, ConfigFieldWrongTypeOrMissing) {
  HfDir d("llama");
  d.edit_config("\"hidden_size\": 64", "\"hidden_size\": \"64\"");
  EXPECT_HAS(d.load_error(), "config.json: field 'hidden_size' should be an integer, not string");
  HfDir e("llama");
  e.edit_config("\"num_hidden_layers\": 2,", "");
  EXPECT_HAS(e.load_error(), "config.json: field 'num_hidden_layers' is missing");
  HfDir f("llama");
  f.write("config.json", "{\"architectures\": [\"LlamaForCausalLM\"");
  EXPECT_HAS(f.load_error(), "config.json: not valid JSON");
  HfDir g("llama");
  g.edit_config("\"vocab_size\": 512", "\"vocab_size\": 1000");
  EXPECT_HAS(g.load_error(), "vocab_size 1000 disagrees with embed_tokens rows 512");
  HfDir h("llama");
  h.edit_config("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3");
  EXPECT_HAS(h.load_error(), "missing tensor 'blk.2.attn_norm.weight'");
  HfDir i("llama");
  i.edit_config("\"num_key_value_heads\": 2", "\"num_key_value_heads\": 4");
  EXPECT_HAS(i.load_error(), "tensor 'blk.0.attn_k.weight' has shape [32, 64], expected [64, 64]");
}

TEST(HfBadInput, MissingShard) {
  HfDir d("qwen2");
  fs::remove(d.path() / "model-00002-of-00003.safetensors");
  EXPECT_HAS(d.load_error(),
             "model.safetensors.index.json: shard 'model-00002-of-00003.safetensors' is missing");
}

TEST(HfBadInput, IndexNamesTensorNotInShard) {
  HfDir d("qwen2");
  std::string s = d.read("model.safetensors.index.json");
  const std::string from = "\"lm_head.weight\": \"model-00003-of-00003.safetensors\"";
  ASSERT_NE(s.find(from), std::string::npos);
  s.replace(s.find(from), from.size(), "\"lm_head.weight\": \"model-00001-of-00003.safetensors\"");
  d.write("model.safetensors.index.json", s);
  EXPECT_HAS(d.load_error(), "tensor 'lm_head.weight' is not in shard 'model-00001-of-00003");
}

TEST(HfBadInput, NoWeights) {
  HfDir d("llama");
  fs::remove(d.path() / "model.safetensors");
  EXPECT_HAS(d.load_error(), "no model.safetensors or model.safetensors.index.json in directory");
}

// A safetensors file with an unsupported dtype or an unknown tensor name.
TEST(HfBadInput, UnsupportedDtypeAndUnknownTensor) {
  HfDir d("llama");
  std::string st = d.read("model.safetensors");
  uint64_t n = 0;
  std::memcpy(&n, st.data(), 8);
  std::string header = st.substr(8, n);
  const std::string from = "\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[64]";
  ASSERT_NE(header.find(from), std::string::npos) << header.substr(0, 300);
  std::string bad = header;
  bad.replace(bad.find(from), from.size(),
              "\"model.norm.weight\":{\"dtype\":\"F16\",\"shape\":[64]");
  d.write("model.safetensors", st.substr(0, 8) + bad + st.substr(8 + n));
  EXPECT_HAS(d.load_error(),
             "model.safetensors: tensor 'model.norm.weight': data_offsets span 256 bytes but F16 "
             "shape needs 128");

  bad = header;
  bad.replace(bad.find(from), from.size(),
              "\"model.norm.weight\":{\"dtype\":\"U32\",\"shape\":[64]");
  d.write("model.safetensors", st.substr(0, 8) + bad + st.substr(8 + n));
  EXPECT_HAS(
      d.load_error(),
      "model.safetensors: tensor 'model.norm.weight' has dtype U32, which Kiln does not support");

  bad = header;
  bad.replace(bad.find(from), from.size(),
              "\"model.norm.wheight\":{\"dtype\":\"F32\",\"shape\":[64]");
  d.write("model.safetensors", st.substr(0, 8) + bad + st.substr(8 + n));
  EXPECT_HAS(d.load_error(), "unknown tensor 'model.norm.wheight' for llama");
}

TEST(HfBadInput, TokenizerConfigTemplateOfWrongType) {
  HfDir d("llama");
  std::string s = d.read("tokenizer_config.json");
  const std::string key = "\"chat_template\": \"";
  const auto at = s.find(key);
  ASSERT_NE(at, std::string::npos);
  s.replace(at, key.size(), "\"chat_template\": 5, \"x\": \"");
  d.write("tokenizer_config.json", s);
  EXPECT_HAS(d.load_error(),
             "tokenizer_config.json: field 'chat_template' should be a string or a list");
}

}  // namespace
}  // namespace kiln::model
