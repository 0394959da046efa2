// Every SIMD path against the scalar reference, bit for bit: the activation
// quantizers, and matmul for every format on random blocks with edge values
// (zero / subnormal / largest / negative scales, all-0x00 and all-0xff quant
// bytes, zero / tiny / large / tied activation blocks), in both weight
// layouts, with a row count that leaves a partial panel. Bit equality is the
// stated bound: the integer parts are exact and the float steps are one fixed
// sequence (quant/format.h).
#include <gtest/gtest.h>

#include <vector>

#include "backend/cpu/matmul.h"
#include "backend/cpu/quant/act.h"
#include "backend/cpu/quant/format.h"
#include "quant_test_util.h"

namespace kiln::backend {
namespace {

using quant::KernelIsa;

TEST(QuantSimd, ReportsItsVariants) {
  const auto isas = testing::supported_isas();
  ASSERT_FALSE(isas.empty());
  EXPECT_EQ(isas.front(), KernelIsa::kScalar);
  for (KernelIsa isa : isas) {
    testing::PinIsa pin(isa);
    EXPECT_EQ(quant::active_kernel_isa(), isa) << quant::kernel_isa_name(isa);
  }
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw")) {
    EXPECT_EQ(isas.back(), KernelIsa::kAvx512Vnni);
  }
#endif
}

TEST(QuantSimd, ActivationQuantizersMatchReference) {
  for (quant::ActKind kind : {quant::ActKind::kQ8_0, quant::ActKind::kQ8_K}) {
    const int64_t cols = 1024, n = 40;
    const auto x = testing::random_acts(n, cols, 3);
    const quant::ActLayout l = quant::act_layout(kind, cols);
    std::vector<uint8_t> want(static_cast<size_t>(l.stride)), got(want.size());
    for (KernelIsa isa : testing::supported_isas()) {
      for (int64_t t = 0; t < n; ++t) {
        std::fill(want.begin(), want.end(), 0);
        std::fill(got.begin(), got.end(), 0);
        quant::quantize_act_ref(kind, x.data() + t * cols, cols, want.data(), l);
        quant::act_quantizer(isa)(kind, x.data() + t * cols, cols, got.data(), l);
        ASSERT_EQ(want, got) << quant::kernel_isa_name(isa) << " token " << t;
      }
    }
  }
}

// The quantized activations reproduce GGML's rules on hand-made cases.
TEST(QuantSimd, ActivationQuantizationRules) {
  std::vector<float> x(256, 0.0f);
  x[0] = 1.0f;
  x[1] = -2.0f;  // |max| taken with its sign: s = -127 / -2 = 63.5, q = s * x
  x[2] = 2.0f;   // same magnitude later: the first one wins
  x[3] = 0.5f;
  const quant::ActLayout l = quant::act_layout(quant::ActKind::kQ8_K, 256);
  std::vector<uint8_t> buf(static_cast<size_t>(l.stride));
  quant::quantize_act_ref(quant::ActKind::kQ8_K, x.data(), 256, buf.data(), l);
  const quant::ActRow a = quant::act_row(quant::ActKind::kQ8_K, buf.data(), l);
  EXPECT_EQ(a.qs[1], -127);
  EXPECT_EQ(a.qs[2], 127);
  EXPECT_EQ(a.qs[0], 64);  // 63.5 rounds half to even
  EXPECT_EQ(a.qs[3], 32);  // 31.75
  EXPECT_EQ(a.d[0], 1.0f / 63.5f);
  EXPECT_EQ(a.bsum16[0], 64 - 127 + 127 + 32);
  EXPECT_EQ(a.bsum32[0], 96);

  const quant::ActLayout l0 = quant::act_layout(quant::ActKind::kQ8_0, 32);
  std::vector<uint8_t> b0(static_cast<size_t>(l0.stride));
  std::vector<float> y(32, 0.0f);
  y[0] = 127.0f;
  y[1] = 0.5f;   // 0.5 -> 0 (half to even)
  y[2] = 1.5f;   // -> 2
  y[3] = -2.5f;  // -> -2
  quant::quantize_act_ref(quant::ActKind::kQ8_0, y.data(), 32, b0.data(), l0);
  const quant::ActRow a0 = quant::act_row(quant::ActKind::kQ8_0, b0.data(), l0);
  EXPECT_EQ(a0.qs[0], 127);
  EXPECT_EQ(a0.qs[1], 0);
  EXPECT_EQ(a0.qs[2], 2);
  EXPECT_EQ(a0.qs[3], -2);
  EXPECT_EQ(a0.d[0], 1.0f);
  EXPECT_EQ(a0.sum[0], 127);
}

class MatmulSimdVsScalar : public ::testing::TestWithParam<DType> {};

// rows x cols weights, n_tokens in `tokens`, against the reference.
void check_all_paths(DType t, int64_t rows, int64_t cols, std::initializer_list<int64_t> tokens) {
  auto bytes = testing::random_weights(t, rows, cols, 21);
  const cpu::WeightMatrix plain = testing::weight_view(t, rows, cols, bytes);
  std::vector<uint8_t> packed_bytes(bytes.size());
  const cpu::WeightMatrix packed = cpu::pack_weights(plain, packed_bytes.data());
  cpu::ThreadPool pool(2);
  for (int64_t n : tokens) {
    const auto x = testing::random_acts(n, cols, 5 + static_cast<uint32_t>(n));
    std::vector<float> want(static_cast<size_t>(n * rows));
    cpu::matmul_reference(plain, x.data(), cols, n, want.data(), rows);
    for (KernelIsa isa : testing::supported_isas()) {
      testing::PinIsa pin(isa);
      for (const auto* w : {&plain, &packed}) {
        std::vector<float> got(want.size(), -1.0f);
        cpu::matmul(*w, x.data(), cols, n, got.data(), rows, pool);
        for (size_t i = 0; i < want.size(); ++i)
          ASSERT_TRUE(testing::same_float(got[i], want[i]))
              << testing::type_name(t) << " " << quant::kernel_isa_name(isa)
              << (w == &packed ? " packed" : " plain") << " n=" << n << " token " << i / rows
              << " row " << i % rows << ": " << got[i] << " vs " << want[i];
      }
    }
  }
}

TEST_P(MatmulSimdVsScalar, BitIdenticalOnEveryPathAndLayout) {
  // 3 full panels + 5 rows; 3 K-quant super-blocks
  check_all_paths(GetParam(), 53, 768, {1, 5, 37});
}

// K long enough that batched calls split it into L1-sized chunks (the
// accumulators pass through y between chunks).
TEST_P(MatmulSimdVsScalar, BitIdenticalWithChunkedK) { check_all_paths(GetParam(), 37, 3328, {9}); }

INSTANTIATE_TEST_SUITE_P(Formats, MatmulSimdVsScalar, ::testing::ValuesIn(testing::matmul_types()),
                         [](const auto& info) { return testing::type_name(info.param); });

// The reference itself against a float64 dot product of the dequantized
// weights with the dequantized activations: checks that dot and dequantize
// describe the same numbers (relative to the sum of |terms|).
TEST(QuantSimd, ReferenceDotAgreesWithDequantizedValues) {
  const int64_t rows = 8, cols = 512;
  for (DType t : testing::matmul_types()) {
    const quant::Format& f = *quant::find_format(t);
    const auto bytes = testing::random_weights(t, rows, cols, 9, /*edges=*/false);
    const auto x = testing::random_acts(1, cols, 10, /*edges=*/false);
    const cpu::WeightMatrix w = testing::weight_view(t, rows, cols, bytes);
    std::vector<float> y(rows), wrow(cols), xq(cols);
    cpu::matmul_reference(w, x.data(), cols, 1, y.data(), rows);
    // dequantized activations
    if (f.act == quant::ActKind::kF32) {
      xq = x;
    } else {
      const quant::ActLayout l = quant::act_layout(f.act, cols);
      std::vector<uint8_t> buf(static_cast<size_t>(l.stride));
      quant::quantize_act_ref(f.act, x.data(), cols, buf.data(), l);
      const quant::ActRow a = quant::act_row(f.act, buf.data(), l);
      const int block = f.act == quant::ActKind::kQ8_0 ? 32 : 256;
      for (int64_t k = 0; k < cols; ++k) xq[k] = a.d[k / block] * a.qs[k];
    }
    for (int64_t r = 0; r < rows; ++r) {
      cpu::dequantize_row(w, r, wrow.data());
      double exact = 0, mag = 0;
      for (int64_t k = 0; k < cols; ++k) {
        exact += static_cast<double>(wrow[k]) * xq[k];
        mag += std::fabs(static_cast<double>(wrow[k]) * xq[k]);
      }
      EXPECT_NEAR(y[r], exact, 1e-5 * mag + 1e-30) << testing::type_name(t) << " row " << r;
    }
  }
}

}  // namespace
}  // namespace kiln::backend
