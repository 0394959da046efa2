// Scalar dequantization and canonical dot products of every format (the test
// oracle; format.cpp puts them in the table). Each works on whole blocks in
// the GGUF byte layout (blocks.h).
#pragma once

#include <cstdint>

#include "backend/cpu/quant/format.h"

namespace kiln::backend::quant::ref {

void dequantize_f32(const void* src, float* out, int64_t n);
void dequantize_f16(const void* src, float* out, int64_t n);
void dequantize_bf16(const void* src, float* out, int64_t n);
void dequantize_q4_0(const void* src, float* out, int64_t n);
void dequantize_q4_1(const void* src, float* out, int64_t n);
void dequantize_q5_0(const void* src, float* out, int64_t n);
void dequantize_q5_1(const void* src, float* out, int64_t n);
void dequantize_q8_0(const void* src, float* out, int64_t n);
void dequantize_q2_K(const void* src, float* out, int64_t n);
void dequantize_q3_K(const void* src, float* out, int64_t n);
void dequantize_q4_K(const void* src, float* out, int64_t n);
void dequantize_q5_K(const void* src, float* out, int64_t n);
void dequantize_q6_K(const void* src, float* out, int64_t n);
void dequantize_q8_K(const void* src, float* out, int64_t n);

float dot_f32(const void* row, const ActRow& a, int64_t n);
float dot_f16(const void* row, const ActRow& a, int64_t n);
float dot_bf16(const void* row, const ActRow& a, int64_t n);
float dot_q4_0(const void* row, const ActRow& a, int64_t n);
float dot_q4_1(const void* row, const ActRow& a, int64_t n);
float dot_q5_0(const void* row, const ActRow& a, int64_t n);
float dot_q5_1(const void* row, const ActRow& a, int64_t n);
float dot_q8_0(const void* row, const ActRow& a, int64_t n);
float dot_q2_K(const void* row, const ActRow& a, int64_t n);
float dot_q3_K(const void* row, const ActRow& a, int64_t n);
float dot_q4_K(const void* row, const ActRow& a, int64_t n);
float dot_q5_K(const void* row, const ActRow& a, int64_t n);
float dot_q6_K(const void* row, const ActRow& a, int64_t n);

// The 6-bit scale and min of sub-block j (< 8) of a Q4_K/Q5_K block.
inline void k4_scale_min(const uint8_t* s, int j, int* sc, int* m) {
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
    *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

// The signed scale (-32..31) of sub-block j (< 16) of a Q3_K block.
inline int k3_scale(const uint8_t* s, int j) {
  const int low = j < 8 ? s[j] & 15 : s[j - 8] >> 4;
  const int high = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
  return (low | high << 4) - 32;
}

}  // namespace kiln::backend::quant::ref
