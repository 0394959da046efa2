// An in-process Kiln server on 127.0.0.1 (any free port) with the fake
// engine and model services, and a small blocking HTTP client for tests.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <map>
#include <memory>
#include <string>
#include <thread>

#include "api/fakes.h"
#include "server/server.h"

namespace kiln::test {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

inline tcp::socket connect(uint16_t port) {
  static net::io_context ioc;
  tcp::socket s(ioc);
  s.connect({net::ip::make_address("127.0.0.1"), port});
  return s;
}

// Sends one request on `socket` and reads the whole response.
inline HttpResult exchange(tcp::socket& socket, const std::string& method,
                           const std::string& target, const std::string& body = "",
                           const std::map<std::string, std::string>& headers = {
                               {"content-type", "application/json"}}) {
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  if (!body.empty() || method == "POST") req.prepare_payload();
  http::write(socket, req);
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  http::read(socket, buffer, parser);
  HttpResult r;
  r.status = parser.get().result_int();
  for (const auto& f : parser.get()) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = std::string(f.value());
  }
  r.body = parser.get().body();
  return r;
}

inline HttpResult request(uint16_t port, const std::string& method, const std::string& target,
                          const std::string& body = "",
                          const std::map<std::string, std::string>& headers = {
                              {"content-type", "application/json"}}) {
  auto socket = connect(port);
  return exchange(socket, method, target, body, headers);
}

// Reads from `socket` until `needle` was seen or the peer closed.
inline std::string read_until(tcp::socket& socket, const std::string& needle) {
  std::string data;
  char buf[4096];
  boost::system::error_code ec;
  while (data.find(needle) == std::string::npos) {
    size_t n = socket.read_some(net::buffer(buf), ec);
    if (ec) break;
    data.append(buf, n);
  }
  return data;
}

// The default script: "Hello" then " world" (last), finished by EOS.
inline FakeEngine::Script hello_world_script() {
  return [](const engine::GenerationRequest& r) {
    std::vector<FakeEngine::Step> steps;
    steps.emplace_back(tok(15043, "Hello", -0.5f));
    steps.emplace_back(tok(3186, " world", -0.25f, false, true));
    steps.push_back({fin(engine::FinishReason::kEosToken, static_cast<int32_t>(r.prompt.size()), 2,
                         "Hello world", r.sampling.seed)});
    return steps;
  };
}

class TestServer {
 public:
  struct Options {
    server::ServerOptions server;
    api::ApiConfig config;
    bool with_model = true;
    bool with_engine = true;
    FakeEngine::Script script = hello_world_script();
  };

  static server::ServerOptions default_server_options() {
    server::ServerOptions o;
    o.hostname = "127.0.0.1";
    o.port = 0;
    o.prometheus_port = -1;
    o.io_threads = 2;
    o.idle_timeout = std::chrono::seconds(10);
    o.graceful_timeout = std::chrono::seconds(5);
    return o;
  }
  static Options defaults() {
    Options o;
    o.server = default_server_options();
    o.config.model_id = "fake/model";
    return o;
  }

  explicit TestServer(Options o = defaults()) {
    server::ServerDeps deps;
    deps.config = o.config;
    if (o.with_model) {
      model = std::make_shared<FakeModelServices>();
      deps.model = model;
    }
    if (o.with_engine) {
      engine = std::make_shared<FakeEngine>(o.script);
      deps.engine = engine;
    }
    server = std::make_unique<server::Server>(o.server, deps);
    auto status = server->start();
    EXPECT_TRUE(status.ok()) << status.message();
    port = server->port();
    thread = std::thread([this] { server->run(); });
  }

  ~TestServer() { stop(); }

  void stop() {
    if (!thread.joinable()) return;
    server->stop();
    thread.join();
    if (engine) engine->shutdown();
  }

  std::shared_ptr<FakeModelServices> model;
  std::shared_ptr<FakeEngine> engine;
  std::unique_ptr<server::Server> server;
  uint16_t port = 0;
  std::thread thread;
};

}  // namespace kiln::test
