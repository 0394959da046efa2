// What the engine thread remembers about a request in flight: one
// ActiveRequest per submitted GenerationRequest, one Sequence per choice
// (OpenAI `n`, TGI `best_of`). Engine thread only; nothing here locks.
//
// A sequence is its token list plus, while it runs, a KV block table. The
// tokens are the prompt followed by the generated ids; the KV cache holds
// positions [0, n_computed()), and the tokens past that are pending: a prompt
// not yet prefilled, or the one sampled token a decode step feeds next. So
// prefill, decode and the recompute of a preempted sequence are one thing to
// the scheduler: "compute the pending tokens, the last one with logits".
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "backend/cpu/kv_cache.h"
#include "engine/events.h"
#include "engine/request.h"
#include "sampling/grammar/constraint.h"
#include "sampling/sampler.h"
#include "sampling/stop.h"
#include "tokenizer/stream.h"

namespace kiln::engine {

using backend::cpu::KvCache;
using backend::cpu::KvSequence;

struct ActiveRequest;

class Sequence {
 public:
  // Reads the prompt, sampling and stop parameters from request.request
  // (whose stop.max_new_tokens the engine has already capped).
  Sequence(ActiveRequest& request, int32_t choice, const tokenizer::Tokenizer& tokenizer,
           std::span<const int32_t> eos_ids);

  ActiveRequest& request() const { return *request_; }
  int32_t choice() const { return choice_; }
  // Scheduling priority: earlier requests first, then choice order. Smaller
  // is older; preemption picks the largest.
  uint64_t order() const { return order_; }

  const std::vector<int32_t>& tokens() const { return tokens_; }
  int64_t n_prompt() const;
  int64_t n_generated() const { return static_cast<int64_t>(tokens_.size()) - n_prompt(); }
  int64_t n_computed() const { return kv_ ? kv_->n_positions() : 0; }
  // More than one pending token: a prompt (or the recompute after a
  // preemption) still being prefilled; one: a decode step.
  int64_t n_pending() const { return static_cast<int64_t>(tokens_.size()) - n_computed(); }

  bool has_kv() const { return kv_.has_value(); }
  KvSequence& kv() { return *kv_; }
  const KvSequence& kv() const { return *kv_; }
  void attach_kv(KvSequence kv) { kv_.emplace(std::move(kv)); }
  // Drops the block table (preemption, retirement): its blocks go back to
  // the pool unless the prefix cache or another sequence still holds them.
  void release_kv() {
    kv_.reset();
    n_published_ = 0;
  }

  // Prefix-cache bookkeeping (BlockManager): the hash chain of the full
  // blocks of tokens() (a pure function of the tokens, so it survives
  // preemption) and how many of this table's blocks are already published.
  std::vector<uint64_t>& block_hashes() { return block_hashes_; }
  int64_t& n_published() { return n_published_; }

  // Per-choice generation state.
  sampling::SamplingState& sampling() { return sampling_; }
  std::optional<sampling::ConstraintMatcher>& matcher() { return matcher_; }

  // Appends a sampled token: counts it, decodes it and checks the stop
  // criteria. `emit` receives the text that may be streamed now.
  sampling::StopReason append(int32_t token, std::string& emit);

  const std::string& text() const { return text_; }
  bool finished() const { return finished_; }
  void set_finished() { finished_ = true; }
  // Finished and handed back to the pool (engine_step.cpp, retire()).
  bool retired() const { return retired_; }
  void set_retired() { retired_ = true; }

 private:
  ActiveRequest* request_;
  int32_t choice_;
  uint64_t order_;
  std::vector<int32_t> tokens_;
  std::optional<KvSequence> kv_;
  std::vector<uint64_t> block_hashes_;
  int64_t n_published_ = 0;
  sampling::SamplingState sampling_;
  sampling::StopChecker stop_;
  tokenizer::StreamDecoder decoder_;
  std::optional<sampling::ConstraintMatcher> matcher_;
  std::string text_;  // everything emitted so far
  bool finished_ = false;
  bool retired_ = false;
};

// One submitted request. Owns its choices; the scheduler only points at them.
struct ActiveRequest {
  uint64_t id = 0;  // arrival order (the FCFS key)
  GenerationRequest request;
  std::shared_ptr<EventStream> stream;
  std::vector<std::unique_ptr<Sequence>> choices;
  int32_t n_unfinished = 0;
  // A forward or sampling failure ended it: its KV may be incomplete, so its
  // blocks are not published to the prefix cache.
  bool broken = false;
  // Choices 1..n-1 start once choice 0 has prefilled the prompt: they share
  // its full prompt blocks and sample their first token from its last row.
  bool forked = false;
  // decoder_input_details: prefill[i] is prompt token i (NaN logprob for
  // i == 0); prefill_known counts the leading entries already computed.
  std::vector<PrefillToken> prefill;
  int64_t prefill_known = 0;
  std::optional<Clock::time_point> first_scheduled;

  bool wants_prefill_logprobs() const { return request.logprobs.prefill; }
};

}  // namespace kiln::engine
