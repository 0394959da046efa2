// JSON bodies -> typed requests (types.h). Errors: 400 for a body that is not
// JSON, 422 (`validation`) for JSON of the wrong shape or types, with the
// path of the first bad field. Unknown fields are ignored (contract §0.3).
// Range checks are validate.h's job, except where the contract ties them to
// parsing (tools, suffix, prompt counts).
#pragma once

#include <optional>
#include <string_view>

#include "api/config.h"
#include "api/errors.h"
#include "api/json_util.h"
#include "api/types.h"

namespace kiln::api {

ApiResult<Json> parse_json(std::string_view body);

enum class NativeRoute { kGenerate, kGenerateStream, kCompat, kTokenize };

// /generate, /generate_stream, POST / and /tokenize. `stream` is read only on
// POST / (kCompat); /generate_stream always streams. POST / defaults
// return_full_text from the model's pipeline tag (§2.2).
ApiResult<GenerationRequest> parse_generate(const Json& body, NativeRoute route,
                                            const ApiConfig& config);

// /v1/chat/completions and /chat_tokenize, including tool setup checks
// (tools + response_format, unknown forced tool).
ApiResult<ChatRequest> parse_chat(const Json& body, const ApiConfig& config);

// /v1/completions, including `suffix`, empty prompt list and batch size.
ApiResult<CompletionRequest> parse_completion(const Json& body, const ApiConfig& config);

// The chat request as a generation request for `prompt` (TGI's conversion:
// temperature 0 -> greedy, absent -> sampling on; top_logprobs ->
// top_n_tokens; stop strings stripped from the output).
GenerationRequest chat_to_generation(const ChatRequest& chat, std::string prompt);
// One generation request per prompt of a completions request.
GenerationRequest completion_to_generation(const CompletionRequest& request, size_t prompt);

// /invocations: which body this is (§2.6), by its keys.
enum class InvocationKind { kCompat, kChat, kCompletion };
std::optional<InvocationKind> classify_invocation(const Json& body);

// `model` of a /v1 response: the request's, unless absent or "tgi".
std::string response_model(const std::optional<std::string>& requested, const ApiConfig& config);

}  // namespace kiln::api
