// Building the engine: options and the factory that cli/serve.cpp (and the
// tests and benchmarks) call.
//
//   auto engine = engine::create_engine(model, tokenizer, {
//       .max_batch_total_tokens = flags.max_batch_total_tokens.value_or(0),
//       .max_batch_prefill_tokens = limits.max_batch_prefill_tokens});
//   if (!engine.ok()) ...;  // message names the bad option
//   std::shared_ptr<engine::Engine> e = *engine;
//
// The engine takes the model for its own thread: after create_engine() no
// other thread may call the model's forward().
//
// What the engine does with a request (scheduler.h has the policy):
// - Streams: TokenEvents carry the text that is safe to show (stop strings
//   and split UTF-8 held back); each choice ends with a `last` token and its
//   FinishedEvent, or the whole request with one FailedEvent.
// - Several choices (GenerationRequest::n: OpenAI `n`, TGI `best_of`): one
//   sequence per choice. Choice 0 prefills the prompt once; its last prompt
//   row gives every choice its first token, and choices 1..n-1 then share
//   choice 0's full prompt blocks (read-only, reference-counted) and
//   recompute only the partial last block. Each choice samples from its own
//   Philox stream: key (seed, k) for choice k (sampling/rng.h), so choice k
//   of a seeded request is reproducible alone or under any load, and every
//   choice's FinishedEvent reports the request's seed. Events carry
//   `choice`; the stream ends after n FinishedEvents.
// - Cancellation: EventStream::cancel(), or dropping every consumer
//   reference to the stream, ends the request at the next step boundary and
//   frees its blocks; after cancel() a FailedEvent{kIncomplete} is pushed.
// - Refusal: a request that can never run (empty prompt, an id outside the
//   vocabulary, prompt + max_new_tokens beyond the context or the KV pool)
//   ends at once with FailedEvent{kValidation}. max_new_tokens <= 0 or past
//   the context is capped at the context.
// - Failure: a failed forward fails the requests of that step
//   (FailedEvent{kGeneration}) and healthy() turns false until a one-token
//   probe forward succeeds; other requests go on.
// - Back-pressure is the HTTP layer's (server/admission.h); stats() reports
//   the queue, the batch, KV blocks and step counters for /metrics.
#pragma once

#include <cstdint>
#include <memory>

#include "engine/engine.h"
#include "model/forward.h"
#include "tokenizer/tokenizer.h"
#include "util/result.h"

namespace kiln::engine {

struct EngineOptions {
  int32_t block_size = 16;  // KV positions per block (and prefix-cache granularity)
  // KV pool size in positions (TGI --max-batch-total-tokens): every running
  // sequence's tokens together. 0: as many as kv_memory_bytes holds.
  int64_t max_batch_total_tokens = 0;
  // Memory budget for the KV pool when max_batch_total_tokens is 0; 0: the
  // default, min(2 GiB, a quarter of physical memory). Pages are touched
  // only when used, but the prefix cache keeps them (up to this budget).
  int64_t kv_memory_bytes = 0;
  int64_t max_batch_prefill_tokens = 4096;  // prompt tokens per step (TGI flag)
  int64_t prefill_chunk_tokens = 256;       // prompt tokens per step while others decode
  int32_t max_batch_size = 0;               // running sequences; 0: no cap (TGI --max-batch-size)
  bool prefix_caching = true;
};

// Bytes of KV storage per position for this model.
int64_t kv_bytes_per_token(const model::Model& model);

// KV pool size in positions the options resolve to (max_batch_total_tokens,
// or the memory budget), rounded down to whole blocks.
int64_t resolve_kv_tokens(const model::Model& model, const EngineOptions& options);

// Starts the engine thread. Fails on invalid options or when the KV pool
// cannot be reserved. eos ids come from model->description().special.
util::Result<std::shared_ptr<Engine>> create_engine(
    std::shared_ptr<model::Model> model, std::shared_ptr<const tokenizer::Tokenizer> tokenizer,
    const EngineOptions& options = {});

}  // namespace kiln::engine
