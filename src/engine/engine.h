// The engine: owns the scheduler, the KV cache and the model, and runs them on
// its one thread. submit() may be called from any thread and returns at once;
// the request's events then arrive on the returned stream.
#pragma once

#include <cstdint>
#include <memory>

#include "engine/events.h"
#include "engine/request.h"

namespace kiln::engine {

// Live numbers for /metrics and /health.
struct EngineStats {
  int64_t queue_size = 0;         // admitted, waiting for their first step
  int64_t batch_size = 0;         // sequences in the running batch
  int64_t batch_max_tokens = 0;   // KV tokens reserved by the running batch
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
