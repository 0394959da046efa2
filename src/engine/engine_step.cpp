// One engine step: schedule, forward, sample, emit, retire.
#include <algorithm>
#include <chrono>
#include <exception>

#include "engine/engine_impl.h"

namespace kiln::engine {

namespace {

FinishReason finish_reason(sampling::StopReason reason) {
  switch (reason) {
    case sampling::StopReason::kEosToken:
      return FinishReason::kEosToken;
    case sampling::StopReason::kStopSequence:
      return FinishReason::kStopSequence;
    default:
      return FinishReason::kLength;
  }
}

// Whether this prompt position's row is needed for decoder_input_details:
// the row at position p gives the logprob of prompt token p + 1.
bool wants_prefill_row(const Sequence& seq, int64_t pos) {
  const ActiveRequest& r = seq.request();
  return r.wants_prefill_logprobs() && pos + 1 < seq.n_prompt() && pos + 1 >= r.prefill_known;
}

}  // namespace

void EngineImpl::step() {
  const auto s0 = Clock::now();
  StepPlan plan = scheduler_.schedule(blocks_);
  const double schedule_seconds = std::chrono::duration<double>(Clock::now() - s0).count();
  if (plan.empty()) {
    // Only possible when nothing runs and the oldest waiting sequence does
    // not fit an empty pool, which check() rules out; fail it rather than spin.
    if (scheduler_.n_running() == 0 && !requests_.empty()) {
      for (auto& [id, r] : requests_) {
        if (r->n_unfinished > 0) {
          fail(*r, FailureKind::kGeneration, "the KV pool cannot hold this request");
          break;
        }
      }
    }
    return;
  }
  const auto t0 = Clock::now();
  // Requests scheduled for the first time form TGI's "next batch"; joining
  // sequences that were already running is its "concat".
  int64_t n_new = 0;
  bool any_running = false;
  for (const ScheduledSeq& s : plan.work) {
    ActiveRequest& r = s.seq->request();
    if (!r.first_scheduled) {
      r.first_scheduled = t0;
      ++n_new;
    } else if (r.first_scheduled != t0) {
      any_running = true;
    }
  }
  StepTimings& timings = plan.n_prefill_tokens > 0 ? prefill_timings_ : decode_timings_;
  if (n_new > 0) next_size_.observe(n_new);
  if (n_new > 0 && any_running) {
    n_concat_ += n_new;
    timings.concat.observe(schedule_seconds);
  }
  try {
    const model::Batch batch = build_batch(plan);
    const auto f0 = Clock::now();
    auto logits = model_->forward(batch, *cache_);
    if (!logits.ok()) {
      ++timings.failures;
      healthy_.store(false, std::memory_order_release);
      for (const ScheduledSeq& s : plan.work) {
        s.seq->request().broken = true;
        fail(s.seq->request(), FailureKind::kGeneration, logits.message());
      }
      return;
    }
    timings.forward.observe(std::chrono::duration<double>(Clock::now() - f0).count());
    healthy_.store(true, std::memory_order_release);
    ++n_steps_;
    n_prefill_tokens_ += plan.n_prefill_tokens;
    n_decode_tokens_ += plan.n_decode_tokens;
    take_prefill_logprobs(batch, *logits);
    sample(batch, *logits);
    timings.detokenize.observe(emit_seconds_);
  } catch (const std::exception& e) {
    // Out of memory in a step, most likely: fail its requests, keep serving.
    ++timings.failures;
    for (const ScheduledSeq& s : plan.work) {
      s.seq->request().broken = true;
      fail(s.seq->request(), FailureKind::kGeneration, e.what());
    }
  }
  const auto p0 = Clock::now();
  for (const ScheduledSeq& s : plan.work) {
    Sequence& seq = *s.seq;
    if (seq.has_kv() && !seq.request().broken)
      blocks_.publish(seq.kv(), seq.tokens(), seq.block_hashes(), seq.n_published());
  }
  retire();  // run() retires again after steps that returned early
  timings.filter.observe(std::chrono::duration<double>(Clock::now() - p0).count());
  last_step_seconds_ = std::chrono::duration<double>(Clock::now() - t0).count();
  timings.step.observe(last_step_seconds_);
}

model::Batch EngineImpl::build_batch(const StepPlan& plan) {
  model::Batch batch;
  step_seqs_.clear();
  for (const ScheduledSeq& s : plan.work) {
    Sequence& seq = *s.seq;
    const auto index = static_cast<int32_t>(batch.seqs.size());
    batch.seqs.push_back(&seq.kv());
    step_seqs_.push_back(&seq);
    const int64_t begin = seq.n_computed();
    const int64_t last = static_cast<int64_t>(seq.tokens().size()) - 1;
    for (int64_t pos = begin; pos < begin + s.n_tokens; ++pos) {
      batch.tokens.push_back({.id = seq.tokens()[static_cast<size_t>(pos)],
                              .seq = index,
                              .pos = pos,
                              .logits = pos == last || wants_prefill_row(seq, pos)});
    }
  }
  return batch;
}

void EngineImpl::take_prefill_logprobs(const model::Batch& batch, model::Logits& logits) {
  for (size_t row = 0; row < logits.n_rows(); ++row) {
    const model::BatchToken& t = batch.tokens[static_cast<size_t>(logits.token_index[row])];
    Sequence& seq = *step_seqs_[static_cast<size_t>(t.seq)];
    if (!wants_prefill_row(seq, t.pos)) continue;
    ActiveRequest& r = seq.request();
    const auto next = static_cast<size_t>(t.pos + 1);
    r.prefill[next].logprob = sampling::raw_logprob(logits.row(row), seq.tokens()[next]);
    r.prefill_known = std::max<int64_t>(r.prefill_known, t.pos + 2);
  }
}

void EngineImpl::sample(const model::Batch& batch, model::Logits& logits) {
  sample_in_.clear();
  sample_seq_.clear();
  std::vector<ActiveRequest*> forking;
  size_t n_copies = 0;
  const auto n_vocab = static_cast<size_t>(logits.n_vocab);
  for (size_t row = 0; row < logits.n_rows(); ++row) {
    const model::BatchToken& t = batch.tokens[static_cast<size_t>(logits.token_index[row])];
    Sequence& seq = *step_seqs_[static_cast<size_t>(t.seq)];
    if (t.pos + 1 != static_cast<int64_t>(seq.tokens().size())) continue;  // a prefill row
    std::span<float> span(logits.data.data() + row * n_vocab, n_vocab);
    sample_in_.push_back({&seq.sampling(), span});
    sample_seq_.push_back(&seq);
    ActiveRequest& r = seq.request();
    if (r.forked) continue;
    // The prompt's last row: every choice draws its first token from it,
    // each with its own generator (choice k uses stream k).
    forking.push_back(&r);
    for (size_t k = 1; k < r.choices.size(); ++k) {
      if (row_copies_.size() <= n_copies) row_copies_.emplace_back();
      auto& copy = row_copies_[n_copies++];
      copy.assign(span.begin(), span.end());
      sample_in_.push_back({&r.choices[k]->sampling(), std::span<float>(copy)});
      sample_seq_.push_back(r.choices[k].get());
    }
  }
  // Grammar: disallowed tokens get -inf before the sampler sees the row.
  for (size_t i = 0; i < sample_in_.size(); ++i) {
    auto& matcher = sample_seq_[i]->matcher();
    if (!matcher) continue;
    mask_.resize(sampling::mask_words(matcher->constraint().vocab_size()));
    matcher->fill_mask(mask_);
    sampling::mask_logits(sample_in_[i].logits, mask_);
  }
  sample_out_.resize(sample_in_.size());
  sampler_.sample(sample_in_, sample_out_);
  const auto e0 = Clock::now();
  for (size_t i = 0; i < sample_in_.size(); ++i) emit(*sample_seq_[i], sample_out_[i]);
  emit_seconds_ = std::chrono::duration<double>(Clock::now() - e0).count();
  for (ActiveRequest* r : forking) fork(*r);
}

void EngineImpl::emit(Sequence& seq, const sampling::SampleOutput& out) {
  ActiveRequest& r = seq.request();
  if (seq.finished()) return;
  if (out.token < 0) {
    r.broken = true;
    fail(r, FailureKind::kGeneration, "the model produced no finite logit");
    return;
  }
  if (auto& matcher = seq.matcher(); matcher && !matcher->advance(out.token)) {
    r.broken = true;
    fail(r, FailureKind::kGeneration, "the sampled token does not fit the grammar");
    return;
  }
  TokenEvent event;
  const sampling::StopReason reason = seq.append(out.token, event.text);
  event.choice = seq.choice();
  event.id = out.token;
  event.logprob = out.logprob;
  event.special = tokenizer_->is_special(out.token);
  if (event.special)
    event.special_text = tokenizer_->decode(std::span<const int32_t>(&out.token, 1), false);
  event.top.reserve(out.top.size());
  for (const auto& t : out.top) {
    event.top.push_back({.id = t.id,
                         .text = tokenizer_->decode(std::span<const int32_t>(&t.id, 1), false),
                         .logprob = t.logprob,
                         .special = tokenizer_->is_special(t.id)});
  }
  event.last = reason != sampling::StopReason::kNone;
  r.stream->push(std::move(event));
  if (reason != sampling::StopReason::kNone) finish(seq, reason);
}

void EngineImpl::finish(Sequence& seq, sampling::StopReason reason) {
  ActiveRequest& r = seq.request();
  seq.set_finished();
  --r.n_unfinished;
  const auto now = Clock::now();
  const auto scheduled = r.first_scheduled.value_or(now);
  const auto validated =
      r.request.validated == Clock::time_point{} ? scheduled : r.request.validated;
  FinishedEvent f;
  f.choice = seq.choice();
  f.reason = finish_reason(reason);
  f.prompt_tokens = static_cast<int32_t>(seq.n_prompt());
  f.generated_tokens = static_cast<int32_t>(seq.n_generated());
  f.seed = seq.sampling().seed();
  f.sampled = seq.sampling().sampling();
  f.text = seq.text();
  if (r.wants_prefill_logprobs()) f.prefill = r.prefill;
  f.timings.queue = std::max(scheduled - validated, Clock::duration::zero());
  f.timings.inference = now - scheduled;
  r.stream->push(std::move(f));
}

// Choices 1..n-1 take choice 0's full prompt blocks (shared, read-only) and
// recompute only the prompt's partial last block in blocks of their own:
// at most block_size - 1 extra positions each, no copy kernel needed.
void EngineImpl::fork(ActiveRequest& r) {
  r.forked = true;
  if (r.n_unfinished == 0) return;
  const Sequence& first = *r.choices[0];
  const auto full = static_cast<size_t>(first.n_prompt() / cache_->block_size());
  for (size_t k = 1; k < r.choices.size(); ++k) {
    Sequence& seq = *r.choices[k];
    if (seq.finished()) continue;
    KvSequence kv(*cache_);
    for (size_t i = 0; i < full; ++i) kv.append_full_block(first.kv().blocks()[i].share());
    seq.attach_kv(std::move(kv));
    scheduler_.add_running(&seq);
  }
}

void EngineImpl::fail(ActiveRequest& r, FailureKind kind, const std::string& message) {
  if (r.n_unfinished == 0) return;
  r.n_unfinished = 0;
  for (auto& seq : r.choices) seq->set_finished();
  r.stream->push(FailedEvent{kind, message});
}

// Finished sequences leave the scheduler and give their blocks back (after
// publishing the computed ones, so a retry or a follow-up turn hits the
// prefix cache); a request without unfinished choices is forgotten.
void EngineImpl::retire() {
  for (auto it = requests_.begin(); it != requests_.end();) {
    ActiveRequest& r = *it->second;
    for (auto& seq : r.choices) {
      if (!seq->finished() || seq->retired()) continue;
      scheduler_.remove(seq.get());
      if (seq->has_kv() && !r.broken)
        blocks_.publish(seq->kv(), seq->tokens(), seq->block_hashes(), seq->n_published());
      seq->release_kv();
      seq->set_retired();
    }
    it = r.n_unfinished == 0 ? requests_.erase(it) : std::next(it);
  }
}

}  // namespace kiln::engine
