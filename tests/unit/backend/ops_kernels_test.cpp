// Every vectorised kernel against the scalar reference, on every ISA this
// CPU supports, for lengths that exercise whole vectors and masked tails.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "backend/cpu/half.h"
#include "backend/cpu/kernels.h"
#include "backend/cpu/ops.h"

namespace kiln::backend::cpu {
namespace {

const int64_t kLengths[] = {1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 256, 1000};

std::vector<float> random_vector(int64_t n, float scale, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = dist(rng);
  return v;
}

// Max |a - b| relative to max(1, |b|): the kernels differ from the reference
// only by summation order and ~1-ulp approximations of exp and tanh.
double max_rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0.0;
  for (size_t i = 0; i < a.size(); ++i)
    m = std::max(
        m, std::abs(static_cast<double>(a[i]) - b[i]) / std::max(1.0, std::abs(double(b[i]))));
  return m;
}

class KernelsTest : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (!isa_supported(GetParam())) GTEST_SKIP() << "CPU lacks " << isa_name(GetParam());
    simd_ = GetParam() == Isa::kScalar ? &reference_kernels() : simd_kernels(GetParam());
  }
  const Kernels* simd_ = nullptr;
  const Kernels& ref_ = reference_kernels();
};

constexpr double kTol = 2e-6;

TEST_P(KernelsTest, DotAxpyAddScale) {
  for (int64_t n : kLengths) {
    auto a = random_vector(n, 1.0f, 1), b = random_vector(n, 1.0f, 2);
    EXPECT_NEAR(simd_->dot(a.data(), b.data(), n), ref_.dot(a.data(), b.data(), n),
                1e-5 * std::sqrt(double(n)))
        << n;
    auto y1 = b, y2 = b;
    simd_->axpy(0.37f, a.data(), y1.data(), n);
    ref_.axpy(0.37f, a.data(), y2.data(), n);
    EXPECT_LE(max_rel_diff(y1, y2), kTol) << n;
    simd_->add(a.data(), y1.data(), n);
    ref_.add(a.data(), y2.data(), n);
    EXPECT_LE(max_rel_diff(y1, y2), kTol) << n;
    simd_->scale(y1.data(), -1.5f, n);
    ref_.scale(y2.data(), -1.5f, n);
    EXPECT_LE(max_rel_diff(y1, y2), kTol) << n;
  }
}

TEST_P(KernelsTest, RmsNormWithAndWithoutWeight) {
  for (int64_t n : kLengths) {
    auto x = random_vector(n, 3.0f, 3), w = random_vector(n, 1.0f, 4);
    std::vector<float> y1(x.size()), y2(x.size());
    simd_->rms_norm(x.data(), w.data(), y1.data(), n, 1e-6f);
    ref_.rms_norm(x.data(), w.data(), y2.data(), n, 1e-6f);
    EXPECT_LE(max_rel_diff(y1, y2), 4 * kTol) << n;
    simd_->rms_norm(x.data(), nullptr, y1.data(), n, 1e-5f);
    ref_.rms_norm(x.data(), nullptr, y2.data(), n, 1e-5f);
    EXPECT_LE(max_rel_diff(y1, y2), 4 * kTol) << n;
  }
}

TEST_P(KernelsTest, RmsNormMatchesDefinition) {
  const std::vector<float> x = {1.0f, -2.0f, 3.0f, 4.0f};
  const std::vector<float> w = {1.0f, 0.5f, 2.0f, -1.0f};
  std::vector<float> y(4);
  simd_->rms_norm(x.data(), w.data(), y.data(), 4, 0.0f);
  const float inv = 1.0f / std::sqrt(30.0f / 4.0f);  // mean of squares 7.5
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(y[i], x[i] * inv * w[i], 1e-6f);
}

TEST_P(KernelsTest, SoftmaxSumsToOneAndMatches) {
  for (int64_t n : kLengths) {
    auto x = random_vector(n, 5.0f, 5);
    x[0] = -1e30f;  // a masked-out style value must give ~0
    auto y1 = x, y2 = x;
    simd_->softmax(y1.data(), n);
    ref_.softmax(y2.data(), n);
    EXPECT_LE(max_rel_diff(y1, y2), kTol) << n;
    double sum = 0.0;
    for (float v : y1) sum += v;
    if (n > 1) {
      EXPECT_NEAR(sum, 1.0, 1e-5) << n;
      EXPECT_EQ(y1[0], 0.0f);
    }
  }
}

TEST_P(KernelsTest, GatedActivations) {
  for (int64_t n : kLengths) {
    auto g = random_vector(n, 4.0f, 6), u = random_vector(n, 1.0f, 7);
    if (n > 2) {
      g[0] = -100.0f;  // silu's exp must not overflow
      g[1] = 100.0f;
    }
    std::vector<float> y1(g.size()), y2(g.size());
    simd_->silu_mul(g.data(), u.data(), y1.data(), n);
    ref_.silu_mul(g.data(), u.data(), y2.data(), n);
    EXPECT_LE(max_rel_diff(y1, y2), 4 * kTol) << n;
    simd_->gelu_tanh_mul(g.data(), u.data(), y1.data(), n);
    ref_.gelu_tanh_mul(g.data(), u.data(), y2.data(), n);
    EXPECT_LE(max_rel_diff(y1, y2), 4 * kTol) << n;
  }
}

TEST_P(KernelsTest, Softcap) {
  for (int64_t n : kLengths) {
    auto x = random_vector(n, 50.0f, 8);
    auto y1 = x, y2 = x;
    simd_->softcap(y1.data(), 30.0f, n);
    ref_.softcap(y2.data(), 30.0f, n);
    EXPECT_LE(max_rel_diff(y1, y2), 4 * kTol) << n;
    for (float v : y1) EXPECT_LE(std::abs(v), 30.0f);
  }
}

TEST_P(KernelsTest, RopeBothLayouts) {
  for (int64_t n : {2, 4, 8, 16, 30, 32, 64, 80, 128, 256}) {
    auto x = random_vector(n, 1.0f, 9), c = random_vector(n, 1.0f, 10),
         s = random_vector(n, 1.0f, 11);
    auto y1 = x, y2 = x;
    simd_->rope_normal(y1.data(), c.data(), s.data(), n);
    ref_.rope_normal(y2.data(), c.data(), s.data(), n);
    EXPECT_LE(max_rel_diff(y1, y2), 4 * kTol) << n;
    y1 = x, y2 = x;
    simd_->rope_neox(y1.data(), c.data(), s.data(), n);
    ref_.rope_neox(y2.data(), c.data(), s.data(), n);
    EXPECT_LE(max_rel_diff(y1, y2), 4 * kTol) << n;
  }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, KernelsTest,
                         ::testing::Values(Isa::kScalar, Isa::kAvx2, Isa::kAvx512),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

TEST(OpsTest, GeluF16TableFollowsLlamaCppRule) {
  // Inputs are rounded to f16 first: 1.0001 and 1.0 share an f16 value.
  const std::vector<float> g = {1.0001f, 1.0f, -11.0f, 12.0f, 0.0f};
  const std::vector<float> u = {1.0f, 1.0f, 2.0f, 2.0f, 3.0f};
  std::vector<float> y(g.size());
  gelu_tanh_mul_f16_table(g.data(), u.data(), y.data(), 5);
  EXPECT_EQ(y[0], y[1]);
  // gelu(1) = 0.841192 rounds to the f16 0.84130859375.
  EXPECT_EQ(y[1], f16_to_f32(f32_to_f16(0.8411920f)));
  EXPECT_EQ(y[2], 0.0f);   // below -10: zero
  EXPECT_EQ(y[3], 24.0f);  // above 10: the identity
  EXPECT_EQ(y[4], 0.0f);
}

TEST(OpsTest, EmbedRejectsIdsOutsideTheVocabulary) {
  std::vector<float> table = {1, 2, 3, 4, 5, 6};  // 3 tokens x 2
  WeightMatrix w{.dtype = DType::kF32, .rows = 3, .cols = 2, .data = table.data(), .row_stride = 8};
  std::vector<float> out(4);
  const int32_t ok[] = {2, 0};
  ASSERT_TRUE(embed(w, ok, 2.0f, out.data(), 2).ok());
  EXPECT_EQ(out, (std::vector<float>{10, 12, 2, 4}));
  const int32_t bad[] = {1, 3};
  const auto status = embed(w, bad, 1.0f, out.data(), 2);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("token id 3"), std::string::npos) << status.message();
  const int32_t negative[] = {-1};
  EXPECT_FALSE(embed(w, negative, 1.0f, out.data(), 2).ok());
}

}  // namespace
}  // namespace kiln::backend::cpu
