// Request routing: CORS preflight, 404/405, the API key, the Content-Type
// rule, then the route's handler with a last-resort catch (bad input never
// takes the server down; an exception here is a Kiln bug answered with 500).
#include <cstring>

#include "server/request_log.h"

#include "server/server_impl.h"

namespace kiln::server {

namespace {

bool path_matches(const Route& r, std::string_view path) {
  if (r.prefix) return path.size() > std::strlen(r.path) && path.starts_with(r.path);
  return path == r.path;
}

}  // namespace

Dispatch dispatch(ServerCore& impl, const http::request<http::string_body>& message,
                  const Request& request, bool metrics_only) {
  Dispatch d{Reply{}};
  if (metrics_only && request.path != "/metrics") {
    d.outcome = error_reply(api::ApiError::of(api::ErrorKind::kNotFound));
    return d;
  }
  // CORS runs before auth: a preflight never needs the key (§4.5).
  if (message.method() == http::verb::options && message.count(http::field::origin) &&
      message.count(http::field::access_control_request_method)) {
    Reply r;
    r.content_type.clear();
    r.headers = impl.cors.preflight_headers(message[http::field::origin]);
    d.outcome = std::move(r);
    d.route = "preflight";
    return d;
  }
  const Route* route = nullptr;
  bool path_known = false;
  for (const auto& r : impl.routes) {
    if (!path_matches(r, request.path)) continue;
    path_known = true;
    if (request.method == r.method) {
      route = &r;
      break;
    }
  }
  if (!route) {
    d.outcome = error_reply(api::ApiError::of(path_known ? api::ErrorKind::kMethodNotAllowed
                                                         : api::ErrorKind::kNotFound));
    return d;
  }
  d.route = route->path;
  if (route->prefix) d.route = "/v1/models/{model_id}";
  if (route->needs_key && !impl.options.api_key.empty() &&
      !bearer_matches(message[http::field::authorization], impl.options.api_key)) {
    d.outcome = error_reply(api::ApiError::of(api::ErrorKind::kUnauthorized));
    return d;
  }
  if (request.method == "POST") {
    auto ct = message[http::field::content_type];
    if (!ct.empty() && !is_json_content_type(ct)) {
      d.outcome = error_reply(api::ApiError::of(api::ErrorKind::kUnsupportedMediaType));
      return d;
    }
  }
  d.counted = route->counted;
  if (d.counted) impl.metrics.request_received();
  try {
    d.outcome = route->handler(request, impl.ctx);
  } catch (const std::exception& e) {
    log_text(spdlog::level::err,
             "request " + request.request_id + ": unexpected exception in " + route->path + ": " +
                 e.what(),
             impl.options.json_logs);
    d.outcome = error_reply(api::ApiError::of(api::ErrorKind::kInternal));
  }
  return d;
}

}  // namespace kiln::server
