#include "sampling/grammar/pda.h"

#include <algorithm>

namespace kiln::sampling::grammar {

void ConfigSet::add(std::span<const Frame> stack) {
  size_t begin = 0;
  for (uint32_t end : ends_) {
    if (end - begin == stack.size() &&
        std::equal(stack.begin(), stack.end(), frames_.begin() + begin))
      return;
    begin = end;
  }
  frames_.insert(frames_.end(), stack.begin(), stack.end());
  ends_.push_back(uint32_t(frames_.size()));
}

void Stepper::step(const ConfigSet& in, uint8_t b, ConfigSet& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    auto cfg = in[i];
    buf_.assign(cfg.begin(), cfg.end());
    advance(b, cfg.size(), out, 0);
  }
  close(out);
}

// Consumes b from the configuration buf_[0, len): by the top frame's byte
// edge, by pushing a called rule first, or (after an epsilon move inside this
// call) by returning to the frame below.
void Stepper::advance(uint8_t b, size_t len, ConfigSet& out, int depth) {
  // Left recursion is refused at compile time, so epsilon moves are bounded
  // by the number of rules; this guard only protects against a broken grammar.
  if (depth > 4096) return;
  const Frame top = buf_[len - 1];
  const Dfa& d = g_.rules[top.rule];
  int32_t t = d.step(top.state, b);
  if (t >= 0) {
    buf_[len - 1].state = t;
    out.add({buf_.data(), len});
    buf_[len - 1] = top;
  }
  if (depth > 0 && len > 1 && d.final[top.state]) advance(b, len - 1, out, depth + 1);
  for (const auto& call : d.calls[top.state]) {
    if (buf_.size() <= len) buf_.resize(len + 1);
    buf_[len - 1].state = call.to;
    buf_[len] = {call.rule, g_.rules[call.rule].start};
    advance(b, len + 1, out, depth + 1);
    buf_[len - 1] = top;
  }
}

void Stepper::close(ConfigSet& set) {
  bool removable = false;
  for (size_t i = 0; i < set.size(); ++i) {
    auto cfg = set[i];
    const Frame& top = cfg.back();
    if (cfg.size() > 1 && g_.rules[top.rule].final[top.state]) {
      if (!g_.can_continue[g_.position(top.rule, top.state)]) removable = true;
      tmp_.assign(cfg.begin(), cfg.end() - 1);
      set.add(tmp_);
    }
  }
  if (!removable) return;
  // Drop configurations that can only return: their returns are in the set.
  ConfigSet kept;
  for (size_t i = 0; i < set.size(); ++i) {
    auto cfg = set[i];
    const Frame& top = cfg.back();
    if (cfg.size() > 1 && !g_.can_continue[g_.position(top.rule, top.state)]) continue;
    kept.add(cfg);
  }
  set = std::move(kept);
}

bool Stepper::bottom_final(const ConfigSet& set) const {
  for (size_t i = 0; i < set.size(); ++i) {
    auto cfg = set[i];
    if (cfg.size() == 1 && g_.rules[cfg[0].rule].final[cfg[0].state]) return true;
  }
  return false;
}

namespace {

struct Level {
  bool simple = true;        // exactly one configuration: `stack`
  std::vector<Frame> stack;  // bottom first
  ConfigSet set;             // otherwise
  bool popped = false;       // the bottom frame could have returned at depth 1..d
};

using RankRanges = std::vector<std::pair<uint32_t, uint32_t>>;

PositionMask make_position_mask(const Vocabulary& vocab, const RankRanges& accepted,
                                std::vector<int32_t> uncertain) {
  PositionMask m;
  size_t count = 0;
  for (auto [b, e] : accepted) count += e - b;
  m.accepted_count = count;
  const auto ranked = vocab.trie_tokens();
  if (count * 32 > size_t(vocab.size())) {
    m.accepted_bits.assign((size_t(vocab.size()) + 63) / 64, 0);
    for (auto [b, e] : accepted)
      for (uint32_t r = b; r < e; ++r) {
        int32_t id = ranked[r];
        m.accepted_bits[id >> 6] |= uint64_t(1) << (id & 63);
      }
  } else {
    m.accepted_ids.reserve(count);
    for (auto [b, e] : accepted)
      for (uint32_t r = b; r < e; ++r) m.accepted_ids.push_back(ranked[r]);
    std::sort(m.accepted_ids.begin(), m.accepted_ids.end());
  }
  m.uncertain_ranks = std::move(uncertain);
  return m;
}

void add_range(RankRanges& v, uint32_t b, uint32_t e) {
  if (b == e) return;
  if (!v.empty() && v.back().second == b)
    v.back().second = e;
  else
    v.push_back({b, e});
}

// The walk for a rule without calls (strings, numbers, regexes: the
// positions whose walks visit most of the trie): one DFA state per depth.
void walk_call_free(const Dfa& dfa, int32_t state, bool is_root, const Vocabulary& vocab,
                    RankRanges& accepted, std::vector<int32_t>& uncertain) {
  const auto nodes = vocab.trie();
  const int32_t* next = dfa.next.data();
  const uint8_t* cls = dfa.byte_class.data();
  const uint8_t* fin = dfa.final.data();
  const size_t k = size_t(dfa.num_classes);
  std::vector<int32_t> states(size_t(vocab.max_token_bytes()) + 1);
  std::vector<uint8_t> popped(states.size(), 0);
  states[0] = state;
  size_t i = 1;
  while (i < nodes.size()) {
    const TrieNode& node = nodes[i];
    const size_t d = node.depth;
    const int32_t t = next[size_t(states[d - 1]) * k + cls[node.byte]];
    if (t < 0) {
      if (popped[d - 1])
        for (uint32_t r = node.tokens_begin; r < vocab.node(node.subtree_end).tokens_begin; ++r)
          uncertain.push_back(int32_t(r));
      i = node.subtree_end;
      continue;
    }
    states[d] = t;
    popped[d] = popped[d - 1] || (!is_root && fin[t]);
    add_range(accepted, node.tokens_begin, vocab.node(uint32_t(i + 1)).tokens_begin);
    ++i;
  }
}

}  // namespace

PositionMask compute_position_mask(const Grammar& g, const Vocabulary& vocab, Frame at) {
  // At the root, a return means end of text: nothing more may follow.
  const bool is_root = at.rule == g.root;
  RankRanges accepted;
  std::vector<int32_t> uncertain;
  if (!g.rules[at.rule].has_calls()) {
    walk_call_free(g.rules[at.rule], at.state, is_root, vocab, accepted, uncertain);
    return make_position_mask(vocab, accepted, std::move(uncertain));
  }
  Stepper stepper(g);
  std::vector<Level> levels(1);
  levels[0].stack = {at};
  ConfigSet single;
  const auto nodes = vocab.trie();
  size_t i = 1;
  while (i < nodes.size()) {
    const TrieNode& node = nodes[i];
    const size_t d = node.depth;
    if (levels.size() <= d) levels.resize(d + 1);
    Level& parent = levels[d - 1];
    Level& cur = levels[d];
    bool alive = false, bottom_final = false;
    // Fast path: one configuration whose top frame moves by a byte edge and
    // does not land where it could return (a return forks the configuration).
    int32_t t = -2;
    if (parent.simple) {
      t = stepper.simple_step(parent.stack.back(), node.byte);
      if (t >= 0 && parent.stack.size() > 1 && g.rules[parent.stack.back().rule].final[t]) t = -2;
    }
    if (t >= 0) {
      alive = true;
      cur.simple = true;
      cur.stack.assign(parent.stack.begin(), parent.stack.end());
      cur.stack.back().state = t;
      bottom_final = cur.stack.size() == 1 && g.rules[cur.stack[0].rule].final[t];
    } else if (t == -1) {
      alive = false;
    } else {
      const ConfigSet* from = &parent.set;
      if (parent.simple) {
        single.clear();
        single.add(parent.stack);
        from = &single;
      }
      stepper.step(*from, node.byte, cur.set);
      alive = !cur.set.empty();
      cur.simple = cur.set.size() == 1;
      if (cur.simple) cur.stack.assign(cur.set[0].begin(), cur.set[0].end());
      bottom_final = stepper.bottom_final(cur.set);
    }
    if (!alive) {
      if (parent.popped)
        for (uint32_t r = node.tokens_begin; r < vocab.node(node.subtree_end).tokens_begin; ++r)
          uncertain.push_back(int32_t(r));
      i = node.subtree_end;
      continue;
    }
    cur.popped = parent.popped || (!is_root && bottom_final);
    add_range(accepted, node.tokens_begin, vocab.node(uint32_t(i + 1)).tokens_begin);
    ++i;
  }

  return make_position_mask(vocab, accepted, std::move(uncertain));
}

void TokenChecker::check(std::span<const Frame> config, std::span<const int32_t> ranks,
                         uint64_t* bits) {
  if (levels_.empty()) levels_.resize(1);
  levels_[0].clear();
  levels_[0].add(config);
  const auto ranked = vocab_.trie_tokens();
  const std::string* prev = nullptr;
  size_t valid = 0;  // levels_[0..valid] hold the configurations after prev's bytes
  for (int32_t rank : ranks) {
    const int32_t id = ranked[rank];
    if (bits[id >> 6] >> (id & 63) & 1) continue;
    const std::string& t = vocab_.token(id);
    size_t d = 0;
    if (prev) {
      const size_t limit = std::min({prev->size(), t.size(), valid});
      while (d < limit && (*prev)[d] == t[d]) ++d;
    }
    bool ok = true;
    for (; d < t.size(); ++d) {
      if (levels_.size() <= d + 1) levels_.resize(d + 2);
      stepper_.step(levels_[d], uint8_t(t[d]), levels_[d + 1]);
      if (levels_[d + 1].empty()) {
        ok = false;
        break;
      }
    }
    valid = d;
    if (ok) bits[id >> 6] |= uint64_t(1) << (id & 63);
    prev = &t;
  }
}

}  // namespace kiln::sampling::grammar
