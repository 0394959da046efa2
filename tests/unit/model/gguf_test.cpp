// The GGUF reader against what the `gguf` Python package reads from the same
// files (tests/data/models/gguf_expected.json, scripts/make_model_expectations.py).
#include "model/gguf.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>

#include "model_test_util.h"

namespace kiln::model::gguf {
namespace {

using nlohmann::json;

// gguf-py's GGUFValueType names, in GGUF's numbering.
constexpr std::array<const char*, 13> kPyTypeNames = {
    "UINT8", "INT8",   "UINT16", "INT16",  "UINT32", "INT32",  "FLOAT32",
    "BOOL",  "STRING", "ARRAY",  "UINT64", "INT64",  "FLOAT64"};

std::string py_name(ValueType t) { return kPyTypeNames[static_cast<size_t>(t)]; }

std::string hex(const std::byte* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    const auto b = static_cast<unsigned>(p[i]);
    s += d[b >> 4];
    s += d[b & 15];
  }
  return s;
}

void expect_scalar(const Value& v, const json& want, const std::string& key) {
  const std::string t = want["type"];
  if (t == "STRING") {
    ASSERT_TRUE(v.to_string()) << key;
    EXPECT_EQ(v.to_string()->size(), want["length"].get<size_t>()) << key;
    if (want.contains("value")) {
      EXPECT_EQ(*v.to_string(), want["value"].get<std::string>()) << key;
    }
    if (want.contains("prefix")) {
      EXPECT_TRUE(v.to_string()->starts_with(want["prefix"].get<std::string>())) << key;
    }
  } else if (t == "BOOL") {
    EXPECT_EQ(v.to_bool(), want["value"].get<bool>()) << key;
  } else if (t == "FLOAT32" || t == "FLOAT64") {
    EXPECT_EQ(v.to_float(), want["value"].get<double>()) << key;
    EXPECT_FALSE(v.to_int()) << key;
  } else {
    EXPECT_EQ(v.to_int(), want["value"].get<int64_t>()) << key;
  }
}

void expect_item(const Value& v, const json& want, ValueType et, const std::string& key) {
  if (et == ValueType::kString) {
    EXPECT_EQ(v.to_string(), want.get<std::string>()) << key;
  } else if (et == ValueType::kF32 || et == ValueType::kF64) {
    EXPECT_EQ(v.to_float(), want.get<double>()) << key;
  } else if (et == ValueType::kBool) {
    EXPECT_EQ(v.to_bool(), want.get<bool>()) << key;
  } else {
    EXPECT_EQ(v.to_int(), want.get<int64_t>()) << key;
  }
}

class GgufFiles : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufFiles, MatchesGgufPy) {
  const std::string name = GetParam();
  const auto path = test::find_gguf(name);
  if (!path)
    GTEST_SKIP() << name << " not found (tests/data/models/gguf, ../shared or default model)";
  const json& want = test::gguf_expected()[name];

  auto r = GgufFile::open(*path);
  ASSERT_TRUE(r.ok()) << r.message();
  const GgufFile& f = **r;
  EXPECT_EQ(f.version(), want["version"].get<uint32_t>());
  EXPECT_EQ(f.alignment(), want["alignment"].get<uint64_t>());
  EXPECT_EQ(f.metadata().size(), want["n_kv"].get<size_t>());

  for (const auto& [key, w] : want["metadata"].items()) {
    const Value* v = f.find(key);
    ASSERT_NE(v, nullptr) << key;
    EXPECT_EQ(py_name(v->type()), w["type"].get<std::string>()) << key;
    if (v->type() != ValueType::kArray) {
      expect_scalar(*v, w, key);
      continue;
    }
    EXPECT_EQ(py_name(v->element_type()), w["element_type"].get<std::string>()) << key;
    ASSERT_EQ(v->size(), w["length"].get<size_t>()) << key;
    if (!w.contains("first")) continue;
    const auto& first = w["first"];
    for (size_t i = 0; i < first.size(); ++i)
      expect_item(v->at(i), first[i], v->element_type(), key);
    if (v->size() > 0) {
      expect_item(v->at(v->size() - 1), w["last"], v->element_type(), key);
      expect_item(v->at(v->size() / 2), w["mid"], v->element_type(), key);
    }
  }

  const auto& wt = want["tensors"];
  ASSERT_EQ(f.tensors().size(), wt.size());
  const auto* base = f.mapping()->bytes().data();
  for (size_t i = 0; i < wt.size(); ++i) {
    const TensorInfo& t = f.tensors()[i];
    const json& w = wt[i];
    SCOPED_TRACE(t.name);
    EXPECT_EQ(t.name, w["name"].get<std::string>());
    EXPECT_EQ(f.find_tensor(t.name), &t);
    EXPECT_EQ(t.type, w["type"].get<uint32_t>());
    EXPECT_EQ(t.ne, w["ne"].get<std::vector<int64_t>>());
    EXPECT_EQ(t.n_bytes, w["n_bytes"].get<uint64_t>());
    EXPECT_EQ(static_cast<uint64_t>(t.data - base), w["file_offset"].get<uint64_t>());
    EXPECT_EQ(hex(t.data, 16), w["first16"].get<std::string>());
    EXPECT_EQ(hex(t.data + t.n_bytes - 16, 16), w["last16"].get<std::string>());
    uint64_t sum = 0;
    for (uint64_t k = 0; k < t.n_bytes; ++k) sum += static_cast<uint8_t>(t.data[k]);
    EXPECT_EQ(sum, w["byte_sum"].get<uint64_t>());
  }
}

std::vector<std::string> expected_names() {
  std::vector<std::string> names;
  for (const auto& [k, v] : test::gguf_expected().items()) names.push_back(k);
  return names;
}

INSTANTIATE_TEST_SUITE_P(All, GgufFiles, ::testing::ValuesIn(expected_names()),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& c : s)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return s;
                         });

// The tokenizer reads these through the typed getters; check them on the default model.
TEST(GgufTypedGetters, DefaultModelVocabulary) {
  const auto path = test::default_model_path();
  if (!path) GTEST_SKIP() << "default model not installed (scripts/setup.sh)";
  auto r = GgufFile::open(*path);
  ASSERT_TRUE(r.ok()) << r.message();
  const GgufFile& f = **r;
  auto tokens = f.get_strings("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 262144u);
  EXPECT_EQ((*tokens)[2], "<bos>");
  auto scores = f.get_floats("tokenizer.ggml.scores");
  ASSERT_TRUE(scores.ok());
  EXPECT_EQ(scores->size(), 262144u);
  auto types = f.get_ints("tokenizer.ggml.token_type");
  ASSERT_TRUE(types.ok());
  EXPECT_EQ((*types)[0], 3);
  EXPECT_EQ(*f.get_int("tokenizer.ggml.bos_token_id"), 2);
  EXPECT_EQ(*f.get_bool("tokenizer.ggml.add_bos_token"), true);
  EXPECT_EQ(*f.get_string("tokenizer.ggml.pre"), "default");
  // Wrong type and missing keys are errors naming the file and key.
  auto bad = f.get_string("tokenizer.ggml.bos_token_id");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("'tokenizer.ggml.bos_token_id' should be a string, not u32"),
            std::string::npos)
      << bad.message();
  EXPECT_NE(bad.message().find(path->string()), std::string::npos);
  auto missing = f.get_int("tokenizer.ggml.eot_token_id");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("is missing"), std::string::npos);
  EXPECT_EQ(*f.get_int("tokenizer.ggml.eot_token_id", -1), -1);
  EXPECT_FALSE(f.get_floats("tokenizer.ggml.tokens").ok());
}

}  // namespace
}  // namespace kiln::model::gguf
