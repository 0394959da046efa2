// The pushdown matcher's moves over a Grammar (internal to sampling/grammar).
//
// A configuration is a stack of frames (bottom first); frame = (rule, state).
// Because anyOf branches and nullable calls can make several moves possible,
// the matcher tracks a set of configurations. Sets are kept closed under
// "return": when a non-bottom frame sits in a final state, the configuration
// with that frame popped is in the set too. The bottom frame is never popped
// here: for the matcher it is the root (popping it = end of text, only EOS may
// follow); for the per-position mask walk it stands for "whatever called
// this rule", and a possible pop there makes later bytes context-dependent.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "sampling/grammar/grammar.h"
#include "sampling/grammar/vocabulary.h"

namespace kiln::sampling::grammar {

struct Frame {
  int32_t rule;
  int32_t state;
  bool operator==(const Frame& o) const { return rule == o.rule && state == o.state; }
};

class ConfigSet {
 public:
  void clear() {
    frames_.clear();
    ends_.clear();
  }
  bool empty() const { return ends_.empty(); }
  size_t size() const { return ends_.size(); }
  std::span<const Frame> operator[](size_t i) const {
    size_t b = i ? ends_[i - 1] : 0;
    return {frames_.data() + b, ends_[i] - b};
  }
  // Adds a configuration unless an equal one is present. `stack` must not
  // point into this set.
  void add(std::span<const Frame> stack);
  bool operator==(const ConfigSet& o) const { return frames_ == o.frames_ && ends_ == o.ends_; }

 private:
  std::vector<Frame> frames_;
  std::vector<uint32_t> ends_;
};

class Stepper {
 public:
  explicit Stepper(const Grammar& g) : g_(g) {}

  // out = the configurations reachable from `in` by consuming byte b, closed
  // under returns above the bottom frame. `out` must differ from `in`.
  void step(const ConfigSet& in, uint8_t b, ConfigSet& out);
  // Adds the returns of non-bottom frames in final states.
  void close(ConfigSet& set);
  // Some configuration is just a bottom frame in a final state.
  bool bottom_final(const ConfigSet& set) const;
  // Fast single-frame step without calls; -2 when the slow path is needed.
  int32_t simple_step(Frame f, uint8_t b) const {
    const Dfa& d = g_.rules[f.rule];
    if (!d.calls[f.state].empty()) return -2;
    return d.step(f.state, b);
  }

 private:
  void advance(uint8_t b, size_t len, ConfigSet& out, int depth);
  const Grammar& g_;
  std::vector<Frame> buf_;
  std::vector<Frame> tmp_;
};

// What a position (rule, state) allows, computed once per position from the
// vocabulary trie with the caller unknown:
//  - accepted: tokens whose bytes all fit without returning from `rule`;
//  - uncertain: tokens that fit only by returning from `rule` part-way, so
//    they are re-checked against the real stack at run time;
//  - every other token is rejected in any context.
struct PositionMask {
  std::vector<int32_t> accepted_ids;     // sorted ids, when few are accepted
  std::vector<uint64_t> accepted_bits;   // bitset over ids, when many are
  std::vector<int32_t> uncertain_ranks;  // trie ranks, ascending
  size_t accepted_count = 0;
  size_t memory_bytes() const {
    return accepted_ids.capacity() * 4 + accepted_bits.capacity() * 8 +
           uncertain_ranks.capacity() * 4;
  }
};

PositionMask compute_position_mask(const Grammar& g, const Vocabulary& vocab, Frame at);

// Checks the tokens at `ranks` (ascending trie ranks) against the full stack
// `config`, sharing work between tokens with common prefixes; sets the bit of
// every token that fits.
class TokenChecker {
 public:
  TokenChecker(const Grammar& g, const Vocabulary& vocab) : vocab_(vocab), stepper_(g) {}
  void check(std::span<const Frame> config, std::span<const int32_t> ranks, uint64_t* bits);

 private:
  const Vocabulary& vocab_;
  Stepper stepper_;
  std::vector<ConfigSet> levels_;
};

}  // namespace kiln::sampling::grammar
