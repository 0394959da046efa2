#include "sampling/grammar/json_primitives.h"

#include <fmt/format.h>

namespace kiln::sampling::grammar {
namespace {

ExprPtr lit(std::string_view s) { return ex::literal(s); }
ExprPtr digit(char lo, char hi) { return ex::byte_range(uint8_t(lo), uint8_t(hi)); }
ExprPtr any_digit() { return digit('0', '9'); }
ExprPtr digits(int32_t min, int32_t max) { return ex::repeat(any_digit(), min, max); }
ExprPtr nonneg_int() { return ex::alt({lit("0"), ex::seq({digit('1', '9'), digits(0, -1)})}); }
ExprPtr fraction() { return ex::seq({lit("."), digits(1, -1)}); }
ExprPtr nonzero_digit_string() {  // digits with at least one non-zero
  return ex::seq({digits(0, -1), digit('1', '9'), digits(0, -1)});
}

// Canonical non-negative integers (no leading zeros) greater than I.
ExprPtr int_gt(const std::string& I) {
  const int32_t n = int32_t(I.size());
  std::vector<ExprPtr> alts{ex::seq({digit('1', '9'), digits(n, -1)})};  // longer
  for (int32_t i = 0; i < n; ++i)
    if (I[i] < '9')
      alts.push_back(
          ex::seq({lit(I.substr(0, i)), digit(char(I[i] + 1), '9'), digits(n - i - 1, n - i - 1)}));
  return ex::alt(std::move(alts));
}

// Canonical non-negative integers less than I (0 only with allow_zero).
ExprPtr int_lt(const std::string& I, bool allow_zero) {
  const int32_t n = int32_t(I.size());
  std::vector<ExprPtr> alts;
  if (n >= 2) {  // shorter
    if (allow_zero) alts.push_back(lit("0"));
    alts.push_back(ex::seq({digit('1', '9'), digits(0, n - 2)}));
  }
  for (int32_t i = 0; i < n; ++i) {
    char low = i > 0 ? '0' : (n == 1 && allow_zero) ? '0' : '1';
    if (I[i] > low)
      alts.push_back(
          ex::seq({lit(I.substr(0, i)), digit(low, char(I[i] - 1)), digits(n - i - 1, n - i - 1)}));
  }
  return ex::alt(std::move(alts));
}

// Fractions ".f" (or none) such that 0.f >= 0.F (> when strict).
ExprPtr frac_ge(const std::string& F, bool strict) {
  if (F.empty()) return strict ? ex::seq({lit("."), nonzero_digit_string()}) : ex::opt(fraction());
  std::vector<ExprPtr> alts;
  for (size_t i = 0; i < F.size(); ++i)
    if (F[i] < '9')
      alts.push_back(ex::seq({lit(F.substr(0, i)), digit(char(F[i] + 1), '9'), digits(0, -1)}));
  alts.push_back(ex::seq({lit(F), strict ? nonzero_digit_string() : digits(0, -1)}));
  return ex::seq({lit("."), ex::alt(std::move(alts))});
}

// Fractions ".f" (or none) such that 0.f <= 0.F (< when strict).
ExprPtr frac_le(const std::string& F, bool strict) {
  if (F.empty()) return strict ? ex::nothing() : ex::opt(ex::seq({lit("."), ex::plus(lit("0"))}));
  std::vector<ExprPtr> alts;
  for (size_t i = 0; i < F.size(); ++i)
    if (F[i] > '0')
      alts.push_back(ex::seq({lit(F.substr(0, i)), digit('0', char(F[i] - 1)), digits(0, -1)}));
  // A proper prefix of F followed by zeros is smaller: F ends in a non-zero digit.
  alts.push_back(ex::plus(lit("0")));
  for (size_t j = 1; j < F.size(); ++j)
    alts.push_back(ex::seq({lit(F.substr(0, j)), ex::star(lit("0"))}));
  if (!strict) alts.push_back(ex::seq({lit(F), ex::star(lit("0"))}));
  return ex::opt(ex::seq({lit("."), ex::alt(std::move(alts))}));
}

// Non-negative decimals (canonical, no exponent) >= A (> when strict).
ExprPtr mag_ge(const Decimal& A, bool strict) {
  return ex::alt({ex::seq({int_gt(A.int_digits), ex::opt(fraction())}),
                  ex::seq({lit(A.int_digits), frac_ge(A.frac_digits, strict)})});
}

// Non-negative decimals <= B (< when strict).
ExprPtr mag_le(const Decimal& B, bool strict) {
  return ex::alt({ex::seq({int_lt(B.int_digits, true), ex::opt(fraction())}),
                  ex::seq({lit(B.int_digits), frac_le(B.frac_digits, strict)})});
}

int compare_mag(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  return a.compare(b) < 0 ? -1 : a.compare(b) > 0 ? 1 : 0;
}

int compare(const Decimal& a, const Decimal& b) {
  if (a.negative != b.negative) return a.negative ? -1 : 1;
  int c = compare_mag(a.int_digits, b.int_digits);
  if (c == 0)
    c = a.frac_digits.compare(b.frac_digits) < 0 ? -1 : a.frac_digits == b.frac_digits ? 0 : 1;
  return a.negative ? -c : c;
}

std::string add_one(std::string m) {
  int i = int(m.size()) - 1;
  while (i >= 0 && m[i] == '9') m[i--] = '0';
  if (i < 0) return "1" + m;
  ++m[i];
  return m;
}

std::string sub_one(std::string m) {  // m >= 1
  int i = int(m.size()) - 1;
  while (m[i] == '0') m[i--] = '9';
  --m[i];
  size_t nz = m.find_first_not_of('0');
  return nz == std::string::npos ? "0" : m.substr(nz);
}

Decimal make_int(bool negative, std::string mag) {
  Decimal d;
  d.int_digits = std::move(mag);
  d.negative = negative && d.int_digits != "0";
  return d;
}

Decimal int_inc(const Decimal& d) {
  return d.negative ? make_int(true, sub_one(d.int_digits))
                    : make_int(false, add_one(d.int_digits));
}
Decimal int_dec(const Decimal& d) {
  if (d.negative) return make_int(true, add_one(d.int_digits));
  return d.int_digits == "0" ? make_int(true, "1") : make_int(false, sub_one(d.int_digits));
}
Decimal ceil_of(const Decimal& d) {
  if (d.frac_digits.empty()) return d;
  return d.negative ? make_int(true, d.int_digits) : make_int(false, add_one(d.int_digits));
}
Decimal floor_of(const Decimal& d) {
  if (d.frac_digits.empty()) return d;
  return d.negative ? make_int(true, add_one(d.int_digits)) : make_int(false, d.int_digits);
}

}  // namespace

std::optional<Decimal> parse_decimal(std::string_view t) {
  size_t i = 0;
  bool negative = false;
  if (i < t.size() && t[i] == '-') negative = true, ++i;
  std::string digits;
  int64_t point = -1;
  for (; i < t.size() && ((t[i] >= '0' && t[i] <= '9') || t[i] == '.'); ++i) {
    if (t[i] == '.') {
      if (point >= 0) return std::nullopt;
      point = int64_t(digits.size());
    } else {
      digits.push_back(t[i]);
    }
  }
  if (digits.empty()) return std::nullopt;
  if (point < 0) point = int64_t(digits.size());
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    bool eneg = false;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) eneg = t[i] == '-', ++i;
    int64_t e = 0;
    size_t start = i;
    for (; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i)
      e = std::min<int64_t>(e * 10 + (t[i] - '0'), 100000);
    if (i == start) return std::nullopt;
    point += eneg ? -e : e;
  }
  if (i != t.size()) return std::nullopt;
  // Trim zeros first so that 1e-400 style inputs are judged by their digits.
  size_t lead = digits.find_first_not_of('0');
  if (lead == std::string::npos) return Decimal{};
  digits.erase(0, lead);
  point -= int64_t(lead);
  size_t trail = digits.find_last_not_of('0');
  digits.erase(trail + 1);
  if (point > int64_t(kMaxBoundDigits) || int64_t(digits.size()) - point > int64_t(kMaxBoundDigits))
    return std::nullopt;
  Decimal d;
  d.negative = negative;
  if (point <= 0) {
    d.int_digits = "0";
    d.frac_digits = std::string(size_t(-point), '0') + digits;
  } else if (point >= int64_t(digits.size())) {
    d.int_digits = digits + std::string(size_t(point) - digits.size(), '0');
  } else {
    d.int_digits = digits.substr(0, size_t(point));
    d.frac_digits = digits.substr(size_t(point));
  }
  return d;
}

ExprPtr plain_string_expr() {
  static const ExprPtr e = [] {
    ExprPtr unescaped =
        ex::chars({{0x20, 0x21}, {0x23, 0x5B}, {0x5D, 0x10FFFF}}, CharEncoding::kUtf8);
    ExprPtr hex = ex::bytes({{'0', '9'}, {'A', 'F'}, {'a', 'f'}});
    ExprPtr d = ex::bytes({{'D', 'D'}, {'d', 'd'}});
    // \uXXXX of a scalar value, or a surrogate pair: lone surrogates are
    // refused by many JSON parsers (Python's accepts them, Go's and Rust's not).
    ExprPtr scalar =
        ex::alt({ex::seq({ex::bytes({{'0', '9'}, {'A', 'C'}, {'E', 'F'}, {'a', 'c'}, {'e', 'f'}}),
                          ex::repeat(hex, 3, 3)}),
                 ex::seq({d, ex::byte_range('0', '7'), ex::repeat(hex, 2, 2)})});
    ExprPtr pair =
        ex::seq({d, ex::bytes({{'8', '9'}, {'A', 'B'}, {'a', 'b'}}), ex::repeat(hex, 2, 2),
                 lit("\\u"), d, ex::bytes({{'C', 'F'}, {'c', 'f'}}), ex::repeat(hex, 2, 2)});
    ExprPtr short_escape = ex::bytes({{'"', '"'},
                                      {'\\', '\\'},
                                      {'/', '/'},
                                      {'b', 'b'},
                                      {'f', 'f'},
                                      {'n', 'n'},
                                      {'r', 'r'},
                                      {'t', 't'}});
    ExprPtr escape =
        ex::seq({lit("\\"), ex::alt({short_escape, ex::seq({lit("u"), ex::alt({scalar, pair})})})});
    return ex::seq({lit("\""), ex::star(ex::alt({unescaped, escape})), lit("\"")});
  }();
  return e;
}

ExprPtr json_char_expr() { return ex::chars({{0, 0x10FFFF}}, CharEncoding::kJsonString); }

ExprPtr any_number_expr() {
  return ex::seq({ex::opt(lit("-")), nonneg_int(), ex::opt(fraction()),
                  ex::opt(ex::seq({ex::bytes({{'E', 'E'}, {'e', 'e'}}),
                                   ex::opt(ex::bytes({{'+', '+'}, {'-', '-'}})), digits(1, -1)}))});
}

ExprPtr any_integer_expr() { return ex::seq({ex::opt(lit("-")), nonneg_int()}); }

util::Result<std::vector<ExprPtr>> bounded_integer_exprs(const NumberBounds& b) {
  std::optional<Decimal> lo, hi;
  if (b.lo) lo = b.lo_strict ? int_inc(floor_of(*b.lo)) : ceil_of(*b.lo);
  if (b.hi) hi = b.hi_strict ? int_dec(ceil_of(*b.hi)) : floor_of(*b.hi);
  if (lo && hi && compare(*lo, *hi) > 0)
    return util::make_error("no integer satisfies the minimum and maximum");
  std::vector<ExprPtr> out;
  if (lo) {
    const std::string& I = lo->int_digits;
    out.push_back(lo->negative ? ex::alt({nonneg_int(),
                                          ex::seq({lit("-"), ex::alt({lit(I), int_lt(I, true)})})})
                               : ex::alt({lit(I), int_gt(I)}));
  }
  if (hi) {
    const std::string& I = hi->int_digits;
    out.push_back(hi->negative
                      ? ex::seq({lit("-"), ex::alt({lit(I), int_gt(I)})})
                      : ex::alt({lit(I), int_lt(I, true), ex::seq({lit("-"), nonneg_int()})}));
  }
  return out;
}

util::Result<std::vector<ExprPtr>> bounded_number_exprs(const NumberBounds& b) {
  if (b.lo && b.hi) {
    int c = compare(*b.lo, *b.hi);
    if (c > 0 || (c == 0 && (b.lo_strict || b.hi_strict)))
      return util::make_error("no number satisfies the minimum and maximum");
  }
  const Decimal zero;
  std::vector<ExprPtr> out;
  if (b.lo) {
    Decimal mag = *b.lo;
    mag.negative = false;
    out.push_back(b.lo->negative ? ex::alt({ex::seq({nonneg_int(), ex::opt(fraction())}),
                                            ex::seq({lit("-"), mag_le(mag, b.lo_strict)})})
                                 : mag_ge(mag, b.lo_strict));
  }
  if (b.hi) {
    Decimal mag = *b.hi;
    mag.negative = false;
    // Every negative number is below a non-negative bound; "-0" only when 0 is allowed.
    ExprPtr negatives = b.hi_strict && mag.int_digits == "0" && mag.frac_digits.empty()
                            ? mag_ge(zero, true)
                            : ex::seq({nonneg_int(), ex::opt(fraction())});
    out.push_back(b.hi->negative
                      ? ex::seq({lit("-"), mag_ge(mag, b.hi_strict)})
                      : ex::alt({mag_le(mag, b.hi_strict), ex::seq({lit("-"), negatives})}));
  }
  return out;
}

std::optional<std::string> format_regex(std::string_view format) {
  // Years 0001-9999 (Python's date has no year 0); February 29 only in leap years.
  static const std::string kYear = R"((?:[1-9]\d{3}|0[1-9]\d{2}|00[1-9]\d|000[1-9]))";
  static const std::string kLeapYear =
      R"((?:\d{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00))";
  static const std::string kDate =
      "(?:" + kYear +
      R"(-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|02-(?:0[1-9]|1\d|2[0-8]))|)" +
      kLeapYear + "-02-29)";
  static const std::string kTime =
      R"((?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:[Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d))";
  // DNS labels without the 63-byte cap: counting to 63 costs ~60 automaton
  // positions per label for a limit nothing checks (jsonschema does not).
  static const std::string kLabel = R"([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)";
  static const std::string kOctet = R"((?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d))";
  static const std::string kH = "[0-9a-fA-F]{1,4}";
  if (format == "date") return kDate;
  if (format == "time") return kTime;
  if (format == "date-time") return kDate + "[Tt]" + kTime;
  if (format == "uuid")
    return "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
  if (format == "ipv4") return kOctet + R"((?:\.)" + kOctet + "){3}";
  if (format == "ipv6") {
    // The uncompressed form and every placement of one "::" (no embedded IPv4).
    std::string s = "(?:" + kH + ":){7}" + kH;
    s += "|(?:" + kH + ":){1,7}:";
    for (int left = 1; left <= 6; ++left)
      s += fmt::format("|(?:{0}:){{{1}}}(?::{0}){{1,{2}}}", kH, left, 7 - left);
    s += "|:(?::" + kH + "){1,7}|::";
    return "(?:" + s + ")";
  }
  if (format == "hostname") return kLabel + R"((?:\.)" + kLabel + ")*";
  if (format == "email")
    return R"([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@)" + kLabel +
           R"((?:\.)" + kLabel + ")+";
  return std::nullopt;
}

}  // namespace kiln::sampling::grammar
