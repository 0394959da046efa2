// Sampling and stopping parameters of one request, already validated by api/.
// Defaults mean "off". Semantics follow TGI/transformers for
// repetition_penalty and OpenAI for frequency/presence penalties
// (docs/api-contract.md §2.2, §2.3).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace kiln::sampling {

// The two API families disagree on frequency_penalty (docs/sampling.md):
//   kOpenAI: logit -= penalty * count(token in the generated text)   (OpenAI, vLLM)
//   kTgi:    logit -= penalty * count(token in prompt + generated) / their length
//            (TGI's batched processor; api-contract §2.2 "Penalty semantics")
// api/ picks per route: kTgi on native routes, kOpenAI on /v1 routes.
enum class FrequencyPenaltyMode { kOpenAI, kTgi };

struct SamplingParams {
  bool do_sample = false;  // also implied by any active warper: see sampling::is_sampling()
  float temperature = 1.0f;
  int32_t top_k = 0;       // 0 = off
  float top_p = 1.0f;      // 1 = off
  float typical_p = 1.0f;  // 1 = off
  float min_p = 0.0f;      // 0 = off
  float repetition_penalty = 1.0f;
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;  // OpenAI: -= penalty once per token already generated
  FrequencyPenaltyMode frequency_penalty_mode = FrequencyPenaltyMode::kOpenAI;
  std::vector<std::pair<int32_t, float>> logit_bias;
  uint64_t seed = 0;  // always set: api/ draws a random one when the user gave none
};

struct StopParams {
  int32_t max_new_tokens = 0;     // effective cap, already clamped to the context
  std::vector<std::string> stop;  // stop strings, matched on the decoded text
  bool ignore_eos = false;
  // Native TGI routes keep a matched stop string in the text; OpenAI routes
  // remove it (contract DEV-11).
  bool keep_stop_in_text = true;
};

struct LogprobParams {
  int32_t top_n = 0;     // alternatives per generated token
  bool prefill = false;  // logprobs of prompt tokens (decoder_input_details)
  // The chosen token's logprob. TGI reports it with every token; OpenAI routes
  // need it only with `logprobs: true`. Off (and top_n == 0) saves a pass over
  // the row per step; the logprob is then NaN.
  bool tokens = true;
};

}  // namespace kiln::sampling
