// Rotary position embeddings. A Rope is built once per distinct setting
// (Gemma 3 has two: local and global layers) and turns positions into
// expanded cos/sin tables that the kernels apply to every head.
//
// Frequencies follow transformers' definitions (rope_type "default",
// "linear", "llama3", "yarn"); angles are computed in double and rounded
// once, so positions far into a long context keep their precision.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::backend::cpu {

enum class RopeLayout {
  kNormal,  // rotate adjacent pairs (2i, 2i+1): GGUF llama layout
  kNeox,    // rotate the halves (i, i + n_rot/2): HF layout, GGUF qwen/gemma/phi3
};

enum class RopeScalingType { kNone, kLinear, kLlama3, kYarn };

struct RopeScaling {
  RopeScalingType type = RopeScalingType::kNone;
  double factor = 1.0;
  int64_t original_context = 0;   // llama3, yarn: training context before scaling
  double low_freq_factor = 1.0;   // llama3
  double high_freq_factor = 4.0;  // llama3
  double beta_fast = 32.0;        // yarn
  double beta_slow = 1.0;         // yarn
  // Multiplier of cos and sin (yarn's mscale, longrope's factor); 0: yarn
  // derives it from factor (yarn_attention_factor), the others use 1.
  double attention_factor = 0.0;
  double mscale = 0.0;          // yarn (DeepSeek style), 0 = unset
  double mscale_all_dim = 0.0;  // yarn, 0 = unset
  bool truncate = true;         // yarn: round the correction range to whole dims
};

struct RopeOptions {
  int32_t n_rot = 0;  // dimensions rotated (head_dim, or less for partial rotary)
  double theta = 10000.0;
  RopeLayout layout = RopeLayout::kNormal;
  RopeScaling scaling;
  // Per-frequency divisors (n_rot/2 values) from a GGUF `rope_freqs` tensor;
  // empty means none.
  std::vector<float> freq_factors;
};

class Rope {
 public:
  Rope() = default;
  explicit Rope(const RopeOptions& options);  // options must be valid (see validate_rope)

  int32_t n_rot() const { return n_rot_; }
  RopeLayout layout() const { return layout_; }
  const std::vector<double>& inv_freq() const { return inv_freq_; }
  double attention_factor() const { return attention_factor_; }

  // Fills cos[n_rot] and sin[n_rot] for position pos, laid out for
  // apply(): the sign of the rotation is folded into sin.
  void tables(int64_t pos, float* cos, float* sin) const;

  // Rotates the first n_rot values of one head in place.
  void apply(float* head, const float* cos, const float* sin) const;

 private:
  int32_t n_rot_ = 0;
  RopeLayout layout_ = RopeLayout::kNormal;
  std::vector<double> inv_freq_;  // n_rot/2 frequencies, scaling applied
  double attention_factor_ = 1.0;
};

// transformers' derived yarn attention factor: 0.1 ln(factor) + 1, or the
// ratio of two such terms when mscale and mscale_all_dim are set.
double yarn_attention_factor(const RopeScaling& scaling);

// Empty when options describe a computable RoPE, else the reason.
std::string validate_rope(const RopeOptions& options);

}  // namespace kiln::backend::cpu
