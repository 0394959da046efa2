// Scalar placeholder kernels for F32/F16/BF16; the quantized formats and the
// SIMD paths replace the insides of these functions, not their contract.
#include "backend/cpu/matmul.h"

#include <cstdlib>
#include <vector>

#include "backend/cpu/half.h"

namespace kiln::backend::cpu {

bool matmul_supports(DType dtype) {
  return dtype == DType::kF32 || dtype == DType::kF16 || dtype == DType::kBF16;
}

void dequantize_row(const WeightMatrix& w, int64_t r, float* out) {
  const auto* row = static_cast<const uint8_t*>(w.data) + r * w.row_stride;
  switch (w.dtype) {
    case DType::kF32:
      for (int64_t k = 0; k < w.cols; ++k) out[k] = reinterpret_cast<const float*>(row)[k];
      return;
    case DType::kF16:
      for (int64_t k = 0; k < w.cols; ++k)
        out[k] = f16_to_f32(reinterpret_cast<const uint16_t*>(row)[k]);
      return;
    case DType::kBF16:
      for (int64_t k = 0; k < w.cols; ++k)
        out[k] = bf16_to_f32(reinterpret_cast<const uint16_t*>(row)[k]);
      return;
    default:
      std::abort();  // callers check matmul_supports() first
  }
}

void matmul_reference(const WeightMatrix& w, const float* x, int64_t ldx, int64_t n_tokens,
                      float* y, int64_t ldy) {
  std::vector<float> row(static_cast<size_t>(w.cols));
  for (int64_t r = 0; r < w.rows; ++r) {
    dequantize_row(w, r, row.data());
    for (int64_t t = 0; t < n_tokens; ++t) {
      const float* xt = x + t * ldx;
      float acc = 0.0f;
      for (int64_t k = 0; k < w.cols; ++k) acc += row[static_cast<size_t>(k)] * xt[k];
      y[t * ldy + r] = acc;
    }
  }
}

void matmul(const WeightMatrix& w, const float* x, int64_t ldx, int64_t n_tokens, float* y,
            int64_t ldy, ThreadPool& pool) {
  pool.parallel_for(w.rows, [&](int64_t r0, int64_t r1) {
    WeightMatrix part = w;
    part.rows = r1 - r0;
    part.data = static_cast<const uint8_t*>(w.data) + r0 * w.row_stride;
    matmul_reference(part, x, ldx, n_tokens, y + r0, ldy);
  });
}

}  // namespace kiln::backend::cpu
