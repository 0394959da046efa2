#include "server/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <map>

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

void Metrics::set_engine_stats(const engine::EngineStats& stats) {
  f_->batch_size->Set(static_cast<double>(stats.batch_size));
  f_->batch_max_tokens->Set(static_cast<double>(stats.batch_max_tokens));
  f_->queue_size->Set(static_cast<double>(stats.queue_size));
}

void Metrics::set_max_batch_total_tokens(int64_t tokens) {
  f_->batch_total_tokens->Set(static_cast<double>(tokens));
}

std::string Metrics::render() const {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry_->Collect());
}

}  // namespace kiln::server
