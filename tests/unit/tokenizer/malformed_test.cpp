// Bad tokenizer files fail to load with a one-line message naming the file
// and the field; they never crash.
#include <gtest/gtest.h>

#include <cstring>

#include "model/gguf.h"
#include "test_paths.h"
#include "tokenizer/tokenizer.h"

namespace kiln::tokenizer {
namespace {

// A tiny valid byte-level BPE tokenizer.json with `patch` spliced in.
std::string tiny_json(const std::string& model, const std::string& extra = "") {
  return R"({"version":"1.0","added_tokens":[],"normalizer":null,)"
         R"("pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":true},)"
         R"("post_processor":null,"decoder":{"type":"ByteLevel"},)" +
         extra + R"("model":)" + model + "}";
}
const std::string kGoodModel =
    R"({"type":"BPE","vocab":{"a":0,"b":1,"ab":2,"Ġ":3},"merges":["a b"]})";

void expect_error(std::string_view json, std::string_view needle) {
  auto t = Tokenizer::from_json(json, {}, "bad.json");
  ASSERT_FALSE(t.ok()) << "expected an error containing '" << needle << "'";
  EXPECT_EQ(t.message().rfind("bad.json", 0), 0u) << t.message();
  EXPECT_NE(t.message().find(needle), std::string::npos) << t.message();
  EXPECT_EQ(t.message().find('\n'), std::string::npos) << t.message();
}

TEST(MalformedJson, TheTinyTokenizerWorks) {
  auto t = Tokenizer::from_json(tiny_json(kGoodModel));
  ASSERT_TRUE(t.ok()) << t.message();
  EXPECT_EQ(t->encode("ab a", false), (std::vector<TokenId>{2, 3, 0}));
  EXPECT_EQ(t->decode(std::vector<TokenId>{2, 3, 0}, false), "ab a");
}

TEST(MalformedJson, ReportsTheProblem) {
  expect_error("", "not valid JSON");
  expect_error("not json", "not valid JSON");
  expect_error(R"({"model": )", "not valid JSON");
  expect_error("[1, 2]", "not a JSON object");
  expect_error(tiny_json(R"({"type":"Unigram","vocab":[["a",0.0]]})"),
               "model type 'Unigram' is not supported");
  expect_error(tiny_json(R"({"type":"WordPiece","vocab":{"a":0}})"), "model type 'WordPiece'");
  expect_error(tiny_json(R"({"type":"BPE","merges":[]})"), "model.vocab");
  expect_error(tiny_json(R"({"type":"BPE","vocab":{"a":"zero"},"merges":[]})"),
               "model.vocab: id of 'a'");
  expect_error(tiny_json(R"({"type":"BPE","vocab":{"a":-3},"merges":[]})"), "model.vocab");
  expect_error(tiny_json(R"({"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a q"]})"),
               "merge #0 'a q' uses token 'q' that is not in the vocabulary");
  expect_error(tiny_json(R"({"type":"BPE","vocab":{"a":0,"b":1},"merges":["a b"]})"),
               "uses token 'ab'");
  expect_error(tiny_json(R"({"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["ab"]})"),
               "model.merges[0]");
  expect_error(tiny_json(R"({"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":[["a"]]})"),
               "model.merges[0]");
  expect_error(tiny_json(R"({"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":[7]})"),
               "model.merges");
  expect_error(tiny_json(R"({"type":"BPE","vocab":{"a":0,"zz":2000000000},"merges":[]})"),
               "too sparse");
  expect_error(tiny_json(kGoodModel,
                         R"("normalizer":{"type":"Precompiled","precompiled_charsmap":"AA=="},)"),
               "normalizer type 'Precompiled' is not supported");
  expect_error(tiny_json(kGoodModel, R"("decoder":{"type":"CTC"},)"), "decoder type 'CTC'");
  expect_error(
      tiny_json(
          kGoodModel,
          R"("pre_tokenizer":{"type":"Split","pattern":{"Regex":"(a"},"behavior":"Isolated"},)"),
      "does not compile");
  expect_error(
      tiny_json(
          kGoodModel,
          R"("pre_tokenizer":{"type":"Split","pattern":{"Regex":"a"},"behavior":"Sideways"},)"),
      "unknown split behavior 'Sideways'");
  expect_error(
      tiny_json(
          kGoodModel,
          R"("pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"ByteLevel"},{"type":"Digits"}]},)"),
      "after ByteLevel");
  expect_error(tiny_json(kGoodModel, R"("added_tokens":[{"content":"<x>"}],)"), "added_tokens[0]");
  expect_error(
      tiny_json(
          kGoodModel,
          R"("post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<nope>"}},{"Sequence":{"id":"A"}}]},)"),
      "special token '<nope>'");
}

TEST(MalformedFiles, MissingPathsNameThemselves) {
  auto t = Tokenizer::load(::kiln::test::data_dir() / "tokenizer" / "no-such-file.json");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.message().find("no-such-file.json"), std::string::npos);
  auto d = Tokenizer::load(::kiln::test::data_dir() / "tokenizer" / "corpus");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.message().find("no tokenizer.json"), std::string::npos);
}

// A GGUF v3 file with metadata only.
class GgufBuilder {
 public:
  GgufBuilder& str(const std::string& key, const std::string& v) {
    header(key, 8);
    string(v);
    ++n_;
    return *this;
  }
  GgufBuilder& u32(const std::string& key, uint32_t v) {
    header(key, 4);
    pod(v);
    ++n_;
    return *this;
  }
  GgufBuilder& strings(const std::string& key, const std::vector<std::string>& v) {
    header(key, 9);
    pod(uint32_t{8});
    pod(uint64_t(v.size()));
    for (const auto& s : v) string(s);
    ++n_;
    return *this;
  }
  GgufBuilder& floats(const std::string& key, const std::vector<float>& v) {
    header(key, 9);
    pod(uint32_t{6});
    pod(uint64_t(v.size()));
    for (float f : v) pod(f);
    ++n_;
    return *this;
  }
  GgufBuilder& ints(const std::string& key, const std::vector<int32_t>& v) {
    header(key, 9);
    pod(uint32_t{5});
    pod(uint64_t(v.size()));
    for (int32_t x : v) pod(x);
    ++n_;
    return *this;
  }
  std::vector<std::byte> bytes() const {
    std::string out = "GGUF";
    auto put = [&](auto v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); };
    put(uint32_t{3});
    put(uint64_t{0});
    put(uint64_t(n_));
    out += body_;
    std::vector<std::byte> b(out.size());
    std::memcpy(b.data(), out.data(), out.size());
    return b;
  }

 private:
  template <typename T>
  void pod(T v) {
    body_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void string(const std::string& s) {
    pod(uint64_t(s.size()));
    body_ += s;
  }
  void header(const std::string& key, uint32_t type) {
    string(key);
    pod(type);
  }
  std::string body_;
  size_t n_ = 0;
};

util::Result<Tokenizer> from_gguf(const GgufBuilder& b) {
  const auto bytes = b.bytes();
  auto f = model::gguf::GgufFile::parse(bytes, "bad.gguf");
  if (!f.ok()) return f.error();
  return Tokenizer::from_gguf(*f.value());
}

void expect_gguf_error(const GgufBuilder& b, std::string_view needle) {
  auto t = from_gguf(b);
  ASSERT_FALSE(t.ok()) << "expected an error containing '" << needle << "'";
  EXPECT_NE(t.message().find("bad.gguf"), std::string::npos) << t.message();
  EXPECT_NE(t.message().find(needle), std::string::npos) << t.message();
}

const std::vector<std::string> kSpmTokens = {"<unk>", "<s>", "</s>", "▁", "a", "b", "▁a", "ab"};
const std::vector<int32_t> kSpmTypes = {2, 3, 3, 1, 1, 1, 1, 1};
const std::vector<float> kSpmScores = {0, 0, 0, -1, -2, -3, -4, -5};

TEST(MalformedGguf, TheTinyVocabularyWorks) {
  auto t = from_gguf(GgufBuilder()
                         .str("tokenizer.ggml.model", "llama")
                         .strings("tokenizer.ggml.tokens", kSpmTokens)
                         .floats("tokenizer.ggml.scores", kSpmScores)
                         .ints("tokenizer.ggml.token_type", kSpmTypes)
                         .u32("tokenizer.ggml.bos_token_id", 1)
                         .u32("tokenizer.ggml.eos_token_id", 2)
                         .u32("tokenizer.ggml.unknown_token_id", 0));
  ASSERT_TRUE(t.ok()) << t.message();
  // "▁a▁ab": "▁a" (score -4) merges before "ab" (score -5), so "▁a" "▁a" "b".
  EXPECT_EQ(t->encode("a ab", true), (std::vector<TokenId>{1, 6, 6, 5}));
  EXPECT_EQ(t->decode(std::vector<TokenId>{1, 6, 6, 5}, true), "a ab");
  EXPECT_EQ(t->encode("c", false), (std::vector<TokenId>{3, 0}));  // no byte tokens: <unk>
}

TEST(MalformedGguf, ReportsTheProblem) {
  expect_gguf_error(GgufBuilder().strings("tokenizer.ggml.tokens", kSpmTokens),
                    "tokenizer.ggml.model");
  expect_gguf_error(GgufBuilder().str("tokenizer.ggml.model", "llama"), "tokenizer.ggml.tokens");
  expect_gguf_error(GgufBuilder()
                        .str("tokenizer.ggml.model", "bert")
                        .strings("tokenizer.ggml.tokens", kSpmTokens),
                    "tokenizer.ggml.model 'bert' is not supported");
  expect_gguf_error(GgufBuilder()
                        .str("tokenizer.ggml.model", "llama")
                        .strings("tokenizer.ggml.tokens", kSpmTokens),
                    "tokenizer.ggml.scores");
  expect_gguf_error(GgufBuilder()
                        .str("tokenizer.ggml.model", "llama")
                        .strings("tokenizer.ggml.tokens", kSpmTokens)
                        .floats("tokenizer.ggml.scores", {1, 2}),
                    "tokenizer.ggml.scores has 2 entries for 8 tokens");
  expect_gguf_error(GgufBuilder()
                        .str("tokenizer.ggml.model", "llama")
                        .strings("tokenizer.ggml.tokens", kSpmTokens)
                        .floats("tokenizer.ggml.scores", kSpmScores)
                        .ints("tokenizer.ggml.token_type", {1}),
                    "tokenizer.ggml.token_type has 1 entries");
  expect_gguf_error(GgufBuilder()
                        .str("tokenizer.ggml.model", "llama")
                        .strings("tokenizer.ggml.tokens", {"a", "\xFF"}),
                    "tokens[1] is empty or not valid UTF-8");
  const std::vector<std::string> bpe = {"a", "b", "ab"};
  expect_gguf_error(GgufBuilder()
                        .str("tokenizer.ggml.model", "gpt2")
                        .str("tokenizer.ggml.pre", "mystery")
                        .strings("tokenizer.ggml.tokens", bpe)
                        .strings("tokenizer.ggml.merges", {"a b"}),
                    "tokenizer.ggml.pre 'mystery' is not supported");
  expect_gguf_error(GgufBuilder()
                        .str("tokenizer.ggml.model", "gpt2")
                        .strings("tokenizer.ggml.tokens", bpe)
                        .strings("tokenizer.ggml.merges", {"a z"}),
                    "uses token 'z' that is not in the vocabulary");
  expect_gguf_error(GgufBuilder()
                        .str("tokenizer.ggml.model", "gpt2")
                        .strings("tokenizer.ggml.tokens", bpe)
                        .strings("tokenizer.ggml.merges", {"ab"}),
                    "tokenizer.ggml.merges[0]");
}

}  // namespace
}  // namespace kiln::tokenizer
