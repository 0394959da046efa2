// Plain types shared by the format table and the SIMD kernel translation
// units. Deliberately free of inline functions and of other Kiln headers: the
// kernel files are compiled with -mavx2 / -mavx512*, and an inline function
// they instantiated could otherwise be picked by the linker for code that
// runs on a smaller CPU.
#pragma once

#include <cstdint>

namespace kiln::backend::quant {

// How a token's activations are prepared for a weight format.
enum class ActKind : uint8_t {
  kF32,   // used as they are
  kQ8_0,  // blocks of 32: int8 q, scale d rounded to half (GGML's Q8_0/Q8_1)
  kQ8_K,  // blocks of 256: int8 q, float scale d (GGML's Q8_K)
};

// Byte offsets inside one token's quantized row (act.h computes them); the
// int8 values start at offset 0.
//   kQ8_0: d = float[cols/32], sum = int32[cols/32] (sum of the block's q)
//   kQ8_K: d = float[cols/256], bsum16 = int16[cols/16], bsum32 = int16[cols/32]
struct ActLayout {
  int64_t d = 0;
  int64_t sum = 0;
  int64_t bsum16 = 0;
  int64_t bsum32 = 0;
  int64_t stride = 0;  // bytes per token (a multiple of 64)
};

// The activations of a run of tokens as the panel kernels read them: token t
// at base + t * layout.stride (quantized) or f + t * ldf (kF32).
struct ActTile {
  const uint8_t* base = nullptr;
  ActLayout layout;
  const float* f = nullptr;
  int64_t ldf = 0;
};

// Computes y for `n_panels` consecutive 16-row panels (`panel_bytes` apart)
// and `n_tokens` tokens: y[t * ldy + 16 * p + r], for r < valid_rows in the
// last panel (16 in the others). n_blocks = blocks per row.
using PanelKernel = void (*)(const uint8_t* panels, int64_t panel_bytes, int n_panels,
                             int64_t n_blocks, const ActTile& acts, int n_tokens, float* y,
                             int64_t ldy, int valid_rows);

// Quantizes one token's cols values into dst (layout as given).
using QuantizeActFn = void (*)(ActKind kind, const float* x, int64_t cols, uint8_t* dst,
                               const ActLayout& layout);

struct SimdKernels {
  PanelKernel gemv = nullptr;  // one token at a time
  PanelKernel gemm = nullptr;  // tiles of gemm_tokens tokens
  int gemm_tokens = 1;
  int gemm_panels = 1;
};

// One instruction-set variant: its kernels by GGML type id, its quantizer.
struct IsaKernels {
  const SimdKernels* (*kernels)(uint32_t ggml_type) = nullptr;
  QuantizeActFn quantize_act = nullptr;
};

inline constexpr int kPanelRows = 16;

}  // namespace kiln::backend::quant
