#include "server/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <map>
#include <mutex>
#include <tuple>
#include <vector>

namespace kiln::server {

namespace {

using Buckets = prometheus::Histogram::BucketBoundaries;

// TGI's duration buckets: 35 geometric steps from 150 us by x1.5 (up to ~220 s).
Buckets duration_buckets() {
  Buckets b;
  double v = 0.00015;
  for (int i = 0; i < 35; ++i, v *= 1.5) b.push_back(v);
  return b;
}

// 100 linear buckets up to `max` (TGI: max/100 x 1..100).
Buckets linear_buckets(int32_t max) {
  Buckets b;
  const double step = std::max(1.0, static_cast<double>(max) / 100.0);
  for (int i = 1; i <= 100; ++i) b.push_back(step * i);
  return b;
}

}  // namespace

struct Metrics::Families {
  prometheus::Counter* count = nullptr;
  prometheus::Counter* success = nullptr;
  std::map<std::string, prometheus::Counter*, std::less<>> failure;
  prometheus::Histogram* duration = nullptr;
  prometheus::Histogram* validation = nullptr;
  prometheus::Histogram* queue = nullptr;
  prometheus::Histogram* inference = nullptr;
  prometheus::Histogram* per_token = nullptr;
  prometheus::Histogram* input_length = nullptr;
  prometheus::Histogram* generated = nullptr;
  prometheus::Histogram* max_new_tokens = nullptr;
  prometheus::Gauge* batch_size = nullptr;
  prometheus::Gauge* batch_max_tokens = nullptr;
  prometheus::Gauge* batch_total_tokens = nullptr;
  prometheus::Gauge* queue_size = nullptr;
  // Per-step numbers from EngineStats, by TGI's `method` label.
  struct Method {
    prometheus::Counter* count = nullptr;         // tgi_batch_inference_count
    prometheus::Counter* success = nullptr;       // tgi_batch_inference_success
    prometheus::Counter* failure = nullptr;       // tgi_batch_inference_failure
    prometheus::Histogram* step = nullptr;        // tgi_batch_inference_duration
    prometheus::Histogram* forward = nullptr;     // tgi_batch_forward_duration
    prometheus::Histogram* detokenize = nullptr;  // tgi_batch_decode_duration
    prometheus::Histogram* filter = nullptr;      // tgi_batch_filter_duration
    prometheus::Histogram* concat = nullptr;      // tgi_batch_concat_duration
  };
  Method prefill, decode;
  prometheus::Histogram* next_size = nullptr;  // tgi_batch_next_size
  prometheus::Counter* concat = nullptr;       // tgi_batch_concat{reason="chunking"}
  // Ours (kiln_*): KV pool, prefix cache and scheduler counters.
  std::map<std::string, prometheus::Gauge*, std::less<>> kiln;
  // EngineStats are cumulative; the histograms and counters take the growth
  // since the last scrape. Scrapes may come from two I/O threads.
  std::mutex mu;
  engine::EngineStats last;
};

Metrics::Metrics(const MetricsOptions& options)
    : registry_(std::make_shared<prometheus::Registry>()), f_(std::make_unique<Families>()) {
  auto& r = *registry_;
  auto counter = [&](const char* name, const char* help) {
    return &prometheus::BuildCounter().Name(name).Help(help).Register(r).Add({});
  };
  auto histogram = [&](const char* name, const char* help, const Buckets& b) {
    return &prometheus::BuildHistogram().Name(name).Help(help).Register(r).Add({}, b);
  };
  auto gauge = [&](const char* name, const char* help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
  };
  f_->count = counter("tgi_request_count", "Requests received by generation routes");
  f_->success = counter("tgi_request_success", "Requests completed successfully");
  auto& failure = prometheus::BuildCounter()
                      .Name("tgi_request_failure")
                      .Help("Failed requests by cause")
                      .Register(r);
  for (const char* err :
       {"validation", "overloaded", "generation", "incomplete", "template", "dropped"}) {
    f_->failure[err] = &failure.Add({{"err", err}});
  }
  const Buckets durations = duration_buckets();
  f_->duration = histogram("tgi_request_duration", "End-to-end latency", durations);
  f_->validation = histogram("tgi_request_validation_duration", "Validation time", durations);
  f_->queue = histogram("tgi_request_queue_duration", "Queue wait", durations);
  f_->inference = histogram("tgi_request_inference_duration", "Inference time", durations);
  f_->per_token = histogram("tgi_request_mean_time_per_token_duration",
                            "Inference time per generated token", durations);
  f_->input_length = histogram("tgi_request_input_length", "Prompt tokens",
                               linear_buckets(options.max_input_tokens));
  f_->generated = histogram("tgi_request_generated_tokens", "Generated tokens",
                            linear_buckets(options.max_total_tokens));
  f_->max_new_tokens = histogram("tgi_request_max_new_tokens", "Effective max_new_tokens",
                                 linear_buckets(options.max_total_tokens));
  f_->batch_size = gauge("tgi_batch_current_size", "Requests in the running batch");
  f_->batch_max_tokens =
      gauge("tgi_batch_current_max_tokens", "Token reservation of the running batch");
  f_->batch_total_tokens = gauge("tgi_batch_max_total_tokens", "Resolved KV budget");
  f_->queue_size = gauge("tgi_queue_size", "Requests waiting");

  auto& step_count = prometheus::BuildCounter()
                         .Name("tgi_batch_inference_count")
                         .Help("Forward calls")
                         .Register(r);
  auto& step_success = prometheus::BuildCounter()
                           .Name("tgi_batch_inference_success")
                           .Help("Successful forward calls")
                           .Register(r);
  auto& step_failure = prometheus::BuildCounter()
                           .Name("tgi_batch_inference_failure")
                           .Help("Failed forward calls")
                           .Register(r);
  auto& step = prometheus::BuildHistogram()
                   .Name("tgi_batch_inference_duration")
                   .Help("Whole engine step (schedule, forward, sample, emit)")
                   .Register(r);
  auto by_method = [&](const char* name, const char* help) -> auto& {
    return prometheus::BuildHistogram().Name(name).Help(help).Register(r);
  };
  auto& forward = by_method("tgi_batch_forward_duration", "Model forward of one step");
  auto& detokenize = by_method("tgi_batch_decode_duration",
                               "Sampled tokens to text, stop checks and events, per step");
  auto& filter = by_method("tgi_batch_filter_duration",
                           "After sampling: finished sequences dropped, blocks published");
  auto& concat_duration = by_method("tgi_batch_concat_duration",
                                    "Scheduling a step that adds requests to running ones");
  for (auto [m, label] : {std::pair{&f_->prefill, "prefill"}, std::pair{&f_->decode, "decode"}}) {
    m->count = &step_count.Add({{"method", label}});
    m->success = &step_success.Add({{"method", label}});
    m->failure = &step_failure.Add({{"method", label}});
    m->step = &step.Add({{"method", label}}, durations);
    m->forward = &forward.Add({{"method", label}}, durations);
    m->detokenize = &detokenize.Add({{"method", label}}, durations);
    m->filter = &filter.Add({{"method", label}}, durations);
    m->concat = &concat_duration.Add({{"method", label}}, durations);
  }
  Buckets sizes;
  for (int i = 1; i <= engine::SizeHistogram::kBuckets; ++i) sizes.push_back(i);
  f_->next_size = &prometheus::BuildHistogram()
                       .Name("tgi_batch_next_size")
                       .Help("Requests scheduled for the first time, per step that has any")
                       .Register(r)
                       .Add({}, sizes);
  // Kiln prefills in chunks beside running decodes, so every join is TGI's
  // "chunking"; the other reasons stay at zero for dashboards.
  auto& concat = prometheus::BuildCounter()
                     .Name("tgi_batch_concat")
                     .Help("Requests that joined a running batch")
                     .Register(r);
  f_->concat = &concat.Add({{"reason", "chunking"}});
  concat.Add({{"reason", "backpressure"}});
  concat.Add({{"reason", "wait_exceeded"}});
  const std::pair<const char*, const char*> ours[] = {
      {"kiln_queue_size", "Requests waiting for their first step"},
      {"kiln_batch_size", "Sequences in the running batch"},
      {"kiln_requests_in_flight", "Requests submitted to the engine and not finished"},
      {"kiln_kv_blocks_total", "KV cache blocks in the pool"},
      {"kiln_kv_blocks_used", "KV cache blocks referenced by running sequences"},
      {"kiln_kv_blocks_free", "KV cache blocks on the free list (unused cached ones excluded)"},
      {"kiln_kv_block_size", "KV positions per block"},
      {"kiln_prefix_cache_hits", "Prompt blocks reused from the prefix cache (cumulative)"},
      {"kiln_prefix_cache_misses", "Full prompt blocks looked up and not found (cumulative)"},
      {"kiln_prefix_cache_blocks", "Blocks held by the prefix cache"},
      {"kiln_preemptions", "Sequences preempted for recompute (cumulative)"},
      {"kiln_steps", "Engine steps (cumulative)"},
      {"kiln_prefill_tokens", "Prompt and recompute positions computed (cumulative)"},
      {"kiln_decode_tokens", "Decode positions computed (cumulative)"},
      {"kiln_last_step_seconds", "Wall time of the last engine step"},
  };
  for (const auto& [name, help] : ours) f_->kiln[name] = gauge(name, help);
}

Metrics::~Metrics() = default;

void Metrics::request_received() { f_->count->Increment(); }

void Metrics::request_failed(std::string_view err) {
  auto it = f_->failure.find(err);
  if (it != f_->failure.end()) it->second->Increment();
}

void Metrics::request_succeeded(const RequestSample& s) {
  f_->success->Increment();
  f_->duration->Observe(s.total_s);
  f_->validation->Observe(s.validation_s);
  f_->queue->Observe(s.queue_s);
  f_->inference->Observe(s.inference_s);
  if (s.generated_tokens > 0) f_->per_token->Observe(s.inference_s / s.generated_tokens);
  f_->input_length->Observe(s.input_length);
  f_->generated->Observe(s.generated_tokens);
  f_->max_new_tokens->Observe(s.max_new_tokens);
}

namespace {

// Feeds the growth of a cumulative engine histogram into a Prometheus one
// with the same bounds.
template <class H>
void observe_growth(prometheus::Histogram& h, const H& now, const H& before, double sum_growth) {
  if (now.count <= before.count) return;
  std::vector<double> increments(now.counts.size());
  for (size_t i = 0; i < now.counts.size(); ++i)
    increments[i] = static_cast<double>(now.counts[i] - before.counts[i]);
  h.ObserveMultiple(increments, sum_growth);
}

void observe_growth(prometheus::Histogram& h, const engine::StepHistogram& now,
                    const engine::StepHistogram& before) {
  observe_growth(h, now, before, now.sum_seconds - before.sum_seconds);
}

void add_growth(prometheus::Counter& c, int64_t now, int64_t before) {
  if (now > before) c.Increment(static_cast<double>(now - before));
}

}  // namespace

void Metrics::set_engine_stats(const engine::EngineStats& stats) {
  f_->batch_size->Set(static_cast<double>(stats.batch_size));
  f_->batch_max_tokens->Set(static_cast<double>(stats.batch_max_tokens));
  f_->queue_size->Set(static_cast<double>(stats.queue_size));

  const auto set = [&](const char* name, double v) { f_->kiln.find(name)->second->Set(v); };
  set("kiln_queue_size", static_cast<double>(stats.queue_size));
  set("kiln_batch_size", static_cast<double>(stats.batch_size));
  set("kiln_requests_in_flight", static_cast<double>(stats.requests_in_flight));
  set("kiln_kv_blocks_total", static_cast<double>(stats.kv_blocks_total));
  set("kiln_kv_blocks_used", static_cast<double>(stats.kv_blocks_used));
  set("kiln_kv_blocks_free", static_cast<double>(stats.kv_blocks_free));
  set("kiln_kv_block_size", stats.kv_blocks_total > 0
                                ? static_cast<double>(stats.max_batch_total_tokens) /
                                      static_cast<double>(stats.kv_blocks_total)
                                : 0.0);
  set("kiln_prefix_cache_hits", static_cast<double>(stats.prefix_cache_hits));
  set("kiln_prefix_cache_misses", static_cast<double>(stats.prefix_cache_misses));
  set("kiln_prefix_cache_blocks", static_cast<double>(stats.prefix_cache_blocks));
  set("kiln_preemptions", static_cast<double>(stats.preemptions));
  set("kiln_steps", static_cast<double>(stats.steps));
  set("kiln_prefill_tokens", static_cast<double>(stats.prefill_tokens));
  set("kiln_decode_tokens", static_cast<double>(stats.decode_tokens));
  set("kiln_last_step_seconds", stats.last_step_seconds);
  if (stats.max_batch_total_tokens > 0)
    f_->batch_total_tokens->Set(static_cast<double>(stats.max_batch_total_tokens));

  std::lock_guard lock(f_->mu);
  for (auto [m, now, before] :
       {std::tuple{&f_->prefill, &stats.prefill_steps, &f_->last.prefill_steps},
        std::tuple{&f_->decode, &stats.decode_steps, &f_->last.decode_steps}}) {
    // A scrape may see an older snapshot than the previous one (two I/O
    // threads): only growth counts.
    if (now->step.count < before->step.count) continue;
    add_growth(*m->count, now->step.count + now->failures, before->step.count + before->failures);
    add_growth(*m->success, now->step.count, before->step.count);
    add_growth(*m->failure, now->failures, before->failures);
    observe_growth(*m->step, now->step, before->step);
    observe_growth(*m->forward, now->forward, before->forward);
    observe_growth(*m->detokenize, now->detokenize, before->detokenize);
    observe_growth(*m->filter, now->filter, before->filter);
    observe_growth(*m->concat, now->concat, before->concat);
    *before = *now;
  }
  if (stats.next_size.count >= f_->last.next_size.count) {
    observe_growth(*f_->next_size, stats.next_size, f_->last.next_size,
                   stats.next_size.sum - f_->last.next_size.sum);
    add_growth(*f_->concat, stats.concat, f_->last.concat);
    f_->last.next_size = stats.next_size;
    f_->last.concat = stats.concat;
  }
}

void Metrics::set_max_batch_total_tokens(int64_t tokens) {
  f_->batch_total_tokens->Set(static_cast<double>(tokens));
}

std::string Metrics::render() const {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry_->Collect());
}

}  // namespace kiln::server
