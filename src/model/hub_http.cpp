#include "model/hub_http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace kiln::model::hub::detail {
namespace {

constexpr size_t kMaxBodyBytes = size_t{64} << 20;  // API answers and small files only
// A transfer that moves under 1 KB/s for 60 s is treated as a dropped connection.
constexpr long kLowSpeedBytes = 1024;
constexpr long kLowSpeedSeconds = 60;

struct Transfer {
  const HttpRequest* req;
  HttpResponse* resp;
  CURL* curl;
  uint64_t received = 0;
  bool aborted = false;
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    t->resp->headers.clear();  // a new response (after a redirect or 100-continue)
    return size * n;
  }
  const auto colon = line.find(':');
  if (colon == std::string::npos) return size * n;
  std::string name = line.substr(0, colon);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string value = line.substr(colon + 1);
  const auto b = value.find_first_not_of(" \t");
  const auto e = value.find_last_not_of(" \t\r\n");
  value = b == std::string::npos ? "" : value.substr(b, e - b + 1);
  t->resp->headers[name] = value;
  return size * n;
}

size_t on_write(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t bytes = size * n;
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  t->received += bytes;
  if (t->req->on_body) {
    if (!t->req->on_body(data, bytes, status)) {
      t->aborted = true;
      return 0;
    }
  } else {
    if (t->resp->body.size() + bytes > kMaxBodyBytes) return 0;
    t->resp->body.append(data, bytes);
  }
  if (t->req->on_progress) t->req->on_progress(t->received);
  return bytes;
}

}  // namespace

HttpResponse http_request(const HttpRequest& request) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  HttpResponse resp;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    resp.error = "curl_easy_init failed";
    return resp;
  }
  Transfer t{&request, &resp, curl};
  curl_slist* headers = nullptr;
  for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "kiln-hub-client/1");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, request.connect_timeout_s);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, kLowSpeedBytes);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, kLowSpeedSeconds);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  if (request.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  const CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp.status);
  if (rc != CURLE_OK && !t.aborted) {
    resp.error = curl_easy_strerror(rc);
    resp.partial = rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR ||
                   rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_GOT_NOTHING;
    if (resp.status != 0 && !resp.partial) resp.partial = true;  // body cut short
  }
  if (t.aborted) resp.error = "aborted";
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return resp;
}

std::string url_encode(const std::string& s, bool keep_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace kiln::model::hub::detail
