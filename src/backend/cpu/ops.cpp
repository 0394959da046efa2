#include "backend/cpu/ops.h"

#include <cmath>
#include <string>
#include <vector>

#include "backend/cpu/half.h"
#include "backend/cpu/kernels.h"

namespace kiln::backend::cpu {
namespace {

// GELU of every f16 value, rounded to f16: 64 Ki entries, 128 KiB.
const std::vector<uint16_t>& gelu_f16_table() {
  static const std::vector<uint16_t> table = [] {
    std::vector<uint16_t> t(1 << 16);
    for (uint32_t h = 0; h < t.size(); ++h) {
      const float x = f16_to_f32(static_cast<uint16_t>(h));
      const float g =
          0.5f * x * (1.0f + std::tanh(0.7978845608028654f * x * (1.0f + 0.044715f * x * x)));
      t[h] = f32_to_f16(g);
    }
    return t;
  }();
  return table;
}

}  // namespace

float dot(const float* a, const float* b, int64_t n) { return kernels().dot(a, b, n); }
void axpy(float a, const float* x, float* y, int64_t n) { kernels().axpy(a, x, y, n); }
void add(const float* x, float* y, int64_t n) { kernels().add(x, y, n); }
void scale(float* x, float s, int64_t n) { kernels().scale(x, s, n); }

void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps) {
  kernels().rms_norm(x, w, y, n, eps);
}

void softmax(float* x, int64_t n) { kernels().softmax(x, n); }

void silu_mul(const float* g, const float* u, float* y, int64_t n) {
  kernels().silu_mul(g, u, y, n);
}

void gelu_tanh_mul(const float* g, const float* u, float* y, int64_t n) {
  kernels().gelu_tanh_mul(g, u, y, n);
}

void gelu_tanh_mul_f16_table(const float* g, const float* u, float* y, int64_t n) {
  const uint16_t* table = gelu_f16_table().data();
  for (int64_t i = 0; i < n; ++i) {
    const float x = g[i];
    if (x <= -10.0f) {
      y[i] = 0.0f;
    } else if (x >= 10.0f) {
      y[i] = x * u[i];
    } else {
      y[i] = f16_to_f32(table[f32_to_f16(x)]) * u[i];
    }
  }
}

void softcap(float* x, float cap, int64_t n) { kernels().softcap(x, cap, n); }

util::Status embed(const WeightMatrix& table, std::span<const int32_t> ids, float scale_by,
                   float* out, int64_t ld) {
  if (!matmul_supports(table.dtype))
    return util::make_error("embedding table of type " + std::string(traits(table.dtype).name) +
                            " cannot be read");
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= table.rows)
      return util::make_error("token id " + std::to_string(ids[i]) +
                              " is outside the vocabulary (" + std::to_string(table.rows) +
                              " tokens)");
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    float* row = out + static_cast<int64_t>(i) * ld;
    dequantize_row(table, ids[i], row);
    if (scale_by != 1.0f) scale(row, scale_by, table.cols);
  }
  return {};
}

}  // namespace kiln::backend::cpu
