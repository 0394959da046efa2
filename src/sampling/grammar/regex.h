// Regular expressions -> Expr (internal to sampling/grammar).
//
// The subset used for constrained decoding (TGI `grammar: {type: regex}` and
// JSON Schema `pattern`), with Python `re` semantics in ASCII mode:
//   literals and UTF-8 text; `.` (any character but \n); classes `[a-z_]`,
//   `[^...]`; escapes \d \D \w \W \s \S \n \r \t \f \v \0 \xHH \uHHHH
//   \u{H..} and escaped punctuation; groups `(...)`, `(?:...)`,
//   `(?<name>...)`, `(?P<name>...)`; alternation; quantifiers * + ? {n}
//   {n,} {n,m} and their lazy forms (same language); `^` / `$` only at the
//   ends of the pattern or of a top-level alternative.
// Refused with a message naming the construct: backreferences, lookaround,
// word boundaries, inline flags, possessive quantifiers, \p{..} classes,
// counts above kMaxRepeat, nesting deeper than kMaxNesting.
#pragma once

#include <string_view>

#include "sampling/grammar/automaton.h"
#include "util/result.h"

namespace kiln::sampling::grammar {

constexpr int32_t kMaxRepeat = 10000;
constexpr int32_t kMaxNesting = 200;

enum class RegexAnchoring {
  kFullMatch,  // the whole text matches (TGI regex grammars); ^ and $ are implied
  kSearch,     // JSON Schema `pattern`: matches anywhere unless anchored with ^ / $
};

util::Result<ExprPtr> parse_regex(std::string_view pattern, CharEncoding encoding,
                                  RegexAnchoring anchoring);

}  // namespace kiln::sampling::grammar
