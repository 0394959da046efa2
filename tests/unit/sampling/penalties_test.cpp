// Penalties and logit_bias against transformers (repetition) and the numpy
// formulas of OpenAI and TGI, from tests/data/sampling/goldens.json.
#include "sampling/penalties.h"

#include <gtest/gtest.h>

#include <cmath>

#include "goldens.h"

namespace kiln::sampling::detail {
namespace {

TEST(SamplingPenaltiesTest, MatchReferences) {
  int n = 0;
  for (const auto& c : test::goldens()["penalties"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const SamplingParams p = test::params_from(c["params"]);
    TokenHistory history;
    history.add_prompt(test::ints(c["prompt"]));
    for (int32_t t : test::ints(c["generated"])) history.add_generated(t);
    auto row = test::floats(c["logits"]);
    apply_penalties(p, history, row);
    const auto want = test::floats(c["expected"]);
    for (size_t i = 0; i < row.size(); ++i) {
      EXPECT_NEAR(row[i], want[i], 2e-6f * std::max(1.0f, std::fabs(want[i]))) << i;
    }
    ++n;
  }
  EXPECT_GE(n, 9);
}

TEST(SamplingPenaltiesTest, HistoryCountsPromptAndGeneratedSeparately) {
  TokenHistory h;
  h.add_prompt(std::vector<int32_t>{4, 4, 9});
  h.add_generated(4);
  h.add_generated(11);
  EXPECT_EQ(h.length(), 5);
  std::map<int32_t, std::pair<int32_t, int32_t>> seen;
  for (const auto& e : h.entries()) seen[e.token] = {e.prompt_count, e.generated_count};
  EXPECT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[4], std::make_pair(2, 1));
  EXPECT_EQ(seen[9], std::make_pair(1, 0));
  EXPECT_EQ(seen[11], std::make_pair(0, 1));
}

TEST(SamplingPenaltiesTest, HistoryGrowsPastManyDistinctTokens) {
  TokenHistory h;
  std::vector<int32_t> prompt;
  for (int32_t i = 0; i < 5000; ++i) prompt.push_back(i * 37 % 262144);
  h.add_prompt(prompt);
  for (int32_t i = 0; i < 5000; ++i) h.add_generated(i * 37 % 262144);
  ASSERT_EQ(h.entries().size(), 5000u);
  for (const auto& e : h.entries()) {
    EXPECT_EQ(e.prompt_count, 1);
    EXPECT_EQ(e.generated_count, 1);
  }
}

TEST(SamplingPenaltiesTest, PresenceOnlyTouchesGeneratedTokens) {
  SamplingParams p;
  p.presence_penalty = 1.0f;
  TokenHistory h;
  h.add_prompt(std::vector<int32_t>{0});
  h.add_generated(1);
  h.add_generated(1);
  std::vector<float> row = {2.0f, 2.0f, 2.0f};
  apply_penalties(p, h, row);
  EXPECT_EQ(row, (std::vector<float>{2.0f, 1.0f, 2.0f}));
}

TEST(SamplingPenaltiesTest, OutOfRangeIdsAreIgnored) {
  SamplingParams p;
  p.repetition_penalty = 2.0f;
  p.logit_bias = {{-1, 5.0f}, {3, 5.0f}};
  TokenHistory h;
  h.add_prompt(std::vector<int32_t>{-5, 100, 1});
  std::vector<float> row = {1.0f, 1.0f, 1.0f};
  apply_penalties(p, h, row);
  EXPECT_EQ(row, (std::vector<float>{1.0f, 0.5f, 1.0f}));
}

}  // namespace
}  // namespace kiln::sampling::detail
