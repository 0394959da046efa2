// Random weights and activations for the quant_* and matmul_* tests, with the
// edge cases the kernels must get right.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/dtype.h"
#include "backend/cpu/half.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/quant/format.h"

namespace kiln::backend::testing {

inline const std::vector<DType>& matmul_types() {
  static const std::vector<DType> types = {DType::kF32,  DType::kF16,  DType::kBF16, DType::kQ4_0,
                                           DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kQ8_0,
                                           DType::kQ2_K, DType::kQ3_K, DType::kQ4_K, DType::kQ5_K,
                                           DType::kQ6_K};
  return types;
}

inline std::string type_name(DType t) { return std::string(traits(t).name); }

// Half scales worth testing besides random ones: zeros, the smallest normal
// and a subnormal, the largest, negative.
inline constexpr float kEdgeHalves[] = {
    0.0f, -0.0f, 6.103515625e-05f, 5.9604645e-08f, 65504.0f, -65504.0f, 1.0f, -0.5f};

// rows x cols weights of type t in the GGUF layout. Quant bytes are random;
// half fields (the segments of unit 2) hold N(0, 0.01^2) halves. With edges,
// row r < 16 gets: all quant bytes 0x00 (r % 4 == 1) or 0xff (r % 4 == 2),
// and in its first block kEdgeHalves[r % 8] as every half.
inline std::vector<uint8_t> random_weights(DType t, int64_t rows, int64_t cols, uint32_t seed,
                                           bool edges = true) {
  const quant::Format& f = *quant::find_format(t);
  const int64_t nb = cols / f.block_size;
  std::vector<uint8_t> w(static_cast<size_t>(rows * nb * f.block_bytes));
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (auto& b : w) b = static_cast<uint8_t>(rng());
  auto put16 = [&](uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); };
  for (int64_t r = 0; r < rows; ++r) {
    uint8_t* row = w.data() + r * nb * f.block_bytes;
    if (t == DType::kF32) {
      for (int64_t k = 0; k < cols; ++k) {
        const float v = normal(rng) * 0.05f;
        std::memcpy(row + 4 * k, &v, 4);
      }
      continue;
    }
    if (t == DType::kF16 || t == DType::kBF16) {
      for (int64_t k = 0; k < cols; ++k) {
        const float v = normal(rng) * 0.05f;
        put16(row + 2 * k, t == DType::kF16 ? f32_to_f16(v) : f32_to_bf16(v));
      }
      if (edges && r < 8) put16(row, f32_to_f16(kEdgeHalves[r]));
      continue;
    }
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* blk = row + b * f.block_bytes;
      const bool edge_block = edges && r < 16 && b == 0;
      if (edge_block && r % 4 == 1) std::memset(blk, 0x00, static_cast<size_t>(f.block_bytes));
      if (edge_block && r % 4 == 2) std::memset(blk, 0xff, static_cast<size_t>(f.block_bytes));
      for (int s = 0; s < f.n_segments; ++s) {
        const quant::Segment& seg = f.segments[s];
        if (seg.unit != 2) continue;
        for (int u = 0; u < seg.bytes / 2; ++u) {
          const float v = edge_block ? kEdgeHalves[r % 8] : normal(rng) * 0.01f;
          put16(blk + seg.offset + 2 * u, f32_to_f16(v));
        }
      }
    }
  }
  return w;
}

// n x cols activations ~ N(0, 1) with edge blocks: block b of token t is, by
// (b + t) % 8: all zeros (2), tiny (3: below the quantizer's 1e-30 floor),
// +m and -m both as the largest magnitude (4: Q8_K must take the first),
// large (5: 1e3 scale), exactly representable halves (6: 0.5 steps).
inline std::vector<float> random_acts(int64_t n, int64_t cols, uint32_t seed, bool edges = true) {
  std::vector<float> x(static_cast<size_t>(n * cols));
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (auto& v : x) v = normal(rng);
  if (!edges) return x;
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t b = 0; b < cols / 32; ++b) {
      float* blk = x.data() + t * cols + 32 * b;
      switch ((b + t) % 8) {
        case 2:
          for (int i = 0; i < 32; ++i) blk[i] = 0.0f;
          break;
        case 3:
          for (int i = 0; i < 32; ++i) blk[i] *= 1e-32f;
          break;
        case 4:
          blk[3] = -8.0f;
          blk[17] = 8.0f;
          break;
        case 5:
          for (int i = 0; i < 32; ++i) blk[i] *= 1000.0f;
          break;
        case 6:
          for (int i = 0; i < 32; ++i) blk[i] = static_cast<float>(i - 16) * 0.5f;
          break;
        default:
          break;
      }
    }
  }
  return x;
}

// Bitwise equality, with every NaN equal to every NaN.
inline bool same_float(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  uint32_t ua, ub;
  std::memcpy(&ua, &a, 4);
  std::memcpy(&ub, &b, 4);
  return ua == ub;
}

inline cpu::WeightMatrix weight_view(DType t, int64_t rows, int64_t cols,
                                     const std::vector<uint8_t>& bytes) {
  cpu::WeightMatrix w;
  w.dtype = t;
  w.rows = rows;
  w.cols = cols;
  w.data = bytes.data();
  w.row_stride = row_bytes(t, cols);
  return w;
}

// The kernel variants this machine can run, scalar first.
inline std::vector<quant::KernelIsa> supported_isas() {
  std::vector<quant::KernelIsa> out;
  for (int i = 0; i < quant::kNumKernelIsas; ++i)
    if (quant::kernel_isa_supported(static_cast<quant::KernelIsa>(i)))
      out.push_back(static_cast<quant::KernelIsa>(i));
  return out;
}

// Pins a kernel variant for the lifetime of the object.
class PinIsa {
 public:
  explicit PinIsa(quant::KernelIsa isa) { quant::pin_kernel_isa(isa); }
  ~PinIsa() { quant::pin_kernel_isa(std::nullopt); }
  PinIsa(const PinIsa&) = delete;
  PinIsa& operator=(const PinIsa&) = delete;
};

}  // namespace kiln::backend::testing
