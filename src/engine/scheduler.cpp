#include "engine/scheduler.h"

#include <algorithm>

namespace kiln::engine {

namespace {

bool older(const Sequence* a, const Sequence* b) { return a->order() < b->order(); }

}  // namespace

void Scheduler::enqueue(Sequence* seq) {
  waiting_.insert(std::upper_bound(waiting_.begin(), waiting_.end(), seq, older), seq);
}

void Scheduler::add_running(Sequence* seq) {
  running_.insert(std::upper_bound(running_.begin(), running_.end(), seq, older), seq);
}

void Scheduler::remove(Sequence* seq) {
  if (auto it = std::find(running_.begin(), running_.end(), seq); it != running_.end()) {
    running_.erase(it);
  } else if (auto w = std::find(waiting_.begin(), waiting_.end(), seq); w != waiting_.end()) {
    waiting_.erase(w);
  }
}

int64_t Scheduler::chunk_for(Sequence& seq, int64_t budget) const {
  const int64_t pending = seq.n_pending();
  if (pending <= 1) return pending;
  int64_t n = std::min(pending, budget);
  const ActiveRequest& r = seq.request();
  if (r.wants_prefill_logprobs() && r.prefill_known < seq.n_prompt())
    n = std::min(n, options_.max_prefill_logprob_rows);
  return std::max<int64_t>(n, 0);
}

void Scheduler::preempt(Sequence* seq, BlockManager& blocks, StepPlan& plan) {
  // Published first: if its blocks survive until it is readmitted, the
  // recompute is a prefix-cache hit.
  blocks.publish(seq->kv(), seq->tokens(), seq->block_hashes(), seq->n_published());
  seq->release_kv();
  running_.erase(std::find(running_.begin(), running_.end(), seq));
  enqueue(seq);
  plan.preempted.push_back(seq);
  ++n_preemptions_;
}

bool Scheduler::admit_next(BlockManager& blocks, int64_t& budget, StepPlan& plan) {
  Sequence* seq = waiting_.front();
  const ActiveRequest& r = seq->request();
  seq->attach_kv(KvSequence(blocks.cache()));
  // The last token is always computed: its logits pick the next token.
  int64_t max_reuse = static_cast<int64_t>(seq->tokens().size()) - 1;
  // decoder_input_details needs the row before each prompt token whose
  // logprob is not known yet.
  if (r.wants_prefill_logprobs() && r.prefill_known < seq->n_prompt())
    max_reuse = std::min(max_reuse, r.prefill_known - 1);
  blocks.reuse_prefix(seq->kv(), seq->tokens(), max_reuse, seq->block_hashes());
  seq->n_published() = static_cast<int64_t>(seq->kv().blocks().size());

  const int64_t n = chunk_for(*seq, budget);
  const int64_t need = blocks.blocks_needed(seq->kv(), seq->n_computed() + n);
  const int64_t reserve = static_cast<int64_t>(running_.size());
  if (n <= 0 || blocks.n_available() < need + reserve ||
      !blocks.allocate(seq->kv(), seq->n_computed() + n)) {
    seq->release_kv();
    return false;
  }
  waiting_.pop_front();
  add_running(seq);
  plan.work.push_back({seq, n});
  if (n > 1) {
    plan.n_prefill_tokens += n;
    budget -= n;
  } else {
    plan.n_decode_tokens += n;
  }
  return true;
}

StepPlan Scheduler::schedule(BlockManager& blocks) {
  StepPlan plan;
  const bool decoding = std::any_of(running_.begin(), running_.end(),
                                    [](const Sequence* s) { return s->n_pending() == 1; });
  int64_t budget = options_.max_batch_prefill_tokens;
  if (decoding) budget = std::min(budget, options_.prefill_chunk_tokens);

  for (size_t i = 0; i < running_.size(); ++i) {
    Sequence* seq = running_[i];
    const int64_t n = chunk_for(*seq, budget);
    if (n == 0) continue;  // prefilling, but this step's budget is spent
    bool scheduled = true;
    while (!blocks.allocate(seq->kv(), seq->n_computed() + n)) {
      Sequence* victim = running_.back();  // the newest
      preempt(victim, blocks, plan);
      if (victim == seq) {
        scheduled = false;
        break;
      }
    }
    if (!scheduled) break;  // seq was the newest: nothing runs after it
    plan.work.push_back({seq, n});
    if (n > 1) {
      plan.n_prefill_tokens += n;
      budget -= n;
    } else {
      plan.n_decode_tokens += n;
    }
  }

  if (!plan.preempted.empty()) return plan;
  while (!waiting_.empty() && budget > 0 &&
         (options_.max_batch_size <= 0 ||
          running_.size() < static_cast<size_t>(options_.max_batch_size))) {
    if (!admit_next(blocks, budget, plan)) break;
  }
  return plan;
}

}  // namespace kiln::engine
