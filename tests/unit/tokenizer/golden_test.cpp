// Every case of the shared goldens (Hugging Face `tokenizers` 0.23.2 output,
// copied into tests/data/tokenizer/): ids, token strings, decode with and
// without skip_special_tokens.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "tokenizer_fixtures.h"

namespace kiln::tokenizer {
namespace {

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, MatchesReference) {
  const std::string name = GetParam();
  KILN_REFERENCE_TOKENIZER(tok, name);
  std::ifstream in(::kiln::test::data_dir() / "tokenizer" / (name + ".jsonl"));
  ASSERT_TRUE(in) << "missing golden file for " << name;
  std::string line;
  int n_lines = 0, n_failed = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    ++n_lines;
    const auto c = nlohmann::json::parse(line);
    const std::string label =
        name + " " + c["case"].get<std::string>() +
        (c.contains("text") ? (c["add_special_tokens"].get<bool>() ? " [+special]" : " [-special]")
                            : " [decode]");
    std::vector<TokenId> ids;
    if (c.contains("text")) {
      const Encoding e = tok->encode_with_offsets(c["text"].get<std::string>(),
                                                  c["add_special_tokens"].get<bool>());
      ids = e.ids;
      EXPECT_EQ(tok->encode(c["text"].get<std::string>(), c["add_special_tokens"].get<bool>()), ids)
          << label;
      const auto want = c["ids"].get<std::vector<TokenId>>();
      EXPECT_EQ(ids, want) << label;
      if (ids != want) {
        ++n_failed;
        continue;
      }
      EXPECT_EQ(e.tokens, c["tokens"].get<std::vector<std::string>>()) << label;
      std::vector<std::string> tokens;  // token(id) agrees here: no lstrip/rstrip tokens
      for (TokenId id : ids) tokens.emplace_back(tok->token(id));
      EXPECT_EQ(tokens, c["tokens"].get<std::vector<std::string>>()) << label;
    } else {
      ids = c["ids"].get<std::vector<TokenId>>();
      const auto& want_tokens = c["tokens"];
      for (size_t i = 0; i < ids.size(); ++i) {
        if (want_tokens[i].is_null()) {
          EXPECT_TRUE(tok->token(ids[i]).empty()) << label << " id " << ids[i];
        } else {
          EXPECT_EQ(tok->token(ids[i]), want_tokens[i].get<std::string>())
              << label << " id " << ids[i];
        }
      }
    }
    const std::string decoded = tok->decode(ids, false);
    const std::string decoded_skip = tok->decode(ids, true);
    EXPECT_EQ(decoded, c["decoded"].get<std::string>()) << label;
    EXPECT_EQ(decoded_skip, c["decoded_skip"].get<std::string>()) << label;
    if (decoded != c["decoded"].get<std::string>() ||
        decoded_skip != c["decoded_skip"].get<std::string>())
      ++n_failed;
  }
  EXPECT_GT(n_lines, 300);
  EXPECT_EQ(n_failed, 0) << "of " << n_lines << " lines";
}

INSTANTIATE_TEST_SUITE_P(Reference, GoldenTest, ::testing::ValuesIn(test::kReferenceNames),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kiln::tokenizer
