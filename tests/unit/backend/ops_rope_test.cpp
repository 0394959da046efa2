#include "backend/cpu/rope.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "test_paths.h"

namespace kiln::backend::cpu {
namespace {

// Designated initializers would warn (-Wmissing-field-initializers, GCC 12).
RopeOptions options(int32_t n_rot, double theta, RopeLayout layout = RopeLayout::kNormal) {
  RopeOptions o;
  o.n_rot = n_rot;
  o.theta = theta;
  o.layout = layout;
  return o;
}

std::vector<float> rotate(const Rope& rope, std::vector<float> x, int64_t pos) {
  std::vector<float> c(static_cast<size_t>(rope.n_rot())), s(c.size());
  rope.tables(pos, c.data(), s.data());
  rope.apply(x.data(), c.data(), s.data());
  return x;
}

TEST(RopeTest, DefaultFrequenciesAreThetaPowers) {
  Rope rope(options(8, 10000.0));
  ASSERT_EQ(rope.inv_freq().size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_DOUBLE_EQ(rope.inv_freq()[i], std::pow(10000.0, -i / 4.0));
}

TEST(RopeTest, NormalLayoutRotatesAdjacentPairs) {
  Rope rope(options(4, 100.0));
  const auto y = rotate(rope, {1.0f, 0.0f, 0.0f, 1.0f}, 3);
  // pair 0 turns by 3 rad, pair 1 by 3/10 rad.
  EXPECT_NEAR(y[0], std::cos(3.0), 1e-6);
  EXPECT_NEAR(y[1], std::sin(3.0), 1e-6);
  EXPECT_NEAR(y[2], -std::sin(0.3), 1e-6);
  EXPECT_NEAR(y[3], std::cos(0.3), 1e-6);
}

TEST(RopeTest, NeoxLayoutIsNormalLayoutOnPermutedDims) {
  // llama.cpp's converter permutes HF Q/K rows so that the two layouts agree:
  // neox dim i <-> normal dim 2i, neox dim i + n/2 <-> normal dim 2i + 1.
  const int n = 16;
  Rope normal(options(n, 500.0));
  Rope neox(options(n, 500.0, RopeLayout::kNeox));
  std::mt19937 rng(1);
  std::normal_distribution<float> dist;
  std::vector<float> x(n), xp(n);
  for (auto& v : x) v = dist(rng);
  for (int i = 0; i < n / 2; ++i) {
    xp[2 * i] = x[i];
    xp[2 * i + 1] = x[i + n / 2];
  }
  const auto a = rotate(neox, x, 37), b = rotate(normal, xp, 37);
  for (int i = 0; i < n / 2; ++i) {
    EXPECT_NEAR(a[i], b[2 * i], 1e-6);
    EXPECT_NEAR(a[i + n / 2], b[2 * i + 1], 1e-6);
  }
}

TEST(RopeTest, DotProductDependsOnlyOnRelativePosition) {
  Rope rope(options(32, 10000.0, RopeLayout::kNeox));
  std::mt19937 rng(2);
  std::normal_distribution<float> dist;
  std::vector<float> q(32), k(32);
  for (auto& v : q) v = dist(rng);
  for (auto& v : k) v = dist(rng);
  auto dot = [](const std::vector<float>& a, const std::vector<float>& b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += double(a[i]) * b[i];
    return s;
  };
  const double d1 = dot(rotate(rope, q, 10), rotate(rope, k, 3));
  const double d2 = dot(rotate(rope, q, 1007), rotate(rope, k, 1000));
  EXPECT_NEAR(d1, d2, 2e-4);
}

TEST(RopeTest, LinearScalingDividesFrequencies) {
  Rope plain(options(8, 10000.0));
  auto o = options(8, 10000.0);
  o.scaling.type = RopeScalingType::kLinear;
  o.scaling.factor = 4.0;
  Rope linear(o);
  for (int i = 0; i < 4; ++i) EXPECT_DOUBLE_EQ(linear.inv_freq()[i], plain.inv_freq()[i] / 4.0);
}

TEST(RopeTest, FreqFactorsDivideFrequencies) {
  auto o = options(4, 10000.0);
  o.freq_factors = {1.0f, 8.0f};
  Rope rope(o);
  EXPECT_DOUBLE_EQ(rope.inv_freq()[0], 1.0);
  EXPECT_DOUBLE_EQ(rope.inv_freq()[1], 0.01 / 8.0);
}

TEST(RopeTest, ValidationNamesTheProblem) {
  EXPECT_EQ(validate_rope(options(8, 10000.0)), "");
  EXPECT_NE(validate_rope(options(7, 10000.0)), "");
  EXPECT_NE(validate_rope(options(8, 0.5)), "");
  auto o = options(8, 1e4);
  o.freq_factors = {1.0f};
  EXPECT_NE(validate_rope(o), "");
  o = options(8, 1e4);
  o.scaling.type = RopeScalingType::kYarn;  // without the original context
  o.scaling.factor = 4.0;
  EXPECT_NE(validate_rope(o), "");
}

// transformers' frequencies for its rope types (scripts/make_torch_logits.py).
// It computes them in float32, hence the 1e-6 relative tolerance.
TEST(RopeTest, ScaledFrequenciesMatchTransformers) {
  std::ifstream in(test::data_dir() / "forward/torch/rope_inv_freq.json");
  ASSERT_TRUE(in.good());
  const auto cases = nlohmann::json::parse(in)["cases"];
  ASSERT_GE(cases.size(), 5u);
  for (const auto& c : cases) {
    const auto& rs = c["rope_scaling"];
    auto o = options(c["n_rot"], c["theta"], RopeLayout::kNeox);
    const std::string type = rs["rope_type"];
    o.scaling.type = type == "linear"   ? RopeScalingType::kLinear
                     : type == "llama3" ? RopeScalingType::kLlama3
                                        : RopeScalingType::kYarn;
    o.scaling.factor = rs["factor"];
    o.scaling.original_context = rs.value("original_max_position_embeddings", 0);
    o.scaling.low_freq_factor = rs.value("low_freq_factor", 1.0);
    o.scaling.high_freq_factor = rs.value("high_freq_factor", 4.0);
    o.scaling.beta_fast = rs.value("beta_fast", 32.0);
    o.scaling.beta_slow = rs.value("beta_slow", 1.0);
    o.scaling.mscale = rs.value("mscale", 0.0);
    o.scaling.mscale_all_dim = rs.value("mscale_all_dim", 0.0);
    ASSERT_EQ(validate_rope(o), "") << c["name"];
    Rope rope(o);
    const std::vector<double> want = c["inv_freq"];
    ASSERT_EQ(rope.inv_freq().size(), want.size());
    for (size_t i = 0; i < want.size(); ++i)
      EXPECT_NEAR(rope.inv_freq()[i], want[i], 1e-6 * want[i]) << c["name"] << " " << i;
    EXPECT_NEAR(rope.attention_factor(), c["attention_factor"].get<double>(), 1e-9) << c["name"];
  }
}

}  // namespace
}  // namespace kiln::backend::cpu
