// Matrix products of weights by activations, the bulk of a forward pass.
//
//   y[t][r] = sum_k W[r][k] * x[t][k]     for t < n_tokens, r < w.rows
//
// W is stored row-major in its own type (F32, F16, BF16 or a quantized GGML
// format), one row every w.row_stride bytes; x and y are float32.
//
// Contract that the engine relies on (batch invariance): the value computed
// for token t depends only on W and x[t], never on n_tokens, on the other
// tokens, or on the thread count. So the decode path (n_tokens == 1) and the
// batched path must reduce over k in the same order and quantize activations
// per token.
#pragma once

#include <cstdint>

#include "backend/cpu/dtype.h"
#include "backend/cpu/thread_pool.h"
#include "util/result.h"

namespace kiln::backend::cpu {

struct WeightMatrix {
  DType dtype = DType::kF32;
  int64_t rows = 0;
  int64_t cols = 0;           // elements per row (a multiple of the block size)
  const void* data = nullptr;
  int64_t row_stride = 0;     // bytes between rows (row_bytes(dtype, cols) when packed)
};

// True when matmul() can compute this type.
bool matmul_supports(DType dtype);

// x: [n_tokens][w.cols] with row stride ldx floats; y: [n_tokens][w.rows]
// with row stride ldy floats.
void matmul(const WeightMatrix& w, const float* x, int64_t ldx, int64_t n_tokens, float* y,
            int64_t ldy, ThreadPool& pool);

// The scalar reference the tests compare every fast path against.
void matmul_reference(const WeightMatrix& w, const float* x, int64_t ldx, int64_t n_tokens,
                      float* y, int64_t ldy);

// Dequantizes (or converts) row r of w into out[0..w.cols).
void dequantize_row(const WeightMatrix& w, int64_t r, float* out);

}  // namespace kiln::backend::cpu
