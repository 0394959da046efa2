#include "engine/block_manager.h"

#include <xxhash.h>

#include <algorithm>

namespace kiln::engine {

namespace {

// Parent hash of block 0: any fixed value; it only has to be the same for
// every sequence.
constexpr uint64_t kRootHash = 0x6b696c6e00000000ull;

}  // namespace

BlockManager::BlockManager(KvCache& cache, bool prefix_caching)
    : cache_(&cache), enabled_(prefix_caching) {}

int64_t BlockManager::n_unused_cached(int64_t enough) const {
  int64_t n = 0;
  for (uint64_t h : lru_) {
    if (n >= enough) break;
    n += entries_.at(h).block.ref_count() == 1;
  }
  return n;
}

int64_t BlockManager::n_used() const {
  return cache_->n_blocks() - cache_->n_free_blocks() - n_unused_cached(INT64_MAX);
}

int64_t BlockManager::n_available() const {
  return cache_->n_free_blocks() + n_unused_cached(INT64_MAX);
}

int64_t BlockManager::blocks_needed(const KvSequence& seq, int64_t n_positions) const {
  const int64_t bs = block_size();
  const int64_t have = static_cast<int64_t>(seq.blocks().size());
  return std::max<int64_t>(0, (n_positions + bs - 1) / bs - have);
}

bool BlockManager::make_free(int64_t n) {
  const int64_t short_by = n - cache_->n_free_blocks();
  if (short_by <= 0) return true;
  // Check first, so a failed call evicts nothing (all or nothing).
  if (n_unused_cached(short_by) < short_by) return false;
  for (auto it = lru_.begin(); it != lru_.end() && cache_->n_free_blocks() < n;) {
    auto e = entries_.find(*it);
    if (e->second.block.ref_count() == 1) {
      it = lru_.erase(it);
      entries_.erase(e);  // drops the cache's reference: the block is free
    } else {
      ++it;
    }
  }
  stats_.blocks = static_cast<int64_t>(entries_.size());
  return cache_->n_free_blocks() >= n;
}

bool BlockManager::allocate(KvSequence& seq, int64_t n_positions) {
  const int64_t need = blocks_needed(seq, n_positions);
  if (need == 0) return true;
  if (!make_free(need)) return false;
  return seq.reserve(n_positions);
}

uint64_t BlockManager::block_hash(std::span<const int32_t> tokens, size_t i,
                                  std::vector<uint64_t>& hashes) {
  const size_t bs = static_cast<size_t>(block_size());
  while (hashes.size() <= i) {
    const size_t b = hashes.size();
    const uint64_t parent = b == 0 ? kRootHash : hashes[b - 1];
    hashes.push_back(XXH3_64bits_withSeed(tokens.data() + b * bs, bs * sizeof(int32_t), parent));
  }
  return hashes[i];
}

const BlockManager::Entry* BlockManager::find(uint64_t hash, uint64_t parent,
                                              std::span<const int32_t> block) const {
  auto it = entries_.find(hash);
  if (it == entries_.end()) return nullptr;
  const Entry& e = it->second;
  if (e.parent != parent ||
      !std::equal(block.begin(), block.end(), e.tokens.begin(), e.tokens.end()))
    return nullptr;  // a hash collision: treat as absent
  return &e;
}

void BlockManager::touch(Entry& entry) { lru_.splice(lru_.end(), lru_, entry.lru); }

int64_t BlockManager::reuse_prefix(KvSequence& seq, std::span<const int32_t> tokens,
                                   int64_t max_positions, std::vector<uint64_t>& hashes) {
  if (!enabled_ || !seq.blocks().empty()) return 0;
  const int64_t bs = block_size();
  const int64_t max_blocks =
      std::min<int64_t>(max_positions, static_cast<int64_t>(tokens.size())) / bs;
  std::vector<uint64_t> hit;
  for (int64_t i = 0; i < max_blocks; ++i) {
    const uint64_t h = block_hash(tokens, static_cast<size_t>(i), hashes);
    const uint64_t parent = i == 0 ? kRootHash : hashes[static_cast<size_t>(i - 1)];
    const Entry* e =
        find(h, parent, tokens.subspan(static_cast<size_t>(i * bs), static_cast<size_t>(bs)));
    if (e == nullptr) break;
    seq.append_full_block(e->block.share());
    hit.push_back(h);
  }
  // Touch the deepest block first, so a parent is always more recently used
  // than its children and eviction never strands a reachable child.
  for (auto h = hit.rbegin(); h != hit.rend(); ++h) touch(entries_.at(*h));
  stats_.hits += static_cast<int64_t>(hit.size());
  stats_.misses += max_blocks - static_cast<int64_t>(hit.size());
  return static_cast<int64_t>(hit.size()) * bs;
}

void BlockManager::publish(const KvSequence& seq, std::span<const int32_t> tokens,
                           std::vector<uint64_t>& hashes, int64_t& n_published) {
  if (!enabled_) return;
  const int64_t bs = block_size();
  const int64_t n_full =
      std::min<int64_t>(seq.n_positions(), static_cast<int64_t>(tokens.size())) / bs;
  std::vector<uint64_t> touched;
  for (int64_t i = n_published; i < n_full; ++i) {
    const uint64_t h = block_hash(tokens, static_cast<size_t>(i), hashes);
    const uint64_t parent = i == 0 ? kRootHash : hashes[static_cast<size_t>(i - 1)];
    auto block = tokens.subspan(static_cast<size_t>(i * bs), static_cast<size_t>(bs));
    auto it = entries_.find(h);
    if (it == entries_.end()) {
      Entry e;
      e.parent = parent;
      e.tokens.assign(block.begin(), block.end());
      e.block = seq.blocks()[static_cast<size_t>(i)].share();
      e.lru = lru_.insert(lru_.end(), h);
      entries_.emplace(h, std::move(e));
      touched.push_back(h);
    } else if (find(h, parent, block) != nullptr) {
      // Someone computed the same prefix first; this sequence's copy stays
      // private and is freed with it.
      touched.push_back(h);
    }
  }
  n_published = std::max(n_published, n_full);
  for (auto h = touched.rbegin(); h != touched.rend(); ++h) touch(entries_.at(*h));
  stats_.blocks = static_cast<int64_t>(entries_.size());
}

void BlockManager::clear_unused() {
  for (auto it = lru_.begin(); it != lru_.end();) {
    auto e = entries_.find(*it);
    if (e->second.block.ref_count() == 1) {
      it = lru_.erase(it);
      entries_.erase(e);
    } else {
      ++it;
    }
  }
  stats_.blocks = static_cast<int64_t>(entries_.size());
}

}  // namespace kiln::engine
