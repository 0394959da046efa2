// Plain C++ kernels: the reference every vectorised path is tested against,
// and the path used on CPUs without AVX2. Sums run in double where that is
// free of cost here, so the reference is at least as accurate as llama.cpp
// and transformers (which accumulate norms and softmax sums in wider types).
#include <cmath>

#include "backend/cpu/kernels.h"

namespace kiln::backend::cpu {
namespace {

float dot(const float* a, const float* b, int64_t n) {
  double acc = 0.0;
  for (int64_t i = 0; i < n; ++i) acc += static_cast<double>(a[i]) * b[i];
  return static_cast<float>(acc);
}

void axpy(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void add(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

void scale(float* x, float s, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] *= s;
}

void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float inv = 1.0f / std::sqrt(mean + eps);
  for (int64_t i = 0; i < n; ++i) y[i] = w != nullptr ? x[i] * inv * w[i] : x[i] * inv;
}

void softmax(float* x, int64_t n) {
  float max = -INFINITY;
  for (int64_t i = 0; i < n; ++i) max = std::fmax(max, x[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void silu_mul(const float* g, const float* u, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

// sqrt(2/pi) and the cubic coefficient of the tanh approximation of GELU.
constexpr float kGeluBeta = 0.7978845608028654f;
constexpr float kGeluKappa = 0.044715f;

void gelu_tanh_mul(const float* g, const float* u, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float x = g[i];
    y[i] = 0.5f * x * (1.0f + std::tanh(kGeluBeta * (x + kGeluKappa * x * x * x))) * u[i];
  }
}

void softcap(float* x, float cap, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = cap * std::tanh(x[i] / cap);
}

void rope_normal(float* x, const float* cos, const float* sin, int64_t n) {
  for (int64_t i = 0; i + 1 < n; i += 2) {
    const float a = x[i], b = x[i + 1];
    x[i] = a * cos[i] + b * sin[i];
    x[i + 1] = b * cos[i + 1] + a * sin[i + 1];
  }
}

void rope_neox(float* x, const float* cos, const float* sin, int64_t n) {
  const int64_t h = n / 2;
  for (int64_t i = 0; i < h; ++i) {
    const float a = x[i], b = x[i + h];
    x[i] = a * cos[i] + b * sin[i];
    x[i + h] = b * cos[i + h] + a * sin[i + h];
  }
}

constexpr Kernels kReference = {dot,      axpy,          add,     scale,       rms_norm, softmax,
                                silu_mul, gelu_tanh_mul, softcap, rope_normal, rope_neox};

}  // namespace

const Kernels& reference_kernels() { return kReference; }

const Kernels& kernels() {
  const Isa isa = active_isa();
  if (isa == Isa::kScalar) return kReference;
  return *simd_kernels(isa);
}

}  // namespace kiln::backend::cpu
