// Listeners, I/O threads and the graceful shutdown. Connections are
// coroutines on their own strands (http_session.cpp); nothing here blocks.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <csignal>
#include <thread>

#include "server/request_log.h"
#include "server/server_impl.h"

namespace kiln::server {

namespace {

using net::as_tuple;
using net::use_awaitable;

std::vector<Route> build_routes() {
  std::vector<Route> routes;
  add_info_routes(routes);
  add_tgi_routes(routes);
  add_openai_routes(routes);
  return routes;
}

// Pause after accept() fails for lack of descriptors, instead of spinning.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);
// How often the drain checks for finished connections, and how long ended
// streams get to write their error event before sockets are closed.
constexpr auto kDrainPoll = std::chrono::milliseconds(20);
constexpr auto kForceGrace = std::chrono::seconds(5);

}  // namespace

ServerCore::ServerCore(ServerOptions o, ServerDeps d)
    : options(std::move(o)),
      deps(std::move(d)),
      metrics(MetricsOptions{deps.config.max_input_tokens, deps.config.max_total_tokens}),
      admission(deps.config.max_concurrent_requests),
      cors(options.cors_allow_origin),
      routes(build_routes()),
      ctx{options,
          deps.config,
          deps.model.get(),
          deps.engine.get(),
          api::Validator(deps.config, deps.model.get()),
          metrics,
          admission},
      ioc(std::max(1, options.io_threads)),
      gate(std::make_shared<PostGate>(ioc)),
      acceptor(ioc),
      metrics_acceptor(ioc) {
  if (deps.config.max_batch_total_tokens) {
    metrics.set_max_batch_total_tokens(*deps.config.max_batch_total_tokens);
  }
}

net::awaitable<void> ServerCore::accept_loop(tcp::acceptor& a, bool metrics_only) {
  for (;;) {
    auto [ec, socket] = co_await a.async_accept(net::make_strand(ioc), as_tuple(use_awaitable));
    if (ec == net::error::operation_aborted || !a.is_open() || stopping) co_return;
    if (ec) {
      // EMFILE and friends: existing connections keep being served; retry soon.
      net::steady_timer t(ioc, kAcceptBackoff);
      co_await t.async_wait(as_tuple(use_awaitable));
      continue;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto executor = socket.get_executor();
    net::co_spawn(executor, run_session(*this, std::move(socket), metrics_only), net::detached);
  }
}

void ServerCore::begin_shutdown() {
  if (stopping.exchange(true)) {
    // A second signal ends the grace period at once.
    forced = true;
    return;
  }
  log_text(spdlog::level::info, "shutting down: no new connections, draining requests",
           options.json_logs);
  beast::error_code ignored;
  acceptor.close(ignored);
  metrics_acceptor.close(ignored);
  if (signals) {
    // Keep listening so a second SIGINT/SIGTERM can force the end.
    signals->async_wait([this](const beast::error_code& ec, int) {
      if (!ec) begin_shutdown();
    });
  }
  {
    // Idle keep-alive connections close now; busy ones finish their request.
    std::lock_guard lock(sessions_mu);
    for (const auto& s : sessions) {
      net::post(s->strand, [s] {
        if (s->stream && s->idle) {
          beast::error_code ec;
          s->stream->socket().close(ec);
        }
      });
    }
  }
  // Outside the lock: co_spawn may start drain() inline, and it takes the lock.
  net::co_spawn(ioc, drain(), net::detached);
}

net::awaitable<void> ServerCore::drain() {
  auto remaining = [this] {
    std::lock_guard lock(sessions_mu);
    return sessions.size();
  };
  auto wake_all = [this](bool close) {
    std::lock_guard lock(sessions_mu);
    for (const auto& s : sessions) {
      net::post(s->strand, [s, close] {
        if (s->waiter) s->waiter->wake();
        if (close && s->stream) {
          beast::error_code ec;
          s->stream->socket().close(ec);
        }
      });
    }
  };
  net::steady_timer timer(ioc);
  const auto deadline = std::chrono::steady_clock::now() + options.graceful_timeout;
  while (remaining() > 0 && std::chrono::steady_clock::now() < deadline && !forced) {
    timer.expires_after(kDrainPoll);
    co_await timer.async_wait(as_tuple(use_awaitable));
  }
  if (remaining() > 0) {
    // Past the deadline: running streams end with an error event (sse.cpp).
    forced = true;
    wake_all(false);
    const auto grace_end = std::chrono::steady_clock::now() + kForceGrace;
    while (remaining() > 0 && std::chrono::steady_clock::now() < grace_end) {
      timer.expires_after(kDrainPoll);
      co_await timer.async_wait(as_tuple(use_awaitable));
    }
    wake_all(true);
    while (remaining() > 0) {
      timer.expires_after(kDrainPoll);
      co_await timer.async_wait(as_tuple(use_awaitable));
    }
  }
  if (signals) {
    beast::error_code ignored;
    signals->cancel(ignored);
  }
  ioc.stop();
}

Server::Server(ServerOptions options, ServerDeps deps)
    : impl_(std::make_unique<ServerCore>(std::move(options), std::move(deps))) {}

Server::~Server() {
  // Close the gate first: the engine may still push to streams whose
  // notify callbacks point at this io_context.
  impl_->gate->close();
}

namespace {
util::Status bind(tcp::acceptor& a, const tcp::endpoint& ep) {
  beast::error_code ec;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return util::make_error("cannot listen on " + ep.address().to_string() + ":" +
                            std::to_string(ep.port()) + ": " + ec.message());
  }
  return {};
}
}  // namespace

util::Status Server::start() {
  auto& o = impl_->options;
  beast::error_code ec;
  auto address = net::ip::make_address(o.hostname, ec);
  if (ec) return util::make_error("--hostname: '" + o.hostname + "' is not an IP address");
  if (auto s = bind(impl_->acceptor, {address, o.port}); !s.ok()) return s;
  if (o.prometheus_port >= 0) {
    auto s = bind(impl_->metrics_acceptor, {address, static_cast<uint16_t>(o.prometheus_port)});
    if (!s.ok()) {
      // TGI users rarely scrape this port; a clash must not stop the server.
      log_text(spdlog::level::warn, "prometheus listener disabled: " + s.message(), o.json_logs);
    }
  }
  return {};
}

uint16_t Server::port() const {
  beast::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

uint16_t Server::prometheus_port() const {
  beast::error_code ec;
  auto ep = impl_->metrics_acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void Server::run() {
  auto& impl = *impl_;
  if (impl.acceptor.is_open()) {
    net::co_spawn(net::make_strand(impl.ioc), impl.accept_loop(impl.acceptor, false),
                  net::detached);
  }
  if (impl.metrics_acceptor.is_open()) {
    net::co_spawn(net::make_strand(impl.ioc), impl.accept_loop(impl.metrics_acceptor, true),
                  net::detached);
  }
  if (impl.options.handle_signals) {
    impl.signals.emplace(impl.ioc, SIGINT, SIGTERM);
    impl.signals->async_wait([&impl](const beast::error_code& ec, int) {
      if (!ec) impl.begin_shutdown();
    });
  }
  // Work guard: the io_context runs until drain() stops it.
  auto guard = net::make_work_guard(impl.ioc);
  std::vector<std::thread> threads;
  for (int i = 1; i < impl.options.io_threads; ++i)
    threads.emplace_back([&impl] { impl.ioc.run(); });
  impl.ioc.run();
  for (auto& t : threads) t.join();
}

void Server::stop() {
  net::post(impl_->ioc, [impl = impl_.get()] { impl->begin_shutdown(); });
}

}  // namespace kiln::server
