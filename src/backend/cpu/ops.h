// Element-wise and per-row ops on float32 activations, dispatched to the
// active ISA (cpu_isa.h). Each call works on one row (one token's vector);
// the model loops over rows, so no op ever mixes tokens and results never
// depend on the batch a token came in.
#pragma once

#include <cstdint>
#include <span>

#include "backend/cpu/matmul.h"
#include "util/result.h"

namespace kiln::backend::cpu {

float dot(const float* a, const float* b, int64_t n);
void axpy(float a, const float* x, float* y, int64_t n);  // y += a * x
void add(const float* x, float* y, int64_t n);            // y += x
void scale(float* x, float s, int64_t n);

// y = x / sqrt(mean(x^2) + eps) * w (w may be nullptr). y may alias x.
// Gemma's HF checkpoints store w - 1; the loader folds the 1 in, as
// llama.cpp's converter does for GGUF.
void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps);

void softmax(float* x, int64_t n);  // in place, over all n

// y = act(g) * u, the gated MLP activation.
void silu_mul(const float* g, const float* u, float* y, int64_t n);
void gelu_tanh_mul(const float* g, const float* u, float* y, int64_t n);
// GELU as llama.cpp's CPU backend computes it: the input rounded to f16 and
// looked up in a table of f16 results (exact beyond |x| >= 10). Differs from
// the exact function by up to ~1e-3 relative; used only to reproduce
// llama.cpp's numbers.
void gelu_tanh_mul_f16_table(const float* g, const float* u, float* y, int64_t n);

void softcap(float* x, float cap, int64_t n);  // x = cap * tanh(x / cap)

// out[i] = dequantized row ids[i] of table, times scale; row i at out + i*ld.
// Fails (naming the id) when an id is out of range or the type has no
// dequantizer.
util::Status embed(const WeightMatrix& table, std::span<const int32_t> ids, float scale, float* out,
                   int64_t ld);

}  // namespace kiln::backend::cpu
