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
//
// How it holds (quant/format.h): quantized weights meet activations
// quantized per token the way GGML does (Q8_0 blocks for the 32-blocks, Q8_K
// for the K-quants); each block's integer dot product is exact, and blocks
// are combined by a fixed fmaf sequence per output. Float weights use one
// fmaf per element in k order. So every path (scalar, AVX2, AVX-512, one or
// many tokens, any thread count, plain or packed weights) gives bit-identical
// y, and the results match llama.cpp's to float rounding (tests/unit/backend/
// matmul_goldens_test.cpp).
//
// Speed: pack_weights() once at load. Plain GGUF rows work too but are
// repacked into 16-row panels at every call.
#pragma once

#include <cstdint>
#include <span>

#include "backend/cpu/dtype.h"
#include "backend/cpu/thread_pool.h"
#include "util/result.h"

namespace kiln::backend::cpu {

enum class WeightLayout : uint8_t {
  kRowMajor,  // as in GGUF: row r at data + r * row_stride
  kPanels,    // pack_weights(): rows/16 panels of 16 rows, then the rows%16
              // remaining rows row-major (row_stride == row_bytes)
};

struct WeightMatrix {
  DType dtype = DType::kF32;
  int64_t rows = 0;
  int64_t cols = 0;  // elements per row (a multiple of the block size)
  const void* data = nullptr;
  int64_t row_stride = 0;  // bytes between rows (row_bytes(dtype, cols) when packed)
  WeightLayout layout = WeightLayout::kRowMajor;
};

// True when matmul() can compute this type: F32, F16, BF16, Q4_0, Q4_1, Q5_0,
// Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K.
bool matmul_supports(DType dtype);

// Bytes of the packed matrix: rows * row_bytes(dtype, cols), the same as the
// rows themselves.
int64_t packed_weight_bytes(const WeightMatrix& w);

// Writes w (row-major) in the panel layout the kernels read to dst and
// returns the view of it to pass to matmul(). dst may be w.data itself when
// w.row_stride == row_bytes (in place: e.g. a private writable mapping, so
// the file's pages are no longer resident). A copying pack asks the kernel to
// reclaim the source's whole pages (MADV_PAGEOUT: contents kept, a mapped
// file's clean pages leave the resident set). Splits the work over pool when
// given. matmul() results are the same for both layouts.
WeightMatrix pack_weights(const WeightMatrix& w, void* dst, ThreadPool* pool = nullptr);

// x: [n_tokens][w.cols] with row stride ldx floats; y: [n_tokens][w.rows]
// with row stride ldy floats.
void matmul(const WeightMatrix& w, const float* x, int64_t ldx, int64_t n_tokens, float* y,
            int64_t ldy, ThreadPool& pool);

// Several products of the same activations (q, k and v; gate and up): x is
// quantized once per activation kind and all the rows are split over the
// pool in one dispatch. Every target's y equals what matmul() gives. All
// weights must have the same cols.
struct MatmulTarget {
  const WeightMatrix* w = nullptr;
  float* y = nullptr;
  int64_t ldy = 0;
};
void matmul_many(std::span<const MatmulTarget> targets, const float* x, int64_t ldx,
                 int64_t n_tokens, ThreadPool& pool);

// The scalar reference the tests compare every fast path against.
void matmul_reference(const WeightMatrix& w, const float* x, int64_t ldx, int64_t n_tokens,
                      float* y, int64_t ldy);

// Dequantizes (or converts) row r of w into out[0..w.cols).
void dequantize_row(const WeightMatrix& w, int64_t r, float* out);

}  // namespace kiln::backend::cpu
