#include "backend/cpu/rope.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "backend/cpu/kernels.h"

namespace kiln::backend::cpu {
namespace {

// transformers' yarn: the dimension at which a wavelength completes
// num_rotations turns within the original context.
double yarn_correction_dim(double num_rotations, double dim, double base, double context) {
  return dim * std::log(context / (num_rotations * 2.0 * std::numbers::pi)) /
         (2.0 * std::log(base));
}

double yarn_mscale(double scale, double mscale) {
  return scale <= 1.0 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0;
}

}  // namespace

double yarn_attention_factor(const RopeScaling& s) {
  if (s.mscale > 0.0 && s.mscale_all_dim > 0.0)
    return yarn_mscale(s.factor, s.mscale) / yarn_mscale(s.factor, s.mscale_all_dim);
  return yarn_mscale(s.factor, 1.0);
}

std::string validate_rope(const RopeOptions& o) {
  if (o.n_rot <= 0 || o.n_rot % 2 != 0) return "rotary dimension must be positive and even";
  if (!(o.theta > 1.0)) return "rope theta must be greater than 1";
  if (!o.freq_factors.empty() && static_cast<int64_t>(o.freq_factors.size()) != o.n_rot / 2)
    return "rope frequency factors must have n_rot/2 values";
  for (float f : o.freq_factors)
    if (!(f > 0.0f)) return "rope frequency factors must be positive";
  const auto& s = o.scaling;
  if (s.type != RopeScalingType::kNone && !(s.factor > 0.0))
    return "rope scaling factor must be positive";
  if ((s.type == RopeScalingType::kLlama3 || s.type == RopeScalingType::kYarn) &&
      s.original_context <= 0)
    return "rope scaling needs the original context length";
  if (s.type == RopeScalingType::kLlama3 && !(s.high_freq_factor > s.low_freq_factor))
    return "llama3 rope scaling needs high_freq_factor > low_freq_factor";
  return {};
}

Rope::Rope(const RopeOptions& o) : n_rot_(o.n_rot), layout_(o.layout) {
  const int32_t half = n_rot_ / 2;
  inv_freq_.resize(static_cast<size_t>(half));
  for (int32_t i = 0; i < half; ++i)
    inv_freq_[i] = 1.0 / std::pow(o.theta, 2.0 * i / static_cast<double>(n_rot_));
  const auto& s = o.scaling;
  switch (s.type) {
    case RopeScalingType::kNone:
      break;
    case RopeScalingType::kLinear:
      for (auto& f : inv_freq_) f /= s.factor;
      break;
    case RopeScalingType::kLlama3: {
      const double old_ctx = static_cast<double>(s.original_context);
      const double low_wavelen = old_ctx / s.low_freq_factor;
      const double high_wavelen = old_ctx / s.high_freq_factor;
      for (auto& f : inv_freq_) {
        const double wavelen = 2.0 * std::numbers::pi / f;
        if (wavelen > low_wavelen) {
          f /= s.factor;
        } else if (wavelen >= high_wavelen) {
          const double smooth =
              (old_ctx / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
          f = (1.0 - smooth) * f / s.factor + smooth * f;
        }
      }
      break;
    }
    case RopeScalingType::kYarn: {
      const double dim = n_rot_;
      const double ctx = static_cast<double>(s.original_context);
      double low = yarn_correction_dim(s.beta_fast, dim, o.theta, ctx);
      double high = yarn_correction_dim(s.beta_slow, dim, o.theta, ctx);
      if (s.truncate) {
        low = std::floor(low);
        high = std::ceil(high);
      }
      low = std::max(low, 0.0);
      high = std::min(high, dim - 1.0);
      if (low == high) high += 0.001;
      for (int32_t i = 0; i < half; ++i) {
        const double ramp = std::clamp((i - low) / (high - low), 0.0, 1.0);
        const double extrapolation = 1.0 - ramp;
        const double f = inv_freq_[i];
        inv_freq_[i] = f / s.factor * (1.0 - extrapolation) + f * extrapolation;
      }
      attention_factor_ = yarn_attention_factor(s);
      break;
    }
  }
  if (s.attention_factor > 0.0) attention_factor_ = s.attention_factor;
  if (!o.freq_factors.empty())
    for (int32_t i = 0; i < half; ++i) inv_freq_[i] /= o.freq_factors[i];
}

void Rope::tables(int64_t pos, float* cos, float* sin) const {
  const int32_t half = n_rot_ / 2;
  for (int32_t i = 0; i < half; ++i) {
    const double angle = static_cast<double>(pos) * inv_freq_[i];
    const float c = static_cast<float>(std::cos(angle) * attention_factor_);
    const float s = static_cast<float>(std::sin(angle) * attention_factor_);
    // The first value of each rotated pair gets -sin, its partner +sin.
    const int32_t a = layout_ == RopeLayout::kNormal ? 2 * i : i;
    const int32_t b = layout_ == RopeLayout::kNormal ? 2 * i + 1 : i + half;
    cos[a] = c;
    cos[b] = c;
    sin[a] = -s;
    sin[b] = s;
  }
}

void Rope::apply(float* head, const float* cos, const float* sin) const {
  const Kernels& k = kernels();
  if (layout_ == RopeLayout::kNormal) {
    k.rope_normal(head, cos, sin, n_rot_);
  } else {
    k.rope_neox(head, cos, sin, n_rot_);
  }
}

}  // namespace kiln::backend::cpu
