// JSON scalars as expressions (internal to sampling/grammar): strings (plain,
// length-counted, formats), integers and numbers, with or without bounds.
//
// Output forms are canonical subsets of what JSON allows, which keeps every
// generated value valid:
//  - numbers: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? ; with a bound
//    (minimum/maximum/exclusive*) the exponent is not generated and the value
//    is constrained exactly by digit automata (bounds up to kMaxBoundDigits
//    digits before and after the point);
//  - integers: -?(0|[1-9][0-9]*), bounds rounded inward to integers;
//  - strings with minLength/maxLength/pattern/format write each character one
//    way: '"', '\' and U+0000..U+001F escaped (\" \\ \n \t \r \b \f or
//    \u00XX), everything else as raw UTF-8, so one character is one unit of
//    length; plain strings also accept \/ and any \uXXXX escape.
#pragma once

#include <optional>
#include <string>

#include "sampling/grammar/automaton.h"
#include "util/result.h"

namespace kiln::sampling::grammar {

constexpr size_t kMaxBoundDigits = 40;

// A finite decimal: (-)int_digits.frac_digits, int_digits without leading
// zeros ("0" for zero), frac_digits without trailing zeros; zero is never
// negative.
struct Decimal {
  bool negative = false;
  std::string int_digits = "0";
  std::string frac_digits;
};

// Parses a JSON number's text (e.g. "-1.5e3"); nullopt when malformed or
// with more than kMaxBoundDigits digits on either side of the point.
std::optional<Decimal> parse_decimal(std::string_view text);

struct NumberBounds {
  std::optional<Decimal> lo, hi;
  bool lo_strict = false, hi_strict = false;
  bool any() const { return lo || hi; }
};

ExprPtr plain_string_expr();  // "..." with any content
ExprPtr json_char_expr();     // one character of string content (canonical form)
ExprPtr any_number_expr();
ExprPtr any_integer_expr();

// The languages an integer/number with bounds must match (all of them: the
// caller intersects). Fails when the bounds leave no value.
util::Result<std::vector<ExprPtr>> bounded_integer_exprs(const NumberBounds& b);
util::Result<std::vector<ExprPtr>> bounded_number_exprs(const NumberBounds& b);

// The content (between the quotes) of a string of a known `format`, or
// nullopt for formats that are not constrained (treated as annotations).
std::optional<std::string> format_regex(std::string_view format);

}  // namespace kiln::sampling::grammar
