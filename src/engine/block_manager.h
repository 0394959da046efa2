// KV memory for the scheduler: grows block tables on request ("room for n
// positions, or no"), and keeps the prefix cache.
//
// Prefix cache: every full block a sequence has computed is published under
// a hash of its tokens chained with the hash of the block before it, so a key
// names the whole prefix up to the block's end. The cache holds one
// reference to each published block; a block nobody else references is
// "unused" and is evicted, least recently used first, when a table needs a
// block and the free list is empty. A new or preempted sequence starts with
// every cached block of its prefix (a shared system prompt or a growing chat
// is computed once). Lookups compare the stored tokens too, so a 64-bit hash
// collision costs a miss, never a wrong answer.
//
// Reuse is exact because the forward pass is batch- and chunk-invariant: a
// block's K/V do not depend on which request computed them or how its prompt
// was split into steps (model/forward.h).
//
// Engine thread only.
#pragma once

#include <cstdint>
#include <list>
#include <span>
#include <unordered_map>
#include <vector>

#include "backend/cpu/kv_cache.h"

namespace kiln::engine {

using backend::cpu::KvBlock;
using backend::cpu::KvCache;
using backend::cpu::KvSequence;

struct PrefixCacheStats {
  int64_t hits = 0;    // blocks reused by an admission
  int64_t misses = 0;  // full prompt blocks an admission looked up and did not find
  int64_t blocks = 0;  // blocks published in the cache (some may be in use)
};

class BlockManager {
 public:
  BlockManager(KvCache& cache, bool prefix_caching);
  BlockManager(const BlockManager&) = delete;
  BlockManager& operator=(const BlockManager&) = delete;

  KvCache& cache() { return *cache_; }
  int32_t block_size() const { return cache_->block_size(); }
  int64_t n_blocks() const { return cache_->n_blocks(); }
  // Blocks referenced by some sequence (cached blocks nobody uses excluded).
  int64_t n_used() const;
  // Blocks a table could get now: free ones plus unused cached ones.
  int64_t n_available() const;
  // Blocks needed to grow `seq` to n_positions.
  int64_t blocks_needed(const KvSequence& seq, int64_t n_positions) const;

  // Grows seq's table to hold n_positions, evicting unused cached blocks
  // when the free list runs short. All or nothing: false changes nothing.
  [[nodiscard]] bool allocate(KvSequence& seq, int64_t n_positions);

  // For a sequence without blocks: appends the cached blocks that hold the
  // longest prefix of `tokens`, at most max_positions positions, and returns
  // how many positions they cover. `hashes` is the sequence's hash chain
  // (extended as needed; see Sequence::block_hashes()).
  int64_t reuse_prefix(KvSequence& seq, std::span<const int32_t> tokens, int64_t max_positions,
                       std::vector<uint64_t>& hashes);

  // Publishes the computed full blocks of `seq` that are not yet published
  // (n_published counts them and is advanced).
  void publish(const KvSequence& seq, std::span<const int32_t> tokens,
               std::vector<uint64_t>& hashes, int64_t& n_published);

  // Drops every cached block nobody uses (tests, memory pressure).
  void clear_unused();

  const PrefixCacheStats& stats() const { return stats_; }

 private:
  struct Entry {
    uint64_t parent = 0;
    std::vector<int32_t> tokens;
    KvBlock block;
    std::list<uint64_t>::iterator lru;  // position in lru_
  };

  // Hash of block i of `tokens`, computing the chain up to it.
  uint64_t block_hash(std::span<const int32_t> tokens, size_t i, std::vector<uint64_t>& hashes);
  const Entry* find(uint64_t hash, uint64_t parent, std::span<const int32_t> block) const;
  void touch(Entry& entry);
  // Evicts unused cached blocks, oldest first, until `n` blocks are free.
  bool make_free(int64_t n);
  int64_t n_unused_cached(int64_t enough) const;

  KvCache* cache_;
  bool enabled_;
  std::unordered_map<uint64_t, Entry> entries_;
  std::list<uint64_t> lru_;  // least recently used first
  PrefixCacheStats stats_;
};

}  // namespace kiln::engine
