// The streaming detokenizer and the round-trip properties:
//  - for random id sequences (random ids, byte tokens, ids of random text) and
//    for EVERY prefix, the concatenated deltas plus finish() equal decode()
//    of that prefix, with and without skip_special_tokens, and every delta is
//    valid UTF-8;
//  - for random Unicode strings, decode(encode(s)) == s for the byte-level
//    tokenizers (and gemma3, whose SentencePiece setup has no prefix space).
#include <gtest/gtest.h>

#include <random>

#include "tokenizer/stream.h"
#include "tokenizer_fixtures.h"

namespace kiln::tokenizer {
namespace {

bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (int k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

void append_utf8(std::string& s, char32_t c) {
  if (c < 0x80) {
    s += char(c);
  } else if (c < 0x800) {
    s += char(0xC0 | (c >> 6));
    s += char(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    s += char(0xE0 | (c >> 12));
    s += char(0x80 | ((c >> 6) & 0x3F));
    s += char(0x80 | (c & 0x3F));
  } else {
    s += char(0xF0 | (c >> 18));
    s += char(0x80 | ((c >> 12) & 0x3F));
    s += char(0x80 | ((c >> 6) & 0x3F));
    s += char(0x80 | (c & 0x3F));
  }
}

// Random text: ASCII, whitespace runs, any Unicode scalar value (unassigned,
// private use and noncharacters included), emoji with modifiers and ZWJ,
// combining marks, and the tokenizer's own special-token strings.
std::string random_text(std::mt19937& rng, const Tokenizer& tok, bool allow_metaspace) {
  std::string s;
  const int n = std::uniform_int_distribution<int>(0, 40)(rng);
  for (int i = 0; i < n; ++i) {
    const int kind = std::uniform_int_distribution<int>(0, 9)(rng);
    char32_t c;
    switch (kind) {
      case 0:
      case 1:
        c = char32_t(std::uniform_int_distribution<int>(0x20, 0x7E)(rng));
        break;
      case 2:
        c = U" \t\n\r\u00a0\u3000\u0085\u2028"[std::uniform_int_distribution<int>(0, 7)(rng)];
        break;
      case 3:
        do {
          c = char32_t(std::uniform_int_distribution<uint32_t>(0x80, 0x10FFFF)(rng));
        } while (c >= 0xD800 && c < 0xE000);
        break;
      case 4:
        c = char32_t(std::uniform_int_distribution<uint32_t>(0x1F300, 0x1FAFF)(rng));
        append_utf8(s, c);
        c = std::uniform_int_distribution<int>(0, 1)(rng) ? char32_t(0x200D) : char32_t(0x1F3FB);
        break;
      case 5:
        c = char32_t(std::uniform_int_distribution<uint32_t>(0x300, 0x36F)(rng));
        break;
      case 6:
        c = char32_t(std::uniform_int_distribution<uint32_t>(0x4E00, 0x9FFF)(rng));
        break;
      case 7: {
        const TokenId id =
            std::uniform_int_distribution<TokenId>(0, TokenId(tok.vocab_size()) - 1)(rng);
        if (tok.is_special(id)) s += tok.token(id);
        continue;
      }
      default:
        c = char32_t(std::uniform_int_distribution<int>('a', 'z')(rng));
    }
    if (!allow_metaspace && c == 0x2581) continue;
    append_utf8(s, c);
  }
  return s;
}

std::vector<TokenId> random_ids(std::mt19937& rng, const Tokenizer& tok) {
  std::vector<TokenId> ids;
  // Tokens whose bytes are not a whole character: single-byte pieces.
  std::vector<TokenId> partial;
  for (int b = 0x80; b < 0x100; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    if (auto id = tok.token_id(name)) partial.push_back(*id);
  }
  for (TokenId id = 0; id < TokenId(tok.vocab_size()) && partial.size() < 400; ++id) {
    const auto bytes = tok.token_bytes(id);
    if (bytes.size() == 1 && static_cast<unsigned char>(bytes[0]) >= 0x80) partial.push_back(id);
  }
  const int n = std::uniform_int_distribution<int>(1, 40)(rng);
  while (int(ids.size()) < n) {
    const int kind = std::uniform_int_distribution<int>(0, 3)(rng);
    if (kind == 0) {
      ids.push_back(std::uniform_int_distribution<TokenId>(0, TokenId(tok.vocab_size()) + 5)(rng));
    } else if (kind == 1 && !partial.empty()) {
      for (int k = std::uniform_int_distribution<int>(1, 4)(rng); k > 0; --k)
        ids.push_back(partial[std::uniform_int_distribution<size_t>(0, partial.size() - 1)(rng)]);
    } else {
      const auto more = tok.encode(random_text(rng, tok, true), kind == 2);
      ids.insert(ids.end(), more.begin(), more.end());
    }
  }
  return ids;
}

class StreamProperty : public ::testing::TestWithParam<std::string> {};

TEST_P(StreamProperty, DeltasEqualOneShotDecodeForEveryPrefix) {
  KILN_REFERENCE_TOKENIZER(tok, GetParam());
  std::mt19937 rng(1234);
  for (int round = 0; round < 60; ++round) {
    const auto ids = random_ids(rng, *tok);
    for (bool skip : {true, false}) {
      StreamDecoder stream(*tok, {.skip_special_tokens = skip});
      std::string text;
      for (size_t k = 0; k <= ids.size(); ++k) {
        StreamDecoder finished = stream;
        const std::string tail = finished.finish();
        ASSERT_TRUE(valid_utf8(tail));
        ASSERT_EQ(text + tail, tok->decode(std::span(ids).first(k), skip))
            << GetParam() << " round " << round << " prefix " << k << " skip " << skip;
        if (k == ids.size()) break;
        const std::string delta = stream.push(ids[k]);
        ASSERT_TRUE(valid_utf8(delta)) << "round " << round << " id " << ids[k];
        text += delta;
      }
    }
  }
}

TEST_P(StreamProperty, NeverEmitsReplacementForValidText) {
  KILN_REFERENCE_TOKENIZER(tok, GetParam());
  // Characters that SentencePiece vocabularies spell with <0xNN> tokens and
  // byte-level ones split across tokens.
  const std::string text =
      "Llama \xF0\x9F\xA6\x99 says \xE4\xBD\xA0\xE5\xA5\xBD \xF0\x90\x8D\x88 and \xE1\xBA\xA1!";
  const auto ids = tok->encode(text, false);
  StreamDecoder stream(*tok);
  std::string out;
  for (TokenId id : ids) {
    const std::string delta = stream.push(id);
    EXPECT_TRUE(valid_utf8(delta));
    EXPECT_EQ(delta.find("\xEF\xBF\xBD"), std::string::npos) << GetParam() << " id " << id;
    out += delta;
  }
  out += stream.finish();
  EXPECT_EQ(out, tok->decode(ids, true));
}

INSTANTIATE_TEST_SUITE_P(Reference, StreamProperty, ::testing::ValuesIn(test::kReferenceNames),
                         [](const auto& info) { return info.param; });

class RoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(RoundTrip, DecodeOfEncodeIsTheInput) {
  KILN_REFERENCE_TOKENIZER(tok, GetParam());
  std::mt19937 rng(99);
  const bool allow_metaspace = GetParam() != "gemma3";
  for (int i = 0; i < 400; ++i) {
    const std::string s = random_text(rng, *tok, allow_metaspace);
    EXPECT_EQ(tok->decode(tok->encode(s, false), false), s) << GetParam() << " case " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(ByteLevel, RoundTrip,
                         ::testing::Values("llama3", "deepseek_v3", "gptoss", "gemma3"),
                         [](const auto& info) { return info.param; });

TEST(StreamDecoder, KeepsTheLeadingSpaceAfterThePrompt) {
  KILN_REFERENCE_TOKENIZER(llama2, "llama2");
  const auto prompt = llama2->encode("The capital of France is", true);
  const TokenId paris = *llama2->token_id("▁Paris");
  StreamDecoder primed(*llama2);
  primed.prime(prompt);
  EXPECT_EQ(primed.push(paris), " Paris");
  // At the very start, SentencePiece's Strip drops the space, like decode().
  StreamDecoder fresh(*llama2);
  EXPECT_EQ(fresh.push(paris), "Paris");
  EXPECT_EQ(fresh.push(paris), " Paris");
}

TEST(StreamDecoder, HoldsByteFallbackRunsUntilTheyEnd) {
  KILN_REFERENCE_TOKENIZER(llama2, "llama2");
  auto byte = [&](int b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    return *llama2->token_id(name);
  };
  // 😀 then two more bytes: the reference turns the whole run into six U+FFFD.
  const std::vector<TokenId> ids = {byte(0xF0), byte(0x9F), byte(0x98),
                                    byte(0x80), byte(0xF0), byte(0x9F)};
  StreamDecoder stream(*llama2);
  std::string out;
  for (TokenId id : ids) out += stream.push(id);
  EXPECT_EQ(out, "");  // nothing is final while the run may go on
  out += stream.finish();
  EXPECT_EQ(out, llama2->decode(ids, true));
  EXPECT_EQ(out, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  // A run followed by a normal token is emitted as soon as it is closed.
  StreamDecoder closed(*llama2);
  for (int k = 0; k < 4; ++k) EXPECT_EQ(closed.push(ids[size_t(k)]), "");
  EXPECT_EQ(closed.push(*llama2->token_id("▁ok")), "\xF0\x9F\x98\x80 ok");
}

TEST(StreamDecoder, ByteLevelCharacterIsEmittedWhenComplete) {
  KILN_REFERENCE_TOKENIZER(llama3, "llama3");
  const std::string euro = "\xE2\x82\xAC";
  std::vector<TokenId> ids;
  for (unsigned char c : euro) {
    const std::string ch = [&] {  // byte-alphabet character of c
      for (TokenId id = 0; id < 256 * 4; ++id)
        if (llama3->token_bytes(id) == std::string(1, char(c)) && !llama3->is_special(id))
          return std::string(llama3->token(id));
      return std::string();
    }();
    ids.push_back(*llama3->token_id(ch));
  }
  StreamDecoder stream(*llama3);
  EXPECT_EQ(stream.push(ids[0]), "");
  EXPECT_EQ(stream.push(ids[1]), "");
  EXPECT_EQ(stream.push(ids[2]), euro);
  EXPECT_EQ(stream.finish(), "");
}

}  // namespace
}  // namespace kiln::tokenizer
