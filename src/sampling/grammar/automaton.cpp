#include "sampling/grammar/automaton.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

namespace kiln::sampling::grammar {

// ---------------------------------------------------------------- Expr builders

namespace ex {
namespace {
ExprPtr make(ExprKind kind) {
  auto e = std::make_shared<Expr>();
  e->kind = kind;
  return e;
}
}  // namespace

ExprPtr empty() {
  static const ExprPtr e = make(ExprKind::kEmpty);
  return e;
}
ExprPtr nothing() {
  static const ExprPtr e = make(ExprKind::kNothing);
  return e;
}
ExprPtr literal(std::string_view bytes) {
  if (bytes.empty()) return empty();
  auto e = std::make_shared<Expr>();
  e->kind = ExprKind::kLiteral;
  e->literal = std::string(bytes);
  return e;
}
ExprPtr bytes(std::vector<Range> ranges) {
  ranges = normalize_ranges(std::move(ranges));
  if (ranges.empty()) return nothing();
  auto e = std::make_shared<Expr>();
  e->kind = ExprKind::kBytes;
  e->ranges = std::move(ranges);
  return e;
}
ExprPtr byte_range(uint8_t lo, uint8_t hi) { return bytes({{lo, hi}}); }
ExprPtr chars(std::vector<Range> code_points, CharEncoding encoding) {
  code_points = normalize_ranges(std::move(code_points));
  if (code_points.empty()) return nothing();
  auto e = std::make_shared<Expr>();
  e->kind = ExprKind::kChars;
  e->ranges = std::move(code_points);
  e->encoding = encoding;
  return e;
}
ExprPtr seq(std::vector<ExprPtr> parts) {
  std::vector<ExprPtr> kept;
  for (auto& p : parts) {
    if (p->kind == ExprKind::kNothing) return nothing();
    if (p->kind == ExprKind::kEmpty) continue;
    kept.push_back(std::move(p));
  }
  if (kept.empty()) return empty();
  if (kept.size() == 1) return kept[0];
  auto e = std::make_shared<Expr>();
  e->kind = ExprKind::kSeq;
  e->children = std::move(kept);
  return e;
}
ExprPtr alt(std::vector<ExprPtr> options) {
  std::vector<ExprPtr> kept;
  for (auto& o : options)
    if (o->kind != ExprKind::kNothing) kept.push_back(std::move(o));
  if (kept.empty()) return nothing();
  if (kept.size() == 1) return kept[0];
  auto e = std::make_shared<Expr>();
  e->kind = ExprKind::kAlt;
  e->children = std::move(kept);
  return e;
}
ExprPtr repeat(ExprPtr child, int32_t min, int32_t max) {
  if (max >= 0 && max < min) return nothing();
  if (max == 0) return empty();
  if (min == 1 && max == 1) return child;
  if (child->kind == ExprKind::kEmpty) return empty();
  if (child->kind == ExprKind::kNothing) return min == 0 ? empty() : nothing();
  auto e = std::make_shared<Expr>();
  e->kind = ExprKind::kRepeat;
  e->children = {std::move(child)};
  e->min = min;
  e->max = max;
  return e;
}
ExprPtr call(int32_t rule) {
  auto e = std::make_shared<Expr>();
  e->kind = ExprKind::kCall;
  e->rule = rule;
  return e;
}
ExprPtr chain(std::vector<std::pair<ExprPtr, ExprPtr>> steps) {
  if (steps.empty()) return nothing();
  auto e = std::make_shared<Expr>();
  e->kind = ExprKind::kChain;
  for (auto& [x, first] : steps) {
    e->children.push_back(std::move(x));
    e->children.push_back(std::move(first));
  }
  return e;
}
}  // namespace ex

std::vector<Range> normalize_ranges(std::vector<Range> ranges) {
  std::sort(ranges.begin(), ranges.end());
  std::vector<Range> out;
  for (const auto& r : ranges) {
    if (r.first > r.second) continue;
    if (!out.empty() && r.first <= out.back().second + 1) {
      out.back().second = std::max(out.back().second, r.second);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

std::vector<Range> complement_ranges(const std::vector<Range>& ranges, uint32_t max_value) {
  std::vector<Range> out;
  uint32_t next = 0;
  for (const auto& r : normalize_ranges(ranges)) {
    if (r.first > next) out.push_back({next, r.first - 1});
    if (r.second >= max_value) return out;
    next = r.second + 1;
  }
  if (next <= max_value) out.push_back({next, max_value});
  return out;
}

bool Dfa::has_calls() const {
  for (const auto& c : calls)
    if (!c.empty()) return true;
  return false;
}

// ---------------------------------------------------------------- NFA

namespace {

constexpr uint32_t kMaxCodePoint = 0x10FFFF;

struct Nfa {
  struct ByteEdge {
    uint8_t lo, hi;
    int32_t to;
  };
  std::vector<std::vector<ByteEdge>> bytes;
  std::vector<std::vector<int32_t>> eps;
  std::vector<std::vector<CallEdge>> calls;
  size_t max_states = 0;
  bool overflow = false;

  int32_t add() {
    if (bytes.size() >= max_states) {
      overflow = true;
      return 0;  // keep building into state 0; the result is discarded
    }
    bytes.emplace_back();
    eps.emplace_back();
    calls.emplace_back();
    return int32_t(bytes.size() - 1);
  }
  void edge(int32_t from, uint8_t lo, uint8_t hi, int32_t to) {
    bytes[from].push_back({lo, hi, to});
  }
  void epsilon(int32_t from, int32_t to) { eps[from].push_back(to); }
};

// Splits [lo, hi] (no surrogates, one encoded length) into sequences of byte
// ranges whose concatenations are exactly the UTF-8 encodings of the range.
void utf8_sequences(uint32_t lo, uint32_t hi, std::vector<std::vector<Range>>& out) {
  static constexpr uint32_t kMaxForLength[] = {0x7F, 0x7FF, 0xFFFF};
  for (uint32_t m : kMaxForLength) {
    if (lo <= m && hi > m) {
      utf8_sequences(lo, m, out);
      utf8_sequences(m + 1, hi, out);
      return;
    }
  }
  if (hi <= 0x7F) {
    out.push_back({{lo, hi}});
    return;
  }
  for (int i = 1; i < 4; ++i) {
    uint32_t m = (1u << (6 * i)) - 1;
    if ((lo & ~m) != (hi & ~m)) {
      if ((lo & m) != 0) {
        utf8_sequences(lo, lo | m, out);
        utf8_sequences((lo | m) + 1, hi, out);
        return;
      }
      if ((hi & m) != m) {
        utf8_sequences(lo, (hi & ~m) - 1, out);
        utf8_sequences(hi & ~m, hi, out);
        return;
      }
    }
  }
  auto encode = [](uint32_t c, uint8_t* b) -> int {
    if (c < 0x80) {
      b[0] = uint8_t(c);
      return 1;
    }
    if (c < 0x800) {
      b[0] = uint8_t(0xC0 | (c >> 6));
      b[1] = uint8_t(0x80 | (c & 0x3F));
      return 2;
    }
    if (c < 0x10000) {
      b[0] = uint8_t(0xE0 | (c >> 12));
      b[1] = uint8_t(0x80 | ((c >> 6) & 0x3F));
      b[2] = uint8_t(0x80 | (c & 0x3F));
      return 3;
    }
    b[0] = uint8_t(0xF0 | (c >> 18));
    b[1] = uint8_t(0x80 | ((c >> 12) & 0x3F));
    b[2] = uint8_t(0x80 | ((c >> 6) & 0x3F));
    b[3] = uint8_t(0x80 | (c & 0x3F));
    return 4;
  };
  uint8_t a[4], b[4];
  int n = encode(lo, a);
  encode(hi, b);
  std::vector<Range> s;
  for (int i = 0; i < n; ++i) s.push_back({a[i], b[i]});
  out.push_back(std::move(s));
}

class NfaBuilder {
 public:
  explicit NfaBuilder(size_t max_states) { nfa_.max_states = max_states; }

  Nfa take(const Expr& e, int32_t& start, int32_t& accept) {
    start = nfa_.add();
    accept = build(e, start);
    return std::move(nfa_);
  }

 private:
  // Adds the path for `e` starting at `from`; returns the state where it ends.
  int32_t build(const Expr& e, int32_t from) {
    if (nfa_.overflow) return from;
    switch (e.kind) {
      case ExprKind::kEmpty:
        return from;
      case ExprKind::kNothing:
        return nfa_.add();  // unreachable end state
      case ExprKind::kLiteral: {
        int32_t cur = from;
        for (unsigned char c : e.literal) {
          int32_t next = nfa_.add();
          nfa_.edge(cur, c, c, next);
          cur = next;
        }
        return cur;
      }
      case ExprKind::kBytes: {
        int32_t end = nfa_.add();
        for (const auto& r : e.ranges) nfa_.edge(from, uint8_t(r.first), uint8_t(r.second), end);
        return end;
      }
      case ExprKind::kChars:
        return build_chars(e, from);
      case ExprKind::kSeq: {
        int32_t cur = from;
        for (const auto& c : e.children) cur = build(*c, cur);
        return cur;
      }
      case ExprKind::kAlt: {
        int32_t end = nfa_.add();
        for (const auto& c : e.children) {
          int32_t s = nfa_.add();
          nfa_.epsilon(from, s);
          nfa_.epsilon(build(*c, s), end);
        }
        return end;
      }
      case ExprKind::kRepeat:
        return build_repeat(e, from);
      case ExprKind::kCall: {
        int32_t end = nfa_.add();
        nfa_.calls[from].push_back({e.rule, end});
        return end;
      }
      case ExprKind::kChain: {
        int32_t cur = -1;  // end of U(k); none while U(k) is empty
        for (size_t k = 0; k + 1 < e.children.size() && !nfa_.overflow; k += 2) {
          int32_t next = nfa_.add();
          if (cur >= 0) nfa_.epsilon(build(*e.children[k], cur), next);
          int32_t s = nfa_.add();
          nfa_.epsilon(from, s);
          nfa_.epsilon(build(*e.children[k + 1], s), next);
          cur = next;
        }
        return cur >= 0 ? cur : nfa_.add();
      }
    }
    return from;
  }

  int32_t build_repeat(const Expr& e, int32_t from) {
    const Expr& child = *e.children[0];
    int32_t cur = from;
    for (int32_t i = 0; i < e.min && !nfa_.overflow; ++i) {
      // A fresh entry state per copy keeps loops inside the child local.
      int32_t s = nfa_.add();
      nfa_.epsilon(cur, s);
      cur = build(child, s);
    }
    if (e.max < 0) {
      int32_t loop = nfa_.add();
      nfa_.epsilon(cur, loop);
      int32_t s = nfa_.add();
      nfa_.epsilon(loop, s);
      nfa_.epsilon(build(child, s), loop);
      return loop;
    }
    // A child without loops cannot lead back to its entry, so it may start
    // at `cur` itself (saves a state per copy: [ \t\n\r]{0,20} is common).
    const bool loop_free = child.kind == ExprKind::kBytes || child.kind == ExprKind::kLiteral ||
                           child.kind == ExprKind::kChars;
    int32_t end = nfa_.add();
    for (int32_t i = e.min; i < e.max && !nfa_.overflow; ++i) {
      nfa_.epsilon(cur, end);
      int32_t s = cur;
      if (!loop_free) {
        s = nfa_.add();
        nfa_.epsilon(cur, s);
      }
      cur = build(child, s);
    }
    nfa_.epsilon(cur, end);
    return end;
  }

  void add_utf8(uint32_t lo, uint32_t hi, int32_t from, int32_t end) {
    // Surrogates are not scalar values and have no UTF-8 encoding.
    if (lo <= 0xDFFF && hi >= 0xD800) {
      if (lo < 0xD800) add_utf8(lo, 0xD7FF, from, end);
      if (hi > 0xDFFF) add_utf8(0xE000, hi, from, end);
      return;
    }
    std::vector<std::vector<Range>> seqs;
    utf8_sequences(lo, std::min(hi, kMaxCodePoint), seqs);
    for (const auto& s : seqs) {
      int32_t cur = from;
      for (size_t i = 0; i < s.size(); ++i) {
        int32_t next = i + 1 == s.size() ? end : nfa_.add();
        nfa_.edge(cur, uint8_t(s[i].first), uint8_t(s[i].second), next);
        cur = next;
      }
    }
  }

  // Characters that a JSON string writes escaped: '"', '\\' and U+0000..U+001F
  // (`escaped` has bit c for control c, bit 32 for '"', bit 33 for '\\').
  // One shared sub-automaton: '\\' then a short escape letter or u00XX with hex
  // digits of either case.
  void add_json_escapes(uint64_t escaped, int32_t from, int32_t end) {
    if (!escaped) return;
    int32_t x = nfa_.add();
    nfa_.edge(from, '\\', '\\', x);
    static constexpr std::pair<uint32_t, char> kShort[] = {
        {0x08, 'b'}, {0x09, 't'}, {0x0A, 'n'}, {0x0C, 'f'}, {0x0D, 'r'}, {32, '"'}, {33, '\\'}};
    for (const auto& [bit, letter] : kShort)
      if (escaped >> bit & 1) nfa_.edge(x, uint8_t(letter), uint8_t(letter), end);
    if (!(escaped & 0xFFFFFFFFull)) return;
    int32_t u = nfa_.add(), u0 = nfa_.add(), u00 = nfa_.add();
    nfa_.edge(x, 'u', 'u', u);
    nfa_.edge(u, '0', '0', u0);
    nfa_.edge(u0, '0', '0', u00);
    for (uint32_t high = 0; high < 2; ++high) {
      uint32_t lows = uint32_t(escaped >> (16 * high)) & 0xFFFF;
      if (!lows) continue;
      int32_t h = nfa_.add();
      nfa_.edge(u00, uint8_t('0' + high), uint8_t('0' + high), h);
      for (uint32_t l = 0; l < 16; ++l) {
        if (!(lows >> l & 1)) continue;
        if (l < 10) {
          nfa_.edge(h, uint8_t('0' + l), uint8_t('0' + l), end);
        } else {
          nfa_.edge(h, uint8_t('a' + l - 10), uint8_t('a' + l - 10), end);
          nfa_.edge(h, uint8_t('A' + l - 10), uint8_t('A' + l - 10), end);
        }
      }
    }
  }

  int32_t build_chars(const Expr& e, int32_t from) {
    int32_t end = nfa_.add();
    uint64_t escaped = 0;
    for (const auto& r : e.ranges) {
      uint32_t lo = r.first, hi = std::min(r.second, kMaxCodePoint);
      if (lo > hi) continue;
      if (e.encoding == CharEncoding::kUtf8) {
        add_utf8(lo, hi, from, end);
        continue;
      }
      // JSON string content: split out the characters that must be escaped.
      uint32_t c = lo;
      while (c <= hi && !nfa_.overflow) {
        if (c < 0x20 || c == '"' || c == '\\') {
          escaped |= uint64_t(1) << (c < 0x20 ? c : c == '"' ? 32 : 33);
          ++c;
        } else {
          uint32_t stop = hi;
          if (c < '"')
            stop = std::min(stop, uint32_t('"') - 1);
          else if (c < '\\')
            stop = std::min(stop, uint32_t('\\') - 1);
          add_utf8(c, stop, from, end);
          c = stop + 1;
        }
      }
    }
    add_json_escapes(escaped, from, end);
    return end;
  }

  Nfa nfa_;
};

// Epsilon closure with a generation-stamped visited array.
class Closure {
 public:
  explicit Closure(const Nfa& nfa) : nfa_(nfa), mark_(nfa.bytes.size(), 0) {}

  void close(std::vector<int32_t>& set) {
    ++stamp_;
    stack_.clear();
    for (int32_t s : set)
      if (mark_[s] != stamp_) {
        mark_[s] = stamp_;
        stack_.push_back(s);
      }
    set.clear();
    while (!stack_.empty()) {
      int32_t s = stack_.back();
      stack_.pop_back();
      set.push_back(s);
      for (int32_t t : nfa_.eps[s])
        if (mark_[t] != stamp_) {
          mark_[t] = stamp_;
          stack_.push_back(t);
        }
    }
    std::sort(set.begin(), set.end());
  }

 private:
  const Nfa& nfa_;
  std::vector<uint32_t> mark_;
  std::vector<int32_t> stack_;
  uint32_t stamp_ = 0;
};

struct VecHash {
  size_t operator()(const std::vector<int32_t>& v) const {
    uint64_t h = 1469598103934665603ull;
    for (int32_t x : v) h = (h ^ uint32_t(x)) * 1099511628211ull;
    return size_t(h);
  }
};

util::Result<Dfa> determinize(const Nfa& nfa, int32_t start, int32_t accept, const Budget& budget) {
  const size_t max_states = budget.max_dfa_states;
  size_t work = 0;
  Dfa dfa;
  // Byte classes: bytes that every edge treats alike.
  std::array<bool, 257> boundary{};
  boundary[0] = true;
  for (const auto& edges : nfa.bytes)
    for (const auto& e : edges) {
      boundary[e.lo] = true;
      boundary[size_t(e.hi) + 1] = true;
    }
  int cls = -1;
  for (int b = 0; b < 256; ++b) {
    if (boundary[b]) ++cls;
    dfa.byte_class[b] = uint8_t(cls);
  }
  dfa.num_classes = cls + 1;

  Closure closure(nfa);
  std::unordered_map<std::vector<int32_t>, int32_t, VecHash> ids;
  std::vector<std::vector<int32_t>> sets;
  auto intern = [&](std::vector<int32_t> set) -> int32_t {
    auto it = ids.find(set);
    if (it != ids.end()) return it->second;
    int32_t id = int32_t(sets.size());
    ids.emplace(set, id);
    sets.push_back(std::move(set));
    return id;
  };
  std::vector<int32_t> init{start};
  closure.close(init);
  intern(std::move(init));

  std::vector<std::vector<int32_t>> buckets(dfa.num_classes);
  std::map<int32_t, std::vector<int32_t>> call_targets;
  for (size_t d = 0; d < sets.size(); ++d) {
    if (sets.size() > max_states)
      return util::make_error(fmt::format("automaton exceeds {} states", max_states));
    work += sets[d].size();
    if (work > budget.max_subset_work)
      return util::make_error(
          fmt::format("automaton construction exceeds {} steps", budget.max_subset_work));
    for (auto& b : buckets) b.clear();
    call_targets.clear();
    bool is_final = false;
    for (int32_t s : sets[d]) {
      if (s == accept) is_final = true;
      for (const auto& e : nfa.bytes[s])
        for (int c = dfa.byte_class[e.lo]; c <= dfa.byte_class[e.hi]; ++c)
          buckets[c].push_back(e.to);
      for (const auto& c : nfa.calls[s]) call_targets[c.rule].push_back(c.to);
    }
    dfa.final.push_back(is_final);
    dfa.next.resize(dfa.next.size() + dfa.num_classes, -1);
    for (int c = 0; c < dfa.num_classes; ++c) {
      if (buckets[c].empty()) continue;
      closure.close(buckets[c]);
      int32_t t = intern(buckets[c]);
      dfa.next[d * dfa.num_classes + c] = t;
    }
    std::vector<CallEdge> calls;
    for (auto& [rule, targets] : call_targets) {
      closure.close(targets);
      calls.push_back({rule, intern(targets)});
    }
    dfa.calls.push_back(std::move(calls));
  }
  dfa.num_states = int32_t(sets.size());
  return dfa;
}

}  // namespace

util::Result<Dfa> compile_expr(const Expr& e, const Budget& budget) {
  NfaBuilder builder(budget.max_nfa_states);
  int32_t start = 0, accept = 0;
  Nfa nfa = builder.take(e, start, accept);
  if (nfa.overflow)
    return util::make_error(fmt::format("automaton exceeds {} states", budget.max_nfa_states));
  auto dfa = determinize(nfa, start, accept, budget);
  if (!dfa.ok()) return dfa.error();
  return minimize(*dfa);
}

// Hopcroft's partition refinement on the partial DFA (Valmari & Lehtinen:
// with missing transitions, every initial block starts as a splitter).
// O(m log n) for m transitions; call edges are symbols of their own.
Dfa minimize(const Dfa& dfa) {
  const int32_t n = dfa.num_states;
  const int32_t k = dfa.num_classes;
  // Incoming transitions per target state: (symbol, source), CSR layout.
  // Symbols: byte classes 0..k-1, then k + rule id for call edges.
  std::vector<int32_t> in_begin(n + 1, 0);
  for (int32_t s = 0; s < n; ++s) {
    for (int32_t c = 0; c < k; ++c)
      if (int32_t t = dfa.next[size_t(s) * k + c]; t >= 0) ++in_begin[t + 1];
    for (const auto& call : dfa.calls[s]) ++in_begin[call.to + 1];
  }
  for (int32_t t = 0; t < n; ++t) in_begin[t + 1] += in_begin[t];
  std::vector<std::pair<int32_t, int32_t>> in_edges(in_begin[n]);
  {
    std::vector<int32_t> fill(in_begin.begin(), in_begin.end() - 1);
    for (int32_t s = 0; s < n; ++s) {
      for (int32_t c = 0; c < k; ++c)
        if (int32_t t = dfa.next[size_t(s) * k + c]; t >= 0) in_edges[fill[t]++] = {c, s};
      for (const auto& call : dfa.calls[s]) in_edges[fill[call.to]++] = {k + call.rule, s};
    }
  }
  // Refinable partition: block b holds elems[first[b], end[b]); the marked
  // elements of a block during one split step sit in [first[b], mid[b]).
  std::vector<int32_t> elems(n), loc(n), block_of(n);
  std::vector<int32_t> first, end, mid;
  {
    int32_t pos = 0;
    for (int pass = 0; pass < 2; ++pass) {
      int32_t begin = pos;
      for (int32_t s = 0; s < n; ++s) {
        if (bool(dfa.final[s]) != (pass == 1)) continue;
        elems[pos] = s;
        loc[s] = pos++;
        block_of[s] = int32_t(first.size());
      }
      if (pos > begin) {
        first.push_back(begin);
        end.push_back(pos);
        mid.push_back(begin);
      }
    }
  }
  std::vector<uint8_t> in_work(first.size(), 1);
  std::vector<int32_t> work;
  for (int32_t b = 0; b < int32_t(first.size()); ++b) work.push_back(b);
  std::vector<int32_t> touched;
  std::vector<std::pair<int32_t, int32_t>> edges;
  while (!work.empty()) {
    int32_t a = work.back();
    work.pop_back();
    in_work[a] = 0;
    edges.clear();
    for (int32_t i = first[a]; i < end[a]; ++i) {
      int32_t t = elems[i];
      edges.insert(edges.end(), in_edges.begin() + in_begin[t], in_edges.begin() + in_begin[t + 1]);
    }
    std::sort(edges.begin(), edges.end());
    for (size_t g = 0; g < edges.size();) {
      size_t h = g;
      touched.clear();
      for (; h < edges.size() && edges[h].first == edges[g].first; ++h) {
        int32_t s = edges[h].second;
        int32_t b = block_of[s];
        if (loc[s] < mid[b]) continue;  // already marked
        if (mid[b] == first[b]) touched.push_back(b);
        int32_t other = elems[mid[b]];
        std::swap(elems[loc[s]], elems[mid[b]]);
        loc[other] = loc[s];
        loc[s] = mid[b]++;
      }
      g = h;
      for (int32_t b : touched) {
        if (mid[b] == end[b]) {  // every element marked: no split
          mid[b] = first[b];
          continue;
        }
        int32_t nb = int32_t(first.size());  // the marked part becomes a new block
        first.push_back(first[b]);
        end.push_back(mid[b]);
        mid.push_back(first[b]);
        first[b] = mid[b];
        for (int32_t i = first[nb]; i < end[nb]; ++i) block_of[elems[i]] = nb;
        in_work.push_back(0);
        if (in_work[b]) {
          in_work[nb] = 1;
          work.push_back(nb);
        } else {
          int32_t smaller = end[nb] - first[nb] < end[b] - first[b] ? nb : b;
          in_work[smaller] = 1;
          work.push_back(smaller);
        }
      }
    }
  }
  const int32_t count = int32_t(first.size());
  const std::vector<int32_t>& block = block_of;
  const int32_t dead_block = -1;
  // Renumber so that the start state is 0 and states appear in BFS order.
  std::vector<int32_t> order(count, -1);
  std::vector<int32_t> rep;  // one original state per new state
  std::vector<int32_t> queue{dfa.start};
  order[block[dfa.start]] = 0;
  rep.push_back(dfa.start);
  for (size_t qi = 0; qi < queue.size(); ++qi) {
    int32_t s = queue[qi];
    auto visit = [&](int32_t t) {
      if (t >= 0 && block[t] != dead_block && order[block[t]] < 0) {
        order[block[t]] = int32_t(rep.size());
        rep.push_back(t);
        queue.push_back(t);
      }
    };
    for (int32_t c = 0; c < k; ++c) visit(dfa.next[size_t(s) * k + c]);
    for (const auto& call : dfa.calls[s]) visit(call.to);
  }
  Dfa out;
  out.num_states = int32_t(rep.size());
  out.num_classes = k;
  out.byte_class = dfa.byte_class;
  out.start = 0;
  out.next.assign(size_t(out.num_states) * k, -1);
  out.final.assign(out.num_states, 0);
  out.calls.assign(out.num_states, {});
  for (int32_t ns = 0; ns < out.num_states; ++ns) {
    int32_t s = rep[ns];
    out.final[ns] = dfa.final[s];
    for (int32_t c = 0; c < k; ++c) {
      int32_t t = dfa.next[size_t(s) * k + c];
      out.next[size_t(ns) * k + c] = t < 0 || block[t] == dead_block ? -1 : order[block[t]];
    }
    for (const auto& call : dfa.calls[s])
      if (block[call.to] != dead_block) out.calls[ns].push_back({call.rule, order[block[call.to]]});
  }
  return out;
}

util::Result<Dfa> intersect(const Dfa& a, const Dfa& b, const Budget& budget) {
  Dfa out;
  // Combined byte classes: pairs of (class in a, class in b).
  std::map<std::pair<int, int>, int> pair_class;
  std::vector<std::pair<int, int>> classes;
  for (int byte = 0; byte < 256; ++byte) {
    auto key = std::make_pair(int(a.byte_class[byte]), int(b.byte_class[byte]));
    auto [it, inserted] = pair_class.emplace(key, int(classes.size()));
    if (inserted) classes.push_back(key);
    out.byte_class[byte] = uint8_t(it->second);
  }
  out.num_classes = int32_t(classes.size());
  std::map<std::pair<int32_t, int32_t>, int32_t> ids;
  std::vector<std::pair<int32_t, int32_t>> states{{a.start, b.start}};
  ids[states[0]] = 0;
  for (size_t i = 0; i < states.size(); ++i) {
    if (states.size() > budget.max_dfa_states)
      return util::make_error(fmt::format("automaton exceeds {} states", budget.max_dfa_states));
    auto [sa, sb] = states[i];
    out.final.push_back(a.final[sa] && b.final[sb]);
    out.calls.emplace_back();
    for (int32_t c = 0; c < out.num_classes; ++c) {
      int32_t ta = a.next[size_t(sa) * a.num_classes + classes[c].first];
      int32_t tb = b.next[size_t(sb) * b.num_classes + classes[c].second];
      int32_t t = -1;
      if (ta >= 0 && tb >= 0) {
        auto [it, inserted] = ids.emplace(std::make_pair(ta, tb), int32_t(states.size()));
        if (inserted) states.push_back({ta, tb});
        t = it->second;
      }
      out.next.push_back(t);
    }
  }
  out.num_states = int32_t(states.size());
  return minimize(out);
}

Dfa complement(const Dfa& dfa) {
  Dfa out = dfa;
  const int32_t sink = out.num_states++;
  out.next.resize(size_t(out.num_states) * out.num_classes, -1);
  out.final.push_back(0);
  out.calls.emplace_back();
  for (auto& t : out.next)
    if (t < 0) t = sink;
  for (auto& f : out.final) f = !f;
  return out;
}

bool dfa_matches(const Dfa& dfa, std::string_view bytes) {
  int32_t s = dfa.start;
  for (unsigned char c : bytes) {
    s = dfa.step(s, c);
    if (s < 0) return false;
  }
  return dfa.final[s];
}

}  // namespace kiln::sampling::grammar
