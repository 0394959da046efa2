// The public API beyond encode/decode, on the reference tokenizers: token
// strings and raw bytes, special ids from tokenizer_config.json, offsets,
// loading from a folder, and concurrent use.
#include <gtest/gtest.h>

#include <thread>

#include "tokenizer_fixtures.h"

namespace kiln::tokenizer {
namespace {

TEST(TokenizerApi, VocabSizeAndSpecialIds) {
  struct Want {
    const char* name;
    size_t vocab;
    std::optional<TokenId> bos, eos, pad;
  };
  // Values from the files' tokenizer_config.json; vocab sizes as Python `tokenizers` reports them.
  const Want wants[] = {
      {"llama2", 32000, 1, 2, std::nullopt},
      {"llama3", 128256, 128000, 128009, std::nullopt},
      {"qwen3", 151669, std::nullopt, 151645, 151643},
      {"gemma3", 262145, 2, 106, 0},
      {"deepseek_v3", 128815, 0, 1, 1},
      {"gptoss", 200019, 199998, 200002, 199999},
  };
  for (const Want& w : wants) {
    std::string why;
    const Tokenizer* tok = test::reference_tokenizer(w.name, &why);
    if (!tok) {
      if (why.find("is missing") != std::string::npos) continue;
      FAIL() << why;
    }
    EXPECT_EQ(tok->vocab_size(), w.vocab) << w.name;
    // The special ids come from tokenizer_config.json, which only the fetch
    // brings (llama2's tokenizer.json is also committed, its config is not).
    if (!std::filesystem::exists(test::cache_dir() / w.name / "tokenizer_config.json")) continue;
    EXPECT_EQ(tok->special_ids().bos, w.bos) << w.name;
    EXPECT_EQ(tok->special_ids().eos, w.eos) << w.name;
    EXPECT_EQ(tok->special_ids().pad, w.pad) << w.name;
    if (w.eos) {
      EXPECT_TRUE(tok->is_end_of_generation(*w.eos)) << w.name;
    }
    EXPECT_FALSE(tok->is_end_of_generation(
        *tok->token_id(w.name == std::string("llama2") ? "▁the" : "the")));
  }
}

TEST(TokenizerApi, TokenStringsAndBytes) {
  KILN_REFERENCE_TOKENIZER(llama3, "llama3");
  const TokenId hello = *llama3->token_id("Ġhello");
  EXPECT_EQ(llama3->token(hello), "Ġhello");
  EXPECT_EQ(llama3->token_bytes(hello), " hello");
  EXPECT_EQ(llama3->token_bytes(*llama3->token_id("Ċ")), "\n");
  EXPECT_EQ(llama3->token_bytes(*llama3->token_id("ĉ")), "\t");
  // A lone UTF-8 lead byte: "â" in the byte alphabet is 0xE2.
  EXPECT_EQ(llama3->token_bytes(*llama3->token_id("â")), "\xE2");
  EXPECT_EQ(llama3->token_bytes(128000), "<|begin_of_text|>");
  EXPECT_TRUE(llama3->is_special(128000));
  EXPECT_FALSE(llama3->is_special(hello));
  EXPECT_EQ(llama3->token(-1), "");
  EXPECT_EQ(llama3->token(1 << 30), "");
  EXPECT_EQ(llama3->token_bytes(1 << 30), "");
  EXPECT_FALSE(llama3->token_id("no such token"));

  KILN_REFERENCE_TOKENIZER(llama2, "llama2");
  EXPECT_EQ(llama2->token_bytes(*llama2->token_id("▁Hello")), " Hello");
  EXPECT_EQ(llama2->token_bytes(*llama2->token_id("<0x0A>")), "\n");
  EXPECT_EQ(llama2->token_bytes(*llama2->token_id("<0xE2>")), "\xE2");
  EXPECT_EQ(llama2->token(1), "<s>");
  EXPECT_TRUE(llama2->is_special(1));
}

TEST(TokenizerApi, NonSpecialAddedTokensSurviveSkipping) {
  KILN_REFERENCE_TOKENIZER(qwen3, "qwen3");
  const auto ids = qwen3->encode("<think>hi</think><|im_end|>", false);
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_FALSE(qwen3->is_special(ids[0]));
  EXPECT_TRUE(qwen3->is_special(ids[3]));
  EXPECT_EQ(qwen3->decode(ids, true), "<think>hi</think>");
  EXPECT_EQ(qwen3->decode(ids, false), "<think>hi</think><|im_end|>");
}

TEST(TokenizerApi, OffsetsPointIntoTheInput) {
  KILN_REFERENCE_TOKENIZER(llama2, "llama2");
  // BOS has 0/0; "▁Hello" covers "Hello" (the prepended ▁ aligns with 'H').
  const auto e = llama2->encode_with_offsets("Hello world", true);
  ASSERT_EQ(e.ids.size(), 3u);
  EXPECT_EQ(e.offsets[0].start, 0u);
  EXPECT_EQ(e.offsets[0].stop, 0u);
  EXPECT_EQ(e.offsets[1].start, 0u);
  EXPECT_EQ(e.offsets[1].stop, 5u);
  EXPECT_EQ(e.offsets[2].start, 5u);
  EXPECT_EQ(e.offsets[2].stop, 11u);

  KILN_REFERENCE_TOKENIZER(llama3, "llama3");
  // One emoji split into several byte-level tokens: each spans the whole emoji.
  const std::string text = "a \xF0\x9F\xA6\x99";  // "a 🦙"
  const auto f = llama3->encode_with_offsets(text, false);
  ASSERT_GE(f.ids.size(), 2u);
  for (size_t i = 1; i < f.ids.size(); ++i) {
    EXPECT_LE(f.offsets[i].stop, text.size());
    EXPECT_EQ(f.offsets[i].stop, text.size());
  }
  EXPECT_EQ(f.offsets[0].start, 0u);
  EXPECT_EQ(f.offsets[0].stop, 1u);
}

TEST(TokenizerApi, InvalidUtf8IsRepairedNotRejected) {
  KILN_REFERENCE_TOKENIZER(llama3, "llama3");
  const auto ids = llama3->encode("a\xC0\x80z\xE2\x82", false);
  EXPECT_EQ(llama3->decode(ids, false), "a\xEF\xBF\xBD\xEF\xBF\xBDz\xEF\xBF\xBD");
}

TEST(TokenizerApi, LoadsFromAModelFolder) {
  const auto dir = test::cache_dir() / "qwen3";
  if (!std::filesystem::exists(dir / "tokenizer.json"))
    GTEST_SKIP() << "run scripts/fetch_tokenizers.sh";
  auto tok = Tokenizer::load(dir);
  ASSERT_TRUE(tok.ok()) << tok.message();
  EXPECT_EQ(tok->special_ids().eos, 151645);
  auto missing = Tokenizer::load(test::cache_dir() / "no-such-model");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("no-such-model"), std::string::npos);
}

TEST(TokenizerApi, ConcurrentEncodeAndDecodeAgreeWithSerial) {
  KILN_REFERENCE_TOKENIZER(qwen3, "qwen3");
  std::vector<std::string> texts;
  for (int i = 0; i < 64; ++i)
    texts.push_back("Thread " + std::to_string(i) +
                    ": héllo wörld, 你好, \xF0\x9F\x98\x80 <|im_start|>" +
                    std::string(size_t(i % 7), ' ') + "done.");
  std::vector<std::vector<TokenId>> serial;
  for (const auto& t : texts) serial.push_back(qwen3->encode(t, true));
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        for (size_t i = size_t(t); i < texts.size(); i += 2) {
          if (qwen3->encode(texts[i], true) != serial[i]) ++mismatches;
          if (qwen3->decode(serial[i], true) != qwen3->decode(serial[i], true)) ++mismatches;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace kiln::tokenizer
