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

struct SamplingParams {
  bool do_sample = false;  // false: greedy (argmax) after the processors
  float temperature = 1.0f;
  int32_t top_k = 0;          // 0 = off
  float top_p = 1.0f;         // 1 = off
  float typical_p = 1.0f;     // 1 = off
  float min_p = 0.0f;         // 0 = off
  float repetition_penalty = 1.0f;
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  std::vector<std::pair<int32_t, float>> logit_bias;
  uint64_t seed = 0;  // always set: api/ draws a random one when the user gave none
};

struct StopParams {
  int32_t max_new_tokens = 0;        // effective cap, already clamped to the context
  std::vector<std::string> stop;     // stop strings, matched on the decoded text
  bool ignore_eos = false;
  // Native TGI routes keep a matched stop string in the text; OpenAI routes
  // remove it (contract DEV-11).
  bool keep_stop_in_text = true;
};

struct LogprobParams {
  int32_t top_n = 0;              // alternatives per generated token
  bool prefill = false;           // logprobs of prompt tokens (decoder_input_details)
};

}  // namespace kiln::sampling
