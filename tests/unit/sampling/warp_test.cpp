// The warpers against transformers' (tests/data/sampling/goldens.json) and
// the selection helpers they are built on.
#include "sampling/warp.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>

#include "goldens.h"
#include "sampling/vec_math.h"

namespace kiln::sampling::detail {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// The surviving tokens as a full row: scaled logit, or -inf when removed
// (the shape transformers' warpers return).
std::vector<float> warp_row(const SamplingParams& p, const std::vector<float>& row) {
  WarpScratch scratch;
  const float m = max_value(row.data(), row.size());
  const Warped w = warp(p, row, m, scratch);
  std::vector<float> out(row.size(), -kInf);
  if (w.dense) {
    for (size_t i = 0; i < row.size(); ++i) out[i] = row[i] * w.inv_temperature;
  } else {
    for (size_t j = 0; j < w.ids.size(); ++j) out[static_cast<size_t>(w.ids[j])] = w.values[j];
    for (size_t j = 1; j < w.ids.size(); ++j) EXPECT_LT(w.ids[j - 1], w.ids[j]);
  }
  return out;
}

void expect_same_row(const std::vector<float>& got, const std::vector<float>& want,
                     const std::string& name) {
  ASSERT_EQ(got.size(), want.size()) << name;
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::isinf(want[i])) {
      EXPECT_TRUE(std::isinf(got[i]) && got[i] < 0)
          << name << " token " << i << " should be removed";
    } else {
      ASSERT_FALSE(std::isinf(got[i])) << name << " token " << i << " should be kept";
      EXPECT_NEAR(got[i], want[i], 1e-6f * std::max(1.0f, std::fabs(want[i]))) << name << " " << i;
    }
  }
}

TEST(SamplingWarpTest, EachWarperMatchesTransformers) {
  int n = 0;
  for (const auto& c : test::goldens()["warpers"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto row = test::floats(c["logits"]);
    expect_same_row(warp_row(test::params_from(c["params"]), row), test::floats(c["expected"]),
                    c["name"]);
    ++n;
  }
  EXPECT_GE(n, 30);
}

TEST(SamplingWarpTest, ChainedWarpersMatchTransformers) {
  for (const auto& c : test::goldens()["pipelines"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto row = test::floats(c["logits"]);
    const auto got = warp_row(test::params_from(c["params"]), row);
    expect_same_row(got, test::floats(c["expected"]), c["name"]);
    // Probabilities of the survivors, against torch.softmax of transformers' output.
    double z = 0;
    const float m = max_value(got.data(), got.size());
    for (float v : got) z += std::isinf(v) ? 0.0 : std::exp(double(v) - m);
    for (size_t i = 0; i < got.size(); ++i) {
      const double p = std::isinf(got[i]) ? 0.0 : std::exp(double(got[i]) - m) / z;
      EXPECT_NEAR(p, c["probs"][i].get<double>(), 1e-6) << i;
    }
  }
}

TEST(SamplingWarpTest, TopPKeepsEveryTiedToken) {
  // Four equal tokens hold 0.8 of the mass: with p = 0.3 none of them is
  // less probable than another, so all stay (the documented tie rule).
  const std::vector<float> row = {0.0f, 0.0f, -2.0f, 0.0f, 0.0f};
  SamplingParams p;
  p.top_p = 0.3f;
  const auto out = warp_row(p, row);
  EXPECT_EQ(std::count_if(out.begin(), out.end(), [](float v) { return !std::isinf(v); }), 4);
  EXPECT_TRUE(std::isinf(out[2]));
}

TEST(SamplingWarpTest, AllMassOnOneTokenLeavesOnlyIt) {
  std::vector<float> row(1000, 0.0f);
  row[123] = 200.0f;
  for (auto set :
       {+[](SamplingParams& p) { p.top_p = 0.99f; },
        +[](SamplingParams& p) { p.typical_p = 0.99f; },
        +[](SamplingParams& p) { p.min_p = 0.01f; }, +[](SamplingParams& p) { p.top_k = 1; }}) {
    SamplingParams p;
    set(p);
    const auto out = warp_row(p, row);
    for (size_t i = 0; i < row.size(); ++i) EXPECT_EQ(std::isinf(out[i]), i != 123) << i;
  }
}

TEST(SamplingWarpTest, OffValuesAndTopKAboveVocabKeepTheDenseRow) {
  const std::vector<float> row = {1.0f, -kInf, 3.0f};
  SamplingParams p;
  p.top_p = 1.0f;
  p.top_k = 5;  // > vocab: off
  WarpScratch scratch;
  EXPECT_TRUE(warp(p, row, 3.0f, scratch).dense);
}

TEST(SamplingWarpTest, NegativeInfinityIsNeverKeptByTruncation) {
  const std::vector<float> row = {-kInf, 1.0f, -kInf, 0.5f};
  SamplingParams p;
  p.top_k = 3;
  p.top_p = 0.999f;
  const auto out = warp_row(p, row);
  EXPECT_TRUE(std::isinf(out[0]));
  EXPECT_TRUE(std::isinf(out[2]));
  EXPECT_FALSE(std::isinf(out[1]));
  EXPECT_FALSE(std::isinf(out[3]));
}

TEST(SamplingWarpTest, KthLargestOnALargeRowMatchesSorting) {
  std::mt19937 gen(5);
  std::normal_distribution<float> normal(0.0f, 4.0f);
  std::vector<float> row(262144);
  for (auto& v : row) v = std::round(normal(gen) * 8.0f) / 8.0f;  // many ties
  row[7] = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> sorted;
  for (float v : row) {
    if (v == v) sorted.push_back(v);
  }
  std::sort(sorted.begin(), sorted.end(), std::greater<float>());
  std::vector<float> buf;
  for (size_t k : {1u, 2u, 40u, 1000u, 5000u, 100000u}) {
    EXPECT_EQ(kth_largest(row, k, buf), sorted[k - 1]) << k;
  }
  EXPECT_EQ(kth_largest(std::vector<float>{1.0f, 2.0f}, 5, buf), 1.0f);
}

TEST(SamplingWarpTest, WeightedBoundaryFindsTheSmallestSufficientKey) {
  std::mt19937 gen(9);
  std::uniform_int_distribution<int> key_dist(0, 50);
  std::uniform_real_distribution<float> w_dist(0.0f, 1.0f);
  for (int rep = 0; rep < 200; ++rep) {
    const size_t n = 1 + static_cast<size_t>(rep * 7 % 300);
    std::vector<float> keys(n), weights(n);
    double total = 0;
    for (size_t i = 0; i < n; ++i) {
      keys[i] = static_cast<float>(key_dist(gen));
      weights[i] = w_dist(gen);
      total += weights[i];
    }
    const double target = total * (rep % 10) / 10.0 + 1e-9;
    // Reference: walk distinct keys in ascending order.
    float want = kInf;
    for (int k = 0; k <= 50; ++k) {
      double mass = 0;
      for (size_t i = 0; i < n; ++i) mass += keys[i] <= k ? weights[i] : 0.0;
      if (mass >= target) {
        want = static_cast<float>(k);
        break;
      }
    }
    // Keys present in the data only: the boundary is the smallest present key >= want.
    float present = kInf;
    for (float k : keys) {
      if (k >= want && k < present) present = k;
    }
    EXPECT_EQ(weighted_boundary(keys, weights, target), present) << rep;
  }
}

TEST(SamplingWarpTest, WeightedBoundaryOnLargeInputsMatchesSorting) {
  // Above 2048 keys the histogram narrowing runs first.
  std::mt19937 gen(21);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::uniform_real_distribution<float> w_dist(0.0f, 1.0f);
  for (size_t n : {3000u, 50000u, 262144u}) {
    std::vector<float> keys(n), weights(n);
    for (size_t i = 0; i < n; ++i) {
      keys[i] = i % 7 == 0 ? std::round(normal(gen)) : normal(gen);  // some ties
      weights[i] = w_dist(gen);
    }
    keys[5] = kInf;
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return keys[a] < keys[b]; });
    double total = 0;
    for (float w : weights) total += w;
    for (double frac : {0.0, 0.01, 0.3, 0.9, 0.999}) {
      const double target = frac * total;
      double mass = 0;
      float want = kInf;
      for (size_t i = 0; i < n;) {
        const float key = keys[order[i]];
        for (; i < n && keys[order[i]] == key; ++i) mass += weights[order[i]];
        if (mass >= target) {
          want = key;
          break;
        }
      }
      auto k = keys;
      auto w = weights;
      EXPECT_EQ(weighted_boundary(k, w, target), want) << n << " " << frac;
    }
  }
}

// The documented rules written as plainly as possible (sort, walk), for rows
// too large for the goldens: the prefilters and selections must not change
// which tokens survive.
// `margin[i]`: how far token i's decision was from flipping (mass above vs
// top_p, or p / p_max vs min_p), the smallest over the stages.
std::vector<int32_t> reference_survivors(const SamplingParams& p, const std::vector<float>& row,
                                         std::vector<double>& margin) {
  const size_t n = row.size();
  margin.assign(n, INFINITY);
  std::vector<double> s(n);
  for (size_t i = 0; i < n; ++i) s[i] = double(row[i] * (1.0f / p.temperature));
  std::vector<bool> keep(n, true);
  auto probs = [&] {
    double m = -INFINITY, z = 0;
    for (size_t i = 0; i < n; ++i) {
      if (keep[i]) m = std::max(m, s[i]);
    }
    std::vector<double> q(n, 0.0);
    for (size_t i = 0; i < n; ++i) {
      if (keep[i]) z += q[i] = std::exp(s[i] - m);
    }
    for (auto& v : q) v /= z;
    return q;
  };
  if (p.top_p < 1.0f) {
    const auto q = probs();
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return s[a] > s[b]; });
    double above = 0;
    for (size_t i = 0; i < n;) {
      size_t j = i;
      double group = 0;
      for (; j < n && s[order[j]] == s[order[i]]; ++j) group += q[order[j]];
      for (size_t k = i; k < j; ++k) {
        keep[order[k]] = above < p.top_p;
        margin[order[k]] = std::min(margin[order[k]], std::fabs(above - p.top_p));
      }
      above += group;
      i = j;
    }
  }
  if (p.min_p > 0.0f) {
    const auto q = probs();
    const double top = *std::max_element(q.begin(), q.end());
    for (size_t i = 0; i < n; ++i) {
      if (!keep[i]) continue;
      keep[i] = q[i] >= p.min_p * top;
      margin[i] = std::min(margin[i], std::fabs(q[i] / top - p.min_p));
    }
  }
  std::vector<int32_t> ids;
  for (size_t i = 0; i < n; ++i) {
    if (keep[i]) ids.push_back(int32_t(i));
  }
  return ids;
}

TEST(SamplingWarpTest, LargeRowsKeepTheReferenceSurvivors) {
  std::mt19937 gen(33);
  for (float scale : {1.0f, 3.0f, 6.0f}) {
    std::normal_distribution<float> normal(0.0f, scale);
    std::vector<float> row(40000);
    for (auto& v : row) v = normal(gen);
    for (float t : {0.7f, 1.6f}) {
      for (auto set :
           {+[](SamplingParams& q) { q.top_p = 0.9f; }, +[](SamplingParams& q) { q.top_p = 0.3f; },
            +[](SamplingParams& q) { q.top_p = 0.999f; },
            +[](SamplingParams& q) { q.min_p = 0.02f; },
            +[](SamplingParams& q) {
              q.top_p = 0.95f;
              q.min_p = 0.1f;
            }}) {
        SamplingParams p;
        p.temperature = t;
        set(p);
        WarpScratch scratch;
        const Warped w = warp(p, row, max_value(row.data(), row.size()), scratch);
        const std::vector<int32_t> got(w.ids.begin(), w.ids.end());
        std::vector<double> margin;
        const auto want = reference_survivors(p, row, margin);
        // Only tokens within float rounding of the cut may differ (the
        // weights are float exps: ~1e-7 of the mass).
        std::vector<int32_t> diff;
        std::set_symmetric_difference(got.begin(), got.end(), want.begin(), want.end(),
                                      std::back_inserter(diff));
        for (int32_t id : diff) {
          EXPECT_LT(margin[size_t(id)], 1e-6)
              << "token " << id << " scale " << scale << " t " << t << " p " << p.top_p << " min_p "
              << p.min_p << " kept " << got.size();
        }
        EXPECT_LE(diff.size(), 8u);
      }
    }
  }
}

TEST(SamplingVecMathTest, ExpIsAccurateOverItsRange) {
  float worst = 0;
  for (float x = -87.0f; x <= 0.0f; x += 0.001953125f) {
    const double exact = std::exp(double(x));
    const float got = exp_nonpositive(x);
    worst = std::max(worst, static_cast<float>(std::fabs(got - exact) / exact));
  }
  EXPECT_LT(worst, 3e-7f);
  EXPECT_EQ(exp_nonpositive(0.0f), 1.0f);
  EXPECT_EQ(exp_nonpositive(-100.0f), 0.0f);
  EXPECT_EQ(exp_nonpositive(-kInf), 0.0f);
  EXPECT_TRUE(std::isnan(exp_nonpositive(std::numeric_limits<float>::quiet_NaN())));
}

TEST(SamplingVecMathTest, SumExpMatchesDoubleReferenceAndIgnoresNaN) {
  std::vector<float> x(1003);
  for (size_t i = 0; i < x.size(); ++i) x[i] = -static_cast<float>(i % 97) * 0.37f;
  double want = 0;
  for (float v : x) want += std::exp(double(v) * 0.8);
  EXPECT_NEAR(sum_exp(x.data(), x.size(), 0.0f, 0.8f), want, want * 1e-6);
  x[500] = std::numeric_limits<float>::quiet_NaN();
  want -= std::exp(double(-(500 % 97) * 0.37f) * 0.8);
  EXPECT_NEAR(sum_exp(x.data(), x.size(), 0.0f, 0.8f), want, want * 1e-6);
  EXPECT_EQ(max_value(x.data(), x.size()), 0.0f);
}

TEST(SamplingVecMathTest, EveryIsaGivesBitIdenticalResults) {
  std::mt19937 gen(11);
  std::normal_distribution<float> normal(0.0f, 5.0f);
  std::vector<float> row(262144 + 7);
  for (auto& v : row) v = normal(gen);
  row[100] = -kInf;
  row[200] = std::numeric_limits<float>::quiet_NaN();
  struct Result {
    float max;
    double sum;
    std::vector<float> terms;
    size_t first, at_least, cumulative;
  };
  auto run = [&] {
    Result r;
    r.max = max_value(row.data(), row.size());
    r.terms.resize(row.size());
    r.sum = sum_exp(row.data(), row.size(), r.max, 0.7f, r.terms.data());
    r.first = find_first(row.data(), row.size(), r.max);
    r.at_least = find_at_least(row.data(), row.size(), 3, 0.5f, 1.0f, 9.0f);
    r.cumulative = find_cumulative(r.terms.data(), r.terms.size(), r.sum * 0.61803);
    return r;
  };
  set_isa(Isa::kBaseline);
  const Result base = run();
  int checked = 0;
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    if (!isa_supported(isa)) continue;
    set_isa(isa);
    const Result r = run();
    EXPECT_EQ(r.max, base.max);
    EXPECT_EQ(r.sum, base.sum);  // bitwise: same lanes, same order
    EXPECT_EQ(std::memcmp(r.terms.data(), base.terms.data(), r.terms.size() * sizeof(float)), 0);
    EXPECT_EQ(r.first, base.first);
    EXPECT_EQ(r.at_least, base.at_least);
    EXPECT_EQ(r.cumulative, base.cumulative);
    ++checked;
  }
  set_isa(Isa::kAvx512);  // back to the best supported
  if (checked == 0) GTEST_SKIP() << "only the baseline ISA is available here";
}

}  // namespace
}  // namespace kiln::sampling::detail
