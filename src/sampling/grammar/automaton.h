// Byte automata for the constraint engine (internal to sampling/grammar).
//
// A grammar is a set of rules; each rule is a DFA over bytes whose edges may
// also "call" another rule (push it, resume at the edge's target once it
// returns). Rules are written as expression trees (Expr), turned into a
// Thompson NFA, determinized, minimized and trimmed. Regexes, JSON strings,
// numbers and formats are call-free DFAs; objects, arrays and $ref recursion
// use call edges, which makes the whole grammar a pushdown automaton.
//
// Every construction is bounded by a state budget so that hostile input
// (a{1000000}, subset-construction blow-ups) fails with a message, never an
// OOM or a hang.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.h"

namespace kiln::sampling::grammar {

// ---------------------------------------------------------------- Expr

enum class ExprKind {
  kEmpty,
  kNothing,
  kLiteral,
  kBytes,
  kChars,
  kSeq,
  kAlt,
  kRepeat,
  kCall,
  kChain,  // children [x0, e0, x1, e1, ...]: U0 = nothing, U(k+1) = U(k) x(k) | e(k); matches U(n)
};

// How a code-point class is written out as bytes.
enum class CharEncoding {
  kUtf8,        // raw UTF-8 (a top-level regex)
  kJsonString,  // inside a JSON string: '"', '\' and U+0000..U+001F only as escapes
};

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;
using Range = std::pair<uint32_t, uint32_t>;  // inclusive

struct Expr {
  ExprKind kind = ExprKind::kEmpty;
  std::string literal;        // kLiteral
  std::vector<Range> ranges;  // kBytes (bytes) or kChars (code points), sorted, disjoint
  CharEncoding encoding = CharEncoding::kUtf8;
  std::vector<ExprPtr> children;  // kSeq, kAlt, kRepeat (one child)
  int32_t min = 0, max = 0;       // kRepeat; max < 0: unbounded
  int32_t rule = -1;              // kCall
};

namespace ex {
ExprPtr empty();    // matches ""
ExprPtr nothing();  // matches no string
ExprPtr literal(std::string_view bytes);
ExprPtr bytes(std::vector<Range> ranges);
ExprPtr byte_range(uint8_t lo, uint8_t hi);
ExprPtr chars(std::vector<Range> code_points, CharEncoding encoding);
ExprPtr seq(std::vector<ExprPtr> parts);
ExprPtr alt(std::vector<ExprPtr> options);
ExprPtr repeat(ExprPtr e, int32_t min, int32_t max);
inline ExprPtr opt(ExprPtr e) { return repeat(std::move(e), 0, 1); }
inline ExprPtr star(ExprPtr e) { return repeat(std::move(e), 0, -1); }
inline ExprPtr plus(ExprPtr e) { return repeat(std::move(e), 1, -1); }
ExprPtr call(int32_t rule);
// Builds U(n) of kChain without nesting n levels deep (objects with many
// optional members in order: x(k) = ", member k" or its option, e(k) = the
// member k as the first one present).
ExprPtr chain(std::vector<std::pair<ExprPtr, ExprPtr>> steps);
}  // namespace ex

// Sorts and merges ranges; returns the complement within [0, max_value] when asked.
std::vector<Range> normalize_ranges(std::vector<Range> ranges);
std::vector<Range> complement_ranges(const std::vector<Range>& ranges, uint32_t max_value);

// ---------------------------------------------------------------- NFA / DFA

struct CallEdge {
  int32_t rule;
  int32_t to;
};

struct Dfa {
  int32_t num_states = 0;
  int32_t num_classes = 1;
  std::array<uint8_t, 256> byte_class{};  // byte -> class
  std::vector<int32_t> next;              // num_states * num_classes; -1 = dead
  std::vector<uint8_t> final;
  std::vector<std::vector<CallEdge>> calls;  // per state, sorted by rule
  int32_t start = 0;

  int32_t step(int32_t s, uint8_t b) const { return next[size_t(s) * num_classes + byte_class[b]]; }
  bool has_calls() const;
};

struct Budget {
  size_t max_nfa_states = 400000;
  size_t max_dfa_states = 200000;  // per rule
  // NFA states visited while determinizing one rule: bounds the time spent
  // on wide subsets (e.g. hundreds of optional properties in order).
  size_t max_subset_work = 5000000;
};

// Expr -> minimized DFA. Fails when the budget is exceeded.
util::Result<Dfa> compile_expr(const Expr& e, const Budget& budget);

// Product construction for call-free DFAs (both languages at once); minimized.
util::Result<Dfa> intersect(const Dfa& a, const Dfa& b, const Budget& budget);

// The complement of a call-free DFA over all byte strings.
Dfa complement(const Dfa& dfa);

// Moore minimization (call edges count as symbols).
Dfa minimize(const Dfa& dfa);

// Whether the call-free DFA matches the whole of `bytes` (for tests and tools).
bool dfa_matches(const Dfa& dfa, std::string_view bytes);

}  // namespace kiln::sampling::grammar
