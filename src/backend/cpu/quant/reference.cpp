// Scalar reference of every format. Compiled with -ffp-contract=off: the
// dequantization must round exactly like GGML's and the gguf package's
// (products and sums as separate float operations), and the dot products must
// use exactly the fmaf sequence that format.h defines.
#include "backend/cpu/quant/reference.h"

#include <cmath>
#include <cstring>

#include "backend/cpu/half.h"
#include "backend/cpu/quant/act.h"
#include "backend/cpu/quant/blocks.h"

namespace kiln::backend::quant {
namespace ref {
namespace {

template <typename Block>
const Block* blocks_of(const void* p) {
  return static_cast<const Block*>(p);
}

// Nibble q of element i (< 32) of a legacy 4-bit block.
inline int nibble(const uint8_t* qs, int i) { return i < 16 ? qs[i] & 15 : qs[i - 16] >> 4; }

inline int bit5(const uint8_t* qh, int i) {
  uint32_t h;
  std::memcpy(&h, qh, 4);
  return static_cast<int>((h >> i) & 1) << 4;
}

// 2-bit value of element i (< 256) of a Q2_K/Q3_K qs array.
inline int q2_of(const uint8_t* qs, int i) {
  const int h = i / 128, s = (i % 128) / 32, l = i % 32;
  return (qs[32 * h + l] >> (2 * s)) & 3;
}

// 4-bit value of element i (< 256) of a Q4_K/Q5_K qs array.
inline int q4k_of(const uint8_t* qs, int i) {
  const int c = i / 64, l = i % 32;
  return (i % 64) < 32 ? qs[32 * c + l] & 15 : qs[32 * c + l] >> 4;
}

// 6-bit value (0..63) of element i of a Q6_K block.
inline int q6_of(const BlockQ6_K& b, int i) {
  const int h = i / 128, s = (i % 128) / 32, l = i % 32;
  const int low = (b.ql[64 * h + l + 32 * (s & 1)] >> (4 * (s >> 1))) & 15;
  const int high = (b.qh[32 * h + l] >> (2 * s)) & 3;
  return low | high << 4;
}

}  // namespace

// ---------------------------------------------------------------- dequantize

void dequantize_f32(const void* src, float* out, int64_t n) {
  std::memcpy(out, src, static_cast<size_t>(n) * 4);
}

void dequantize_f16(const void* src, float* out, int64_t n) {
  const auto* h = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) out[i] = f16_to_f32(h[i]);
}

void dequantize_bf16(const void* src, float* out, int64_t n) {
  const auto* h = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) out[i] = bf16_to_f32(h[i]);
}

void dequantize_q4_0(const void* src, float* out, int64_t n) {
  const auto* b = blocks_of<BlockQ4_0>(src);
  for (int64_t k = 0; k < n / kQK; ++k, out += kQK) {
    const float d = f16_to_f32(b[k].d);
    for (int i = 0; i < kQK; ++i) out[i] = d * static_cast<float>(nibble(b[k].qs, i) - 8);
  }
}

void dequantize_q4_1(const void* src, float* out, int64_t n) {
  const auto* b = blocks_of<BlockQ4_1>(src);
  for (int64_t k = 0; k < n / kQK; ++k, out += kQK) {
    const float d = f16_to_f32(b[k].d), m = f16_to_f32(b[k].m);
    for (int i = 0; i < kQK; ++i) out[i] = d * static_cast<float>(nibble(b[k].qs, i)) + m;
  }
}

void dequantize_q5_0(const void* src, float* out, int64_t n) {
  const auto* b = blocks_of<BlockQ5_0>(src);
  for (int64_t k = 0; k < n / kQK; ++k, out += kQK) {
    const float d = f16_to_f32(b[k].d);
    for (int i = 0; i < kQK; ++i)
      out[i] = d * static_cast<float>((nibble(b[k].qs, i) | bit5(b[k].qh, i)) - 16);
  }
}

void dequantize_q5_1(const void* src, float* out, int64_t n) {
  const auto* b = blocks_of<BlockQ5_1>(src);
  for (int64_t k = 0; k < n / kQK; ++k, out += kQK) {
    const float d = f16_to_f32(b[k].d), m = f16_to_f32(b[k].m);
    for (int i = 0; i < kQK; ++i)
      out[i] = d * static_cast<float>(nibble(b[k].qs, i) | bit5(b[k].qh, i)) + m;
  }
}

void dequantize_q8_0(const void* src, float* out, int64_t n) {
  const auto* b = blocks_of<BlockQ8_0>(src);
  for (int64_t k = 0; k < n / kQK; ++k, out += kQK) {
    const float d = f16_to_f32(b[k].d);
    for (int i = 0; i < kQK; ++i) out[i] = d * static_cast<float>(b[k].qs[i]);
  }
}

void dequantize_q2_K(const void* src, float* out, int64_t n) {
  const auto* b = blocks_of<BlockQ2_K>(src);
  for (int64_t k = 0; k < n / kQK_K; ++k, out += kQK_K) {
    const float d = f16_to_f32(b[k].d), dmin = f16_to_f32(b[k].dmin);
    for (int i = 0; i < kQK_K; ++i) {
      const int s = b[k].scales[i / 16];
      const float dl = d * static_cast<float>(s & 15), ml = dmin * static_cast<float>(s >> 4);
      out[i] = dl * static_cast<float>(q2_of(b[k].qs, i)) - ml;
    }
  }
}

void dequantize_q3_K(const void* src, float* out, int64_t n) {
  const auto* b = blocks_of<BlockQ3_K>(src);
  for (int64_t k = 0; k < n / kQK_K; ++k, out += kQK_K) {
    const float d = f16_to_f32(b[k].d);
    for (int i = 0; i < kQK_K; ++i) {
      const float dl = d * static_cast<float>(k3_scale(b[k].scales, i / 16));
      const int hbit = (b[k].hmask[i % 32] >> (i / 32)) & 1;
      out[i] = dl * static_cast<float>(q2_of(b[k].qs, i) - (hbit ? 0 : 4));
    }
  }
}

void dequantize_q4_K(const void* src, float* out, int64_t n) {
  const auto* b = blocks_of<BlockQ4_K>(src);
  for (int64_t k = 0; k < n / kQK_K; ++k, out += kQK_K) {
    const float d = f16_to_f32(b[k].d), dmin = f16_to_f32(b[k].dmin);
    for (int i = 0; i < kQK_K; ++i) {
      int sc, m;
      k4_scale_min(b[k].scales, i / 32, &sc, &m);
      const float dl = d * static_cast<float>(sc), ml = dmin * static_cast<float>(m);
      out[i] = dl * static_cast<float>(q4k_of(b[k].qs, i)) - ml;
    }
  }
}

void dequantize_q5_K(const void* src, float* out, int64_t n) {
  const auto* b = blocks_of<BlockQ5_K>(src);
  for (int64_t k = 0; k < n / kQK_K; ++k, out += kQK_K) {
    const float d = f16_to_f32(b[k].d), dmin = f16_to_f32(b[k].dmin);
    for (int i = 0; i < kQK_K; ++i) {
      int sc, m;
      k4_scale_min(b[k].scales, i / 32, &sc, &m);
      const float dl = d * static_cast<float>(sc), ml = dmin * static_cast<float>(m);
      const int q = q4k_of(b[k].qs, i) | ((b[k].qh[i % 32] >> (i / 32)) & 1) << 4;
      out[i] = dl * static_cast<float>(q) - ml;
    }
  }
}

void dequantize_q6_K(const void* src, float* out, int64_t n) {
  const auto* b = blocks_of<BlockQ6_K>(src);
  for (int64_t k = 0; k < n / kQK_K; ++k, out += kQK_K) {
    const float d = f16_to_f32(b[k].d);
    for (int i = 0; i < kQK_K; ++i) {
      const float dl = d * static_cast<float>(b[k].scales[i / 16]);
      out[i] = dl * static_cast<float>(q6_of(b[k], i) - 32);
    }
  }
}

void dequantize_q8_K(const void* src, float* out, int64_t n) {
  const auto* b = blocks_of<BlockQ8_K>(src);
  for (int64_t k = 0; k < n / kQK_K; ++k, out += kQK_K)
    for (int i = 0; i < kQK_K; ++i) out[i] = b[k].d * static_cast<float>(b[k].qs[i]);
}

// ---------------------------------------------------------------- dot products

float dot_f32(const void* row, const ActRow& a, int64_t n) {
  const auto* w = static_cast<const float*>(row);
  float acc = 0.0f;
  for (int64_t k = 0; k < n; ++k) acc = std::fmaf(w[k], a.f[k], acc);
  return acc;
}

float dot_f16(const void* row, const ActRow& a, int64_t n) {
  const auto* w = static_cast<const uint16_t*>(row);
  float acc = 0.0f;
  for (int64_t k = 0; k < n; ++k) acc = std::fmaf(f16_to_f32(w[k]), a.f[k], acc);
  return acc;
}

float dot_bf16(const void* row, const ActRow& a, int64_t n) {
  const auto* w = static_cast<const uint16_t*>(row);
  float acc = 0.0f;
  for (int64_t k = 0; k < n; ++k) acc = std::fmaf(bf16_to_f32(w[k]), a.f[k], acc);
  return acc;
}

namespace {

// Sum of q[i] * x[i] over the 32 elements of a legacy block with q from fn.
template <typename Fn>
int32_t block_dot(const int8_t* x, Fn&& q) {
  int32_t s = 0;
  for (int i = 0; i < kQK; ++i) s += q(i) * x[i];
  return s;
}

inline float fold(float acc, float dw, float dx, int32_t s) {
  return std::fmaf(dw * dx, static_cast<float>(s), acc);
}

}  // namespace

float dot_q4_0(const void* row, const ActRow& a, int64_t n) {
  const auto* b = blocks_of<BlockQ4_0>(row);
  float acc = 0.0f;
  for (int64_t k = 0; k < n / kQK; ++k) {
    const int8_t* x = a.qs + k * kQK;
    const int32_t s = block_dot(x, [&](int i) { return nibble(b[k].qs, i) - 8; });
    acc = fold(acc, f16_to_f32(b[k].d), a.d[k], s);
  }
  return acc;
}

float dot_q4_1(const void* row, const ActRow& a, int64_t n) {
  const auto* b = blocks_of<BlockQ4_1>(row);
  float acc = 0.0f;
  for (int64_t k = 0; k < n / kQK; ++k) {
    const int8_t* x = a.qs + k * kQK;
    const int32_t s = block_dot(x, [&](int i) { return nibble(b[k].qs, i); });
    acc = fold(acc, f16_to_f32(b[k].d), a.d[k], s);
    acc = fold(acc, f16_to_f32(b[k].m), a.d[k], a.sum[k]);
  }
  return acc;
}

float dot_q5_0(const void* row, const ActRow& a, int64_t n) {
  const auto* b = blocks_of<BlockQ5_0>(row);
  float acc = 0.0f;
  for (int64_t k = 0; k < n / kQK; ++k) {
    const int8_t* x = a.qs + k * kQK;
    const int32_t s =
        block_dot(x, [&](int i) { return (nibble(b[k].qs, i) | bit5(b[k].qh, i)) - 16; });
    acc = fold(acc, f16_to_f32(b[k].d), a.d[k], s);
  }
  return acc;
}

float dot_q5_1(const void* row, const ActRow& a, int64_t n) {
  const auto* b = blocks_of<BlockQ5_1>(row);
  float acc = 0.0f;
  for (int64_t k = 0; k < n / kQK; ++k) {
    const int8_t* x = a.qs + k * kQK;
    const int32_t s = block_dot(x, [&](int i) { return nibble(b[k].qs, i) | bit5(b[k].qh, i); });
    acc = fold(acc, f16_to_f32(b[k].d), a.d[k], s);
    acc = fold(acc, f16_to_f32(b[k].m), a.d[k], a.sum[k]);
  }
  return acc;
}

float dot_q8_0(const void* row, const ActRow& a, int64_t n) {
  const auto* b = blocks_of<BlockQ8_0>(row);
  float acc = 0.0f;
  for (int64_t k = 0; k < n / kQK; ++k) {
    const int8_t* x = a.qs + k * kQK;
    const int32_t s = block_dot(x, [&](int i) { return static_cast<int>(b[k].qs[i]); });
    acc = fold(acc, f16_to_f32(b[k].d), a.d[k], s);
  }
  return acc;
}

// K-quants: S1 (scaled sums) and S2 (min terms) are exact integers.
float dot_q2_K(const void* row, const ActRow& a, int64_t n) {
  const auto* b = blocks_of<BlockQ2_K>(row);
  float acc = 0.0f;
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    const int8_t* x = a.qs + k * kQK_K;
    int32_t s1 = 0, s2 = 0;
    for (int j = 0; j < 16; ++j) {
      int32_t sub = 0;
      for (int i = 16 * j; i < 16 * j + 16; ++i) sub += q2_of(b[k].qs, i) * x[i];
      s1 += (b[k].scales[j] & 15) * sub;
      s2 += (b[k].scales[j] >> 4) * a.bsum16[k * 16 + j];
    }
    const float dx = a.d[k];
    acc = std::fmaf(f16_to_f32(b[k].d) * dx, static_cast<float>(s1), acc);
    acc = std::fmaf(-(f16_to_f32(b[k].dmin) * dx), static_cast<float>(s2), acc);
  }
  return acc;
}

float dot_q3_K(const void* row, const ActRow& a, int64_t n) {
  const auto* b = blocks_of<BlockQ3_K>(row);
  float acc = 0.0f;
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    const int8_t* x = a.qs + k * kQK_K;
    int32_t s = 0;
    for (int j = 0; j < 16; ++j) {
      int32_t sub = 0;
      for (int i = 16 * j; i < 16 * j + 16; ++i) {
        const int hbit = (b[k].hmask[i % 32] >> (i / 32)) & 1;
        sub += (q2_of(b[k].qs, i) - (hbit ? 0 : 4)) * x[i];
      }
      s += k3_scale(b[k].scales, j) * sub;
    }
    acc = fold(acc, f16_to_f32(b[k].d), a.d[k], s);
  }
  return acc;
}

namespace {

template <typename Block, typename Q>
float dot_k4_family(const void* row, const ActRow& a, int64_t n, Q&& q) {
  const auto* b = blocks_of<Block>(row);
  float acc = 0.0f;
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    const int8_t* x = a.qs + k * kQK_K;
    int32_t s1 = 0, s2 = 0;
    for (int j = 0; j < 8; ++j) {
      int sc, m;
      k4_scale_min(b[k].scales, j, &sc, &m);
      int32_t sub = 0;
      for (int i = 32 * j; i < 32 * j + 32; ++i) sub += q(b[k], i) * x[i];
      s1 += sc * sub;
      s2 += m * a.bsum32[k * 8 + j];
    }
    const float dx = a.d[k];
    acc = std::fmaf(f16_to_f32(b[k].d) * dx, static_cast<float>(s1), acc);
    acc = std::fmaf(-(f16_to_f32(b[k].dmin) * dx), static_cast<float>(s2), acc);
  }
  return acc;
}

}  // namespace

float dot_q4_K(const void* row, const ActRow& a, int64_t n) {
  return dot_k4_family<BlockQ4_K>(row, a, n,
                                  [](const BlockQ4_K& b, int i) { return q4k_of(b.qs, i); });
}

float dot_q5_K(const void* row, const ActRow& a, int64_t n) {
  return dot_k4_family<BlockQ5_K>(row, a, n, [](const BlockQ5_K& b, int i) {
    return q4k_of(b.qs, i) | ((b.qh[i % 32] >> (i / 32)) & 1) << 4;
  });
}

float dot_q6_K(const void* row, const ActRow& a, int64_t n) {
  const auto* b = blocks_of<BlockQ6_K>(row);
  float acc = 0.0f;
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    const int8_t* x = a.qs + k * kQK_K;
    int32_t s = 0;
    for (int j = 0; j < 16; ++j) {
      int32_t sub = 0;
      for (int i = 16 * j; i < 16 * j + 16; ++i) sub += (q6_of(b[k], i) - 32) * x[i];
      s += b[k].scales[j] * sub;
    }
    acc = fold(acc, f16_to_f32(b[k].d), a.d[k], s);
  }
  return acc;
}

}  // namespace ref

// ---------------------------------------------------------------- activations

void quantize_act_ref(ActKind kind, const float* x, int64_t cols, uint8_t* dst,
                      const ActLayout& l) {
  auto* qs = reinterpret_cast<int8_t*>(dst);
  auto* d = reinterpret_cast<float*>(dst + l.d);
  if (kind == ActKind::kQ8_0) {
    auto* sum = reinterpret_cast<int32_t*>(dst + l.sum);
    for (int64_t k = 0; k < cols / kQK; ++k) {
      const float* xb = x + k * kQK;
      float amax = 0.0f;
      for (int i = 0; i < kQK; ++i) amax = std::fmax(amax, std::fabs(xb[i]));
      int32_t s = 0;
      if (amax < kTinyAmax) {
        d[k] = 0.0f;
        std::memset(qs + k * kQK, 0, kQK);
      } else {
        d[k] = f16_to_f32(f32_to_f16(amax / 127.0f));
        const float id = 127.0f / amax;
        for (int i = 0; i < kQK; ++i) {
          const int32_t q = round_even(xb[i] * id);
          qs[k * kQK + i] = static_cast<int8_t>(q);
          s += q;
        }
      }
      sum[k] = s;
    }
    return;
  }
  // kQ8_K
  auto* b16 = reinterpret_cast<int16_t*>(dst + l.bsum16);
  auto* b32 = reinterpret_cast<int16_t*>(dst + l.bsum32);
  for (int64_t k = 0; k < cols / kQK_K; ++k) {
    const float* xb = x + k * kQK_K;
    int8_t* q = qs + k * kQK_K;
    float amax = 0.0f, max = 0.0f;
    for (int i = 0; i < kQK_K; ++i) {
      if (std::fabs(xb[i]) > amax) {
        amax = std::fabs(xb[i]);
        max = xb[i];
      }
    }
    if (amax < kTinyAmax) {
      d[k] = 0.0f;
      std::memset(q, 0, kQK_K);
    } else {
      const float iscale = -127.0f / max;
      for (int i = 0; i < kQK_K; ++i) {
        const int32_t v = round_even(iscale * xb[i]);
        q[i] = static_cast<int8_t>(v < 127 ? v : 127);
      }
      d[k] = 1.0f / iscale;
    }
    for (int j = 0; j < 16; ++j) {
      int s = 0;
      for (int i = 0; i < 16; ++i) s += q[16 * j + i];
      b16[k * 16 + j] = static_cast<int16_t>(s);
    }
    for (int j = 0; j < 8; ++j)
      b32[k * 8 + j] = static_cast<int16_t>(b16[k * 16 + 2 * j] + b16[k * 16 + 2 * j + 1]);
  }
}

}  // namespace kiln::backend::quant
