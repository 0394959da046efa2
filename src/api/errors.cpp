#include "api/errors.h"

#include "api/json_util.h"

namespace kiln::api {

namespace {
ApiError make(ErrorKind kind, std::string_view prefix, std::string_view text) {
  std::string message;
  message.reserve(prefix.size() + text.size());
  message.append(prefix).append(text);
  return ApiError{kind, std::move(message)};
}
}  // namespace

ApiError ApiError::validation(std::string_view text) {
  return make(ErrorKind::kValidation, "Input validation error: ", text);
}
ApiError ApiError::deserialize(std::string_view text) {
  return make(ErrorKind::kValidation,
              "Failed to deserialize the JSON body into the target type: ", text);
}
ApiError ApiError::malformed_json(std::string_view text) {
  return make(ErrorKind::kMalformedJson, "Failed to parse the request body as JSON: ", text);
}
ApiError ApiError::generation(std::string_view text) {
  return make(ErrorKind::kGeneration, "Request failed during generation: ", text);
}
ApiError ApiError::template_error(std::string_view text) {
  return make(ErrorKind::kTemplate, "Template error: ", text);
}
ApiError ApiError::missing_variable(std::string_view text) {
  return make(ErrorKind::kMissingTemplateVariable, "Missing template vatiable: ", text);
}
ApiError ApiError::tool(std::string_view text) {
  return make(ErrorKind::kTool, "Tool error: ", text);
}

ApiError ApiError::of(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kUnauthorized:
      return {kind, "Unauthorized"};
    case ErrorKind::kNotFound:
      return {kind, "Not Found"};
    case ErrorKind::kMethodNotAllowed:
      return {kind, "Method Not Allowed"};
    case ErrorKind::kPayloadTooLarge:
      return {kind, "Failed to buffer the request body: length limit exceeded"};
    case ErrorKind::kUnsupportedMediaType:
      return {kind, "Expected request with `Content-Type: application/json`"};
    case ErrorKind::kHeaderTooLarge:
      return {kind, "Request header fields too large"};
    case ErrorKind::kOverloaded:
      return {kind, "Model is overloaded"};
    case ErrorKind::kIncomplete:
      return {kind, "Incomplete generation"};
    case ErrorKind::kIncompleteStream:
      return {kind, "Incomplete generation stream"};
    case ErrorKind::kStreamSerialization:
      return {kind, "Stream event serialization error"};
    case ErrorKind::kUnhealthy:
      return {kind, "unhealthy"};
    case ErrorKind::kModelNotLoaded:
      return {kind,
              "Model is not loaded: this server was started without a model engine, so "
              "generation and tokenization are unavailable"};
    default:
      return {kind, "Internal server error"};
  }
}

// The one mapping from error kind to HTTP status (contract §4.2).
int http_status(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kMalformedJson:
      return 400;
    case ErrorKind::kUnauthorized:
      return 401;
    case ErrorKind::kNotFound:
    case ErrorKind::kModelNotFound:
      return 404;
    case ErrorKind::kMethodNotAllowed:
      return 405;
    case ErrorKind::kPayloadTooLarge:
      return 413;
    case ErrorKind::kUnsupportedMediaType:
      return 415;
    case ErrorKind::kHeaderTooLarge:
      return 431;
    case ErrorKind::kValidation:
    case ErrorKind::kTemplate:
    case ErrorKind::kMissingTemplateVariable:
    case ErrorKind::kTool:
    case ErrorKind::kSuffixNotSupported:
    case ErrorKind::kBatchSizeExceeded:
      return 422;
    case ErrorKind::kGeneration:
      return 424;
    case ErrorKind::kOverloaded:
      return 429;
    case ErrorKind::kIncomplete:
    case ErrorKind::kIncompleteStream:
    case ErrorKind::kStreamSerialization:
    case ErrorKind::kInternal:
      return 500;
    case ErrorKind::kUnhealthy:
    case ErrorKind::kModelNotLoaded:
      return 503;
  }
  return 500;
}

std::string_view error_type(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kMalformedJson:
    case ErrorKind::kPayloadTooLarge:
    case ErrorKind::kUnsupportedMediaType:
    case ErrorKind::kHeaderTooLarge:
    case ErrorKind::kValidation:
      return "validation";
    case ErrorKind::kUnauthorized:
      return "authentication";
    case ErrorKind::kNotFound:
    case ErrorKind::kModelNotFound:
      return "not_found";
    case ErrorKind::kMethodNotAllowed:
      return "method_not_allowed";
    case ErrorKind::kTemplate:
      return "template_error";
    case ErrorKind::kMissingTemplateVariable:
      return "missing_template_variable";
    case ErrorKind::kTool:
      return "tool_error";
    case ErrorKind::kSuffixNotSupported:
      return "suffix not supported";
    case ErrorKind::kBatchSizeExceeded:
      return "batch size exceeded";
    case ErrorKind::kOverloaded:
      return "overloaded";
    case ErrorKind::kGeneration:
      return "generation";
    case ErrorKind::kIncomplete:
      return "incomplete_generation";
    case ErrorKind::kIncompleteStream:
      return "incomplete_generation_stream";
    case ErrorKind::kStreamSerialization:
      return "stream_serialization_error";
    case ErrorKind::kInternal:
      return "internal";
    case ErrorKind::kUnhealthy:
      return "healthcheck";
    case ErrorKind::kModelNotLoaded:
      return "unhealthy";
  }
  return "internal";
}

std::string_view failure_label(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kMalformedJson:
    case ErrorKind::kPayloadTooLarge:
    case ErrorKind::kUnsupportedMediaType:
    case ErrorKind::kValidation:
    case ErrorKind::kTool:
    case ErrorKind::kSuffixNotSupported:
    case ErrorKind::kBatchSizeExceeded:
      return "validation";
    case ErrorKind::kTemplate:
    case ErrorKind::kMissingTemplateVariable:
      return "template";
    case ErrorKind::kOverloaded:
      return "overloaded";
    case ErrorKind::kGeneration:
    case ErrorKind::kInternal:
    case ErrorKind::kStreamSerialization:
      return "generation";
    case ErrorKind::kIncomplete:
    case ErrorKind::kIncompleteStream:
      return "incomplete";
    default:
      return {};
  }
}

bool has_body(ErrorKind kind) {
  return kind != ErrorKind::kNotFound && kind != ErrorKind::kMethodNotAllowed;
}

std::string render_tgi_error(const ApiError& error) {
  Json body = Json::object();
  body["error"] = error.message;
  body["error_type"] = std::string(error_type(error.kind));
  return dump(body);
}

std::string render_openai_stream_error(const ApiError& error) {
  Json inner = Json::object();
  inner["message"] = error.message;
  inner["type"] = std::string(error_type(error.kind));
  inner["http_status_code"] = http_status(error.kind);
  Json body = Json::object();
  body["error"] = std::move(inner);
  return dump(body);
}

}  // namespace kiln::api
