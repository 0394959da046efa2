// The engine thread's life: intake, cancellation, health probes, statistics
// and shutdown. One step's work is in engine_step.cpp.
#include "engine/engine_impl.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

namespace kiln::engine {

namespace {

constexpr int64_t kDefaultKvMemoryBytes = int64_t{2} << 30;
constexpr int32_t kMaxChoices = 1 << 16;  // Sequence::order() keeps 16 bits of choice

int64_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<int64_t>(pages) * page : 0;
}

std::shared_ptr<EventStream> failed_stream(FailureKind kind, std::string message) {
  auto stream = std::make_shared<EventStream>();
  stream->push(FailedEvent{kind, std::move(message)});
  return stream;
}

}  // namespace

int64_t kv_bytes_per_token(const model::Model& model) {
  const auto o = model.kv_cache_options(1, 1);
  return KvCache::storage_bytes(o);
}

int64_t resolve_kv_tokens(const model::Model& model, const EngineOptions& options) {
  const int64_t bs = std::max<int32_t>(options.block_size, 1);
  int64_t tokens = options.max_batch_total_tokens;
  if (tokens <= 0) {
    int64_t budget = options.kv_memory_bytes;
    if (budget <= 0) {
      budget = kDefaultKvMemoryBytes;
      if (const int64_t ram = physical_memory_bytes(); ram > 0) budget = std::min(budget, ram / 4);
    }
    tokens = budget / std::max<int64_t>(kv_bytes_per_token(model), 1);
  }
  return tokens / bs * bs;
}

util::Result<std::shared_ptr<Engine>> create_engine(
    std::shared_ptr<model::Model> model, std::shared_ptr<const tokenizer::Tokenizer> tokenizer,
    const EngineOptions& options) {
  if (model == nullptr || tokenizer == nullptr)
    return util::make_error("engine: a model and a tokenizer are required");
  if (options.block_size <= 0 || options.block_size > 1024)
    return util::make_error("engine: block size " + std::to_string(options.block_size) +
                            " is out of range (1..1024)");
  if (options.max_batch_prefill_tokens <= 0 || options.prefill_chunk_tokens <= 0)
    return util::make_error(
        "engine: max_batch_prefill_tokens and prefill_chunk_tokens must be "
        "positive");
  const int64_t tokens = resolve_kv_tokens(*model, options);
  if (tokens < options.block_size)
    return util::make_error("engine: the KV pool holds " + std::to_string(tokens) +
                            " positions, less than one block of " +
                            std::to_string(options.block_size));
  auto cache =
      KvCache::create(model->kv_cache_options(tokens / options.block_size, options.block_size));
  if (!cache.ok()) return util::make_error("engine: " + cache.message());
  return std::shared_ptr<Engine>(std::make_shared<EngineImpl>(
      std::move(model), std::move(tokenizer), options, std::move(cache).value()));
}

EngineImpl::EngineImpl(std::shared_ptr<model::Model> model,
                       std::shared_ptr<const tokenizer::Tokenizer> tokenizer,
                       const EngineOptions& options, std::unique_ptr<KvCache> cache)
    : model_(std::move(model)),
      tokenizer_(std::move(tokenizer)),
      options_(options),
      eos_ids_(model_->description().special.eos_ids),
      cache_(std::move(cache)),
      blocks_(*cache_, options.prefix_caching),
      scheduler_({.max_batch_prefill_tokens = options.max_batch_prefill_tokens,
                  .prefill_chunk_tokens = options.prefill_chunk_tokens,
                  .max_batch_size = options.max_batch_size}) {
  publish_stats();
  thread_ = std::thread([this] { run(); });
}

EngineImpl::~EngineImpl() { shutdown(); }

std::shared_ptr<EventStream> EngineImpl::submit(GenerationRequest request) {
  auto stream = std::make_shared<EventStream>();
  {
    std::lock_guard lock(mu_);
    if (stopping_) return failed_stream(FailureKind::kGeneration, "the server is shutting down");
    inbound_.push_back({std::move(request), stream});
  }
  cv_.notify_one();
  return stream;
}

EngineStats EngineImpl::stats() const {
  std::lock_guard lock(stats_mu_);
  return stats_;
}

bool EngineImpl::healthy() {
  std::unique_lock lock(mu_);
  if (stopping_) return false;
  if (healthy_.load(std::memory_order_acquire)) return true;
  // TGI's /health runs a one-token generation when the last one failed; here
  // the engine thread runs a one-token forward and we wait for it.
  const uint64_t before = probes_done_;
  probe_requested_ = true;
  cv_.notify_one();
  probe_cv_.wait_for(lock, std::chrono::seconds(30),
                     [&] { return probes_done_ != before || stopping_; });
  return healthy_.load(std::memory_order_acquire);
}

void EngineImpl::shutdown() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  probe_cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void EngineImpl::run() {
  while (wait_for_work()) {
    take_inbound();
    drop_cancelled();
    step();
    retire();
    publish_stats();
  }
  fail_all("the server is shutting down");
}

bool EngineImpl::wait_for_work() {
  bool probe_now = false;
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] {
      return stopping_ || probe_requested_ || !inbound_.empty() || !requests_.empty();
    });
    if (stopping_) return false;
    probe_now = probe_requested_;
    probe_requested_ = false;
  }
  if (probe_now) probe();
  return true;
}

void EngineImpl::take_inbound() {
  std::vector<Inbound> batch;
  {
    std::lock_guard lock(mu_);
    batch.swap(inbound_);
  }
  for (auto& in : batch) start(std::move(in));
}

util::Status EngineImpl::check(GenerationRequest& r) const {
  const int64_t n_prompt = static_cast<int64_t>(r.prompt.size());
  const int64_t n_ctx = model_->n_ctx();
  if (n_prompt == 0) return util::make_error("the prompt has no tokens");
  for (int32_t id : r.prompt) {
    if (id < 0 || id >= model_->n_vocab())
      return util::make_error("prompt token id " + std::to_string(id) +
                              " is outside the vocabulary (" + std::to_string(model_->n_vocab()) +
                              " tokens)");
  }
  if (r.n < 1 || r.n > kMaxChoices)
    return util::make_error("n (best_of) must be between 1 and " + std::to_string(kMaxChoices));
  if (n_prompt >= n_ctx)
    return util::make_error("the prompt has " + std::to_string(n_prompt) +
                            " tokens, which leaves no room in the model's context of " +
                            std::to_string(n_ctx));
  // No cap, or one past the context: the context is the cap (finish: length).
  auto& cap = r.stop.max_new_tokens;
  if (cap <= 0 || cap > n_ctx - n_prompt) cap = static_cast<int32_t>(n_ctx - n_prompt);
  // Every choice may need its whole length at once (the others preempted).
  const int64_t pool = cache_->n_blocks() * cache_->block_size();
  if (n_prompt + cap > pool)
    return util::make_error("the request needs " + std::to_string(n_prompt + cap) +
                            " KV positions (prompt + max_new_tokens) but the pool holds " +
                            std::to_string(pool) + " (raise --max-batch-total-tokens)");
  return {};
}

void EngineImpl::start(Inbound in) {
  if (in.stream.use_count() == 1) return;  // nobody listens any more
  if (in.stream->cancelled()) {
    in.stream->push(FailedEvent{FailureKind::kIncomplete, "the request was cancelled"});
    return;
  }
  if (auto s = check(in.request); !s.ok()) {
    in.stream->push(FailedEvent{FailureKind::kValidation, s.message()});
    return;
  }
  auto r = std::make_unique<ActiveRequest>();
  r->id = next_id_++;
  r->request = std::move(in.request);
  r->stream = std::move(in.stream);
  if (r->wants_prefill_logprobs()) {
    r->prefill.reserve(r->request.prompt.size());
    for (int32_t id : r->request.prompt) {
      r->prefill.push_back({.id = id,
                            .text = tokenizer_->decode(std::span<const int32_t>(&id, 1), false),
                            .logprob = std::numeric_limits<float>::quiet_NaN()});
    }
    r->prefill_known = 1;  // the first prompt token has no logprob
  }
  for (int32_t k = 0; k < r->request.n; ++k)
    r->choices.push_back(std::make_unique<Sequence>(*r, k, *tokenizer_, eos_ids_));
  r->n_unfinished = r->request.n;
  r->forked = r->request.n == 1;
  // Only choice 0 prefills; the others fork from it (engine_step.cpp).
  scheduler_.enqueue(r->choices[0].get());
  requests_.emplace(r->id, std::move(r));
}

// A consumer that calls cancel() or drops its last reference to the stream
// ends the request here, at the next step boundary; dropping the sequences
// returns their blocks to the pool.
void EngineImpl::drop_cancelled() {
  for (auto& [id, r] : requests_) {
    if (r->n_unfinished == 0) continue;
    if (r->stream->cancelled()) {
      fail(*r, FailureKind::kIncomplete, "the request was cancelled");
    } else if (r->stream.use_count() == 1) {
      fail(*r, FailureKind::kIncomplete, "the client went away");
    }
  }
  retire();
}

void EngineImpl::probe() {
  KvSequence seq(*cache_);
  if (!blocks_.allocate(seq, 1)) return;  // every block busy: the next step decides
  model::Batch batch;
  batch.seqs = {&seq};
  const int32_t id = model_->description().special.bos.value_or(0);
  batch.tokens.push_back({.id = id, .seq = 0, .pos = 0, .logits = true});
  const bool ok = model_->forward(batch, *cache_).ok();
  healthy_.store(ok, std::memory_order_release);
  {
    std::lock_guard lock(mu_);
    ++probes_done_;
  }
  probe_cv_.notify_all();
}

void EngineImpl::publish_stats() {
  EngineStats s;
  s.queue_size = static_cast<int64_t>(scheduler_.n_waiting());
  {
    std::lock_guard lock(mu_);
    s.queue_size += static_cast<int64_t>(inbound_.size());
  }
  s.batch_size = static_cast<int64_t>(scheduler_.n_running());
  for (const Sequence* seq : scheduler_.running()) s.batch_max_tokens += seq->kv().capacity();
  s.kv_blocks_total = blocks_.n_blocks();
  s.kv_blocks_used = blocks_.n_used();
  s.kv_blocks_free = cache_->n_free_blocks();
  s.prefix_cache_hits = blocks_.stats().hits;
  s.prefix_cache_misses = blocks_.stats().misses;
  s.prefix_cache_blocks = blocks_.stats().blocks;
  s.max_batch_total_tokens = cache_->n_blocks() * cache_->block_size();
  s.requests_in_flight = static_cast<int64_t>(requests_.size());
  s.preemptions = scheduler_.n_preemptions();
  s.steps = n_steps_;
  s.prefill_tokens = n_prefill_tokens_;
  s.decode_tokens = n_decode_tokens_;
  s.last_step_seconds = last_step_seconds_;
  s.prefill_steps = prefill_timings_;
  s.decode_steps = decode_timings_;
  s.next_size = next_size_;
  s.concat = n_concat_;
  std::lock_guard lock(stats_mu_);
  stats_ = s;
}

void EngineImpl::fail_all(const std::string& message) {
  take_inbound();
  for (auto& [id, r] : requests_)
    if (r->n_unfinished > 0) fail(*r, FailureKind::kGeneration, message);
  retire();
  publish_stats();
}

}  // namespace kiln::engine
