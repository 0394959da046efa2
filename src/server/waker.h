// How the engine thread wakes a connection that awaits its events, without
// blocking and without touching the connection's objects off its strand.
//
// The EventStream's notify callback holds only a Signal: a gate to the
// io_context and a weak reference to the connection's EventWaiter. notify()
// posts to the io_context; the posted handler (on an I/O thread) forwards the
// wake-up to the connection's strand if the connection still exists. The
// server closes the gate before its io_context dies, so a late push from the
// engine never reaches a destroyed io_context.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>

namespace kiln::server {

namespace net = boost::asio;

class PostGate {
 public:
  explicit PostGate(net::io_context& ioc) : ioc_(&ioc) {}
  // Posts `f` to the io_context unless closed. Any thread.
  void post(std::function<void()> f);
  // After this returns no post reaches the io_context.
  void close();

 private:
  std::mutex mu_;
  net::io_context* ioc_;  // null once closed
};

// Owned by one connection; used on its strand only (wake() included).
class EventWaiter : public std::enable_shared_from_this<EventWaiter> {
 public:
  explicit EventWaiter(const net::any_io_executor& strand) : strand_(strand), timer_(strand) {}

  // The callback to give EventStream::set_notify. Safe from any thread.
  std::function<void()> notifier(const std::shared_ptr<PostGate>& gate);

  // Returns true when woken, false after `timeout` without a wake-up.
  net::awaitable<bool> wait(std::chrono::milliseconds timeout);
  // Wakes a current or the next wait (strand only).
  void wake();

  const net::any_io_executor& strand() const { return strand_; }

 private:
  net::any_io_executor strand_;
  net::steady_timer timer_;
  bool woken_ = false;
};

}  // namespace kiln::server
