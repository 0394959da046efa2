// Events that flow from the engine thread to the HTTP side, one stream per
// request. The engine never blocks on a stream: push() appends under a short
// lock and calls the consumer's notify callback, which must itself not block
// (the server posts to its io_context; tests may signal a condition variable).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

namespace kiln::engine {

struct TopToken {
  int32_t id = 0;
  std::string text;
  float logprob = 0.0f;
  bool special = false;
};

// One generated token of one choice.
struct TokenEvent {
  int32_t choice = 0;  // which of the request's n outputs
  int32_t id = 0;
  std::string text;  // text this token adds (may be "" while a UTF-8
                     // character or a possible stop string is held back);
                     // a special token adds only text released at the end
  float logprob = 0.0f;
  bool special = false;
  std::string special_text;   // a special token's own text ("</s>"), never part of
                              // the generated text; native routes show it (§3.4)
  std::vector<TopToken> top;  // top_n alternatives, most likely first
  // The choice's final token: its FinishedEvent follows. Native streams render
  // this token together with the final details (contract §3.4), so the
  // renderer holds it until the FinishedEvent arrives; a FinishedEvent without
  // a preceding `last` token ends a native stream as an incomplete generation.
  bool last = false;
};

// Logprob of one prompt token (decoder_input_details); NaN for the first.
struct PrefillToken {
  int32_t id = 0;
  std::string text;
  float logprob = 0.0f;
};

enum class FinishReason { kLength, kEosToken, kStopSequence };

struct Timings {
  std::chrono::steady_clock::duration queue{};      // validated -> first scheduled
  std::chrono::steady_clock::duration inference{};  // first scheduled -> finished
};

struct FinishedEvent {
  int32_t choice = 0;
  FinishReason reason = FinishReason::kLength;
  int32_t prompt_tokens = 0;
  int32_t generated_tokens = 0;  // EOS included
  uint64_t seed = 0;
  bool sampled = false;               // seed is reported only when sampling
  std::string text;                   // full generated text of this choice
  std::vector<PrefillToken> prefill;  // filled only when requested
  Timings timings;
};

enum class FailureKind { kGeneration, kIncomplete, kOverloaded, kValidation };

struct FailedEvent {
  FailureKind kind = FailureKind::kGeneration;
  std::string message;  // without the "Request failed during generation: " prefix
};

using Event = std::variant<TokenEvent, FinishedEvent, FailedEvent>;

// A single-producer (engine), single-consumer (HTTP side) channel. The
// consumer holds it through a shared_ptr; cancel() (or dropping the last
// consumer reference, see Engine) asks the engine to stop the request, which
// it does within one step and frees its KV blocks.
class EventStream {
 public:
  // Engine side.
  void push(Event event) {
    std::function<void()> notify;
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(event));
      notify = notify_;
    }
    cv_.notify_one();
    if (notify) notify();
  }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

  // Consumer side.
  void cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  // Called (from the engine thread) after each push; set it before submit.
  void set_notify(std::function<void()> notify) {
    std::lock_guard lock(mu_);
    notify_ = std::move(notify);
  }
  // Moves every pending event into `out`; never blocks.
  void drain(std::vector<Event>& out) {
    std::lock_guard lock(mu_);
    for (auto& e : queue_) out.push_back(std::move(e));
    queue_.clear();
  }
  // Blocking pop for CLI tools and tests.
  Event wait_pop() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !queue_.empty(); });
    Event e = std::move(queue_.front());
    queue_.pop_front();
    return e;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> queue_;
  std::function<void()> notify_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace kiln::engine
