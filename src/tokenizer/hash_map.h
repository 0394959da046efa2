// Open-addressing hash maps for the two lookups on the encode hot path:
// token string -> id (vocabulary) and (left id, right id) -> merge. Both are
// built once at load and then only read, so concurrent lookups need no lock.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::tokenizer {

// Keys live in one arena string; a slot keeps the hash, so a probe compares
// bytes only when 64 hash bits agree. Load factor stays at or under 1/2.
class StringIdMap {
 public:
  void reserve(size_t n) { rehash(capacity_for(n)); }
  size_t size() const { return size_; }

  // Inserts key -> id, replacing the id of an existing key (last one wins,
  // as in a JSON object or GGUF token list read in order).
  void insert_or_assign(std::string_view key, int32_t id) {
    if ((size_ + 1) * 2 > slots_.size()) rehash(capacity_for(size_ + 1));
    const uint64_t h = hash(key);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.id < 0) {
        s = Slot{h, uint32_t(arena_.size()), uint32_t(key.size()), id};
        arena_.append(key);
        ++size_;
        return;
      }
      if (s.hash == h && key_of(s) == key) {
        s.id = id;
        return;
      }
    }
  }

  // The id of `key`, or -1.
  int32_t find(std::string_view key) const {
    if (size_ == 0) return -1;
    const uint64_t h = hash(key);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id < 0) return -1;
      if (s.hash == h && s.len == key.size() &&
          std::memcmp(arena_.data() + s.off, key.data(), s.len) == 0)
        return s.id;
    }
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t off = 0, len = 0;
    int32_t id = -1;
  };
  static uint64_t hash(std::string_view k) { return XXH3_64bits(k.data(), k.size()); }
  static size_t capacity_for(size_t n) {
    size_t c = 16;
    while (c < n * 2) c *= 2;
    return c;
  }
  std::string_view key_of(const Slot& s) const { return {arena_.data() + s.off, s.len}; }
  void rehash(size_t capacity) {
    if (capacity <= slots_.size()) return;
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    for (const Slot& s : old) {
      if (s.id < 0) continue;
      size_t i = s.hash & mask_;
      while (slots_[i].id >= 0) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  std::string arena_;
  size_t size_ = 0;
  size_t mask_ = 0;
};

// (left, right) -> (rank, merged id) for BPE merges.
class PairMap {
 public:
  struct Merge {
    uint32_t rank;
    int32_t id;
  };

  void reserve(size_t n) { rehash(capacity_for(n)); }
  size_t size() const { return size_; }

  // Later merges of the same pair replace earlier ones (as a Rust HashMap
  // collected from the merges list does).
  void insert_or_assign(int32_t a, int32_t b, Merge m) {
    if ((size_ + 1) * 2 > slots_.size()) rehash(capacity_for(size_ + 1));
    const uint64_t k = key(a, b);
    for (size_t i = mix(k) & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.key == kEmpty) {
        s = Slot{k, m};
        ++size_;
        return;
      }
      if (s.key == k) {
        s.merge = m;
        return;
      }
    }
  }

  const Merge* find(int32_t a, int32_t b) const {
    if (size_ == 0) return nullptr;
    const uint64_t k = key(a, b);
    for (size_t i = mix(k) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == k) return &s.merge;
      if (s.key == kEmpty) return nullptr;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  struct Slot {
    uint64_t key = kEmpty;
    Merge merge{0, -1};
  };
  static uint64_t key(int32_t a, int32_t b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }
  static uint64_t mix(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return k;
  }
  static size_t capacity_for(size_t n) {
    size_t c = 16;
    while (c < n * 2) c *= 2;
    return c;
  }
  void rehash(size_t capacity) {
    if (capacity <= slots_.size()) return;
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    for (const Slot& s : old) {
      if (s.key == kEmpty) continue;
      size_t i = mix(s.key) & mask_;
      while (slots_[i].key != kEmpty) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
  size_t mask_ = 0;
};

}  // namespace kiln::tokenizer
