// A small vocabulary for constraint tests: every single byte (as byte-level
// BPE and SentencePiece byte fallback guarantee), a few hundred multi-byte
// tokens that cross JSON token boundaries and split UTF-8 characters, byte-less
// special tokens and an EOS id; plus helpers shared by the grammar tests.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sampling/grammar/compile.h"
#include "sampling/grammar/constraint.h"
#include "sampling/grammar/vocabulary.h"

namespace kiln::sampling::grammar::test {

constexpr int32_t kEos = 1;

inline std::vector<std::string> small_vocab_tokens() {
  std::vector<std::string> t{"", ""};  // 0: a special token (no bytes), 1: EOS
  for (int b = 0; b < 256; ++b) t.push_back(std::string(1, char(b)));
  const char* fixed[] = {
      "{\"",      "\":",          "\",", "\"}",   " \"",  "\": \"",   "\"]",   "\":\"",    "},{",
      "}]",       "]}",           "[{",  "[]",    "{}",   "true",     "false", "null",     "nul",
      "tr",       "12",           "3.",  ".5",    "e+",   "E-",       "-1",    "00",       "10",
      "\\n",      "\\\"",         "\\u", "\\u00", "00e9", "\\\\",     "  ",    "    ",     "\n",
      "\n  ",     "\n    ",       ", ",  ": ",    "name", "\"name\"", "age",   "\"age\":", "value",
      "children", "\"value\": 1", "abc", "a@b",   ".co",  "2024-",    "-02-",  "29",       "T12:",
      ":00Z",     "::",           "1.2", ".3.4",  "ffff", "é",        "\xc3",  "\xa9\"",   "😀",
      "\xf0\x9f", "\x98\x80",     "ü\"", "\"a",   "a\"",  "\"x\":[",  "\"}\n", "\t",       "\r\n",
      "\"\"",     "\",\"",        "],[", "1,",    "2]",   "[1",       " }",    " ]",       "}\"",
      "\"\\",
  };
  for (const char* f : fixed) t.push_back(f);
  t.push_back("");  // another special token in the middle of the ids
  // Pseudo-random fragments over JSON-ish characters, some cutting UTF-8.
  const std::string alphabet = "{}[]\":, \n0123456789-+.eEabcnrtuflsx\\\xc3\xa9";
  std::mt19937 rng(12345);
  for (int i = 0; i < 220; ++i) {
    std::string s;
    int len = 2 + int(rng() % 5);
    for (int k = 0; k < len; ++k) s.push_back(alphabet[rng() % alphabet.size()]);
    t.push_back(s);
  }
  t.push_back("abc");  // a duplicate of an earlier token's bytes
  return t;
}

inline std::shared_ptr<const Vocabulary> small_vocab() {
  static const std::shared_ptr<const Vocabulary> v = [] {
    auto r = Vocabulary::create(small_vocab_tokens(), {kEos});
    EXPECT_TRUE(r.ok()) << r.message();
    return *r;
  }();
  return v;
}

inline bool mask_bit(const std::vector<uint64_t>& m, int32_t id) {
  return (m[id >> 6] >> (id & 63)) & 1;
}

// Whole-text acceptance through the byte path (no masks involved).
inline bool accepts(const std::shared_ptr<const Constraint>& c, const std::string& text) {
  ConstraintMatcher m(c);
  return m.advance_bytes(text) && m.can_end();
}

// The mask must equal a token-by-token check of the byte path, and must not
// be empty before the end.
inline void expect_mask_is_exact(ConstraintMatcher& m, const std::string& where) {
  const auto& vocab = m.constraint().vocabulary();
  std::vector<uint64_t> mask(mask_words(vocab.size()), ~uint64_t(0));
  m.fill_mask(mask);
  int32_t allowed = 0, wrong = 0;
  for (int32_t id = 0; id < vocab.size(); ++id) {
    bool expected = m.allows(id);
    allowed += mask_bit(mask, id);
    if (mask_bit(mask, id) != expected && ++wrong <= 5)
      ADD_FAILURE() << where << ": token " << id << " '" << vocab.token(id) << "' mask "
                    << mask_bit(mask, id) << " vs byte path " << expected;
  }
  for (size_t w = 0; w < mask.size(); ++w) {
    for (int b = 0; b < 64; ++b) {
      if (w * 64 + b >= size_t(vocab.size())) {
        EXPECT_FALSE((mask[w] >> b) & 1) << "bit past vocab";
      }
    }
  }
  if (!m.finished()) {
    EXPECT_GT(allowed, 0) << where << ": empty mask before the end";
  }
}

// Greedy longest-match tokenization with the vocabulary (any valid token
// sequence will do for the tests; it need not be the tokenizer's).
inline std::vector<int32_t> greedy_tokens(const Vocabulary& v, const std::string& text) {
  std::vector<int32_t> out;
  size_t i = 0;
  while (i < text.size()) {
    int32_t best = -1;
    size_t best_len = 0;
    for (int32_t id = 0; id < v.size(); ++id) {
      const std::string& t = v.token(id);
      if (!t.empty() && t.size() > best_len && text.compare(i, t.size(), t) == 0)
        best = id, best_len = t.size();
    }
    out.push_back(best);
    i += best_len;
  }
  return out;
}

}  // namespace kiln::sampling::grammar::test
