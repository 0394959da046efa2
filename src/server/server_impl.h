// Server internals shared by server.cpp (listeners, threads, shutdown),
// http_session.cpp (one connection), router.cpp and sse.cpp.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "server/http_policy.h"
#include "server/routes.h"
#include "server/server.h"
#include "server/waker.h"

namespace kiln::server {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

// One connection's state that the shutdown path may touch (on its strand).
struct SessionState {
  explicit SessionState(net::any_io_executor s) : strand(std::move(s)) {}
  net::any_io_executor strand;
  beast::tcp_stream* stream = nullptr;  // null once the session ended
  bool idle = false;                    // between requests
  std::shared_ptr<EventWaiter> waiter;  // while a generation runs
};

struct ServerCore {
  ServerCore(ServerOptions options, ServerDeps deps);

  ServerOptions options;
  ServerDeps deps;
  Metrics metrics;
  Admission admission;
  CorsPolicy cors;
  std::vector<Route> routes;
  ServerContext ctx;

  net::io_context ioc;
  std::shared_ptr<PostGate> gate;
  tcp::acceptor acceptor;
  tcp::acceptor metrics_acceptor;
  std::optional<net::signal_set> signals;

  std::atomic<bool> stopping{false};  // no new requests; keep-alive ends
  std::atomic<bool> forced{false};    // graceful deadline passed: end streams now

  std::mutex sessions_mu;
  std::set<std::shared_ptr<SessionState>> sessions;

  void begin_shutdown();  // on an I/O thread
  net::awaitable<void> accept_loop(tcp::acceptor& acceptor, bool metrics_only);
  net::awaitable<void> drain();
};

// One connection, until it closes (http_session.cpp).
net::awaitable<void> run_session(ServerCore& impl, tcp::socket socket, bool metrics_only);

// Routing (router.cpp): preflight, 404/405, auth, Content-Type, then the handler.
struct Dispatch {
  Outcome outcome;
  std::string_view route = "-";  // route pattern for the log
  bool counted = false;          // a generation route (metrics)
};
Dispatch dispatch(ServerCore& impl, const http::request<http::string_body>& message,
                  const Request& request, bool metrics_only);

// Running a generation to its end (sse.cpp).
struct JobIo {
  beast::tcp_stream& stream;
  beast::flat_buffer& buffer;
  std::shared_ptr<EventWaiter> waiter;
  ServerCore& impl;
};
enum class JobEnd { kCompleted, kClientGone, kForced };
// Streams: writes the SSE response (header, events, terminator).
net::awaitable<JobEnd> run_stream(JobIo io, Job& job, http::response<http::empty_body>& header);
// Non-streaming: waits for the collector to be done.
net::awaitable<JobEnd> run_buffered(JobIo io, Job& job);

}  // namespace kiln::server
