// Automaton building blocks: UTF-8 lowering, intersection, complement,
// minimization, and the vocabulary trie.
#include <gtest/gtest.h>

#include "sampling/grammar/automaton.h"
#include "sampling/grammar/vocabulary.h"

namespace kiln::sampling::grammar {
namespace {

Dfa compile(const ExprPtr& e) {
  auto d = compile_expr(*e, Budget{});
  EXPECT_TRUE(d.ok()) << d.message();
  return *d;
}

TEST(Automaton, Utf8RangesCoverExactlyTheEncodings) {
  // Every code point of a range crossing all encoded lengths, and nothing else.
  Dfa d = compile(ex::chars({{0x70, 0x10010}}, CharEncoding::kUtf8));
  auto encode = [](uint32_t c) {
    std::string s;
    if (c < 0x80)
      s += char(c);
    else if (c < 0x800)
      s += char(0xC0 | (c >> 6)), s += char(0x80 | (c & 0x3F));
    else if (c < 0x10000)
      s += char(0xE0 | (c >> 12)), s += char(0x80 | ((c >> 6) & 0x3F)),
          s += char(0x80 | (c & 0x3F));
    else
      s += char(0xF0 | (c >> 18)), s += char(0x80 | ((c >> 12) & 0x3F)),
          s += char(0x80 | ((c >> 6) & 0x3F)), s += char(0x80 | (c & 0x3F));
    return s;
  };
  for (uint32_t c = 0x60; c <= 0x10020; ++c) {
    bool surrogate = c >= 0xD800 && c <= 0xDFFF;
    EXPECT_EQ(dfa_matches(d, encode(c)), c >= 0x70 && c <= 0x10010 && !surrogate) << std::hex << c;
  }
  EXPECT_FALSE(dfa_matches(d, "\xc0\x80"));  // overlong encoding of U+0000
  EXPECT_FALSE(dfa_matches(d, "\xe0\x80\x80"));
}

TEST(Automaton, IntersectAndComplement) {
  Dfa digits = compile(ex::plus(ex::byte_range('0', '9')));
  Dfa two = compile(ex::repeat(ex::bytes({{0, 255}}), 2, 2));
  auto both = intersect(digits, two, Budget{});
  ASSERT_TRUE(both.ok());
  EXPECT_TRUE(dfa_matches(*both, "42"));
  EXPECT_FALSE(dfa_matches(*both, "4"));
  EXPECT_FALSE(dfa_matches(*both, "4a"));
  Dfa not_two = complement(two);
  EXPECT_TRUE(dfa_matches(not_two, ""));
  EXPECT_TRUE(dfa_matches(not_two, "abc"));
  EXPECT_FALSE(dfa_matches(not_two, "ab"));
}

TEST(Automaton, MinimizationMergesEquivalentStates) {
  // (a|b)c and [ab]c are the same language: same minimal size.
  Dfa x = compile(ex::seq({ex::alt({ex::literal("a"), ex::literal("b")}), ex::literal("c")}));
  Dfa y = compile(ex::seq({ex::byte_range('a', 'b'), ex::literal("c")}));
  EXPECT_EQ(x.num_states, y.num_states);
  EXPECT_EQ(x.num_states, 3);
}

TEST(Automaton, ChainMatchesOrderedOptionalMembers) {
  // U(n) for members a, b, c with b required: [a ","] b ["," c].
  auto sep = [](const char* m) { return ex::seq({ex::literal(","), ex::literal(m)}); };
  Dfa d = compile(ex::chain({{ex::opt(sep("a")), ex::literal("a")},
                             {sep("b"), ex::literal("b")},
                             {ex::opt(sep("c")), ex::nothing()}}));
  for (const char* ok : {"b", "a,b", "b,c", "a,b,c"}) EXPECT_TRUE(dfa_matches(d, ok)) << ok;
  for (const char* bad : {"", "a", "c", "a,c", ",b", "b,a"})
    EXPECT_FALSE(dfa_matches(d, bad)) << bad;
}

TEST(Automaton, BudgetIsEnforced) {
  Budget tiny;
  tiny.max_nfa_states = 100;
  auto d = compile_expr(*ex::repeat(ex::literal("ab"), 1000, 1000), tiny);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.message().find("exceeds"), std::string::npos);
}

TEST(Vocabulary, TrieIsPreorderWithTokenRanges) {
  auto v = Vocabulary::create({"", "b", "ab", "a", "abc", "ab", "\xff", ""}, {7});
  ASSERT_TRUE(v.ok());
  const auto& voc = **v;
  // Ranked order: a, ab, ab, abc, b, \xff (special tokens and EOS left out).
  std::vector<std::string> ranked;
  for (int32_t id : voc.trie_tokens()) ranked.push_back(voc.token(id));
  EXPECT_EQ(ranked, (std::vector<std::string>{"a", "ab", "ab", "abc", "b", "\xff"}));
  auto trie = voc.trie();
  ASSERT_EQ(trie.size(), 6u);  // root, a, ab, abc, b, \xff
  EXPECT_EQ(trie[0].subtree_end, 6u);
  EXPECT_EQ(trie[1].byte, 'a');
  EXPECT_EQ(trie[1].subtree_end, 4u);
  EXPECT_EQ(trie[2].depth, 2);
  EXPECT_EQ(voc.node(3).tokens_begin - voc.node(2).tokens_begin, 2u);  // "ab" twice
  EXPECT_EQ(voc.trie_rank(0), -1);
  EXPECT_EQ(voc.trie_rank(7), -1);
  EXPECT_FALSE(Vocabulary::create({"a"}, {3}).ok());
  EXPECT_FALSE(voc.has_every_byte());
  std::vector<std::string> bytes;
  for (int b = 0; b < 256; ++b) bytes.push_back(std::string(1, char(b)) + (b == 7 ? "x" : ""));
  EXPECT_FALSE((*Vocabulary::create(bytes, {}))->has_every_byte());  // byte 7 only inside "\ax"
  bytes[7] = "\a";
  EXPECT_TRUE((*Vocabulary::create(bytes, {}))->has_every_byte());
}

}  // namespace
}  // namespace kiln::sampling::grammar
