// The engine: owns the scheduler, the KV cache and the model, and runs them on
// its one thread. submit() may be called from any thread and returns at once;
// the request's events then arrive on the returned stream.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>

#include "engine/events.h"
#include "engine/request.h"

namespace kiln::engine {

// Cumulative histogram of step durations with TGI's duration buckets (35
// geometric bounds from 150 us by x1.5, kStepBucket(i)); counts[i] is the
// steps that took at most bound i (non-cumulative per bucket), counts[35]
// the slower ones. /metrics turns the growth since its last scrape into
// observations (server/metrics.cpp).
struct StepHistogram {
  static constexpr int kBuckets = 35;
  static double bound(int i) {
    double v = 0.00015;
    for (int k = 0; k < i; ++k) v *= 1.5;
    return v;
  }
  std::array<int64_t, kBuckets + 1> counts{};
  double sum_seconds = 0.0;
  int64_t count = 0;
  void observe(double seconds) {
    int i = 0;
    double b = 0.00015;
    while (i < kBuckets && seconds > b) {
      ++i;
      b *= 1.5;
    }
    ++counts[static_cast<size_t>(i)];
    sum_seconds += seconds;
    ++count;
  }
};

// Step timings of one kind of step: "prefill" (the step computed some prompt
// or recompute tokens) or "decode" (one token per sequence only), TGI's
// `method` label.
struct StepTimings {
  StepHistogram step;     // schedule + forward + sample + emit (tgi_batch_inference_duration)
  StepHistogram forward;  // Model::forward alone (tgi_batch_forward_duration)
  StepHistogram
      detokenize;  // sampled tokens to text, stop checks, events (tgi_batch_decode_duration)
  StepHistogram
      filter;  // after sampling: publish blocks, drop finished (tgi_batch_filter_duration)
  StepHistogram concat;  // scheduling a step that adds requests to running ones
                         // (tgi_batch_concat_duration)
  int64_t failures = 0;  // forwards that failed
};

// Request counts per step, buckets 1..1024 (TGI's tgi_batch_next_size).
struct SizeHistogram {
  static constexpr int kBuckets = 1024;
  std::array<int64_t, kBuckets + 1> counts{};  // counts[i]: value i + 1; last: above 1024
  double sum = 0.0;
  int64_t count = 0;
  void observe(int64_t n) {
    ++counts[static_cast<size_t>(std::clamp<int64_t>(n, 1, kBuckets + 1) - 1)];
    sum += static_cast<double>(n);
    ++count;
  }
};

// Live numbers for /metrics and /health.
struct EngineStats {
  int64_t queue_size = 0;        // admitted, waiting for their first step
  int64_t batch_size = 0;        // sequences in the running batch
  int64_t batch_max_tokens = 0;  // KV tokens reserved by the running batch
  int64_t kv_blocks_total = 0;
  int64_t kv_blocks_used = 0;
  int64_t prefix_cache_hits = 0;
  int64_t prefix_cache_misses = 0;
  int64_t prefix_cache_blocks = 0;
  // Added with the scheduler (src/engine/engine_impl.h). kv_blocks_used
  // counts blocks some sequence references; unused prefix-cache blocks are
  // reclaimable and count as free here.
  int64_t max_batch_total_tokens = 0;  // KV pool size in positions
  int64_t kv_blocks_free = 0;          // on the free list (cached ones excluded)
  int64_t requests_in_flight = 0;      // submitted, not yet finished
  int64_t preemptions = 0;             // sequences sent back to recompute
  int64_t steps = 0;                   // forward passes
  int64_t prefill_tokens = 0;          // prompt (and recomputed) positions computed
  int64_t decode_tokens = 0;           // one per decode step of a sequence
  double last_step_seconds = 0.0;      // wall time of the last step
  StepTimings prefill_steps;
  StepTimings decode_steps;
  SizeHistogram next_size;  // requests scheduled for the first time, per step that has any
  int64_t concat = 0;       // such requests that joined sequences already running
};

class Engine {
 public:
  virtual ~Engine() = default;

  // Enqueues a validated request. Never blocks on the model. The stream ends
  // with one FinishedEvent per choice or with a FailedEvent.
  virtual std::shared_ptr<EventStream> submit(GenerationRequest request) = 0;

  virtual EngineStats stats() const = 0;

  // False after a generation failure until a probe forward succeeds.
  virtual bool healthy() = 0;

  // Stops accepting work; running requests end with a FailedEvent.
  virtual void shutdown() = 0;
};

}  // namespace kiln::engine
