// Builds GGUF bytes in memory for bad-input tests: a valid little file that a
// test then breaks in one precise way (or writes a broken field on purpose).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace kiln::test {

class GgufBuilder {
 public:
  explicit GgufBuilder(uint32_t version = 3) : version_(version) {}

  // Raw pieces, for writing deliberately wrong values.
  static void put_u32(std::vector<uint8_t>& b, uint32_t v) { put(b, &v, 4); }
  static void put_u64(std::vector<uint8_t>& b, uint64_t v) { put(b, &v, 8); }
  static void put_str(std::vector<uint8_t>& b, const std::string& s) {
    put_u64(b, s.size());
    b.insert(b.end(), s.begin(), s.end());
  }

  GgufBuilder& kv_u32(const std::string& key, uint32_t v) {
    put_str(kv_, key);
    put_u32(kv_, 4);
    put_u32(kv_, v);
    ++n_kv_;
    return *this;
  }
  GgufBuilder& kv_f32(const std::string& key, float v) {
    put_str(kv_, key);
    put_u32(kv_, 6);
    put(kv_, &v, 4);
    ++n_kv_;
    return *this;
  }
  GgufBuilder& kv_bool(const std::string& key, bool v) {
    put_str(kv_, key);
    put_u32(kv_, 7);
    kv_.push_back(v ? 1 : 0);
    ++n_kv_;
    return *this;
  }
  GgufBuilder& kv_str(const std::string& key, const std::string& v) {
    put_str(kv_, key);
    put_u32(kv_, 8);
    put_str(kv_, v);
    ++n_kv_;
    return *this;
  }
  GgufBuilder& kv_strs(const std::string& key, const std::vector<std::string>& v) {
    put_str(kv_, key);
    put_u32(kv_, 9);
    put_u32(kv_, 8);
    put_u64(kv_, v.size());
    for (const auto& s : v) put_str(kv_, s);
    ++n_kv_;
    return *this;
  }
  GgufBuilder& kv_i32s(const std::string& key, const std::vector<int32_t>& v) {
    put_str(kv_, key);
    put_u32(kv_, 9);
    put_u32(kv_, 5);
    put_u64(kv_, v.size());
    for (int32_t x : v) put(kv_, &x, 4);
    ++n_kv_;
    return *this;
  }
  // Appends already-encoded key/value bytes (counted as one entry).
  GgufBuilder& kv_raw(const std::vector<uint8_t>& bytes) {
    kv_.insert(kv_.end(), bytes.begin(), bytes.end());
    ++n_kv_;
    return *this;
  }
  // A tensor of GGML type `type`, shape `ne` (GGUF order), at `offset` in the data section.
  GgufBuilder& tensor(const std::string& name, uint32_t type, const std::vector<uint64_t>& ne,
                      uint64_t offset) {
    put_str(ti_, name);
    put_u32(ti_, static_cast<uint32_t>(ne.size()));
    for (uint64_t d : ne) put_u64(ti_, d);
    put_u32(ti_, type);
    put_u64(ti_, offset);
    ++n_tensors_;
    return *this;
  }
  GgufBuilder& data(size_t n_bytes, uint8_t fill = 0) {
    data_.assign(n_bytes, fill);
    return *this;
  }
  GgufBuilder& counts(uint64_t n_tensors, uint64_t n_kv) {
    force_tensors_ = n_tensors;
    force_kv_ = n_kv;
    forced_ = true;
    return *this;
  }

  std::vector<uint8_t> build(uint64_t alignment = 32) const {
    std::vector<uint8_t> b;
    put_u32(b, 0x46554747);
    put_u32(b, version_);
    put_u64(b, forced_ ? force_tensors_ : n_tensors_);
    put_u64(b, forced_ ? force_kv_ : n_kv_);
    b.insert(b.end(), kv_.begin(), kv_.end());
    b.insert(b.end(), ti_.begin(), ti_.end());
    while (b.size() % alignment != 0) b.push_back(0);
    b.insert(b.end(), data_.begin(), data_.end());
    return b;
  }

 private:
  static void put(std::vector<uint8_t>& b, const void* p, size_t n) {
    const auto* c = static_cast<const uint8_t*>(p);
    b.insert(b.end(), c, c + n);
  }
  uint32_t version_;
  std::vector<uint8_t> kv_, ti_, data_;
  uint64_t n_kv_ = 0, n_tensors_ = 0;
  uint64_t force_tensors_ = 0, force_kv_ = 0;
  bool forced_ = false;
};

}  // namespace kiln::test
