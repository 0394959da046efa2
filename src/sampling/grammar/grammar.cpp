#include "sampling/grammar/grammar.h"

#include <unordered_map>

#include <fmt/format.h>

namespace kiln::sampling::grammar {
namespace {

// States of `dfa` from which a final state is reachable, using byte edges and
// calls to rules in `usable`.
std::vector<uint8_t> co_reachable(const Dfa& dfa, const std::vector<uint8_t>& usable) {
  const int32_t n = dfa.num_states, k = dfa.num_classes;
  std::vector<std::vector<int32_t>> reverse(n);
  for (int32_t s = 0; s < n; ++s) {
    for (int32_t c = 0; c < k; ++c) {
      int32_t t = dfa.next[size_t(s) * k + c];
      if (t >= 0) reverse[t].push_back(s);
    }
    for (const auto& call : dfa.calls[s])
      if (usable[call.rule]) reverse[call.to].push_back(s);
  }
  std::vector<uint8_t> live(n, 0);
  std::vector<int32_t> stack;
  for (int32_t s = 0; s < n; ++s)
    if (dfa.final[s]) {
      live[s] = 1;
      stack.push_back(s);
    }
  while (!stack.empty()) {
    int32_t t = stack.back();
    stack.pop_back();
    for (int32_t s : reverse[t])
      if (!live[s]) {
        live[s] = 1;
        stack.push_back(s);
      }
  }
  return live;
}

// Keeps the states that are reachable and live; drops edges into the rest.
Dfa trim(const Dfa& dfa, const std::vector<uint8_t>& usable) {
  const int32_t k = dfa.num_classes;
  std::vector<uint8_t> live = co_reachable(dfa, usable);
  Dfa out;
  out.num_classes = k;
  out.byte_class = dfa.byte_class;
  if (!live[dfa.start]) {  // empty language: one non-final state
    out.num_states = 1;
    out.next.assign(k, -1);
    out.final = {0};
    out.calls = {{}};
    return out;
  }
  std::vector<int32_t> id(dfa.num_states, -1);
  std::vector<int32_t> order{dfa.start};
  id[dfa.start] = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    int32_t s = order[i];
    auto visit = [&](int32_t t) {
      if (t >= 0 && live[t] && id[t] < 0) {
        id[t] = int32_t(order.size());
        order.push_back(t);
      }
    };
    for (int32_t c = 0; c < k; ++c) visit(dfa.next[size_t(s) * k + c]);
    for (const auto& call : dfa.calls[s])
      if (usable[call.rule]) visit(call.to);
  }
  out.num_states = int32_t(order.size());
  out.next.assign(size_t(out.num_states) * k, -1);
  out.final.assign(out.num_states, 0);
  out.calls.assign(out.num_states, {});
  for (int32_t ns = 0; ns < out.num_states; ++ns) {
    int32_t s = order[ns];
    out.final[ns] = dfa.final[s];
    for (int32_t c = 0; c < k; ++c) {
      int32_t t = dfa.next[size_t(s) * k + c];
      if (t >= 0 && live[t]) out.next[size_t(ns) * k + c] = id[t];
    }
    for (const auto& call : dfa.calls[s])
      if (usable[call.rule] && live[call.to]) out.calls[ns].push_back({call.rule, id[call.to]});
  }
  return out;
}

struct VecHash {
  size_t operator()(const std::vector<int32_t>& v) const {
    uint64_t h = 1469598103934665603ull;
    for (int32_t x : v) h = (h ^ uint32_t(x)) * 1099511628211ull;
    return size_t(h);
  }
};

}  // namespace

std::vector<int32_t> horizon_classes(const Grammar& g, int32_t horizon, int32_t* num_classes) {
  std::vector<int32_t> out(g.num_positions);
  // The one-round-behind comparison of return states needs callees that
  // consume a byte; a call of a nullable rule disables the grouping.
  bool any_nullable = false;
  for (const auto& rule : g.rules)
    for (const auto& calls : rule.calls)
      for (const auto& c : calls) any_nullable = any_nullable || g.nullable[c.rule];
  int32_t next_id = 0;
  for (int32_t r = 0; r < int32_t(g.rules.size()); ++r) {
    const Dfa& d = g.rules[r];
    const int32_t n = d.num_states, k = d.num_classes;
    std::vector<int32_t> block(n);
    int32_t count = 0;
    if (any_nullable) {
      for (int32_t s = 0; s < n; ++s) block[s] = s;
      count = n;
    } else {
      // Moore refinement, stopped after horizon + 1 rounds: block equality
      // then means equal behaviour for every string of up to that length.
      // A call consumes at least one byte (no nullable rules), so comparing
      // return states one round behind is enough.
      for (int32_t s = 0; s < n; ++s) block[s] = d.final[s] ? 1 : 0;
      count = -1;
      std::vector<int32_t> sig;
      for (int32_t round = 0; round <= horizon; ++round) {
        std::unordered_map<std::vector<int32_t>, int32_t, VecHash> ids;
        std::vector<int32_t> next(n);
        for (int32_t s = 0; s < n; ++s) {
          sig.clear();
          sig.push_back(block[s]);
          for (int32_t c = 0; c < k; ++c) {
            int32_t t = d.next[size_t(s) * k + c];
            sig.push_back(t < 0 ? -1 : block[t]);
          }
          for (const auto& call : d.calls[s]) {
            sig.push_back(call.rule);
            sig.push_back(block[call.to]);
          }
          next[s] = ids.emplace(sig, int32_t(ids.size())).first->second;
        }
        block.swap(next);
        if (int32_t(ids.size()) == count) break;
        count = int32_t(ids.size());
      }
    }
    for (int32_t s = 0; s < n; ++s) out[g.position(r, s)] = next_id + block[s];
    next_id += count;
  }
  *num_classes = next_id;
  return out;
}

util::Status finalize(Grammar& g, const char* what) {
  const int32_t num_rules = int32_t(g.rules.size());
  // Productive rules: the least fixpoint of "start reaches a final state".
  std::vector<uint8_t> productive(num_rules, 0);
  for (bool changed = true; changed;) {
    changed = false;
    for (int32_t r = 0; r < num_rules; ++r) {
      if (productive[r]) continue;
      if (co_reachable(g.rules[r], productive)[g.rules[r].start]) {
        productive[r] = 1;
        changed = true;
      }
    }
  }
  if (!productive[g.root]) return util::make_error(fmt::format("{} admits no value", what));
  for (auto& rule : g.rules) rule = minimize(trim(rule, productive));

  // Nullable rules: start reaches a final state through calls of nullable rules only.
  g.nullable.assign(num_rules, 0);
  auto reach_without_bytes = [&](int32_t r, auto&& on_state) {
    const Dfa& dfa = g.rules[r];
    std::vector<uint8_t> seen(dfa.num_states, 0);
    std::vector<int32_t> stack{dfa.start};
    seen[dfa.start] = 1;
    while (!stack.empty()) {
      int32_t s = stack.back();
      stack.pop_back();
      on_state(s);
      for (const auto& call : dfa.calls[s])
        if (g.nullable[call.rule] && !seen[call.to]) {
          seen[call.to] = 1;
          stack.push_back(call.to);
        }
    }
  };
  for (bool changed = true; changed;) {
    changed = false;
    for (int32_t r = 0; r < num_rules; ++r) {
      if (g.nullable[r]) continue;
      bool found = false;
      reach_without_bytes(r, [&](int32_t s) { found = found || g.rules[r].final[s]; });
      if (found) {
        g.nullable[r] = 1;
        changed = true;
      }
    }
  }

  // Left recursion: rule r calls q before consuming any byte.
  std::vector<std::vector<int32_t>> left_calls(num_rules);
  for (int32_t r = 0; r < num_rules; ++r) {
    reach_without_bytes(r, [&](int32_t s) {
      for (const auto& call : g.rules[r].calls[s]) left_calls[r].push_back(call.rule);
    });
    for (const auto& calls : g.rules[r].calls)
      for (const auto& call : calls)
        if (call.rule == g.root)
          return util::make_error(fmt::format("internal: {} calls its root rule", what));
  }
  std::vector<uint8_t> color(num_rules, 0);  // 0 new, 1 on stack, 2 done
  for (int32_t r0 = 0; r0 < num_rules; ++r0) {
    if (color[r0]) continue;
    std::vector<std::pair<int32_t, size_t>> stack{{r0, 0}};
    color[r0] = 1;
    while (!stack.empty()) {
      auto& [r, i] = stack.back();
      if (i == left_calls[r].size()) {
        color[r] = 2;
        stack.pop_back();
        continue;
      }
      int32_t q = left_calls[r][i++];
      if (color[q] == 1)
        return util::make_error(fmt::format(
            "{} is left-recursive: '{}' refers to itself before any text", what, g.names[q]));
      if (color[q] == 0) {
        color[q] = 1;
        stack.push_back({q, 0});
      }
    }
  }

  // Calls made before any byte push frames in one step; bound their chain
  // (the call graph restricted to such calls is acyclic now).
  constexpr int32_t kMaxCallChain = 256;
  std::vector<int32_t> chain(num_rules, -1);
  for (int32_t r0 = 0; r0 < num_rules; ++r0) {
    if (chain[r0] >= 0) continue;
    std::vector<std::pair<int32_t, size_t>> stack{{r0, 0}};
    while (!stack.empty()) {
      auto [r, i] = stack.back();
      if (i < left_calls[r].size()) {
        stack.back().second++;
        int32_t q = left_calls[r][i];
        if (chain[q] < 0) stack.push_back({q, 0});
        continue;
      }
      int32_t longest = 0;
      for (int32_t q : left_calls[r]) longest = std::max(longest, chain[q] + 1);
      chain[r] = longest;
      if (longest > kMaxCallChain)
        return util::make_error(fmt::format(
            "{} nests references deeper than {} levels before any text", what, kMaxCallChain));
      stack.pop_back();
    }
  }

  g.position_base.assign(num_rules, 0);
  int64_t total = 0;
  for (int32_t r = 0; r < num_rules; ++r) {
    g.position_base[r] = int32_t(total);
    total += g.rules[r].num_states;
  }
  if (total > (int64_t(1) << 30)) return util::make_error(fmt::format("{} is too large", what));
  g.num_positions = int32_t(total);
  g.can_continue.assign(g.num_positions, 0);
  for (int32_t r = 0; r < num_rules; ++r) {
    const Dfa& d = g.rules[r];
    for (int32_t s = 0; s < d.num_states; ++s) {
      bool any = !d.calls[s].empty();
      for (int32_t c = 0; c < d.num_classes && !any; ++c)
        any = d.next[size_t(s) * d.num_classes + c] >= 0;
      g.can_continue[g.position(r, s)] = any;
    }
  }
  return util::Status::Ok();
}

}  // namespace kiln::sampling::grammar
