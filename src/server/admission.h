// Admission control (contract §7.1): at most --max-concurrent-requests slots
// held by generation requests, taken without waiting (429 when none is free)
// and given back when the last byte is sent or the client leaves.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>

namespace kiln::server {

class Admission {
 public:
  explicit Admission(int32_t limit) : limit_(limit) {}

  // Move-only: destroying it returns its slots.
  class Slots {
   public:
    Slots() = default;
    Slots(Admission* owner, int32_t n) : owner_(owner), n_(n) {}
    Slots(Slots&& o) noexcept : owner_(o.owner_), n_(o.n_) { o.owner_ = nullptr; }
    Slots& operator=(Slots&& o) noexcept {
      if (this != &o) {
        release();
        owner_ = o.owner_;
        n_ = o.n_;
        o.owner_ = nullptr;
      }
      return *this;
    }
    ~Slots() { release(); }
    int32_t count() const { return owner_ ? n_ : 0; }

   private:
    void release() {
      if (owner_) owner_->in_flight_.fetch_sub(n_, std::memory_order_acq_rel);
      owner_ = nullptr;
    }
    Admission* owner_ = nullptr;
    int32_t n_ = 0;
  };

  std::optional<Slots> try_acquire(int32_t n) {
    int32_t cur = in_flight_.load(std::memory_order_acquire);
    do {
      if (cur + n > limit_) return std::nullopt;
    } while (!in_flight_.compare_exchange_weak(cur, cur + n, std::memory_order_acq_rel));
    return Slots(this, n);
  }
  int32_t in_flight() const { return in_flight_.load(std::memory_order_acquire); }

 private:
  const int32_t limit_;
  std::atomic<int32_t> in_flight_{0};
};

}  // namespace kiln::server
