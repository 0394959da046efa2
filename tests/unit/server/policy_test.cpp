// Auth comparison, Content-Type acceptance, request ids, and metric names and
// buckets (contract §4.5, §0.3, §8.3).
#include <gtest/gtest.h>

#include "server/http_policy.h"
#include "server/metrics.h"

namespace kiln::server {
namespace {

TEST(Auth, BearerSchemeCaseInsensitiveKeyExact) {
  EXPECT_TRUE(bearer_matches("Bearer abc", "abc"));
  EXPECT_TRUE(bearer_matches("bearer abc", "abc"));
  EXPECT_TRUE(bearer_matches("BEARER  abc ", "abc"));
  EXPECT_FALSE(bearer_matches("Bearer ABC", "abc"));
  EXPECT_FALSE(bearer_matches("Bearer ab", "abc"));
  EXPECT_FALSE(bearer_matches("Bearer abcd", "abc"));
  EXPECT_FALSE(bearer_matches("Basic abc", "abc"));
  EXPECT_FALSE(bearer_matches("Bearerabc", "abc"));
  EXPECT_FALSE(bearer_matches("", "abc"));
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_FALSE(constant_time_equal("a", ""));
}

TEST(ContentType, JsonTypesAndCurlDefault) {
  EXPECT_TRUE(is_json_content_type("application/json"));
  EXPECT_TRUE(is_json_content_type("Application/JSON; charset=utf-8"));
  EXPECT_TRUE(is_json_content_type("application/vnd.api+json"));
  EXPECT_TRUE(is_json_content_type("application/x-www-form-urlencoded"));
  EXPECT_FALSE(is_json_content_type("text/plain"));
  EXPECT_FALSE(is_json_content_type("multipart/form-data; boundary=x"));
  EXPECT_FALSE(is_json_content_type("application/+json"));
}

TEST(RequestId, KeptWhenSaneElseGenerated) {
  EXPECT_EQ(request_id_from("abc-123"), "abc-123");
  EXPECT_EQ(request_id_from("").size(), 32u);
  EXPECT_EQ(request_id_from("has space").size(), 32u);
  EXPECT_EQ(request_id_from(std::string(200, 'a')).size(), 32u);
}

TEST(Metrics, TgiNamesAndBuckets) {
  Metrics m(MetricsOptions{.max_input_tokens = 1000, .max_total_tokens = 2000});
  m.request_received();
  m.request_failed("overloaded");
  m.request_succeeded(
      {.total_s = 0.5, .input_length = 10, .generated_tokens = 5, .max_new_tokens = 20});
  std::string text = m.render();
  for (const char* line :
       {"\ntgi_request_count 1\n", "\ntgi_request_success 1\n",
        "\ntgi_request_failure{err=\"overloaded\"} 1\n",
        "\ntgi_request_failure{err=\"dropped\"} 0\n", "\ntgi_request_duration_count 1\n",
        "\ntgi_request_duration_bucket{le=\"0.00015\"} 0\n",
        "\ntgi_request_duration_bucket{le=\"0.000225\"} 0\n",
        "\ntgi_request_input_length_bucket{le=\"10\"} 1\n",
        "\ntgi_request_input_length_bucket{le=\"1000\"} 1\n",
        "\ntgi_request_generated_tokens_bucket{le=\"20\"} 1\n",
        "\ntgi_request_max_new_tokens_bucket{le=\"20\"} 1\n", "\ntgi_queue_size 0\n",
        "\ntgi_batch_current_size 0\n", "# TYPE tgi_request_count counter\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line;
  }
  // 35 geometric duration buckets + Inf.
  size_t buckets = 0;
  for (size_t p = 0; (p = text.find("tgi_request_queue_duration_bucket{", p)) != std::string::npos;
       ++p)
    ++buckets;
  EXPECT_EQ(buckets, 36u);
  // No suffix added to counters.
  EXPECT_EQ(text.find("tgi_request_count_total"), std::string::npos);
  EXPECT_EQ(text.find("tgi_request_failure_total"), std::string::npos);
}

TEST(Metrics, EngineStatsWithTgiNamesAndOurs) {
  Metrics m(MetricsOptions{});
  engine::EngineStats s;
  s.queue_size = 3;
  s.batch_size = 5;
  s.batch_max_tokens = 640;
  s.kv_blocks_total = 100;
  s.kv_blocks_used = 40;
  s.kv_blocks_free = 50;  // the other 10 are unused prefix-cache blocks
  s.max_batch_total_tokens = 1600;
  s.prefix_cache_hits = 31;
  s.prefix_cache_misses = 7;
  s.prefix_cache_blocks = 12;
  s.preemptions = 2;
  s.steps = 9;
  s.prefill_steps.step.observe(0.0002);  // second bucket (le 0.000225)
  s.prefill_steps.forward.observe(0.0001);
  s.decode_steps.step.observe(0.01);
  s.decode_steps.step.observe(0.01);
  s.decode_steps.failures = 1;
  s.decode_steps.detokenize.observe(0.0001);
  s.decode_steps.filter.observe(0.0003);  // third bucket (le 0.0003375)
  s.prefill_steps.concat.observe(0.0002);
  s.next_size.observe(3);
  s.next_size.observe(3);
  s.next_size.observe(2000);  // above the last bound
  s.concat = 4;
  m.set_engine_stats(s);
  // A second scrape with one more decode step adds only the growth.
  s.decode_steps.step.observe(0.02);
  m.set_engine_stats(s);
  const std::string text = m.render();
  for (const char* line : {
           "\ntgi_queue_size 3\n",
           "\ntgi_batch_current_size 5\n",
           "\ntgi_batch_current_max_tokens 640\n",
           "\ntgi_batch_max_total_tokens 1600\n",
           "\ntgi_batch_inference_count{method=\"prefill\"} 1\n",
           "\ntgi_batch_inference_count{method=\"decode\"} 4\n",
           "\ntgi_batch_inference_success{method=\"decode\"} 3\n",
           "\ntgi_batch_inference_failure{method=\"decode\"} 1\n",
           "\ntgi_batch_inference_duration_count{method=\"decode\"} 3\n",
           "\ntgi_batch_inference_duration_sum{method=\"decode\"} 0.04\n",
           "\ntgi_batch_inference_duration_bucket{method=\"prefill\",le=\"0.00015\"} 0\n",
           "\ntgi_batch_inference_duration_bucket{method=\"prefill\",le=\"0.000225\"} 1\n",
           "\ntgi_batch_forward_duration_bucket{method=\"prefill\",le=\"0.00015\"} 1\n",
           "\ntgi_batch_decode_duration_count{method=\"decode\"} 1\n",
           "\ntgi_batch_filter_duration_bucket{method=\"decode\",le=\"0.000225\"} 0\n",
           "\ntgi_batch_filter_duration_bucket{method=\"decode\",le=\"0.0003375\"} 1\n",
           "\ntgi_batch_concat_duration_count{method=\"prefill\"} 1\n",
           "\ntgi_batch_concat_duration_count{method=\"decode\"} 0\n",
           "\ntgi_batch_next_size_bucket{le=\"2\"} 0\n",
           "\ntgi_batch_next_size_bucket{le=\"3\"} 2\n",
           "\ntgi_batch_next_size_bucket{le=\"1024\"} 2\n",
           "\ntgi_batch_next_size_bucket{le=\"+Inf\"} 3\n",
           "\ntgi_batch_next_size_sum 2006\n",
           "\ntgi_batch_concat{reason=\"chunking\"} 4\n",
           "\ntgi_batch_concat{reason=\"backpressure\"} 0\n",
           "\ntgi_batch_concat{reason=\"wait_exceeded\"} 0\n",
           "\nkiln_kv_blocks_total 100\n",
           "\nkiln_kv_blocks_used 40\n",
           "\nkiln_kv_blocks_free 50\n",
           "\nkiln_kv_block_size 16\n",
           "\nkiln_prefix_cache_hits 31\n",
           "\nkiln_prefix_cache_misses 7\n",
           "\nkiln_prefix_cache_blocks 12\n",
           "\nkiln_preemptions 2\n",
           "\nkiln_queue_size 3\n",
           "\nkiln_batch_size 5\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line;
  }
}

}  // namespace
}  // namespace kiln::server
