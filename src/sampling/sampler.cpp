#include "sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sampling/vec_math.h"

namespace kiln::sampling {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

bool finite_max(float m) { return std::isfinite(m); }

// log sum_i exp(row_i), given the row's finite maximum.
double log_sum_exp(std::span<const float> row, float row_max) {
  return static_cast<double>(row_max) +
         std::log(detail::sum_exp(row.data(), row.size(), row_max, 1.0f));
}

// The `n` largest entries, most likely first; equal values keep ascending
// ids because the scan is in id order and only a strictly larger value
// displaces an entry.
void select_top(std::span<const float> row, size_t n, double lse, std::vector<TokenLogprob>& top) {
  top.clear();
  n = std::min(n, row.size());
  if (n == 0) return;
  // Entries hold raw logits while scanning and become logprobs at the end.
  // Once n are held, only values above the n-th can enter.
  const float* x = row.data();
  const size_t size = row.size();
  float at_least = -std::numeric_limits<float>::infinity();
  for (size_t i = detail::find_at_least(x, size, 0, 1.0f, 0.0f, at_least); i < size;
       i = detail::find_at_least(x, size, i + 1, 1.0f, 0.0f, at_least)) {
    const float v = x[i];
    auto pos =
        std::find_if(top.begin(), top.end(), [&](const TokenLogprob& t) { return v > t.logprob; });
    top.insert(pos, TokenLogprob{static_cast<int32_t>(i), v});
    if (top.size() > n) top.pop_back();
    if (top.size() == n)
      at_least = std::nextafter(top.back().logprob, std::numeric_limits<float>::infinity());
  }
  for (auto& t : top) t.logprob = static_cast<float>(static_cast<double>(t.logprob) - lse);
}

int32_t argmax(std::span<const float> row, float row_max) {
  const size_t i = detail::find_first(row.data(), row.size(), row_max);
  return i < row.size() ? static_cast<int32_t>(i) : -1;
}

}  // namespace

bool is_sampling(const SamplingParams& p) {
  if (!(p.temperature > 0.0f)) return false;
  return p.do_sample || p.temperature != 1.0f || p.top_k > 0 || p.top_p < 1.0f ||
         p.typical_p < 1.0f || p.min_p > 0.0f;
}

SamplingState::SamplingState(const StateOptions& options)
    : params_(options.sampling),
      top_n_(std::max(options.logprobs.top_n, 0)),
      want_logprob_(options.logprobs.tokens || top_n_ > 0),
      sampling_(is_sampling(options.sampling)),
      track_history_(detail::needs_history(options.sampling)),
      process_(track_history_ || !options.sampling.logit_bias.empty()),
      rng_(options.sampling.seed) {
  if (track_history_) history_.add_prompt(options.prompt);
}

void SamplingState::accept(int32_t token) {
  if (track_history_) history_.add_generated(token);
}

void Sampler::sample(std::span<const SampleInput> batch, std::span<SampleOutput> out) {
  for (size_t i = 0; i < batch.size() && i < out.size(); ++i) sample_one(batch[i], out[i]);
}

void Sampler::sample_one(const SampleInput& in, SampleOutput& out) {
  SamplingState& state = *in.state;
  const std::span<float> row = in.logits;
  if (state.process_) detail::apply_penalties(state.params_, state.history_, row);

  const float row_max = detail::max_value(row.data(), row.size());
  if (!finite_max(row_max)) {
    out.token = -1;
    out.logprob = kNaN;
    out.top.clear();
    return;
  }

  int32_t token = -1;
  double lse = std::numeric_limits<double>::quiet_NaN();
  if (state.sampling_) {
    const detail::Warped warped = detail::warp(state.params_, row, row_max, scratch_);
    double dense_total = 0.0;
    token = detail::draw(warped, row, row_max, state.rng_.uniform(), scratch_, &dense_total);
    if (warped.dense && warped.inv_temperature == 1.0f) {
      lse = static_cast<double>(row_max) + std::log(dense_total);  // same sum, computed once
    }
  }
  if (token < 0) token = argmax(row, row_max);
  if (std::isnan(lse) && state.want_logprob_) lse = log_sum_exp(row, row_max);
  out.token = token;
  out.logprob = static_cast<float>(static_cast<double>(row[static_cast<size_t>(token)]) - lse);
  select_top(row, static_cast<size_t>(state.top_n_), lse, out.top);
  state.accept(token);
}

float raw_logprob(std::span<const float> row, int32_t token) {
  if (token < 0 || static_cast<size_t>(token) >= row.size()) return kNaN;
  const float row_max = detail::max_value(row.data(), row.size());
  if (!finite_max(row_max)) return kNaN;
  return static_cast<float>(static_cast<double>(row[static_cast<size_t>(token)]) -
                            log_sum_exp(row, row_max));
}

}  // namespace kiln::sampling
