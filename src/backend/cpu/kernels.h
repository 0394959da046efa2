// The per-row kernels behind ops.h, as one table of function pointers per
// instruction set: kernels_reference.cpp (plain C++, the truth) and
// kernels_simd.cpp (Highway, compiled for AVX2 and AVX-512). Internal to
// backend/cpu; tests use it to compare every path against the reference.
//
// Every kernel works on one row (one token) at a time and reduces in an order
// that depends only on n, so results never depend on how tokens are batched.
#pragma once

#include <cstdint>

#include "backend/cpu/cpu_isa.h"

namespace kiln::backend::cpu {

struct Kernels {
  float (*dot)(const float* a, const float* b, int64_t n);
  void (*axpy)(float a, const float* x, float* y, int64_t n);  // y += a * x
  void (*add)(const float* x, float* y, int64_t n);            // y += x
  void (*scale)(float* x, float s, int64_t n);
  // y = x / sqrt(mean(x^2) + eps) * w; w == nullptr means no weight.
  void (*rms_norm)(const float* x, const float* w, float* y, int64_t n, float eps);
  // In place: x = exp(x - max) / sum.
  void (*softmax)(float* x, int64_t n);
  // y = act(g) * u with act = silu or GELU (tanh approximation).
  void (*silu_mul)(const float* g, const float* u, float* y, int64_t n);
  void (*gelu_tanh_mul)(const float* g, const float* u, float* y, int64_t n);
  // In place: x = cap * tanh(x / cap).
  void (*softcap)(float* x, float cap, int64_t n);
  // In place rotation of n values by expanded tables (see rope.h):
  //   normal layout: pairs (2i, 2i+1);  NeoX layout: halves (i, i + n/2).
  // out[j] = x[j] * cos[j] + partner(x)[j] * sin[j], with the sign of the
  // rotation folded into sin.
  void (*rope_normal)(float* x, const float* cos, const float* sin, int64_t n);
  void (*rope_neox)(float* x, const float* cos, const float* sin, int64_t n);
};

const Kernels& reference_kernels();
// The vectorised table for isa, or nullptr when this CPU or build lacks it
// (kScalar has none: the reference is its implementation).
const Kernels* simd_kernels(Isa isa);
// The table of active_isa().
const Kernels& kernels();

}  // namespace kiln::backend::cpu
