// Helpers of the forward-pass tests: read float32 goldens, and run prompts
// through a Model with a private KV cache.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "model/forward.h"

namespace kiln::test {

// A raw float32 little-endian file (the goldens' .bin format).
inline std::vector<float> read_f32(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  in.seekg(0, std::ios::end);
  std::vector<float> v(static_cast<size_t>(in.tellg()) / sizeof(float));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(v.data()),
          static_cast<std::streamsize>(v.size() * sizeof(float)));
  return v;
}

inline double max_abs_diff(std::span<const float> a, std::span<const float> b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0.0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    m = std::max(m, std::abs(static_cast<double>(a[i]) - b[i]));
  return m;
}

// One model with a KV cache of its own and a single sequence that prompts
// and decode steps extend.
class SingleSequence {
 public:
  SingleSequence(model::Model& m, int64_t n_blocks = 64, int32_t block_size = 16)
      : model_(m),
        kv_(std::move(model::KvCache::create(m.kv_cache_options(n_blocks, block_size)).value())),
        seq_(std::make_unique<model::KvSequence>(*kv_)) {}
  ~SingleSequence() { seq_.reset(); }

  // Feeds ids at the next positions in one batch; returns the logits of
  // every position (all_logits) or of the last one.
  model::Logits feed(const std::vector<int32_t>& ids, bool all_logits = true) {
    const int64_t start = seq_->n_positions();
    EXPECT_TRUE(seq_->reserve(start + static_cast<int64_t>(ids.size())));
    model::Batch batch;
    batch.seqs = {seq_.get()};
    for (size_t i = 0; i < ids.size(); ++i)
      batch.tokens.push_back({.id = ids[i],
                              .seq = 0,
                              .pos = start + static_cast<int64_t>(i),
                              .logits = all_logits || i + 1 == ids.size()});
    auto r = model_.forward(batch, *kv_);
    EXPECT_TRUE(r.ok()) << r.message();
    return r.ok() ? std::move(r).value() : model::Logits{};
  }

  model::KvSequence& seq() { return *seq_; }
  model::KvCache& kv() { return *kv_; }

 private:
  model::Model& model_;
  std::unique_ptr<model::KvCache> kv_;
  std::unique_ptr<model::KvSequence> seq_;
};

inline int32_t argmax(std::span<const float> v) {
  size_t best = 0;
  for (size_t i = 1; i < v.size(); ++i)
    if (v[i] > v[best]) best = i;
  return static_cast<int32_t>(best);
}

}  // namespace kiln::test
