// One HTTP/1.1 connection: read a request (limits on header and body), route
// it, write the reply or run the generation, keep the connection alive, log
// one line and update metrics per request. Runs on the connection's strand.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <chrono>
#include <cstdio>

#include "server/request_log.h"
#include "server/server_impl.h"

namespace kiln::server {

namespace {

using Clock = engine::Clock;
using net::as_tuple;
using net::use_awaitable;

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
std::string ms_int(Clock::duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

struct Exchange {
  std::string request_id;
  std::string method;
  std::string target;
  std::string path;
  std::string origin;
  Clock::time_point received;
  unsigned version = 11;
  bool keep_alive = true;
};

template <typename Message>
void common_headers(ServerCore& impl, const Exchange& ex, Message& m) {
  m.set("x-request-id", ex.request_id);
  for (auto& [k, v] : impl.cors.response_headers(ex.origin)) m.set(k, v);
}

net::awaitable<bool> write_reply(ServerCore& impl, beast::tcp_stream& stream, const Exchange& ex,
                                 Reply& reply) {
  http::response<http::string_body> res{static_cast<http::status>(reply.status), ex.version};
  common_headers(impl, ex, res);
  for (auto& [k, v] : reply.headers) res.set(k, v);
  if (!reply.content_type.empty()) res.set(http::field::content_type, reply.content_type);
  res.body() = std::move(reply.body);
  res.keep_alive(ex.keep_alive);
  res.prepare_payload();
  stream.expires_after(impl.options.write_timeout);
  auto [ec, n] = co_await http::async_write(stream, res, as_tuple(use_awaitable));
  co_return !ec;
}

// The x-* timing headers of a non-streaming generation (§3.1).
void compute_headers(ServerCore& impl, const Exchange& ex, const Job& job, Reply& reply) {
  const auto& s = (job.collector ? job.collector->summary() : job.renderer->summary());
  const auto total = Clock::now() - ex.received;
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.6f", std::chrono::duration<double>(total).count());
  auto per_token = s.generated_tokens > 0 ? s.inference / s.generated_tokens : Clock::duration{};
  reply.headers = {
      {"x-compute-type", impl.options.compute_type},
      {"x-compute-time", seconds},
      {"x-compute-characters", std::to_string(job.input_chars)},
      {"x-total-time", ms_int(total)},
      {"x-validation-time", ms_int(job.validated - ex.received)},
      {"x-queue-time", ms_int(s.queue)},
      {"x-inference-time", ms_int(s.inference)},
      {"x-time-per-token", ms_int(per_token)},
      {"x-prompt-tokens", std::to_string(s.prompt_tokens)},
      {"x-generated-tokens", std::to_string(s.generated_tokens)},
  };
}

void record(ServerCore& impl, const Exchange& ex, const Dispatch& d, int status,
            const std::optional<api::ApiError>& error, const Job* job, bool dropped,
            std::string_view remote) {
  RequestLogLine line;
  line.request_id = ex.request_id;
  line.method = ex.method;
  line.route = d.route;
  line.target = ex.target;
  line.remote = remote;
  line.status = status;
  if (error) line.error_type = api::error_type(error->kind);
  if (dropped) line.error_type = "dropped";
  const auto total = Clock::now() - ex.received;
  line.total_ms = ms(total);
  const api::GenerationSummary* s = nullptr;
  if (job) {
    s = job->collector ? &job->collector->summary() : &job->renderer->summary();
    line.stream = job->renderer != nullptr;
    line.validation_ms = ms(job->validated - ex.received);
    line.queue_ms = ms(s->queue);
    line.inference_ms = ms(s->inference);
    line.prompt_tokens = s->prompt_tokens;
    line.generated_tokens = s->generated_tokens;
  }
  log_request(line, impl.options.json_logs);
  if (!d.counted) return;
  if (dropped) {
    impl.metrics.request_failed("dropped");
  } else if (error) {
    auto label = api::failure_label(error->kind);
    if (!label.empty()) impl.metrics.request_failed(label);
  } else if (job && s) {
    RequestSample sample;
    sample.total_s = std::chrono::duration<double>(total).count();
    sample.validation_s = std::chrono::duration<double>(job->validated - ex.received).count();
    sample.queue_s = std::chrono::duration<double>(s->queue).count();
    sample.inference_s = std::chrono::duration<double>(s->inference).count();
    sample.input_length = s->prompt_tokens;
    sample.generated_tokens = s->generated_tokens;
    sample.max_new_tokens = job->max_new_tokens;
    impl.metrics.request_succeeded(sample);
  }
}

// Runs a generation and answers it. Returns false when the connection must close.
net::awaitable<bool> serve_job(ServerCore& impl, beast::tcp_stream& stream,
                               beast::flat_buffer& buffer, SessionState& state, Exchange& ex,
                               const Dispatch& d, Job& job, std::string_view remote) {
  state.waiter = std::make_shared<EventWaiter>(state.strand);
  JobIo io{stream, buffer, state.waiter, impl};
  bool alive = true;
  if (job.renderer) {
    http::response<http::empty_body> header{http::status::ok, ex.version};
    common_headers(impl, ex, header);
    header.set(http::field::content_type, "text/event-stream");
    header.set(http::field::cache_control, "no-cache");
    header.set("x-accel-buffering", "no");
    header.set("x-compute-type", impl.options.compute_type);
    header.set("x-compute-characters", std::to_string(job.input_chars));
    header.keep_alive(ex.keep_alive);
    header.chunked(true);
    JobEnd end = co_await run_stream(io, job, header);
    const auto& error = job.renderer->summary().error;
    record(impl, ex, d, 200, error, &job, end == JobEnd::kClientGone, remote);
    alive = end == JobEnd::kCompleted && !(error && job.renderer->close_after_error());
  } else {
    JobEnd end = co_await run_buffered(io, job);
    if (end == JobEnd::kClientGone) {
      record(impl, ex, d, 499, std::nullopt, &job, /*dropped=*/true, remote);
      alive = false;
    } else {
      auto body = end == JobEnd::kForced ? api::ApiResult<std::string>(api::ApiError::generation(
                                               "the server is shutting down"))
                                         : job.collector->body();
      Reply reply = body.ok() ? json_reply(std::move(body.value())) : error_reply(body.error());
      if (body.ok()) compute_headers(impl, ex, job, reply);
      record(impl, ex, d, reply.status, reply.error, &job, false, remote);
      alive = co_await write_reply(impl, stream, ex, reply);
    }
  }
  state.waiter.reset();
  co_return alive;
}

// Answers a request that failed to parse at the HTTP level, then closes.
net::awaitable<void> refuse(ServerCore& impl, beast::tcp_stream& stream, Exchange& ex,
                            api::ApiError error, std::string_view remote) {
  ex.keep_alive = false;
  Reply reply = error_reply(error);
  Dispatch d{Reply{}};
  record(impl, ex, d, reply.status, reply.error, nullptr, false, remote);
  co_await write_reply(impl, stream, ex, reply);
}

}  // namespace

net::awaitable<void> run_session(ServerCore& impl, tcp::socket socket, bool metrics_only) {
  auto state = std::make_shared<SessionState>(co_await net::this_coro::executor);
  beast::error_code ignored;
  auto endpoint = socket.remote_endpoint(ignored);
  const std::string remote =
      ignored ? "-" : endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  state->stream = &stream;
  {
    std::lock_guard lock(impl.sessions_mu);
    impl.sessions.insert(state);
  }

  for (;;) {
    state->idle = true;
    if (impl.stopping) break;
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<uint32_t>(impl.options.header_limit));
    parser.body_limit(impl.options.payload_limit);
    stream.expires_after(impl.options.idle_timeout);
    auto [hec, hn] =
        co_await http::async_read_header(stream, buffer, parser, as_tuple(use_awaitable));
    state->idle = false;
    Exchange ex;
    ex.received = Clock::now();
    if (!hec && parser.get()[http::field::expect] == "100-continue" && !parser.is_done()) {
      // curl waits a second for this before sending a large body.
      http::response<http::empty_body> cont{http::status::continue_, parser.get().version()};
      auto [cec, cn] = co_await http::async_write(stream, cont, as_tuple(use_awaitable));
      if (cec) break;
    }
    beast::error_code ec = hec;
    if (!ec && !parser.is_done()) {
      stream.expires_after(impl.options.idle_timeout);
      auto [bec, bn] = co_await http::async_read(stream, buffer, parser, as_tuple(use_awaitable));
      ec = bec;
    }
    if (ec) {
      ex.request_id = request_id_from({});
      if (parser.is_header_done()) {
        ex.method = std::string(parser.get().method_string());
        ex.target = std::string(parser.get().target());
        ex.version = parser.get().version();
      }
      if (ec == http::error::body_limit) {
        co_await refuse(impl, stream, ex, api::ApiError::of(api::ErrorKind::kPayloadTooLarge),
                        remote);
      } else if (ec == http::error::header_limit) {
        co_await refuse(impl, stream, ex, api::ApiError::of(api::ErrorKind::kHeaderTooLarge),
                        remote);
      } else if (ec.category() == beast::error_code(http::error::end_of_stream).category() &&
                 ec != http::error::end_of_stream && ec != http::error::partial_message) {
        co_await refuse(impl, stream, ex,
                        api::ApiError{api::ErrorKind::kMalformedJson,
                                      "Malformed HTTP request: " + ec.message()},
                        remote);
      }
      break;  // end of stream, timeout, reset: close quietly
    }

    auto& message = parser.get();
    ex.version = message.version();
    ex.method = std::string(message.method_string());
    ex.target = std::string(message.target());
    ex.path = ex.target.substr(0, ex.target.find('?'));
    ex.origin = std::string(message[http::field::origin]);
    ex.request_id = request_id_from(message["x-request-id"]);
    ex.keep_alive = message.keep_alive() && !impl.stopping;

    Request request;
    request.method = ex.method;
    request.path = ex.path;
    request.body = message.body();
    request.request_id = ex.request_id;
    request.received = ex.received;
    Dispatch d = dispatch(impl, message, request, metrics_only);

    bool alive = true;
    if (auto* reply = std::get_if<Reply>(&d.outcome)) {
      record(impl, ex, d, reply->status, reply->error, nullptr, false, remote);
      alive = co_await write_reply(impl, stream, ex, *reply);
    } else {
      alive =
          co_await serve_job(impl, stream, buffer, *state, ex, d, std::get<Job>(d.outcome), remote);
    }
    if (!alive || !ex.keep_alive) break;
  }

  state->stream = nullptr;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.close();
  std::lock_guard lock(impl.sessions_mu);
  impl.sessions.erase(state);
}

}  // namespace kiln::server
