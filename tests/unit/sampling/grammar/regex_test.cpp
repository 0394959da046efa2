// Regular expressions: whole-text matches against Python `re.fullmatch` in
// ASCII mode (tests/data/grammar/regex_cases.json, made by
// scripts/make_grammar_goldens.py), and the constructs Kiln refuses.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sampling/grammar/regex.h"
#include "test_paths.h"
#include "test_vocab.h"

namespace kiln::sampling::grammar::test {
namespace {

using Json = nlohmann::ordered_json;

const Json& cases() {
  static const Json j = [] {
    std::ifstream in(kiln::test::data_dir() / "grammar" / "regex_cases.json");
    return Json::parse(in);
  }();
  return j;
}

TEST(RegexGoldens, FullMatchAgreesWithPython) {
  int checked = 0;
  for (const auto& r : cases()["regexes"]) {
    const std::string pattern = r["pattern"];
    auto c = compile_regex(pattern, small_vocab());
    ASSERT_TRUE(c.ok()) << pattern << ": " << c.message();
    for (const auto& k : r["cases"]) {
      EXPECT_EQ(accepts(*c, k["text"]), k["python"].get<bool>())
          << pattern << " on '" << k["text"] << "'";
      ++checked;
    }
  }
  EXPECT_GT(checked, 100);
}

TEST(RegexGoldens, RefusedConstructsNameTheProblem) {
  for (const auto& r : cases()["refused"]) {
    const std::string pattern = r["pattern"];
    auto c = compile_regex(pattern, small_vocab());
    ASSERT_FALSE(c.ok()) << pattern;
    EXPECT_NE(c.message().find(r["error"].get<std::string>()), std::string::npos)
        << pattern << " -> " << c.message();
  }
}

TEST(RegexGoldens, MaskIsExactAlongMatches) {
  auto vocab = small_vocab();
  for (const auto& r : cases()["regexes"]) {
    auto c = compile_regex(r["pattern"].get<std::string>(), vocab);
    ASSERT_TRUE(c.ok());
    for (const auto& k : r["cases"]) {
      if (!k["python"].get<bool>()) continue;
      ConstraintMatcher m(*c);
      for (int32_t id : greedy_tokens(*vocab, k["text"])) {
        expect_mask_is_exact(m, r["pattern"].get<std::string>());
        ASSERT_TRUE(m.advance(id));
      }
      expect_mask_is_exact(m, r["pattern"].get<std::string>() + " (end)");
    }
  }
}

TEST(Regex, NamedGroupsInBothSyntaxes) {
  auto c = compile_regex("(?<first>a)(?P<second>b)", small_vocab());
  ASSERT_TRUE(c.ok()) << c.message();
  EXPECT_TRUE(accepts(*c, "ab"));
}

TEST(Regex, ValidUtf8OnlyEvenForNegatedClasses) {
  auto c = compile_regex("[^a]", small_vocab());
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(accepts(*c, "\xc3\xa9"));
  EXPECT_FALSE(accepts(*c, "\xc3"));          // truncated character
  EXPECT_FALSE(accepts(*c, "\xed\xa0\x80"));  // an encoded surrogate is not UTF-8
  EXPECT_FALSE(accepts(*c, "\xff"));
}

TEST(Regex, JsonStringEncodingEscapesSpecials) {
  // In a JSON string, a pattern's '"', '\' and control characters appear escaped.
  auto e = parse_regex("[\"\\\\\\n]", CharEncoding::kJsonString, RegexAnchoring::kFullMatch);
  ASSERT_TRUE(e.ok()) << e.message();
  auto dfa = compile_expr(**e, Budget{});
  ASSERT_TRUE(dfa.ok());
  EXPECT_TRUE(dfa_matches(*dfa, "\\\""));
  EXPECT_TRUE(dfa_matches(*dfa, "\\\\"));
  EXPECT_TRUE(dfa_matches(*dfa, "\\n"));
  EXPECT_TRUE(dfa_matches(*dfa, "\\u000A"));
  EXPECT_FALSE(dfa_matches(*dfa, "\""));
  EXPECT_FALSE(dfa_matches(*dfa, "\n"));
}

TEST(Regex, SearchSemanticsUnlessAnchored) {
  auto search = parse_regex("b", CharEncoding::kUtf8, RegexAnchoring::kSearch);
  auto anchored = parse_regex("^b$", CharEncoding::kUtf8, RegexAnchoring::kSearch);
  ASSERT_TRUE(search.ok() && anchored.ok());
  auto d1 = compile_expr(**search, Budget{});
  auto d2 = compile_expr(**anchored, Budget{});
  EXPECT_TRUE(dfa_matches(*d1, "abc"));
  EXPECT_FALSE(dfa_matches(*d2, "abc"));
  EXPECT_TRUE(dfa_matches(*d2, "b"));
}

}  // namespace
}  // namespace kiln::sampling::grammar::test
