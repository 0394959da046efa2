// Rendering engine events into response bodies and SSE streams, for both API
// families (contract §3). The server feeds every event of a request's streams
// (one per prompt: `source`) into one renderer and writes what it appends;
// the renderer never touches the network. One renderer per request, used on
// one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/config.h"
#include "api/errors.h"
#include "api/model_services.h"
#include "api/validate.h"
#include "engine/events.h"

namespace kiln::api {

// Numbers for response headers, the request log and metrics (sums over prompts).
struct GenerationSummary {
  int32_t prompt_tokens = 0;
  int32_t generated_tokens = 0;
  engine::Clock::duration queue{};
  engine::Clock::duration inference{};
  std::optional<ApiError> error;  // set when the request ended in a failure
};

// Non-streaming: collects events until every source finished or one failed.
class ResponseCollector {
 public:
  virtual ~ResponseCollector() = default;
  virtual void on_event(size_t source, const engine::Event& event) = 0;
  virtual bool done() const = 0;
  // The JSON body once done(), or the error the request failed with.
  virtual ApiResult<std::string> body() = 0;
  const GenerationSummary& summary() const { return summary_; }

 protected:
  GenerationSummary summary_;
};

// Streaming: turns each event into zero or more SSE events.
class StreamRenderer {
 public:
  virtual ~StreamRenderer() = default;
  // Bytes to send as soon as the 200 is written (OpenAI role chunk).
  virtual void start(std::string& out) = 0;
  virtual void on_event(size_t source, const engine::Event& event, std::string& out) = 0;
  // True once the stream's last bytes (terminator or error) were produced.
  virtual bool done() const = 0;
  // Ends the stream early with an in-band error (§4.1); no-op once done.
  virtual void abort(const ApiError& error, std::string& out) = 0;
  // Native streams close the connection after an in-band error (§4.1).
  virtual bool close_after_error() const = 0;
  const GenerationSummary& summary() const { return summary_; }

 protected:
  GenerationSummary summary_;
};

// Shared fields of /v1 objects.
struct OpenAiIdentity {
  std::string id;       // chatcmpl-... / cmpl-...
  int64_t created = 0;  // unix seconds
  std::string model;    // response_model()
  std::string system_fingerprint;
};

// /generate (compat_array: POST / answers a JSON array of one).
std::unique_ptr<ResponseCollector> make_generate_collector(const ValidRequest& request,
                                                           bool compat_array);
// /generate_stream and POST / with stream: true.
std::unique_ptr<StreamRenderer> make_generate_stream(const ValidRequest& request);

struct ChatRenderOptions {
  OpenAiIdentity identity;
  bool logprobs = false;
  bool include_usage = false;
  std::unique_ptr<ToolCallParser> tool_parser;  // null: plain content
  // OpenAI `n`: choices rendered together (index k = the engine's choice k).
  // Choice 0 uses tool_parser; choice k > 0 more_tool_parsers[k - 1].
  int32_t n = 1;
  std::vector<std::unique_ptr<ToolCallParser>> more_tool_parsers;
};
std::unique_ptr<ResponseCollector> make_chat_collector(ChatRenderOptions options);
std::unique_ptr<StreamRenderer> make_chat_stream(ChatRenderOptions options);

// /v1/completions: one source per prompt, `best_of` engine choices each.
// Choice index = prompt * n + rank; with best_of > n the n choices of a
// prompt with the highest mean token logprob are shown (non-streaming only).
struct CompletionRenderOptions {
  OpenAiIdentity identity;
  std::vector<std::string> prompts;  // texts, for `echo`; their count = sources
  int32_t n = 1;
  int32_t best_of = 1;
  std::optional<int32_t> logprobs;  // legacy `logprobs`: alternatives per token
  bool echo = false;
};
std::unique_ptr<ResponseCollector> make_completion_collector(CompletionRenderOptions options);
std::unique_ptr<StreamRenderer> make_completion_stream(CompletionRenderOptions options);
// One plain choice per prompt.
std::unique_ptr<ResponseCollector> make_completion_collector(OpenAiIdentity identity,
                                                             size_t prompts);
std::unique_ptr<StreamRenderer> make_completion_stream(OpenAiIdentity identity, size_t prompts);

// The error a FailedEvent stands for.
ApiError failure_error(const engine::FailedEvent& failed);
// finish_reason strings: native (§3.8 column 1) and OpenAI (DEV-3).
const char* native_finish_reason(engine::FinishReason reason);
const char* openai_finish_reason(engine::FinishReason reason);

}  // namespace kiln::api
