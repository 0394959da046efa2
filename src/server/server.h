// The HTTP front end: Boost.Beast HTTP/1.1 on Asio, 1-2 I/O threads, no
// thread per connection. Routes the contract's endpoints (docs: the API
// contract §1) to api/ for parsing, validation and rendering, hands validated
// requests to the engine and streams its events back. Auth, CORS, limits,
// request ids, one log line per request, Prometheus metrics, graceful
// shutdown.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "api/config.h"
#include "api/model_services.h"
#include "engine/engine.h"
#include "util/result.h"

namespace kiln::server {

struct ServerOptions {
  std::string hostname = "0.0.0.0";            // an IP literal
  uint16_t port = 8080;                        // 0: any free port (tests); see Server::port()
  int prometheus_port = -1;                    // separate /metrics listener; -1: none, 0: any
  std::string api_key;                         // empty: no auth (§4.5)
  std::vector<std::string> cors_allow_origin;  // empty: any origin
  size_t payload_limit = 2'000'000;            // bytes of request body (413 beyond)
  size_t header_limit = 64 * 1024;             // bytes of request line + headers (431 beyond)
  int io_threads = 1;
  std::chrono::milliseconds idle_timeout{75'000};      // keep-alive and request reads
  std::chrono::milliseconds write_timeout{60'000};     // a client that stops reading
  std::chrono::milliseconds sse_keepalive{15'000};     // ":" comment on quiet streams
  std::chrono::milliseconds graceful_timeout{90'000};  // streams may finish after SIGTERM
  bool handle_signals = false;                         // SIGINT/SIGTERM start a graceful shutdown
  bool json_logs = false;                              // request log lines as JSON (--json-output)
  std::string compute_type = "gpu+optimized";          // x-compute-type (env COMPUTE_TYPE)
};

// Everything the routes serve from. `model` and `engine` may be null: the
// server then answers the info routes and refuses generation with 503.
struct ServerDeps {
  api::ApiConfig config;
  std::shared_ptr<const api::ModelServices> model;
  std::shared_ptr<engine::Engine> engine;
};

struct ServerCore;  // server_impl.h

class Server {
 public:
  Server(ServerOptions options, ServerDeps deps);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listeners; the error names the address.
  util::Status start();
  // Bound ports (after start()).
  uint16_t port() const;
  uint16_t prometheus_port() const;
  // Serves until a shutdown completes. Runs the I/O threads (the caller's
  // thread is one of them).
  void run();
  // Starts a graceful shutdown; callable from any thread, any number of times.
  void stop();

 private:
  std::unique_ptr<ServerCore> impl_;
};

}  // namespace kiln::server
