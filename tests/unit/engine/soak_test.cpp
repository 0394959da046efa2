// 2,000 requests through one engine with a small pool: shared prefixes (so
// the prefix cache fills and evicts), several choices, sampling, and random
// endings (read to the end, cancel() after a few tokens, cancel at once, or
// drop the stream). Afterwards no block is held by anyone but the prefix
// cache, and resident memory did not grow after the first quarter (500).
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <random>
#include <thread>

#include "engine_test_util.h"

namespace kiln::engine {
namespace {

int64_t resident_bytes() {
  std::ifstream in("/proc/self/statm");
  int64_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * 4096;
}

enum class Ending { kRead, kCancelLater, kCancelNow, kDrop };

struct InFlight {
  std::shared_ptr<EventStream> stream;
  Ending ending = Ending::kRead;
  int32_t n = 1;
  int32_t cancel_after = 0;  // tokens
  int32_t tokens = 0;
  int32_t finished = 0;
};

TEST(EngineSoak, RequestsWithRandomEndingsLeakNoBlocksAndMemoryStaysFlat) {
  auto path = test::find_model("hf-tiny-llama");
  ASSERT_TRUE(path.has_value());
  auto m = test::load_model(*path);
  auto created = create_engine(m.model, m.tokenizer,
                               {.max_batch_total_tokens = 1024, .prefill_chunk_tokens = 32});
  ASSERT_TRUE(created.ok()) << created.message();
  auto engine = std::move(created).value();

  std::mt19937 rng(2024);
  const int64_t n_vocab = m.model->n_vocab();
  std::vector<std::vector<int32_t>> systems;
  for (int i = 0; i < 6; ++i) systems.push_back(test::random_prompt(rng, n_vocab, 48));

  constexpr int kRequests = 2000;
  // Memory is compared after this many (a quarter of the run).
  constexpr int kBaseline = kRequests / 4;
  constexpr size_t kConcurrency = 48;
  std::vector<InFlight> live;
  std::vector<Event> events;
  int submitted = 0, completed = 0, failed_unexpectedly = 0;
  int64_t rss_at_baseline = 0;
  while (submitted < kRequests || !live.empty()) {
    while (submitted < kRequests && live.size() < kConcurrency) {
      std::vector<int32_t> prompt;
      if (rng() % 2) prompt = systems[rng() % systems.size()];
      for (int32_t id : test::random_prompt(rng, n_vocab, 1 + static_cast<int>(rng() % 30)))
        prompt.push_back(id);
      const int32_t max_new = 1 + static_cast<int32_t>(rng() % 16);
      GenerationRequest r = rng() % 2 ? test::greedy_request(prompt, max_new)
                                      : test::sampled_request(prompt, max_new, rng());
      if (rng() % 5 == 0) {
        r = test::sampled_request(prompt, max_new, rng());
        r.n = 2 + static_cast<int32_t>(rng() % 2);
      }
      InFlight f;
      f.n = r.n;
      f.ending = static_cast<Ending>(rng() % 4 == 0 ? 1 + rng() % 3 : 0);
      f.cancel_after = static_cast<int32_t>(rng() % 4);
      f.stream = engine->submit(std::move(r));
      if (f.ending == Ending::kCancelNow) f.stream->cancel();
      if (f.ending == Ending::kDrop) {
        f.stream.reset();
        ++completed;
        ++submitted;
        continue;
      }
      live.push_back(std::move(f));
      ++submitted;
    }
    bool progress = false;
    for (auto it = live.begin(); it != live.end();) {
      events.clear();
      it->stream->drain(events);
      bool done = false;
      for (const Event& e : events) {
        progress = true;
        if (std::holds_alternative<TokenEvent>(e)) {
          if (++it->tokens == it->cancel_after && it->ending == Ending::kCancelLater)
            it->stream->cancel();
        } else if (std::holds_alternative<FinishedEvent>(e)) {
          done = ++it->finished == it->n;
        } else {
          failed_unexpectedly += it->ending == Ending::kRead;
          done = true;
        }
      }
      if (done) {
        ++completed;
        it = live.erase(it);
      } else {
        ++it;
      }
    }
    if (!progress) std::this_thread::sleep_for(std::chrono::microseconds(200));
    if (completed >= kBaseline && rss_at_baseline == 0) rss_at_baseline = resident_bytes();
  }
  EXPECT_EQ(failed_unexpectedly, 0);

  EngineStats s = engine->stats();
  for (int i = 0; i < 2000 && s.requests_in_flight > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    s = engine->stats();
  }
  EXPECT_EQ(s.requests_in_flight, 0);
  EXPECT_EQ(s.kv_blocks_used, 0);
  // Every block is free or held by the prefix cache alone.
  EXPECT_EQ(s.kv_blocks_free + s.prefix_cache_blocks, s.kv_blocks_total);
  EXPECT_GT(s.prefix_cache_hits, 0);
#ifndef KILN_SANITIZE
  // Flat memory: allocator noise only (the 1024-position pool itself is
  // 1 MiB, already touched by then).
  EXPECT_LT(resident_bytes() - rss_at_baseline, int64_t{8} << 20)
      << "resident memory grew from " << rss_at_baseline;
#endif
}

}  // namespace
}  // namespace kiln::engine
