// Choosing the next token of each sequence from its logits: penalties,
// warpers, greedy or seeded sampling, and log-probabilities.
//
// The engine keeps one SamplingState per sequence (choice) and one Sampler
// per engine thread, and calls Sampler::sample() once per step with the rows
// of every sequence that produces a token in that step. Both live on the
// engine thread only; nothing here locks.
//
// Per row, in TGI's order: repetition_penalty, frequency/presence penalty,
// logit_bias, then (only when sampling) temperature, top_k, top_p, typical_p,
// min_p, then a draw from the sequence's own generator (rng.h).
//
// Log-probabilities (TokenEvent::logprob and the top-N alternatives) are the
// log-softmax of the row after penalties and logit_bias, before temperature
// and truncation: the model's distribution for this request, independent of
// the sampling knobs, finite wherever the logit is. TGI reports the same values
// whenever no warper is active; with warpers it reports the warped
// distribution instead (see docs/sampling.md for why Kiln does not).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "sampling/params.h"
#include "sampling/penalties.h"
#include "sampling/rng.h"
#include "sampling/warp.h"

namespace kiln::sampling {

// TGI's rule (api-contract §2.2): sample iff do_sample is set or any warper
// is active (temperature != 1, top_k, top_p < 1, typical_p < 1, min_p > 0);
// temperature <= 0 always means greedy. The seed is reported only when true.
bool is_sampling(const SamplingParams& params);

struct StateOptions {
  SamplingParams sampling;
  LogprobParams logprobs;
  std::span<const int32_t> prompt;  // read once for the penalties; not kept
};

// Everything sampling remembers about one sequence: its parameters, its
// random generator and (only when a penalty needs them) its token counts.
class SamplingState {
 public:
  explicit SamplingState(const StateOptions& options);

  bool sampling() const { return sampling_; }
  uint64_t seed() const { return params_.seed; }
  int32_t top_n() const { return top_n_; }

  // Records a token appended to the sequence by other means than sample()
  // (sample() records its own choice).
  void accept(int32_t token);

 private:
  friend class Sampler;
  SamplingParams params_;
  int32_t top_n_ = 0;
  bool want_logprob_ = true;  // logprobs.tokens or top_n > 0
  bool sampling_ = false;
  bool track_history_ = false;  // a penalty reads the token counts
  bool process_ = false;        // penalties or logit_bias touch the row
  Rng rng_;
  detail::TokenHistory history_;
};

struct TokenLogprob {
  int32_t id = 0;
  float logprob = 0.0f;
};

struct SampleInput {
  SamplingState* state = nullptr;
  std::span<float> logits;  // the sequence's row; penalties are applied in place
};

struct SampleOutput {
  int32_t token = -1;             // -1: the row had no finite logit (fail the sequence)
  float logprob = 0.0f;           // of `token`, see the header comment
  std::vector<TokenLogprob> top;  // top_n most likely, most likely first, ties by id;
                                  // reused between steps (capacity is kept)
};

class Sampler {
 public:
  // One pass over the batch; out[i] belongs to batch[i]. Allocates only
  // while its scratch grows to the vocabulary size (the first steps).
  void sample(std::span<const SampleInput> batch, std::span<SampleOutput> out);

 private:
  void sample_one(const SampleInput& in, SampleOutput& out);

  detail::WarpScratch scratch_;
};

// Log-probability of `token` under the raw row (no penalties): the prefill
// logprobs of decoder_input_details. NaN when the row has no finite logit.
float raw_logprob(std::span<const float> row, int32_t token);

}  // namespace kiln::sampling
