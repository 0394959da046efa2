// BlockManager on a small cache (blocks of 4 positions, no model): all-or-
// nothing growth, prefix reuse keyed by the whole prefix, LRU eviction of
// unused cached blocks only.
#include "engine/block_manager.h"

#include <gtest/gtest.h>

#include <numeric>

namespace kiln::engine {
namespace {

constexpr int32_t kBlock = 4;

std::unique_ptr<KvCache> make_cache(int64_t n_blocks) {
  return std::move(KvCache::create({.n_layers = 1,
                                    .n_kv_heads = 1,
                                    .head_dim_k = 2,
                                    .head_dim_v = 2,
                                    .block_size = kBlock,
                                    .n_blocks = n_blocks})
                       .value());
}

std::vector<int32_t> iota(int n, int32_t first) {
  std::vector<int32_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), first);
  return v;
}

// A sequence that "computed" all of `tokens` and published its blocks.
struct Published {
  Published(BlockManager& bm, std::vector<int32_t> t) : seq(bm.cache()), tokens(std::move(t)) {
    EXPECT_TRUE(bm.allocate(seq, static_cast<int64_t>(tokens.size())));
    seq.set_n_positions(static_cast<int64_t>(tokens.size()));
    bm.publish(seq, tokens, hashes, n_published);
  }
  KvSequence seq;
  std::vector<int32_t> tokens;
  std::vector<uint64_t> hashes;
  int64_t n_published = 0;
};

TEST(BlockManager, AllocationIsAllOrNothing) {
  auto cache = make_cache(8);
  BlockManager bm(*cache, true);
  KvSequence a(*cache), b(*cache);
  ASSERT_TRUE(bm.allocate(a, 20));   // 5 blocks
  EXPECT_FALSE(bm.allocate(b, 16));  // 4 more: only 3 left
  EXPECT_TRUE(b.blocks().empty());
  EXPECT_EQ(cache->n_free_blocks(), 3);
  EXPECT_TRUE(bm.allocate(b, 12));
  EXPECT_EQ(bm.n_used(), 8);
  EXPECT_EQ(bm.n_available(), 0);
}

TEST(BlockManager, ReuseNeedsTheWholePrefixToMatch) {
  auto cache = make_cache(16);
  BlockManager bm(*cache, true);
  Published a(bm, iota(12, 100));  // blocks [100..103] [104..107] [108..111]
  EXPECT_EQ(bm.stats().blocks, 3);

  // Same first two blocks, different third.
  auto b_tokens = iota(12, 100);
  b_tokens[9] = 7;
  KvSequence b(*cache);
  std::vector<uint64_t> b_hashes;
  EXPECT_EQ(bm.reuse_prefix(b, b_tokens, 11, b_hashes), 8);
  ASSERT_EQ(b.blocks().size(), 2u);
  EXPECT_EQ(b.block_ids()[0], a.seq.block_ids()[0]);
  EXPECT_EQ(b.block_ids()[1], a.seq.block_ids()[1]);
  EXPECT_EQ(b.n_positions(), 8);
  EXPECT_EQ(a.seq.blocks()[0].ref_count(), 3);  // a, the cache, b
  EXPECT_EQ(bm.stats().hits, 2);
  EXPECT_EQ(bm.stats().misses, 0);  // max 11 positions: 2 full blocks to look up

  // The second block's tokens behind a different first block: no reuse.
  auto c_tokens = iota(12, 100);
  c_tokens[0] = 5;
  KvSequence c(*cache);
  std::vector<uint64_t> c_hashes;
  EXPECT_EQ(bm.reuse_prefix(c, c_tokens, 12, c_hashes), 0);
  EXPECT_EQ(bm.stats().misses, 3);

  // max_positions caps the reuse (the last token must be computed).
  KvSequence d(*cache);
  std::vector<uint64_t> d_hashes;
  EXPECT_EQ(bm.reuse_prefix(d, a.tokens, 11, d_hashes), 8);
}

TEST(BlockManager, UnusedCachedBlocksAreEvictedLeastRecentlyUsedFirst) {
  auto cache = make_cache(8);
  BlockManager bm(*cache, true);
  const auto a_tokens = iota(12, 100), d_tokens = iota(8, 300);
  { Published a(bm, a_tokens); }
  { Published d(bm, d_tokens); }
  // Nobody uses them: counted free, kept cached.
  EXPECT_EQ(bm.n_used(), 0);
  EXPECT_EQ(bm.n_available(), 8);
  EXPECT_EQ(cache->n_free_blocks(), 3);
  // Touch a's chain; d's blocks are now the least recently used.
  {
    KvSequence e(*cache);
    std::vector<uint64_t> h;
    EXPECT_EQ(bm.reuse_prefix(e, a_tokens, 12, h), 12);
  }
  KvSequence f(*cache);
  ASSERT_TRUE(bm.allocate(f, 20));  // 5 blocks: 3 free + 2 evicted
  EXPECT_EQ(bm.stats().blocks, 3);
  std::vector<uint64_t> h1, h2;
  KvSequence g(*cache), k(*cache);
  EXPECT_EQ(bm.reuse_prefix(g, d_tokens, 8, h1), 0);    // evicted
  EXPECT_EQ(bm.reuse_prefix(k, a_tokens, 12, h2), 12);  // kept
}

TEST(BlockManager, BlocksInUseAreNeverEvicted) {
  auto cache = make_cache(4);
  BlockManager bm(*cache, true);
  Published a(bm, iota(12, 100));  // 3 blocks, still referenced by a.seq
  KvSequence b(*cache);
  EXPECT_FALSE(bm.allocate(b, 8));
  EXPECT_EQ(bm.stats().blocks, 3);
  EXPECT_TRUE(bm.allocate(b, 4));
  bm.clear_unused();
  EXPECT_EQ(bm.stats().blocks, 3);  // in use: clear_unused keeps them
}

TEST(BlockManager, PublishingTwiceOrASecondCopyKeepsOneEntry) {
  auto cache = make_cache(8);
  BlockManager bm(*cache, true);
  Published a(bm, iota(8, 100));
  bm.publish(a.seq, a.tokens, a.hashes, a.n_published);
  Published b(bm, iota(8, 100));  // computed the same prefix independently
  EXPECT_EQ(bm.stats().blocks, 2);
  EXPECT_EQ(b.seq.blocks()[0].ref_count(), 1);  // b's copy stays private
  bm.clear_unused();
  EXPECT_EQ(bm.stats().blocks, 2);
}

TEST(BlockManager, DisabledPrefixCachingKeepsNothing) {
  auto cache = make_cache(8);
  BlockManager bm(*cache, false);
  { Published a(bm, iota(8, 100)); }
  EXPECT_EQ(cache->n_free_blocks(), 8);
  KvSequence b(*cache);
  std::vector<uint64_t> h;
  EXPECT_EQ(bm.reuse_prefix(b, iota(8, 100), 8, h), 0);
}

}  // namespace
}  // namespace kiln::engine
