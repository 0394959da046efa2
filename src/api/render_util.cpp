#include "api/render_util.h"

namespace kiln::api {

Json token_json(int32_t id, const std::string& text, float logprob, bool special) {
  Json t = Json::object();
  t["id"] = id;
  t["text"] = text;
  t["logprob"] = json_float(logprob);
  t["special"] = special;
  return t;
}

Json top_tokens_json(const std::vector<engine::TopToken>& top) {
  Json arr = Json::array();
  for (const auto& t : top) arr.push_back(token_json(t.id, t.text, t.logprob, t.special));
  return arr;
}

void add_finished(GenerationSummary& summary, const engine::FinishedEvent& finished) {
  summary.prompt_tokens += finished.prompt_tokens;
  summary.generated_tokens += finished.generated_tokens;
  summary.queue += finished.timings.queue;
  summary.inference += finished.timings.inference;
}

Json usage_json(int32_t prompt_tokens, int32_t completion_tokens) {
  Json u = Json::object();
  u["prompt_tokens"] = prompt_tokens;
  u["completion_tokens"] = completion_tokens;
  u["total_tokens"] = prompt_tokens + completion_tokens;
  return u;
}

ApiError failure_error(const engine::FailedEvent& failed) {
  switch (failed.kind) {
    case engine::FailureKind::kGeneration:
      return ApiError::generation(failed.message);
    case engine::FailureKind::kIncomplete:
      return ApiError::of(ErrorKind::kIncomplete);
    case engine::FailureKind::kOverloaded:
      return ApiError::of(ErrorKind::kOverloaded);
    case engine::FailureKind::kValidation:
      return ApiError::validation(failed.message);
  }
  return ApiError::generation(failed.message);
}

const char* native_finish_reason(engine::FinishReason reason) {
  switch (reason) {
    case engine::FinishReason::kLength:
      return "length";
    case engine::FinishReason::kEosToken:
      return "eos_token";
    case engine::FinishReason::kStopSequence:
      return "stop_sequence";
  }
  return "length";
}

const char* openai_finish_reason(engine::FinishReason reason) {
  return reason == engine::FinishReason::kLength ? "length" : "stop";
}

}  // namespace kiln::api
