#include "backend/cpu/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace kiln::backend::cpu {
namespace {

TEST(ThreadPoolTest, ParallelForCoversRangeExactlyOnce) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 2, 7, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      pool.parallel_for(n, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
      });
      for (auto& h : hits) EXPECT_EQ(h.load(), 1);
    }
  }
}

TEST(ThreadPoolTest, RunsEveryThreadIndexOncePerJob) {
  ThreadPool pool(4);
  for (int rep = 0; rep < 100; ++rep) {
    std::vector<std::atomic<int>> seen(4);
    pool.run([&](int i, int n) {
      EXPECT_EQ(n, 4);
      seen[static_cast<size_t>(i)]++;
    });
    for (auto& s : seen) EXPECT_EQ(s.load(), 1);
  }
}

}  // namespace
}  // namespace kiln::backend::cpu
