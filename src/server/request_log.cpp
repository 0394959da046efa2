#include "server/request_log.h"

#include <spdlog/spdlog.h>

#include "api/json_util.h"

namespace kiln::server {

namespace {
double round3(double v) {
  return static_cast<double>(static_cast<int64_t>(v * 1000.0 + 0.5)) / 1000.0;
}
}  // namespace

void log_request(const RequestLogLine& l, bool json) {
  if (!spdlog::should_log(spdlog::level::info)) return;
  if (json) {
    api::Json j = api::Json::object();
    j["event"] = "request";
    j["request_id"] = l.request_id;
    j["method"] = l.method;
    j["route"] = l.route;
    j["target"] = l.target;
    j["status"] = l.status;
    if (!l.error_type.empty()) j["error_type"] = l.error_type;
    j["stream"] = l.stream;
    j["total_ms"] = round3(l.total_ms);
    j["validation_ms"] = round3(l.validation_ms);
    j["queue_ms"] = round3(l.queue_ms);
    j["inference_ms"] = round3(l.inference_ms);
    j["prompt_tokens"] = l.prompt_tokens;
    j["generated_tokens"] = l.generated_tokens;
    j["remote"] = l.remote;
    spdlog::info("{}", api::dump(j));
    return;
  }
  spdlog::info(
      "request id={} method={} route={} target={} status={}{}{} stream={} total_ms={:.3f} "
      "validation_ms={:.3f} queue_ms={:.3f} inference_ms={:.3f} prompt_tokens={} "
      "generated_tokens={} remote={}",
      l.request_id, l.method, l.route, api::dump(api::Json(std::string(l.target))), l.status,
      l.error_type.empty() ? "" : " error_type=", l.error_type, l.stream, l.total_ms,
      l.validation_ms, l.queue_ms, l.inference_ms, l.prompt_tokens, l.generated_tokens, l.remote);
}

void log_text(spdlog::level::level_enum level, std::string_view text, bool json) {
  if (json) {
    spdlog::log(level, "{}", api::dump(api::Json(std::string(text))));
  } else {
    spdlog::log(level, "{}", text);
  }
}

}  // namespace kiln::server
