#include "server/http_policy.h"

#include <algorithm>
#include <cctype>

#include "api/json_util.h"

namespace kiln::server {

namespace {
bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
}  // namespace

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Walk the expected value's full length whatever the input, so timing
  // depends only on the key's length, never on the first mismatch.
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (size_t i = 0; i < b.size(); ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0u;
    diff |= x ^ static_cast<unsigned char>(b[i]);
  }
  return diff == 0;
}

bool bearer_matches(std::string_view authorization, std::string_view key) {
  authorization = trim(authorization);
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() ||
      !iequals(authorization.substr(0, kScheme.size()), kScheme) ||
      authorization[kScheme.size()] != ' ') {
    return false;
  }
  return constant_time_equal(trim(authorization.substr(kScheme.size() + 1)), key);
}

bool is_json_content_type(std::string_view content_type) {
  std::string_view media = trim(content_type.substr(0, content_type.find(';')));
  if (iequals(media, "application/json")) return true;
  // `curl -d` labels every body with this type; treating it like a missing
  // header is what DEV-20 / §10 #21 ask for (curl users who forgot -H).
  if (iequals(media, "application/x-www-form-urlencoded")) return true;
  constexpr std::string_view kApp = "application/";
  constexpr std::string_view kSuffix = "+json";
  return media.size() > kApp.size() + kSuffix.size() &&
         iequals(media.substr(0, kApp.size()), kApp) &&
         iequals(media.substr(media.size() - kSuffix.size()), kSuffix);
}

std::string request_id_from(std::string_view incoming) {
  bool sane =
      !incoming.empty() && incoming.size() <= 128 &&
      std::all_of(incoming.begin(), incoming.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  return sane ? std::string(incoming) : api::random_hex(32);
}

CorsPolicy::CorsPolicy(std::vector<std::string> origins) : origins_(std::move(origins)) {}

bool CorsPolicy::allowed(std::string_view origin) const {
  return std::find(origins_.begin(), origins_.end(), origin) != origins_.end();
}

std::vector<std::pair<std::string, std::string>> CorsPolicy::response_headers(
    std::string_view origin) const {
  if (origins_.empty()) return {{"access-control-allow-origin", "*"}};
  if (!origin.empty() && allowed(origin)) {
    return {{"access-control-allow-origin", std::string(origin)}, {"vary", "origin"}};
  }
  return {{"vary", "origin"}};
}

std::vector<std::pair<std::string, std::string>> CorsPolicy::preflight_headers(
    std::string_view origin) const {
  auto h = response_headers(origin);
  // TGI allows GET and POST and the content-type header; browsers behind an
  // API key also send authorization (§10 #25).
  h.emplace_back("access-control-allow-methods", "GET, POST");
  h.emplace_back("access-control-allow-headers", "content-type, authorization");
  h.emplace_back("access-control-max-age", "3600");
  return h;
}

}  // namespace kiln::server
