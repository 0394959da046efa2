// Byte layouts of the GGML block formats, exactly as GGUF files store them.
// One struct per format; every field is little-endian, halves are IEEE
// binary16 bit patterns (half.h converts them). The value of element i of a
// block is given in each comment; the scalar code in reference.cpp is the
// executable form of those formulas and is checked against the `gguf` Python
// package's dequantize (tests/unit/backend/quant_dequant_test.cpp).
//
// K-quants group 256 elements ("super-block") into sub-blocks of 16 or 32
// with small integer scales; QK_K below.
#pragma once

#include <cstdint>

namespace kiln::backend::quant {

inline constexpr int kQK = 32;     // elements per legacy block
inline constexpr int kQK_K = 256;  // elements per K-quant super-block

// w[i] = d * (q[i] - 8), q[i] = i < 16 ? qs[i] & 15 : qs[i - 16] >> 4.
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[16];
};
static_assert(sizeof(BlockQ4_0) == 18);

// w[i] = d * q[i] + m, q[i] as in Q4_0.
struct BlockQ4_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qs[16];
};
static_assert(sizeof(BlockQ4_1) == 20);

// w[i] = d * (q[i] - 16), q[i] = nibble as in Q4_0 | bit i of qh << 4.
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[16];
};
static_assert(sizeof(BlockQ5_0) == 22);

// w[i] = d * q[i] + m, q[i] as in Q5_0.
struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[16];
};
static_assert(sizeof(BlockQ5_1) == 24);

// w[i] = d * qs[i].
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[32];
};
static_assert(sizeof(BlockQ8_0) == 34);

// GGML's activation type for Q4_1/Q5_1 (s = d * sum(qs)); listed for the
// dtype table. Kiln's kernels use their own activation layout (act.h).
struct BlockQ8_1 {
  uint16_t d;
  uint16_t s;
  int8_t qs[32];
};
static_assert(sizeof(BlockQ8_1) == 36);

// 16 sub-blocks of 16. scales[j] = sc | m << 4 (4 bits each).
// w[i] = d * sc[j] * q[i] - dmin * m[j], j = i / 16, q 2-bit:
// element 128*h + 32*s + l is (qs[32*h + l] >> 2*s) & 3 (h < 2, s < 4, l < 32).
struct BlockQ2_K {
  uint8_t scales[16];
  uint8_t qs[64];
  uint16_t d;
  uint16_t dmin;
};
static_assert(sizeof(BlockQ2_K) == 84);

// 16 sub-blocks of 16, 6-bit scales sc[j] stored with an offset of 32 in the
// 12 `scales` bytes: sc[j] = (low nibble) | (2 high bits) << 4 where the low
// nibble of j < 8 is scales[j] & 15, of j >= 8 scales[j - 8] >> 4, and the
// high bits are (scales[8 + j % 4] >> 2 * (j / 4)) & 3.
// w[i] = d * (sc[j] - 32) * (q2[i] - (hmask bit set ? 0 : 4)), q2 as in Q2_K,
// hmask bit of element 128*h + 32*s + l is bit (4*h + s) of hmask[l].
struct BlockQ3_K {
  uint8_t hmask[32];
  uint8_t qs[64];
  uint8_t scales[12];
  uint16_t d;
};
static_assert(sizeof(BlockQ3_K) == 110);

// 8 sub-blocks of 32 with 6-bit scale sc[j] and min m[j] packed in 12 bytes:
// j < 4: sc = scales[j] & 63, m = scales[j + 4] & 63;
// j >= 4: sc = (scales[j + 4] & 15) | (scales[j - 4] >> 6) << 4,
//         m = (scales[j + 4] >> 4) | (scales[j] >> 6) << 4.
// w[i] = d * sc[j] * q[i] - dmin * m[j], j = i / 32; element 64*c + l
// (l < 32) is qs[32*c + l] & 15, element 64*c + 32 + l is qs[32*c + l] >> 4.
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qs[128];
};
static_assert(sizeof(BlockQ4_K) == 144);

// Q4_K plus a fifth bit: element 64*c + l gets bit 2*c of qh[l] << 4,
// element 64*c + 32 + l gets bit 2*c + 1 of qh[l] << 4.
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qh[32];
  uint8_t qs[128];
};
static_assert(sizeof(BlockQ5_K) == 176);

// 16 sub-blocks of 16 with signed 8-bit scales. q 6-bit, w[i] = d * sc[i/16] *
// (q[i] - 32). Element 128*h + 32*s + l (h < 2, s < 4, l < 32): the low 4
// bits are ql[64*h + l + 32*(s & 1)] >> 4*(s >> 1) & 15, the high 2 bits are
// qh[32*h + l] >> 2*s & 3.
struct BlockQ6_K {
  uint8_t ql[128];
  uint8_t qh[64];
  int8_t scales[16];
  uint16_t d;
};
static_assert(sizeof(BlockQ6_K) == 210);

// Activations for the K-quants: w[i] = d * qs[i]; bsums[j] = sum of qs over
// elements 16*j .. 16*j + 15.
struct BlockQ8_K {
  float d;
  int8_t qs[256];
  int16_t bsums[16];
};
static_assert(sizeof(BlockQ8_K) == 292);

}  // namespace kiln::backend::quant
