// ConstraintCache: one compile per text, failures cached, LRU eviction,
// concurrent callers share one compile; mask_logits.
#include <cmath>
#include <thread>

#include <gtest/gtest.h>

#include "sampling/grammar/cache.h"
#include "test_vocab.h"

namespace kiln::sampling::grammar::test {
namespace {

TEST(ConstraintCache, SameTextSameConstraint) {
  ConstraintCache cache(small_vocab(), 2);
  auto a = cache.json_schema(R"({"type": "integer"})");
  auto b = cache.json_schema(R"({"type": "integer"})");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->get(), b->get());
  EXPECT_EQ(cache.hits(), 1u);
  auto r = cache.regex(R"({"type": "integer"})");  // same text, other kind
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->get(), a->get());
  auto o1 = cache.json_object();
  auto o2 = cache.json_object();
  EXPECT_EQ(o1->get(), o2->get());
}

TEST(ConstraintCache, FailuresAreCachedAndEvictionIsLru) {
  ConstraintCache cache(small_vocab(), 2);
  auto bad = cache.json_schema(R"({"not": {}})");
  ASSERT_FALSE(bad.ok());
  auto again = cache.json_schema(R"({"not": {}})");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.message(), bad.message());
  EXPECT_EQ(cache.hits(), 1u);
  auto first = cache.regex("a");
  EXPECT_TRUE(cache.regex("b").ok());
  EXPECT_TRUE(cache.regex("c").ok());  // evicts the least recently used
  EXPECT_EQ(cache.size(), 2u);
  auto refetched = cache.regex("a");
  ASSERT_TRUE(first.ok() && refetched.ok());
  EXPECT_NE(first->get(), refetched->get());  // compiled anew
}

TEST(ConstraintCache, ConcurrentCallersShareOneCompile) {
  ConstraintCache cache(small_vocab(), 8);
  const char* schema =
      R"({"type": "object", "properties": {"a": {"type": "string", "maxLength": 50}}})";
  std::vector<std::shared_ptr<const Constraint>> got(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&, i] { got[i] = *cache.json_schema(schema); });
  for (auto& t : threads) t.join();
  for (int i = 1; i < 4; ++i) EXPECT_EQ(got[i].get(), got[0].get());
  EXPECT_EQ(cache.hits(), 3u);
}

TEST(MaskLogits, ClearedBitsBecomeMinusInfinity) {
  std::vector<float> logits(130, 1.0f);
  std::vector<uint64_t> words(3, 0);
  words[0] = 1;                  // token 0
  words[1] = uint64_t(1) << 63;  // token 127
  words[2] = 2;                  // token 129
  mask_logits(logits, words);
  for (int i = 0; i < 130; ++i) {
    bool kept = i == 0 || i == 127 || i == 129;
    EXPECT_EQ(std::isinf(logits[i]), !kept) << i;
  }
}

}  // namespace
}  // namespace kiln::sampling::grammar::test
