// The warpers (temperature, top_k, top_p, typical_p, min_p, in that order,
// each on the distribution the previous one left) and the draw. Internal to
// kiln_sampling; tests include it to compare each stage with transformers.
//
// Semantics follow transformers' warpers on the same logits, with one rule
// for ties made explicit: a truncation never separates equal values. top_k
// keeps every token >= the k-th largest value (as transformers does); top_p
// keeps every token whose strictly-more-probable tokens hold < p of the mass
// (transformers' sort decides ties arbitrarily); typical_p keeps every token
// whose distance |-log p - H| is <= the boundary token's (as transformers
// does); min_p keeps p >= min_p * p_max. No full sort of the vocabulary:
// top_k uses a streaming selection, top_p and typical_p a weighted
// quickselect on their own candidates.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "sampling/params.h"

namespace kiln::sampling::detail {

// Reusable buffers, grown to the vocabulary size once; not shared between threads.
struct WarpScratch {
  std::vector<int32_t> ids;
  std::vector<float> values;   // temperature-scaled logits of `ids`
  std::vector<float> weights;  // exp terms (dense rows or candidates)
  std::vector<float> keys;     // per-candidate sort keys (typical_p)
  std::vector<float> sel_keys;
  std::vector<float> sel_weights;
  void reserve(size_t n);
};

// What survives the warpers. dense: every token of the row survives, with
// scaled logit row[i] * inv_temperature (nothing was materialised).
// Otherwise ids (ascending) and their scaled logits live in the scratch.
struct Warped {
  bool dense = true;
  float inv_temperature = 1.0f;
  std::span<const int32_t> ids;
  std::span<const float> values;
};

// The k-th largest non-NaN value of x (k >= 1); the smallest value when
// fewer than k exist. `buf` is scratch.
float kth_largest(std::span<const float> x, size_t k, std::vector<float>& buf);

// Smallest key b with sum{weight : key <= b} >= target; +inf when the total
// falls short. Reorders both arrays (same length).
float weighted_boundary(std::span<float> keys, std::span<float> weights, double target);

// Runs the warpers of `params` over a penalised row (caller has checked that
// the row has a finite maximum `row_max`).
Warped warp(const SamplingParams& params, std::span<const float> row, float row_max,
            WarpScratch& scratch);

// Draws one token from `w` with u in [0, 1): inverse CDF over the survivors
// in ascending id order, weights exp(s - max s). Returns -1 if every weight is
// 0. For a dense row it reports sum exp((row - row_max) * inv_temperature) in
// *dense_total, which is the softmax denominator when the temperature is 1.
int32_t draw(const Warped& w, std::span<const float> row, float row_max, double u,
             WarpScratch& scratch, double* dense_total = nullptr);

}  // namespace kiln::sampling::detail
