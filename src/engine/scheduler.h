// The scheduling policy: which sequences compute how many tokens in the next
// step. The scheduler decides token counts and asks the BlockManager for
// room; it never picks or frees blocks itself.
//
// Each step, in this order:
//  1. Running sequences, oldest first: a decoding one gets its one token; a
//     prefilling one (new prompt, or recompute after preemption) gets a chunk
//     from the step's prefill budget. When the pool has no room for a
//     sequence's tokens, the newest running sequence is preempted (blocks
//     freed after publishing them to the prefix cache, recomputed later)
//     until there is room, possibly the sequence itself.
//  2. Admission, first come first served: the oldest waiting sequence takes
//     its cached prefix and a first chunk of the remaining budget, if the
//     pool then still has a free block for every running sequence (so the
//     next decode step does not preempt at once). The first one that does
//     not fit stops admission (no overtaking), and nothing is admitted in a
//     step that preempted.
//
// Budgets: the step's prompt tokens are at most max_batch_prefill_tokens,
// and at most prefill_chunk_tokens while any sequence decodes, so long
// prompts are prefilled in chunks and running streams keep their pace.
//
// Engine thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "engine/block_manager.h"
#include "engine/sequence.h"

namespace kiln::engine {

struct SchedulerOptions {
  int64_t max_batch_prefill_tokens = 4096;  // prompt tokens per step
  // Prompt tokens per step while other sequences decode: a step's time grows
  // with its tokens, so this bounds the pause a long prompt inflicts on
  // every running stream (on 2 cores, 256 tokens of a 270M model ~ 0.3 s).
  int64_t prefill_chunk_tokens = 256;
  int32_t max_batch_size = 0;  // running sequences; 0: as many as the pool holds
  // Logits rows per step for a prompt whose logprobs were requested (each
  // row is n_vocab floats: 1 MiB for a 262k vocabulary).
  int64_t max_prefill_logprob_rows = 64;
};

// Compute the tokens [n_computed, n_computed + n_tokens) of seq.
struct ScheduledSeq {
  Sequence* seq = nullptr;
  int64_t n_tokens = 0;
};

struct StepPlan {
  std::vector<ScheduledSeq> work;    // batch order
  std::vector<Sequence*> preempted;  // lost their blocks this step
  int64_t n_prefill_tokens = 0;      // tokens of sequences with more than one pending
  int64_t n_decode_tokens = 0;
  bool empty() const { return work.empty(); }
};

class Scheduler {
 public:
  explicit Scheduler(const SchedulerOptions& options) : options_(options) {}

  // A sequence without blocks (new, or preempted), queued by order().
  void enqueue(Sequence* seq);
  // A sequence that already holds blocks (a forked choice).
  void add_running(Sequence* seq);
  // Forgets a finished or cancelled sequence (the caller drops its blocks).
  void remove(Sequence* seq);

  StepPlan schedule(BlockManager& blocks);

  const std::vector<Sequence*>& running() const { return running_; }
  size_t n_waiting() const { return waiting_.size(); }
  size_t n_running() const { return running_.size(); }
  int64_t n_preemptions() const { return n_preemptions_; }

 private:
  int64_t chunk_for(Sequence& seq, int64_t budget) const;
  void preempt(Sequence* seq, BlockManager& blocks, StepPlan& plan);
  bool admit_next(BlockManager& blocks, int64_t& budget, StepPlan& plan);

  SchedulerOptions options_;
  std::vector<Sequence*> running_;  // sorted by order(): oldest first
  std::deque<Sequence*> waiting_;   // sorted by order()
  int64_t n_preemptions_ = 0;
};

}  // namespace kiln::engine
