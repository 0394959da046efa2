// Request-level policies that do not depend on a route: API key check (§4.5),
// CORS (§4.5, §10 #25), Content-Type acceptance (§0.3), request ids.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiln::server {

// `Authorization: Bearer <key>`: scheme case-insensitive, key compared
// exactly in time independent of where the first difference is.
bool bearer_matches(std::string_view authorization, std::string_view key);
bool constant_time_equal(std::string_view a, std::string_view b);

// JSON media types: application/json (with parameters) and application/*+json,
// plus curl's default application/x-www-form-urlencoded (DEV-20, §10 #21).
// An empty value (no header) is tolerated by the caller.
bool is_json_content_type(std::string_view content_type);

// The client's x-request-id when it is sane (1-128 visible ASCII), else a new one.
std::string request_id_from(std::string_view incoming);

class CorsPolicy {
 public:
  explicit CorsPolicy(std::vector<std::string> origins);  // empty: any origin

  // Headers for a response to a request with this Origin (none when the
  // origin is not allowed or absent with a restricted list).
  std::vector<std::pair<std::string, std::string>> response_headers(std::string_view origin) const;
  // Extra headers of a preflight answer.
  std::vector<std::pair<std::string, std::string>> preflight_headers(std::string_view origin) const;

 private:
  bool allowed(std::string_view origin) const;
  std::vector<std::string> origins_;
};

}  // namespace kiln::server
