// Running a generation: wait for engine events without blocking the I/O
// thread, notice a client that leaves (its streams are cancelled so the
// engine frees their KV blocks), and for streams write each event as an SSE
// chunk as soon as it is rendered (contract §3.3).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

#include "server/server_impl.h"

namespace kiln::server {

namespace {

using namespace net::experimental::awaitable_operators;

// Bytes a client may pipeline behind a running request before we stop
// reading them (they stay buffered for the next request).
constexpr size_t kMaxPipelined = 1 << 20;
constexpr size_t kWatchRead = 4096;

// Completes when the client sends something (kept for the next request) or
// goes away (returns true).
net::awaitable<bool> watch_client(JobIo& io) {
  if (io.buffer.size() >= kMaxPipelined) {
    // Nothing more to read for now: just wait to be cancelled.
    net::steady_timer forever(io.waiter->strand(), std::chrono::hours(24));
    co_await forever.async_wait(net::as_tuple(net::use_awaitable));
    co_return false;
  }
  auto [ec, n] = co_await io.stream.socket().async_read_some(io.buffer.prepare(kWatchRead),
                                                             net::as_tuple(net::use_awaitable));
  if (ec) co_return true;
  io.buffer.commit(n);
  co_return false;
}

enum class Wait { kEvents, kTimeout, kClientGone };

net::awaitable<Wait> wait_events(JobIo& io, std::chrono::milliseconds timeout) {
  auto result = co_await (io.waiter->wait(timeout) || watch_client(io));
  if (result.index() == 0) co_return std::get<0>(result) ? Wait::kEvents : Wait::kTimeout;
  co_return std::get<1>(result) ? Wait::kClientGone : Wait::kEvents;
}

void attach(JobIo& io, Job& job) {
  for (auto& s : job.streams) s->set_notify(io.waiter->notifier(io.impl.gate));
}

// Detaches from the engine and cancels: a no-op for streams that finished,
// and frees the engine's work for those that did not (client gone, in-band
// error, shutdown).
void detach(Job& job) {
  for (auto& s : job.streams) {
    s->set_notify(nullptr);
    s->cancel();
  }
}

template <typename Sink>
void drain(Job& job, std::vector<engine::Event>& events, Sink sink) {
  for (size_t i = 0; i < job.streams.size(); ++i) {
    events.clear();
    job.streams[i]->drain(events);
    for (const auto& e : events) sink(i, e);
  }
}

api::ApiError shutdown_error() { return api::ApiError::generation("the server is shutting down"); }

}  // namespace

net::awaitable<JobEnd> run_buffered(JobIo io, Job& job) {
  attach(io, job);
  std::vector<engine::Event> events;
  JobEnd end = JobEnd::kCompleted;
  for (;;) {
    // Drain before every wait: events pushed before set_notify are not lost.
    drain(job, events, [&](size_t i, const engine::Event& e) { job.collector->on_event(i, e); });
    if (job.collector->done()) break;
    if (io.impl.forced) {
      end = JobEnd::kForced;
      break;
    }
    if (co_await wait_events(io, io.impl.options.sse_keepalive) == Wait::kClientGone) {
      end = JobEnd::kClientGone;
      break;
    }
  }
  detach(job);
  co_return end;
}

net::awaitable<JobEnd> run_stream(JobIo io, Job& job, http::response<http::empty_body>& header) {
  auto& opts = io.impl.options;
  attach(io, job);
  JobEnd end = JobEnd::kCompleted;
  bool write_failed = false;
  auto write = [&](std::string_view data) -> net::awaitable<void> {
    if (data.empty() || write_failed) co_return;
    io.stream.expires_after(opts.write_timeout);
    auto [ec, n] = co_await net::async_write(io.stream, http::make_chunk(net::buffer(data)),
                                             net::as_tuple(net::use_awaitable));
    if (ec) write_failed = true;
  };

  http::response_serializer<http::empty_body> sr(header);
  io.stream.expires_after(opts.write_timeout);
  auto [hec, hn] =
      co_await http::async_write_header(io.stream, sr, net::as_tuple(net::use_awaitable));
  if (hec) write_failed = true;

  std::string out;
  std::vector<engine::Event> events;
  job.renderer->start(out);
  for (;;) {
    drain(job, events,
          [&](size_t i, const engine::Event& e) { job.renderer->on_event(i, e, out); });
    if (!job.renderer->done() && io.impl.forced) {
      job.renderer->abort(shutdown_error(), out);
      end = JobEnd::kForced;
    }
    co_await write(out);  // one chunk per drained batch: every event is flushed
    out.clear();
    if (write_failed) {
      end = JobEnd::kClientGone;
      break;
    }
    if (job.renderer->done()) break;
    Wait w = co_await wait_events(io, opts.sse_keepalive);
    if (w == Wait::kClientGone) {
      end = JobEnd::kClientGone;
      break;
    }
    if (w == Wait::kTimeout) out = ":\n\n";  // SSE comment keeps proxies from timing out
  }
  if (end != JobEnd::kClientGone) {
    io.stream.expires_after(opts.write_timeout);
    auto [ec, n] = co_await net::async_write(io.stream, http::make_chunk_last(),
                                             net::as_tuple(net::use_awaitable));
    if (ec) end = JobEnd::kClientGone;
  }
  detach(job);
  co_return end;
}

}  // namespace kiln::server
