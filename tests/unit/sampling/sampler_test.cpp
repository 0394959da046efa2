// The batched sampler: greedy, seeded draws (exact, against numpy's Philox
// and transformers' probabilities), chi-square tests of the sampled
// distribution, seed independence, and log-probabilities.
#include "sampling/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>

#include "goldens.h"
#include "sampling/rng.h"
#include "sampling/vec_math.h"

namespace kiln::sampling {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

SamplingState make_state(const SamplingParams& p, int32_t top_n = 0,
                         std::span<const int32_t> prompt = {}) {
  return SamplingState(StateOptions{.sampling = p, .logprobs = {.top_n = top_n}, .prompt = prompt});
}

// Samples `steps` tokens for one state from a fresh copy of `row` each step.
std::vector<int32_t> run(Sampler& sampler, SamplingState& state, const std::vector<float>& row,
                         int steps) {
  std::vector<int32_t> tokens;
  std::vector<float> work;
  SampleOutput out;
  for (int i = 0; i < steps; ++i) {
    work = row;
    const SampleInput in{.state = &state, .logits = work};
    sampler.sample(std::span(&in, 1), std::span(&out, 1));
    tokens.push_back(out.token);
  }
  return tokens;
}

// Pearson's statistic over bins with expected count >= 5 (the rest pooled).
// Returns {statistic, degrees of freedom}.
std::pair<double, int> chi_square(const std::vector<int64_t>& counts,
                                  const std::vector<double>& probs, int64_t n) {
  double stat = 0, pooled_obs = 0, pooled_exp = 0;
  int bins = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    const double e = probs[i] * static_cast<double>(n);
    if (e >= 5) {
      stat += (counts[i] - e) * (counts[i] - e) / e;
      ++bins;
    } else {
      pooled_obs += static_cast<double>(counts[i]);
      pooled_exp += e;
    }
  }
  if (pooled_exp > 0 || pooled_obs > 0) {
    // An impossible outcome that happened is an outright failure.
    if (pooled_exp == 0) return {kInf, std::max(bins - 1, 1)};
    stat += (pooled_obs - pooled_exp) * (pooled_obs - pooled_exp) / std::max(pooled_exp, 1e-300);
    ++bins;
  }
  return {stat, std::max(bins - 1, 1)};
}

double critical(int df) {
  EXPECT_LE(df, 100) << "goldens hold chi-square critical values for df <= 100";
  return test::goldens()["chi2_critical_0.001"][std::to_string(df)].get<double>();
}

TEST(SamplingSamplerTest, GreedyTakesTheFirstMaximum) {
  SamplingParams p;  // do_sample false, no warper: greedy
  auto state = make_state(p);
  Sampler sampler;
  EXPECT_FALSE(state.sampling());
  EXPECT_EQ(run(sampler, state, {0.5f, 2.0f, -1.0f, 2.0f}, 3), (std::vector<int32_t>{1, 1, 1}));
}

TEST(SamplingSamplerTest, SamplingDecisionFollowsTgi) {
  SamplingParams p;
  EXPECT_FALSE(is_sampling(p));
  p.do_sample = true;
  EXPECT_TRUE(is_sampling(p));
  p.temperature = 0.0f;  // OpenAI temperature 0: greedy even with do_sample
  EXPECT_FALSE(is_sampling(p));
  for (auto warper :
       {+[](SamplingParams& q) { q.temperature = 0.7f; }, +[](SamplingParams& q) { q.top_k = 10; },
        +[](SamplingParams& q) { q.top_p = 0.9f; }, +[](SamplingParams& q) { q.typical_p = 0.9f; },
        +[](SamplingParams& q) { q.min_p = 0.1f; }}) {
    SamplingParams q;
    warper(q);
    EXPECT_TRUE(is_sampling(q));
  }
}

TEST(SamplingSamplerTest, SeededDrawsMatchTheReferenceExactly) {
  // Expected tokens: numpy's Philox uniforms pushed through the inverse CDF
  // of transformers' probabilities (scripts/make_sampling_goldens.py), on
  // every instruction set this machine has.
  for (auto isa : {detail::Isa::kBaseline, detail::Isa::kAvx2, detail::Isa::kAvx512}) {
    if (!detail::isa_supported(isa)) continue;
    detail::set_isa(isa);
    for (const auto& c : test::goldens()["draws"]) {
      SCOPED_TRACE(c["name"].get<std::string>());
      SamplingParams p = test::params_from(c["params"]);
      p.seed = c["seed"].get<uint64_t>();
      auto state = make_state(p);
      Sampler sampler;
      const auto want = test::ints(c["tokens"]);
      EXPECT_EQ(run(sampler, state, test::floats(c["logits"]), static_cast<int>(want.size())), want)
          << "isa " << static_cast<int>(isa);
    }
  }
  detail::set_isa(detail::Isa::kAvx512);  // back to the best supported
}

TEST(SamplingSamplerTest, ChiSquareAcceptsTheReferenceAndRejectsWrongOnes) {
  constexpr int64_t kDraws = 60000;
  const auto& g = test::goldens();
  std::vector<nlohmann::json> cases(g["pipelines"].begin(), g["pipelines"].end());
  for (const auto& c : cases) {
    SCOPED_TRACE(c["name"].get<std::string>());
    SamplingParams p = test::params_from(c["params"]);
    p.seed = 99;
    auto state = make_state(p);
    Sampler sampler;
    const auto row = test::floats(c["logits"]);
    std::vector<int64_t> counts(row.size());
    for (int32_t t : run(sampler, state, row, kDraws)) ++counts[static_cast<size_t>(t)];

    std::vector<double> want;
    for (const auto& v : c["probs"]) want.push_back(v.get<double>());
    const auto [stat, df] = chi_square(counts, want, kDraws);
    EXPECT_LT(stat, critical(df)) << "df " << df;

    // Wrong 1: the same survivors at temperature * 1.3.
    std::vector<double> hotter(row.size());
    double z = 0;
    const float t = p.temperature * 1.3f;
    for (size_t i = 0; i < row.size(); ++i) {
      if (want[i] > 0) z += hotter[i] = std::exp(double(row[i]) / t);
    }
    for (auto& h : hotter) h /= z;
    const auto [stat_hot, df_hot] = chi_square(counts, hotter, kDraws);
    EXPECT_GT(stat_hot, critical(df_hot));

    // Wrong 2: no truncation at all.
    std::vector<double> full(row.size());
    z = 0;
    for (size_t i = 0; i < row.size(); ++i) z += full[i] = std::exp(double(row[i]) / p.temperature);
    for (auto& f : full) f /= z;
    const auto [stat_full, df_full] = chi_square(counts, full, kDraws);
    EXPECT_GT(stat_full, critical(df_full));
  }
}

TEST(SamplingSamplerTest, DenseRowChiSquareOnALargeVocabulary) {
  // 2000 tokens, temperature only: the path that never materialises candidates.
  std::vector<float> row(2000, -30.0f);
  const std::vector<float> live = {2.0f, 1.5f, 1.0f, 0.3f, 0.0f, -0.5f};
  for (size_t i = 0; i < live.size(); ++i) row[i * 333 + 5] = live[i];
  SamplingParams p;
  p.temperature = 0.8f;
  p.seed = 5;
  auto state = make_state(p);
  Sampler sampler;
  constexpr int64_t kDraws = 20000;
  std::vector<int64_t> counts(row.size());
  for (int32_t t : run(sampler, state, row, kDraws)) ++counts[static_cast<size_t>(t)];
  std::vector<double> want(row.size());
  double z = 0;
  for (size_t i = 0; i < row.size(); ++i) z += want[i] = std::exp(double(row[i]) / 0.8);
  for (auto& w : want) w /= z;
  const auto [stat, df] = chi_square(counts, want, kDraws);
  EXPECT_LT(stat, critical(df));
}

TEST(SamplingSamplerTest, SameSeedSameTokensDifferentSeedsDiffer) {
  std::vector<float> row(5000);
  for (size_t i = 0; i < row.size(); ++i) row[i] = std::sin(float(i) * 0.37f) * 3.0f;
  for (auto configure :
       {+[](SamplingParams& q) { q.do_sample = true; }, +[](SamplingParams& q) { q.top_k = 50; },
        +[](SamplingParams& q) { q.top_p = 0.9f; },
        +[](SamplingParams& q) {
          q.typical_p = 0.9f;
          q.temperature = 1.5f;
        }}) {
    SamplingParams p;
    configure(p);
    p.seed = 1234;
    Sampler s1, s2;
    auto a = make_state(p);
    auto b = make_state(p);
    const auto ta = run(s1, a, row, 200);
    EXPECT_EQ(ta, run(s2, b, row, 200));
    p.seed = 1235;
    auto c = make_state(p);
    EXPECT_NE(ta, run(s1, c, row, 200));
    p.seed = choice_seed(1234, 1);  // second choice of the same request
    auto d = make_state(p);
    EXPECT_NE(ta, run(s1, d, row, 200));
  }
}

TEST(SamplingSamplerTest, OtherSequencesInTheBatchDoNotChangeASeededStream) {
  std::vector<float> row(3000);
  for (size_t i = 0; i < row.size(); ++i) row[i] = std::cos(float(i) * 0.11f) * 4.0f;
  SamplingParams p;
  p.do_sample = true;
  p.top_p = 0.95f;
  p.seed = 77;
  Sampler alone;
  auto solo = make_state(p);
  const auto want = run(alone, solo, row, 100);

  // The same request inside a batch with differently configured neighbours
  // that join and leave at different steps.
  SamplingParams q = p;
  q.seed = 1;
  q.temperature = 0.5f;
  q.repetition_penalty = 1.3f;
  SamplingParams greedy;
  auto target = make_state(p);
  auto other = make_state(q, 5);
  auto plain = make_state(greedy);
  Sampler batched;
  std::vector<int32_t> got;
  for (int step = 0; step < 100; ++step) {
    std::vector<std::vector<float>> rows(3, row);
    std::vector<SampleInput> batch;
    if (step % 3 != 0) batch.push_back({&other, rows[0]});
    batch.push_back({&target, rows[1]});
    if (step % 2 == 0) batch.push_back({&plain, rows[2]});
    std::vector<SampleOutput> outs(batch.size());
    batched.sample(batch, outs);
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].state == &target) got.push_back(outs[i].token);
    }
  }
  EXPECT_EQ(got, want);
}

TEST(SamplingSamplerTest, RepetitionPenaltyChangesTheGreedyChoice) {
  SamplingParams p;
  p.repetition_penalty = 2.0f;
  const std::vector<int32_t> prompt = {0};
  auto state = make_state(p, 0, prompt);
  Sampler sampler;
  // Token 0 (3.0 -> 1.5 after the penalty) loses to token 1 (2.0); then 1 is
  // penalised too (2.0 -> 1.0), and 0 (1.5) beats it and 2 (1.2).
  EXPECT_EQ(run(sampler, state, {3.0f, 2.0f, 1.2f}, 2), (std::vector<int32_t>{1, 0}));
}

TEST(SamplingSamplerTest, LogprobsMatchLogSoftmaxAndSumToOne) {
  for (const auto& c : test::goldens()["logprobs"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto row = test::floats(c["logits"]);
    const auto want = test::floats(c["log_softmax"]);
    const auto order = test::ints(c["top_order"]);
    const int32_t n = static_cast<int32_t>(row.size());
    for (bool sample : {false, true}) {
      SamplingParams p;
      if (sample) {
        p.temperature = 0.3f;  // logprobs do not depend on the sampling knobs
        p.top_k = 2;
      }
      auto state = make_state(p, n);
      Sampler sampler;
      std::vector<float> work = row;
      SampleOutput out;
      const SampleInput in{&state, work};
      sampler.sample(std::span(&in, 1), std::span(&out, 1));
      ASSERT_GE(out.token, 0);
      EXPECT_NEAR(out.logprob, want[static_cast<size_t>(out.token)], 1e-5f);
      ASSERT_EQ(out.top.size(), row.size());
      double mass = 0;
      for (size_t i = 0; i < out.top.size(); ++i) {
        EXPECT_EQ(out.top[i].id, order[i]) << "rank " << i;
        const float w = want[static_cast<size_t>(order[i])];
        if (std::isinf(w)) {
          EXPECT_TRUE(std::isinf(out.top[i].logprob));
        } else {
          EXPECT_NEAR(out.top[i].logprob, w, 1e-5f);
        }
        mass += std::exp(double(out.top[i].logprob));
      }
      EXPECT_NEAR(mass, 1.0, 1e-5);  // logsumexp over the full distribution ~ 0
      EXPECT_NEAR(raw_logprob(row, order[0]), want[static_cast<size_t>(order[0])], 1e-5f);
    }
  }
}

TEST(SamplingSamplerTest, TopNIsOrderedWithTiesByIdAndReportsPenalisedLogprobs) {
  SamplingParams p;
  p.logit_bias = {{4, 1.0f}};
  auto state = make_state(p, 3);
  Sampler sampler;
  std::vector<float> row = {1.0f, 2.0f, 2.0f, 0.5f, 1.0f};  // bias: token 4 -> 2.0
  SampleOutput out;
  const SampleInput in{&state, row};
  sampler.sample(std::span(&in, 1), std::span(&out, 1));
  ASSERT_EQ(out.top.size(), 3u);
  EXPECT_EQ(out.top[0].id, 1);
  EXPECT_EQ(out.top[1].id, 2);
  EXPECT_EQ(out.top[2].id, 4);
  const double lse = std::log(std::exp(1.0) + 3 * std::exp(2.0) + std::exp(0.5));
  for (const auto& t : out.top) EXPECT_NEAR(t.logprob, 2.0 - lse, 1e-6);
  EXPECT_EQ(out.token, 1);
  EXPECT_NEAR(out.logprob, 2.0 - lse, 1e-6);
}

TEST(SamplingSamplerTest, TokenLogprobCanBeSkipped) {
  SamplingParams p;
  SamplingState state(StateOptions{.sampling = p, .logprobs = {.tokens = false}, .prompt = {}});
  Sampler sampler;
  std::vector<float> row = {0.0f, 1.0f};
  SampleOutput out;
  const SampleInput in{&state, row};
  sampler.sample(std::span(&in, 1), std::span(&out, 1));
  EXPECT_EQ(out.token, 1);
  EXPECT_TRUE(std::isnan(out.logprob));
}

TEST(SamplingSamplerTest, RowWithoutFiniteLogitIsReported) {
  SamplingParams p;
  p.do_sample = true;
  auto state = make_state(p, 2);
  Sampler sampler;
  for (std::vector<float> row :
       {std::vector<float>{-kInf, -kInf}, std::vector<float>{std::nanf(""), std::nanf("")},
        std::vector<float>{1.0f, kInf}}) {
    SampleOutput out;
    const SampleInput in{&state, row};
    sampler.sample(std::span(&in, 1), std::span(&out, 1));
    EXPECT_EQ(out.token, -1);
    EXPECT_TRUE(std::isnan(out.logprob));
    EXPECT_TRUE(out.top.empty());
  }
  EXPECT_TRUE(std::isnan(raw_logprob(std::vector<float>{-kInf}, 0)));
  EXPECT_TRUE(std::isnan(raw_logprob(std::vector<float>{1.0f}, 3)));
}

TEST(SamplingSamplerTest, NaNLogitsAreNeverChosen) {
  SamplingParams p;
  p.do_sample = true;
  p.seed = 3;
  auto state = make_state(p);
  Sampler sampler;
  const float nan = std::nanf("");
  for (int32_t t : run(sampler, state, {nan, 0.0f, nan, 0.0f, nan}, 200)) {
    EXPECT_TRUE(t == 1 || t == 3) << t;
  }
}

}  // namespace
}  // namespace kiln::sampling
