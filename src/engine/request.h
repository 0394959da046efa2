// GenerationRequest: the validated request the engine accepts. api/ builds it
// from an OpenAI or TGI body after validation (see api/validate.h); nothing
// else constructs one. It carries token ids, never JSON or HTTP.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sampling/params.h"

namespace kiln::sampling {
class Constraint;  // compiled grammar (sampling/grammar), optional
}

namespace kiln::engine {

using Clock = std::chrono::steady_clock;

struct GenerationRequest {
  std::string id;                     // request id (x-request-id), for logs
  std::vector<int32_t> prompt;        // token ids after template and truncation
  sampling::SamplingParams sampling;
  sampling::StopParams stop;
  sampling::LogprobParams logprobs;
  int32_t n = 1;                      // independent outputs (OpenAI n, TGI best_of)
  std::shared_ptr<const sampling::Constraint> constraint;  // null: unconstrained
  Clock::time_point received{};       // when the HTTP request arrived
  Clock::time_point validated{};      // when validation finished
};

}  // namespace kiln::engine
