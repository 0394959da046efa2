// The local engine: one thread that owns the model, the KV cache, the block
// manager, the scheduler and every request in flight (engine_impl.cpp: the
// thread, intake, cancellation, lifecycle; engine_step.cpp: one step).
//
// Threads: submit(), stats(), healthy() and shutdown() may be called from any
// thread; they touch only the members under mu_ / stats_mu_ and atomics.
// Everything else belongs to the engine thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/block_manager.h"
#include "engine/create.h"
#include "engine/scheduler.h"
#include "engine/sequence.h"
#include "sampling/sampler.h"

namespace kiln::engine {

class EngineImpl final : public Engine {
 public:
  EngineImpl(std::shared_ptr<model::Model> model,
             std::shared_ptr<const tokenizer::Tokenizer> tokenizer, const EngineOptions& options,
             std::unique_ptr<KvCache> cache);
  ~EngineImpl() override;

  std::shared_ptr<EventStream> submit(GenerationRequest request) override;
  EngineStats stats() const override;
  bool healthy() override;
  void shutdown() override;

 private:
  struct Inbound {
    GenerationRequest request;
    std::shared_ptr<EventStream> stream;
  };

  // engine_impl.cpp
  void run();
  bool wait_for_work();  // false once shutting down
  void take_inbound();
  void start(Inbound inbound);
  util::Status check(GenerationRequest& request) const;
  void drop_cancelled();
  void probe();
  void publish_stats();
  void fail_all(const std::string& message);

  // engine_step.cpp
  void step();
  model::Batch build_batch(const StepPlan& plan);
  void take_prefill_logprobs(const model::Batch& batch, model::Logits& logits);
  void sample(const model::Batch& batch, model::Logits& logits);
  void emit(Sequence& seq, const sampling::SampleOutput& out);
  void finish(Sequence& seq, sampling::StopReason reason);
  void fork(ActiveRequest& request);
  void fail(ActiveRequest& request, FailureKind kind, const std::string& message);
  void retire();

  std::shared_ptr<model::Model> model_;
  std::shared_ptr<const tokenizer::Tokenizer> tokenizer_;
  EngineOptions options_;
  std::vector<int32_t> eos_ids_;

  // Destroyed bottom-up: requests (their block tables), then the prefix
  // cache's references, then the cache itself.
  std::unique_ptr<KvCache> cache_;
  BlockManager blocks_;
  Scheduler scheduler_;
  std::map<uint64_t, std::unique_ptr<ActiveRequest>> requests_;  // by arrival
  uint64_t next_id_ = 0;
  sampling::Sampler sampler_;
  // Per-step scratch, kept for its capacity.
  std::vector<sampling::SampleInput> sample_in_;
  std::vector<sampling::SampleOutput> sample_out_;
  std::vector<Sequence*> sample_seq_;
  std::vector<Sequence*> step_seqs_;            // Batch::seqs[i] belongs to step_seqs_[i]
  std::vector<std::vector<float>> row_copies_;  // choices > 0 of a fork
  std::vector<uint64_t> mask_;
  int64_t n_steps_ = 0;
  int64_t n_prefill_tokens_ = 0;
  int64_t n_decode_tokens_ = 0;
  double last_step_seconds_ = 0.0;
  StepTimings prefill_timings_;  // steps with prompt tokens
  StepTimings decode_timings_;   // steps of decode tokens only
  double emit_seconds_ = 0.0;    // the last sample()'s emit loop
  SizeHistogram next_size_;      // see EngineStats
  int64_t n_concat_ = 0;

  // Shared with other threads.
  mutable std::mutex mu_;
  std::condition_variable cv_;        // engine thread: work, probe or stop
  std::condition_variable probe_cv_;  // healthy(): probe finished
  std::vector<Inbound> inbound_;      // guarded by mu_
  bool stopping_ = false;             // guarded by mu_
  bool probe_requested_ = false;      // guarded by mu_
  uint64_t probes_done_ = 0;          // guarded by mu_
  std::atomic<bool> healthy_{true};
  mutable std::mutex stats_mu_;
  EngineStats stats_;  // guarded by stats_mu_
  std::thread thread_;
};

}  // namespace kiln::engine
