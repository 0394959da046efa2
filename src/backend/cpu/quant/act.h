// Quantized activations: the layout of one token's row in an activation
// buffer, and the quantizers (scalar here, SIMD in the kernel files; both
// give the same bytes).
//
// Quantization follows GGML's x86 build, so our integer sums equal llama.cpp's:
//   kQ8_0: per 32 values, amax = max |x|; d = half(amax / 127);
//          q = round-half-even(x * (127 / amax)).
//   kQ8_K: per 256 values, m = the first x with |x| = amax; s = -127 / m;
//          q = min(127, round-half-even(s * x)); d = 1 / s.
// One deviation: a block whose amax is below kTinyAmax (1e-30) is quantized
// as all zeros (GGML only does so for amax == 0; 127 / amax would overflow).
#pragma once

#include <cstdint>

#include "backend/cpu/quant/format.h"

namespace kiln::backend::quant {

inline constexpr float kTinyAmax = 1e-30f;

inline constexpr int64_t align64(int64_t n) { return (n + 63) & ~int64_t{63}; }

inline ActLayout act_layout(ActKind kind, int64_t cols) {
  ActLayout l;
  if (kind == ActKind::kF32) return l;
  l.d = align64(cols);
  if (kind == ActKind::kQ8_0) {
    l.sum = l.d + align64(cols / 32 * 4);
    l.stride = l.sum + align64(cols / 32 * 4);
  } else {
    l.bsum16 = l.d + align64(cols / 256 * 4);
    l.bsum32 = l.bsum16 + align64(cols / 16 * 2);
    l.stride = l.bsum32 + align64(cols / 32 * 2);
  }
  return l;
}

inline ActRow act_row(ActKind kind, const uint8_t* row, const ActLayout& l) {
  ActRow a;
  a.qs = reinterpret_cast<const int8_t*>(row);
  a.d = reinterpret_cast<const float*>(row + l.d);
  if (kind == ActKind::kQ8_0) {
    a.sum = reinterpret_cast<const int32_t*>(row + l.sum);
  } else {
    a.bsum16 = reinterpret_cast<const int16_t*>(row + l.bsum16);
    a.bsum32 = reinterpret_cast<const int16_t*>(row + l.bsum32);
  }
  return a;
}

// Quantizes one token (cols values) into dst (layout.stride bytes, 64-byte
// aligned). Scalar reference; a QuantizeActFn.
void quantize_act_ref(ActKind kind, const float* x, int64_t cols, uint8_t* dst,
                      const ActLayout& layout);

// Round half to even, exact for |v| < 2^22 (like cvtps2dq in the default mode).
inline int32_t round_even(float v) {
  const float big = v + 12582912.0f;  // 1.5 * 2^23
  uint32_t bits;
  __builtin_memcpy(&bits, &big, 4);
  return static_cast<int32_t>(bits & 0x007fffff) - 0x00400000;
}

}  // namespace kiln::backend::quant
