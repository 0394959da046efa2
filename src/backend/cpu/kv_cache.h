// The paged KV cache: keys and values of every layer live in fixed-size
// blocks of `block_size` positions; a sequence reaches its positions through
// its block table (KvSequence), so sequences grow without copying and blocks
// can be shared between sequences (prefix caching).
//
// Ownership and threads: the engine thread owns the KvCache and every
// KvBlock / KvSequence; nothing here is thread-safe. A block is returned to
// the free list by the destructor of its last handle, never by remembering
// to free it: dropping a sequence (finished, failed, cancelled, preempted)
// frees its blocks. All handles must be dropped before the cache itself
// (checked: destroying a cache with blocks in use aborts, a bug in Kiln).
//
// Storage is float32. Layout per layer: K[block][slot][kv_head][head_dim_k],
// likewise V; position p of a sequence is slot p % block_size of block
// table[p / block_size].
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "util/result.h"

namespace kiln::backend::cpu {

struct KvCacheOptions {
  int32_t n_layers = 0;
  int32_t n_kv_heads = 0;
  int32_t head_dim_k = 0;
  int32_t head_dim_v = 0;
  int32_t block_size = 16;  // positions per block
  int64_t n_blocks = 0;
};

class KvCache;

// One reference to one block. Move-only; share() adds a reference (for a
// second sequence with the same prefix). The block is free again when its
// last reference is destroyed or reset.
class KvBlock {
 public:
  KvBlock() = default;
  KvBlock(KvBlock&& other) noexcept;
  KvBlock& operator=(KvBlock&& other) noexcept;
  KvBlock(const KvBlock&) = delete;
  KvBlock& operator=(const KvBlock&) = delete;
  ~KvBlock() { reset(); }

  bool valid() const { return cache_ != nullptr; }
  const KvCache* cache() const { return cache_; }
  int32_t id() const { return id_; }
  int32_t ref_count() const;  // references to this block, this one included
  KvBlock share() const;      // requires valid()
  void reset();

 private:
  friend class KvCache;
  KvBlock(KvCache* cache, int32_t id) : cache_(cache), id_(id) {}
  KvCache* cache_ = nullptr;
  int32_t id_ = -1;
};

// A sequence's block table: block i holds positions [i*B, (i+1)*B) where B
// is the block size. n_positions() counts the positions whose K/V are
// written (the forward pass advances it).
class KvSequence {
 public:
  explicit KvSequence(KvCache& cache) : cache_(&cache) {}
  KvSequence(KvSequence&&) noexcept = default;
  KvSequence& operator=(KvSequence&&) noexcept = default;

  KvCache& cache() const { return *cache_; }
  int64_t n_positions() const { return n_positions_; }
  int64_t capacity() const;  // positions the blocks can hold
  const std::vector<KvBlock>& blocks() const { return blocks_; }
  const std::vector<int32_t>& block_ids() const { return block_ids_; }

  // Grows the table until capacity() >= n_positions. All or nothing: false
  // (and no change) when the cache has too few free blocks.
  [[nodiscard]] bool reserve(int64_t n_positions);

  // Forgets positions >= n_positions and frees the blocks past them.
  void truncate(int64_t n_positions);

  // Appends a full block shared with another sequence (prefix caching);
  // requires n_positions() == capacity(). Its positions count as written.
  void append_full_block(KvBlock block);

  // For the forward pass, after writing positions [.., n): n becomes the
  // sequence's length. Requires n <= capacity().
  void set_n_positions(int64_t n);

 private:
  KvCache* cache_;
  std::vector<KvBlock> blocks_;
  std::vector<int32_t> block_ids_;  // blocks_[i].id(), contiguous for the kernels
  int64_t n_positions_ = 0;
};

class KvCache {
 public:
  // Bytes of storage a cache with these options needs (0 when invalid).
  static int64_t storage_bytes(const KvCacheOptions& options);
  // Fails on invalid options or when the storage cannot be reserved. Pages
  // are mapped lazily, so an oversized pool costs address space, not memory,
  // until used.
  static util::Result<std::unique_ptr<KvCache>> create(const KvCacheOptions& options);
  ~KvCache();
  KvCache(const KvCache&) = delete;
  KvCache& operator=(const KvCache&) = delete;

  const KvCacheOptions& options() const { return options_; }
  int32_t block_size() const { return options_.block_size; }
  int64_t n_blocks() const { return options_.n_blocks; }
  int64_t n_free_blocks() const { return static_cast<int64_t>(free_.size()); }

  // A fresh block with one reference, or nullopt when none is free.
  std::optional<KvBlock> allocate();

  // Storage of one layer: K rows of n_kv_heads * head_dim_k floats, one per
  // slot, blocks of block_size rows one after another (likewise V).
  float* k_data(int32_t layer) { return k_ + layer * layer_floats_k_; }
  float* v_data(int32_t layer) { return v_ + layer * layer_floats_v_; }
  int64_t k_row() const { return static_cast<int64_t>(options_.n_kv_heads) * options_.head_dim_k; }
  int64_t v_row() const { return static_cast<int64_t>(options_.n_kv_heads) * options_.head_dim_v; }

 private:
  friend class KvBlock;
  KvCache(const KvCacheOptions& options, void* storage, int64_t bytes);
  void add_ref(int32_t id) { ++refs_[id]; }
  void release(int32_t id);

  KvCacheOptions options_;
  void* storage_;
  int64_t storage_bytes_;
  float* k_;
  float* v_;
  int64_t layer_floats_k_;
  int64_t layer_floats_v_;
  std::vector<int32_t> refs_;  // per block
  std::vector<int32_t> free_;  // LIFO: a just-freed block is likely still in cache
};

}  // namespace kiln::backend::cpu
