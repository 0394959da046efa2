// One structured log line per HTTP request (method, route, status, timings),
// as text or, with --json-output, as a JSON object in the log's `message`.
#pragma once

#include <spdlog/common.h>

#include <string_view>

namespace kiln::server {

struct RequestLogLine {
  std::string_view request_id;
  std::string_view method;
  std::string_view route;   // the route pattern, e.g. /v1/models/{model_id}
  std::string_view target;  // the path as sent
  std::string_view remote;
  int status = 0;
  std::string_view error_type;  // empty on success
  bool stream = false;
  double total_ms = 0;
  double validation_ms = 0;
  double queue_ms = 0;
  double inference_ms = 0;
  int32_t prompt_tokens = 0;
  int32_t generated_tokens = 0;
};

void log_request(const RequestLogLine& line, bool json);

// A free-text line in the same format (JSON string message with --json-output).
void log_text(spdlog::level::level_enum level, std::string_view text, bool json);

}  // namespace kiln::server
