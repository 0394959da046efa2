#include "backend/cpu/kv_cache.h"

#include <sys/mman.h>

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>

namespace kiln::backend::cpu {

KvBlock::KvBlock(KvBlock&& other) noexcept : cache_(other.cache_), id_(other.id_) {
  other.cache_ = nullptr;
  other.id_ = -1;
}

KvBlock& KvBlock::operator=(KvBlock&& other) noexcept {
  if (this != &other) {
    reset();
    cache_ = other.cache_;
    id_ = other.id_;
    other.cache_ = nullptr;
    other.id_ = -1;
  }
  return *this;
}

int32_t KvBlock::ref_count() const { return cache_ != nullptr ? cache_->refs_[id_] : 0; }

KvBlock KvBlock::share() const {
  cache_->add_ref(id_);
  return KvBlock(cache_, id_);
}

void KvBlock::reset() {
  if (cache_ != nullptr) cache_->release(id_);
  cache_ = nullptr;
  id_ = -1;
}

int64_t KvSequence::capacity() const {
  return static_cast<int64_t>(blocks_.size()) * cache_->block_size();
}

bool KvSequence::reserve(int64_t n_positions) {
  const int64_t bs = cache_->block_size();
  const int64_t need = (n_positions + bs - 1) / bs - static_cast<int64_t>(blocks_.size());
  if (need <= 0) return true;
  if (need > cache_->n_free_blocks()) return false;
  for (int64_t i = 0; i < need; ++i) {
    KvBlock block = *cache_->allocate();
    block_ids_.push_back(block.id());
    blocks_.push_back(std::move(block));
  }
  return true;
}

void KvSequence::truncate(int64_t n_positions) {
  if (n_positions < 0) n_positions = 0;
  const int64_t bs = cache_->block_size();
  const auto keep = static_cast<size_t>((n_positions + bs - 1) / bs);
  if (keep < blocks_.size()) {
    blocks_.resize(keep);
    block_ids_.resize(keep);
  }
  if (n_positions < n_positions_) n_positions_ = n_positions;
}

void KvSequence::append_full_block(KvBlock block) {
  if (n_positions_ != capacity() || !block.valid() || block.cache() != cache_) std::abort();
  block_ids_.push_back(block.id());
  blocks_.push_back(std::move(block));
  n_positions_ = capacity();
}

void KvSequence::set_n_positions(int64_t n) {
  if (n < 0 || n > capacity()) std::abort();  // the forward pass checks first
  n_positions_ = n;
}

int64_t KvCache::storage_bytes(const KvCacheOptions& o) {
  if (o.n_layers <= 0 || o.n_kv_heads <= 0 || o.head_dim_k <= 0 || o.head_dim_v <= 0 ||
      o.block_size <= 0 || o.n_blocks <= 0)
    return 0;
  // Every factor is at most 2^31, so check the products stay below 2^62.
  const double floats = static_cast<double>(o.n_layers) * o.n_blocks * o.block_size * o.n_kv_heads *
                        (static_cast<double>(o.head_dim_k) + o.head_dim_v);
  if (floats * 4.0 > static_cast<double>(std::numeric_limits<int64_t>::max() / 2)) return 0;
  return static_cast<int64_t>(o.n_layers) * o.n_blocks * o.block_size * o.n_kv_heads *
         (static_cast<int64_t>(o.head_dim_k) + o.head_dim_v) * 4;
}

util::Result<std::unique_ptr<KvCache>> KvCache::create(const KvCacheOptions& options) {
  const int64_t bytes = storage_bytes(options);
  if (bytes == 0)
    return util::make_error(
        "KV cache: layers, heads, head sizes, block size and block count must be positive");
  if (options.n_blocks > std::numeric_limits<int32_t>::max())
    return util::make_error("KV cache: too many blocks (" + std::to_string(options.n_blocks) + ")");
  void* storage = mmap(nullptr, static_cast<size_t>(bytes), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (storage == MAP_FAILED)
    return util::make_error("KV cache: cannot reserve " + std::to_string(bytes >> 20) + " MiB");
  return std::unique_ptr<KvCache>(new KvCache(options, storage, bytes));
}

KvCache::KvCache(const KvCacheOptions& o, void* storage, int64_t bytes)
    : options_(o), storage_(storage), storage_bytes_(bytes) {
  layer_floats_k_ = o.n_blocks * o.block_size * k_row();
  layer_floats_v_ = o.n_blocks * o.block_size * v_row();
  k_ = static_cast<float*>(storage);
  v_ = k_ + o.n_layers * layer_floats_k_;
  refs_.assign(static_cast<size_t>(o.n_blocks), 0);
  free_.reserve(static_cast<size_t>(o.n_blocks));
  for (int64_t i = o.n_blocks; i-- > 0;) free_.push_back(static_cast<int32_t>(i));
}

KvCache::~KvCache() {
  if (n_free_blocks() != n_blocks()) {
    std::fprintf(stderr, "kiln: KvCache destroyed with %lld blocks still referenced\n",
                 static_cast<long long>(n_blocks() - n_free_blocks()));
    std::abort();
  }
  munmap(storage_, static_cast<size_t>(storage_bytes_));
}

std::optional<KvBlock> KvCache::allocate() {
  if (free_.empty()) return std::nullopt;
  const int32_t id = free_.back();
  free_.pop_back();
  refs_[id] = 1;
  return KvBlock(this, id);
}

void KvCache::release(int32_t id) {
  if (--refs_[id] == 0) free_.push_back(id);
}

}  // namespace kiln::backend::cpu
