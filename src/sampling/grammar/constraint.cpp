#include "sampling/grammar/constraint.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <mutex>

#include "sampling/grammar/constraint_data.h"

namespace kiln::sampling {
namespace grammar {

ConstraintData::ConstraintData(std::shared_ptr<const Vocabulary> v, Grammar g, std::string k)
    : vocab(std::move(v)), grammar(std::move(g)), kind(std::move(k)) {
  mask_class = horizon_classes(grammar, vocab->max_token_bytes(), &num_mask_classes);
  class_frame.assign(num_mask_classes, Frame{-1, -1});
  for (int32_t r = 0; r < int32_t(grammar.rules.size()); ++r)
    for (int32_t s = 0; s < grammar.rules[r].num_states; ++s) {
      Frame& f = class_frame[mask_class[grammar.position(r, s)]];
      if (f.rule < 0) f = {r, s};
    }
  masks.reset(new std::atomic<const PositionMask*>[num_mask_classes]);
  for (int32_t i = 0; i < num_mask_classes; ++i) masks[i].store(nullptr);
}

ConstraintData::~ConstraintData() = default;

namespace {

uint64_t content_hash(const PositionMask& m) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](uint64_t x) { h = (h ^ x) * 1099511628211ull; };
  for (int32_t x : m.accepted_ids) mix(uint32_t(x));
  mix(~uint64_t(0));
  for (uint64_t x : m.accepted_bits) mix(x);
  mix(~uint64_t(0));
  for (int32_t x : m.uncertain_ranks) mix(uint32_t(x));
  return h;
}

bool same_content(const PositionMask& a, const PositionMask& b) {
  return a.accepted_ids == b.accepted_ids && a.accepted_bits == b.accepted_bits &&
         a.uncertain_ranks == b.uncertain_ranks;
}

}  // namespace

// Lock-free once published; the mutex only serializes publication, where
// equal masks of different classes are stored once (about 3 in 4 masks of a
// schema with length-limited strings repeat another one).
const PositionMask& ConstraintData::mask(Frame at) const {
  auto& slot = masks[mask_class[grammar.position(at.rule, at.state)]];
  if (const PositionMask* m = slot.load(std::memory_order_acquire)) return *m;
  auto fresh = std::make_unique<PositionMask>(compute_position_mask(grammar, *vocab, at));
  const uint64_t h = content_hash(*fresh);
  std::lock_guard lock(publish_mu);
  if (const PositionMask* m = slot.load(std::memory_order_acquire)) return *m;
  auto& same_hash = interned[h];
  for (const PositionMask* m : same_hash)
    if (same_content(*m, *fresh)) {
      slot.store(m, std::memory_order_release);
      return *m;
    }
  const PositionMask* m = fresh.get();
  mask_bytes += m->memory_bytes();
  owned.push_back(std::move(fresh));
  same_hash.push_back(m);
  slot.store(m, std::memory_order_release);
  return *m;
}

void ConstraintData::precompute(int32_t max_masks) const {
  if (num_mask_classes > max_masks) return;
  for (const Frame& f : class_frame) mask(f);
}

struct Step {
  ConfigSet set;
  bool finished = false;
};

struct MatcherState {
  explicit MatcherState(const ConstraintData& d)
      : data(d), stepper(d.grammar), checker(d.grammar, *d.vocab) {}
  MatcherState(const MatcherState& o) : MatcherState(o.data) { history = o.history; }

  // Consumes bytes from the current set into `out`; false when they do not fit.
  bool run(std::string_view bytes, ConfigSet& out) {
    const ConfigSet* from = &history.back().set;
    for (unsigned char b : bytes) {
      stepper.step(*from, b, scratch);
      if (scratch.empty()) return false;
      std::swap(scratch, out);
      from = &out;
    }
    if (bytes.empty()) out = history.back().set;
    return true;
  }

  const ConstraintData& data;
  std::vector<Step> history;
  Stepper stepper;
  TokenChecker checker;
  ConfigSet scratch, next, probe;
  std::vector<int32_t> seen;
};

}  // namespace grammar

using grammar::ConfigSet;
using grammar::ConstraintData;
using grammar::Frame;
using grammar::MatcherState;

void mask_logits(std::span<float> logits, std::span<const uint64_t> words) {
  const float neg_inf = -std::numeric_limits<float>::infinity();
  for (size_t w = 0; w * 64 < logits.size(); ++w) {
    const uint64_t bits = w < words.size() ? words[w] : 0;
    if (bits == ~uint64_t(0)) continue;
    const size_t end = std::min(logits.size(), w * 64 + 64);
    for (size_t i = w * 64; i < end; ++i)
      if (!(bits >> (i & 63) & 1)) logits[i] = neg_inf;
  }
}

Constraint::Constraint(std::unique_ptr<ConstraintData> data) : data_(std::move(data)) {}
Constraint::~Constraint() = default;
int32_t Constraint::vocab_size() const { return data_->vocab->size(); }
const grammar::Vocabulary& Constraint::vocabulary() const { return *data_->vocab; }
const std::string& Constraint::kind() const { return data_->kind; }
int32_t Constraint::num_positions() const { return data_->grammar.num_positions; }
int32_t Constraint::num_masks() const { return data_->num_mask_classes; }
size_t Constraint::cached_mask_bytes() const { return data_->mask_bytes.load(); }

ConstraintMatcher::ConstraintMatcher(std::shared_ptr<const Constraint> constraint)
    : constraint_(std::move(constraint)),
      state_(std::make_unique<MatcherState>(constraint_->data())) {
  reset();
}
ConstraintMatcher::~ConstraintMatcher() = default;
ConstraintMatcher::ConstraintMatcher(const ConstraintMatcher& o)
    : constraint_(o.constraint_), state_(std::make_unique<MatcherState>(*o.state_)) {}
ConstraintMatcher& ConstraintMatcher::operator=(const ConstraintMatcher& o) {
  if (this != &o) {
    constraint_ = o.constraint_;
    state_ = std::make_unique<MatcherState>(*o.state_);
  }
  return *this;
}
ConstraintMatcher::ConstraintMatcher(ConstraintMatcher&&) noexcept = default;
ConstraintMatcher& ConstraintMatcher::operator=(ConstraintMatcher&&) noexcept = default;

void ConstraintMatcher::reset() {
  const auto& g = state_->data.grammar;
  state_->history.clear();
  state_->history.emplace_back();
  Frame root{g.root, g.rules[g.root].start};
  state_->history.back().set.add({&root, 1});
  state_->stepper.close(state_->history.back().set);
}

bool ConstraintMatcher::can_end() const {
  const auto& step = state_->history.back();
  return !step.finished && state_->stepper.bottom_final(step.set);
}

bool ConstraintMatcher::must_end() const {
  const auto& step = state_->history.back();
  if (step.finished || !can_end()) return false;
  const auto& g = state_->data.grammar;
  for (size_t i = 0; i < step.set.size(); ++i) {
    const Frame& top = step.set[i].back();
    if (g.can_continue[g.position(top.rule, top.state)]) return false;
  }
  return true;
}

bool ConstraintMatcher::finished() const { return state_->history.back().finished; }

int32_t ConstraintMatcher::num_steps() const { return int32_t(state_->history.size()) - 1; }

void ConstraintMatcher::rollback(int32_t n) {
  n = std::clamp(n, 0, num_steps());
  state_->history.resize(state_->history.size() - size_t(n));
}

bool ConstraintMatcher::advance_bytes(std::string_view bytes) {
  if (finished()) return false;
  if (!state_->run(bytes, state_->next)) return false;
  state_->history.push_back({std::move(state_->next), false});
  state_->next = ConfigSet();
  return true;
}

bool ConstraintMatcher::advance(int32_t token) {
  const auto& vocab = *state_->data.vocab;
  if (token < 0 || token >= vocab.size() || finished()) return false;
  auto eos = vocab.eos_ids();
  if (std::binary_search(eos.begin(), eos.end(), token)) {
    if (!can_end()) return false;
    state_->history.push_back({state_->history.back().set, true});
    return true;
  }
  const std::string& bytes = vocab.token(token);
  if (bytes.empty()) return false;
  return advance_bytes(bytes);
}

bool ConstraintMatcher::allows(int32_t token) const {
  const auto& vocab = *state_->data.vocab;
  if (token < 0 || token >= vocab.size() || finished()) return false;
  auto eos = vocab.eos_ids();
  if (std::binary_search(eos.begin(), eos.end(), token)) return can_end();
  const std::string& bytes = vocab.token(token);
  return !bytes.empty() && state_->run(bytes, state_->probe);
}

void ConstraintMatcher::fill_mask(std::span<uint64_t> words) {
  const auto& vocab = *state_->data.vocab;
  const size_t n = mask_words(vocab.size());
  assert(words.size() >= n);
  std::fill(words.begin(), words.end(), 0);
  auto set_eos = [&] {
    for (int32_t id : vocab.eos_ids()) words[id >> 6] |= uint64_t(1) << (id & 63);
  };
  const auto& step = state_->history.back();
  if (step.finished) {
    set_eos();
    return;
  }
  const auto& g = state_->data.grammar;
  auto& seen = state_->seen;
  seen.clear();
  // Context-free part first, so that the stack checks below skip tokens
  // that are already allowed.
  for (size_t i = 0; i < step.set.size(); ++i) {
    const Frame& top = step.set[i].back();
    const int32_t cls = state_->data.mask_class[g.position(top.rule, top.state)];
    if (std::find(seen.begin(), seen.end(), cls) != seen.end()) continue;
    seen.push_back(cls);
    const auto& m = state_->data.mask(top);
    if (!m.accepted_bits.empty()) {
      const uint64_t* src = m.accepted_bits.data();
      for (size_t w = 0; w < n; ++w) words[w] |= src[w];
    } else {
      for (int32_t id : m.accepted_ids) words[id >> 6] |= uint64_t(1) << (id & 63);
    }
  }
  for (size_t i = 0; i < step.set.size(); ++i) {
    const Frame& top = step.set[i].back();
    const auto& m = state_->data.mask(top);
    if (!m.uncertain_ranks.empty())
      state_->checker.check(step.set[i], m.uncertain_ranks, words.data());
  }
  if (state_->stepper.bottom_final(step.set)) set_eos();
}

}  // namespace kiln::sampling
