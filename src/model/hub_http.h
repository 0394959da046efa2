// Internal to src/model: the few HTTP calls the Hub client makes, over libcurl.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace kiln::model::hub::detail {

struct HttpRequest {
  std::string method = "GET";  // "GET" or "HEAD"
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  bool follow_redirects = false;
  long connect_timeout_s = 10;
  // Body sink for large downloads (the body is not kept when set). Return false
  // to abort the transfer. Called only for the final response's body.
  std::function<bool(const char* data, size_t n, long status)> on_body;
  std::function<void(uint64_t received)> on_progress;  // bytes of this response so far
};

struct HttpResponse {
  long status = 0;                             // 0: no HTTP response (see error)
  std::string error;                           // curl's message when the transfer failed
  bool partial = false;                        // the connection ended before the whole body arrived
  std::map<std::string, std::string> headers;  // of the last response, names lower-cased
  std::string body;                            // when no on_body sink was given (capped at 64 MB)
};

HttpResponse http_request(const HttpRequest& request);

// Percent-encodes everything but unreserved characters (and '/' when keep_slash).
std::string url_encode(const std::string& s, bool keep_slash);

}  // namespace kiln::model::hub::detail
