// What a Constraint holds (internal to sampling/grammar): the grammar, the
// vocabulary, and the per-position masks, filled lazily (or at compile time)
// and published through atomics so that concurrent matchers may share them.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "sampling/grammar/grammar.h"
#include "sampling/grammar/pda.h"
#include "sampling/grammar/vocabulary.h"

namespace kiln::sampling::grammar {

struct ConstraintData {
  ConstraintData(std::shared_ptr<const Vocabulary> v, Grammar g, std::string k);
  ~ConstraintData();

  // The mask of a position, computed on first use.
  const PositionMask& mask(Frame at) const;
  // Computes every mask now (at compile time, off the engine thread) when
  // there are at most `max_masks` distinct ones; otherwise they stay lazy.
  void precompute(int32_t max_masks) const;

  std::shared_ptr<const Vocabulary> vocab;
  Grammar grammar;
  std::string kind;
  // Positions with the same behaviour over the longest token share a mask.
  std::vector<int32_t> mask_class;  // position -> class
  std::vector<Frame> class_frame;   // class -> one of its positions
  int32_t num_mask_classes = 0;
  std::unique_ptr<std::atomic<const PositionMask*>[]> masks;  // per class
  mutable std::atomic<size_t> mask_bytes{0};  // of distinct masks
  mutable std::mutex publish_mu;
  mutable std::unordered_map<uint64_t, std::vector<const PositionMask*>> interned;  // by content hash
  mutable std::vector<std::unique_ptr<const PositionMask>> owned;
};

}  // namespace kiln::sampling::grammar
