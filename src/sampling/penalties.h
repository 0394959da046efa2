// Token counts of one sequence and the penalties that read them. Internal to
// kiln_sampling (the engine uses sampler.h); tests include it directly.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "sampling/params.h"

namespace kiln::sampling::detail {

// How often each distinct token occurs in the prompt and in the generated
// text. A flat open-addressing table: no allocation per step once it has
// grown to the sequence's distinct-token count.
class TokenHistory {
 public:
  struct Entry {
    int32_t token = 0;
    int32_t prompt_count = 0;
    int32_t generated_count = 0;
  };

  void add_prompt(std::span<const int32_t> tokens);
  void add_generated(int32_t token);

  std::span<const Entry> entries() const { return entries_; }
  int64_t length() const { return prompt_length_ + generated_length_; }

 private:
  Entry& find_or_insert(int32_t token);
  void rehash(size_t capacity);

  std::vector<Entry> entries_;  // first-seen order
  std::vector<int32_t> slots_;  // index into entries_, -1 = empty; size is a power of two
  int64_t prompt_length_ = 0;
  int64_t generated_length_ = 0;
};

// True when any of repetition/frequency/presence penalty is active (then the
// history must be kept).
bool needs_history(const SamplingParams& params);

// In place on one logits row, in this order: repetition_penalty (CTRL /
// transformers: over every distinct prompt or generated token, l < 0 ? l * p
// : l / p), frequency and presence penalty (see FrequencyPenaltyMode), then
// logit_bias (l += bias). Token ids outside the row are ignored.
void apply_penalties(const SamplingParams& params, const TokenHistory& history,
                     std::span<float> row);

}  // namespace kiln::sampling::detail
