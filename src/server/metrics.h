// Prometheus metrics with TGI's names and buckets (contract §8.3), exposed as
// text by GET /metrics. Thread-safe (prometheus-cpp metrics are atomic).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "engine/engine.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
}  // namespace prometheus

namespace kiln::server {

struct MetricsOptions {
  int32_t max_input_tokens = 4095;  // tgi_request_input_length buckets
  int32_t max_total_tokens = 4096;  // generated/max_new_tokens buckets
};

// One successful request's numbers (seconds and token counts).
struct RequestSample {
  double total_s = 0;
  double validation_s = 0;
  double queue_s = 0;
  double inference_s = 0;
  int32_t input_length = 0;
  int32_t generated_tokens = 0;
  int32_t max_new_tokens = 0;
};

class Metrics {
 public:
  explicit Metrics(const MetricsOptions& options);
  ~Metrics();

  void request_received();  // tgi_request_count, once per HTTP request (DEV-21)
  // tgi_request_failure{err=...}: validation|overloaded|generation|incomplete|template|dropped
  void request_failed(std::string_view err);
  void request_succeeded(const RequestSample& sample);
  // Gauges read from the engine at scrape time.
  void set_engine_stats(const engine::EngineStats& stats);
  void set_max_batch_total_tokens(int64_t tokens);

  std::string render() const;  // Prometheus text exposition format

 private:
  struct Families;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Families> f_;
};

}  // namespace kiln::server
