#include "backend/cpu/kv_cache.h"

#include <gtest/gtest.h>

#include <set>

namespace kiln::backend::cpu {
namespace {

KvCacheOptions small_options(int64_t n_blocks) {
  return {.n_layers = 2,
          .n_kv_heads = 2,
          .head_dim_k = 4,
          .head_dim_v = 3,
          .block_size = 4,
          .n_blocks = n_blocks};
}

TEST(KvCacheTest, RejectsInvalidOptions) {
  auto bad = small_options(0);
  auto r = KvCache::create(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("KV cache"), std::string::npos);
  bad = small_options(4);
  bad.head_dim_v = -1;
  EXPECT_FALSE(KvCache::create(bad).ok());
  bad = small_options(int64_t{1} << 40);  // 2^40 blocks: refused, not allocated
  EXPECT_FALSE(KvCache::create(bad).ok());
}

TEST(KvCacheTest, StorageLayoutSeparatesLayersAndBlocks) {
  auto o = small_options(3);
  EXPECT_EQ(KvCache::storage_bytes(o), 2 * 3 * 4 * 2 * (4 + 3) * 4);
  auto cache = std::move(KvCache::create(o).value());
  EXPECT_EQ(cache->k_row(), 8);
  EXPECT_EQ(cache->v_row(), 6);
  EXPECT_EQ(cache->k_data(1) - cache->k_data(0), 3 * 4 * 8);
  EXPECT_EQ(cache->v_data(1) - cache->v_data(0), 3 * 4 * 6);
  // Writable, zero-initialised.
  EXPECT_EQ(cache->v_data(1)[3 * 4 * 6 - 1], 0.0f);
  cache->v_data(1)[3 * 4 * 6 - 1] = 1.0f;
}

TEST(KvCacheTest, BlocksReturnWhenTheLastHandleDies) {
  auto cache = std::move(KvCache::create(small_options(3)).value());
  {
    auto a = cache->allocate();
    auto b = cache->allocate();
    auto c = cache->allocate();
    ASSERT_TRUE(a && b && c);
    EXPECT_FALSE(cache->allocate().has_value());
    EXPECT_EQ(cache->n_free_blocks(), 0);
    std::set<int32_t> ids = {a->id(), b->id(), c->id()};
    EXPECT_EQ(ids.size(), 3u);
    KvBlock shared = a->share();
    EXPECT_EQ(shared.id(), a->id());
    EXPECT_EQ(a->ref_count(), 2);
    a->reset();
    EXPECT_EQ(cache->n_free_blocks(), 0);  // still referenced by `shared`
    EXPECT_EQ(shared.ref_count(), 1);
    KvBlock moved = std::move(shared);
    EXPECT_FALSE(shared.valid());  // NOLINT: testing the moved-from state
    EXPECT_TRUE(moved.valid());
    moved = std::move(*b);  // drops the block `moved` held
    EXPECT_EQ(cache->n_free_blocks(), 1);
  }
  EXPECT_EQ(cache->n_free_blocks(), 3);
}

TEST(KvCacheTest, SequenceReserveIsAllOrNothing) {
  auto cache = std::move(KvCache::create(small_options(4)).value());
  KvSequence s(*cache);
  EXPECT_TRUE(s.reserve(5));  // 2 blocks of 4
  EXPECT_EQ(s.capacity(), 8);
  EXPECT_EQ(s.blocks().size(), 2u);
  EXPECT_EQ(cache->n_free_blocks(), 2);
  EXPECT_FALSE(s.reserve(17));  // needs 5 blocks
  EXPECT_EQ(s.capacity(), 8);
  EXPECT_EQ(cache->n_free_blocks(), 2);
  EXPECT_TRUE(s.reserve(16));
  EXPECT_EQ(cache->n_free_blocks(), 0);
  ASSERT_EQ(s.block_ids().size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(s.block_ids()[i], s.blocks()[i].id());
  s.set_n_positions(10);
  s.truncate(5);
  EXPECT_EQ(s.n_positions(), 5);
  EXPECT_EQ(s.capacity(), 8);
  EXPECT_EQ(cache->n_free_blocks(), 2);
  s.truncate(0);
  EXPECT_EQ(cache->n_free_blocks(), 4);
}

TEST(KvCacheTest, SharedPrefixBlocksOutliveTheirFirstOwner) {
  auto cache = std::move(KvCache::create(small_options(4)).value());
  auto first = std::make_unique<KvSequence>(*cache);
  ASSERT_TRUE(first->reserve(6));
  first->set_n_positions(6);
  KvSequence second(*cache);
  second.append_full_block(first->blocks()[0].share());
  EXPECT_EQ(second.n_positions(), 4);
  EXPECT_EQ(second.block_ids()[0], first->block_ids()[0]);
  ASSERT_TRUE(second.reserve(7));
  EXPECT_EQ(cache->n_free_blocks(), 1);
  first.reset();  // the finished sequence frees only its private block
  EXPECT_EQ(cache->n_free_blocks(), 2);
  EXPECT_EQ(second.blocks()[0].ref_count(), 1);
}

TEST(KvCacheDeathTest, DestroyingTheCacheBeforeItsBlocksIsABug) {
  EXPECT_DEATH(
      {
        auto cache = std::move(KvCache::create(small_options(2)).value());
        auto block = new KvBlock(*cache->allocate());
        (void)block;
        cache.reset();
      },
      "still referenced");
}

}  // namespace
}  // namespace kiln::backend::cpu
