// Every error the HTTP API can return, with its status code and `error_type`
// decided in exactly one place (errors.cpp, contract §4.2). Both API families
// render their error shapes from the same ApiError value.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace kiln::api {

enum class ErrorKind {
  kMalformedJson,            // 400: body is not JSON
  kUnauthorized,             // 401: missing or wrong API key
  kNotFound,                 // 404: unknown route (empty body)
  kModelNotFound,            // 404: GET /v1/models/{id} of a model not served
  kMethodNotAllowed,         // 405
  kPayloadTooLarge,          // 413: body over --payload-limit
  kUnsupportedMediaType,     // 415: Content-Type is not JSON
  kHeaderTooLarge,           // 431: request header over the server's limit
  kValidation,               // 422: wrong shape/type, or a parameter out of range
  kTemplate,                 // 422: chat template missing or raised
  kMissingTemplateVariable,  // 422
  kTool,                     // 422: tools/tool_choice problems
  kSuffixNotSupported,       // 422: /v1/completions `suffix`
  kBatchSizeExceeded,        // 422: too many prompts
  kOverloaded,               // 429: no admission slot
  kGeneration,               // 424: the engine failed the request
  kIncomplete,               // 500: ended without a final token (non-stream)
  kIncompleteStream,         // in-band only: same, on a stream
  kStreamSerialization,      // 500
  kInternal,                 // 500: a bug in Kiln caught at the route edge
  kUnhealthy,                // 503: /health says the backend is broken
  kModelNotLoaded,           // 503: served without a model or an engine
};

struct ApiError {
  ErrorKind kind = ErrorKind::kInternal;
  std::string message;  // the complete client-visible message

  // The constructors add the contract's fixed prefixes.
  static ApiError validation(std::string_view text);   // "Input validation error: "
  static ApiError deserialize(std::string_view text);  // "Failed to deserialize the JSON body ..."
  static ApiError malformed_json(std::string_view text);
  static ApiError generation(std::string_view text);        // "Request failed during generation: "
  static ApiError template_error(std::string_view text);    // "Template error: "
  static ApiError missing_variable(std::string_view text);  // "Missing template vatiable: " (sic)
  static ApiError tool(std::string_view text);              // "Tool error: "
  static ApiError of(ErrorKind kind);                       // kinds whose message is fixed
};

int http_status(ErrorKind kind);
// `error_type` string of both shapes; kept exact for the text_generation client.
std::string_view error_type(ErrorKind kind);
// Label of tgi_request_failure{err=...}; empty when the failure is not counted.
std::string_view failure_label(ErrorKind kind);
// 404 and 405 answer with an empty body (contract §4.2).
bool has_body(ErrorKind kind);

// TGI shape: {"error":"...","error_type":"..."} (non-streaming, and native
// in-band events).
std::string render_tgi_error(const ApiError& error);
// OpenAI in-band stream shape: {"error":{"message","type","http_status_code"}}.
std::string render_openai_stream_error(const ApiError& error);

// A value or an ApiError: what parsing and validation return.
template <typename T>
class [[nodiscard]] ApiResult {
 public:
  ApiResult(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  ApiResult(ApiError error) : v_(std::move(error)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const ApiError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, ApiError> v_;
};

}  // namespace kiln::api
