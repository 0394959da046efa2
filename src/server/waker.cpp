#include "server/waker.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace kiln::server {

void PostGate::post(std::function<void()> f) {
  std::lock_guard lock(mu_);
  if (ioc_) net::post(*ioc_, std::move(f));
}

void PostGate::close() {
  std::lock_guard lock(mu_);
  ioc_ = nullptr;
}

std::function<void()> EventWaiter::notifier(const std::shared_ptr<PostGate>& gate) {
  // Only a gate and a weak pointer travel to the engine thread: dropping them
  // there is safe whatever state the server is in.
  return [gate, weak = std::weak_ptr<EventWaiter>(shared_from_this())] {
    gate->post([weak] {
      if (auto waiter = weak.lock()) {
        net::post(waiter->strand(), [waiter] { waiter->wake(); });
      }
    });
  };
}

net::awaitable<bool> EventWaiter::wait(std::chrono::milliseconds timeout) {
  if (!woken_) {
    timer_.expires_after(timeout);
    co_await timer_.async_wait(net::as_tuple(net::use_awaitable));
  }
  bool woken = woken_;
  woken_ = false;
  co_return woken;
}

void EventWaiter::wake() {
  woken_ = true;
  timer_.cancel();
}

}  // namespace kiln::server
