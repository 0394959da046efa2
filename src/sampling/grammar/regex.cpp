#include "sampling/grammar/regex.h"

#include <optional>

#include <fmt/format.h>

namespace kiln::sampling::grammar {
namespace {

constexpr uint32_t kMaxCodePoint = 0x10FFFF;

const std::vector<Range>& digit_ranges() {
  static const std::vector<Range> r{{'0', '9'}};
  return r;
}
const std::vector<Range>& word_ranges() {
  static const std::vector<Range> r{{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
  return r;
}
const std::vector<Range>& space_ranges() {
  static const std::vector<Range> r{{'\t', '\r'}, {' ', ' '}};
  return r;
}

class RegexParser {
 public:
  RegexParser(std::string_view p, CharEncoding enc, RegexAnchoring anchoring)
      : p_(p), enc_(enc), anchoring_(anchoring) {}

  util::Result<ExprPtr> parse() {
    std::vector<ExprPtr> alternatives;
    for (;;) {
      bool start_anchor = false, end_anchor = false;
      if (peek('^')) {
        ++i_;
        start_anchor = true;
      }
      ExprPtr body = parse_seq(0, &end_anchor);
      if (!error_.empty()) break;
      if (anchoring_ == RegexAnchoring::kSearch) {
        ExprPtr any = ex::star(chars({{0, kMaxCodePoint}}));
        body = ex::seq({start_anchor ? ex::empty() : any, body, end_anchor ? ex::empty() : any});
      }
      alternatives.push_back(body);
      if (i_ >= p_.size()) break;
      if (p_[i_] == '|') {
        ++i_;
        continue;
      }
      fail("unbalanced ')'");
      break;
    }
    if (!error_.empty()) return util::make_error(error_);
    return ex::alt(std::move(alternatives));
  }

 private:
  bool peek(char c) const { return i_ < p_.size() && p_[i_] == c; }
  void fail(std::string msg) {
    if (error_.empty()) error_ = fmt::format("{} at offset {}", msg, i_);
  }
  ExprPtr chars(std::vector<Range> r) { return ex::chars(std::move(r), enc_); }

  // Decodes one UTF-8 character of the pattern.
  std::optional<uint32_t> next_char() {
    if (i_ >= p_.size()) return std::nullopt;
    unsigned char c = uint8_t(p_[i_]);
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i_ + len > p_.size()) {
      fail("invalid UTF-8 in regex");
      return std::nullopt;
    }
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (int k = 1; k < len; ++k) {
      unsigned char cc = uint8_t(p_[i_ + k]);
      if ((cc & 0xC0) != 0x80) {
        fail("invalid UTF-8 in regex");
        return std::nullopt;
      }
      cp = (cp << 6) | (cc & 0x3F);
    }
    i_ += len;
    return cp;
  }

  // seq := item*, ending at '|', ')' or the end. At depth 0, a '$' right
  // before the end or a '|' is the end anchor.
  ExprPtr parse_seq(int depth, bool* end_anchor) {
    std::vector<ExprPtr> items;
    while (i_ < p_.size() && error_.empty()) {
      char c = p_[i_];
      if (c == '|' || c == ')') break;
      if (c == '$') {
        ++i_;
        bool at_end = i_ >= p_.size() || p_[i_] == '|' || (p_[i_] == ')' && depth > 0);
        if (depth == 0 && at_end && end_anchor) {
          *end_anchor = true;
          break;
        }
        fail("'$' is only supported at the end of the pattern");
        break;
      }
      if (c == '^') {
        fail("'^' is only supported at the start of the pattern");
        break;
      }
      ExprPtr atom = parse_atom(depth);
      if (!error_.empty()) break;
      items.push_back(parse_quantifiers(atom));
    }
    return ex::seq(std::move(items));
  }

  ExprPtr parse_alt(int depth) {
    std::vector<ExprPtr> options{parse_seq(depth, nullptr)};
    while (error_.empty() && peek('|')) {
      ++i_;
      options.push_back(parse_seq(depth, nullptr));
    }
    return ex::alt(std::move(options));
  }

  std::optional<int32_t> parse_count() {
    size_t start = i_;
    int64_t v = 0;
    while (i_ < p_.size() && p_[i_] >= '0' && p_[i_] <= '9') {
      v = std::min<int64_t>(v * 10 + (p_[i_] - '0'), int64_t(1) << 40);
      ++i_;
    }
    if (i_ == start) return std::nullopt;
    if (v > kMaxRepeat) {
      fail(fmt::format("repetition count {} exceeds the limit of {}", v, kMaxRepeat));
      return std::nullopt;
    }
    return int32_t(v);
  }

  // At most one quantifier per atom (plus a lazy '?'), as in Python: "a**"
  // is an error there too, and it keeps Expr trees shallow.
  ExprPtr parse_quantifiers(ExprPtr atom) {
    if (i_ >= p_.size() || !error_.empty()) return atom;
    int32_t lo = 0, hi = 0;
    char c = p_[i_];
    if (c == '*') {
      lo = 0, hi = -1, ++i_;
    } else if (c == '+') {
      lo = 1, hi = -1, ++i_;
    } else if (c == '?') {
      lo = 0, hi = 1, ++i_;
    } else if (c == '{') {
      size_t save = i_;
      ++i_;
      auto a = parse_count();
      if (!error_.empty()) return atom;
      std::optional<int32_t> b = a;
      bool comma = false;
      if (peek(',')) {
        comma = true;
        ++i_;
        b = parse_count();
        if (!error_.empty()) return atom;
      }
      if ((a || comma) && peek('}')) {  // {n} {n,} {,m} {n,m} {,}
        ++i_;
        lo = a.value_or(0);
        hi = b.value_or(-1);
        if (hi >= 0 && hi < lo) {
          fail("repetition {m,n} with n < m");
          return atom;
        }
      } else {
        i_ = save;  // not a quantifier: '{' is a literal (as in Python)
        return atom;
      }
    } else {
      return atom;
    }
    if (peek('?')) {
      ++i_;  // lazy: same language
    } else if (peek('+')) {
      fail("possessive quantifiers are not supported");
      return atom;
    }
    if (i_ < p_.size() && (p_[i_] == '*' || p_[i_] == '+' || p_[i_] == '?')) {
      fail("multiple repeat");
      return atom;
    }
    if (peek('{')) {
      size_t save = i_;
      ++i_;
      bool digits = parse_count().has_value() || peek(',');
      i_ = save;
      if (digits && error_.empty()) {
        fail("multiple repeat");
        return atom;
      }
    }
    return ex::repeat(atom, lo, hi);
  }

  ExprPtr parse_atom(int depth) {
    char c = p_[i_];
    if (c == '(') return parse_group(depth);
    if (c == '[') return parse_class();
    if (c == '*' || c == '+' || c == '?') {
      fail("nothing to repeat");
      return ex::nothing();
    }
    if (c == '{') {
      // A complete {n}, {n,}, {,m} or {n,m} here has nothing to repeat;
      // anything else starting with '{' is a literal (as in Python).
      size_t save = i_;
      ++i_;
      bool digits = parse_count().has_value(), comma = false;
      if (error_.empty() && peek(',')) {
        comma = true;
        ++i_;
        digits = parse_count().has_value() || digits;
      }
      if (!error_.empty()) return ex::nothing();
      bool quantifier = (digits || comma) && peek('}');
      i_ = save;
      if (quantifier) {
        fail("nothing to repeat");
        return ex::nothing();
      }
      ++i_;
      return chars({{'{', '{'}});
    }
    if (c == '.') {
      ++i_;
      return chars({{0, '\n' - 1}, {'\n' + 1, kMaxCodePoint}});
    }
    if (c == '\\') {
      ++i_;
      std::vector<Range> r;
      if (!parse_escape(false, r)) return ex::nothing();
      return chars(std::move(r));
    }
    auto cp = next_char();
    if (!cp) return ex::nothing();
    return chars({{*cp, *cp}});
  }

  ExprPtr parse_group(int depth) {
    if (depth + 1 > kMaxNesting) {
      fail(fmt::format("groups nested deeper than {}", kMaxNesting));
      return ex::nothing();
    }
    ++i_;  // '('
    if (peek('?')) {
      ++i_;
      if (peek(':')) {
        ++i_;
      } else if (peek('P') && i_ + 1 < p_.size() && p_[i_ + 1] == '<') {
        i_ += 2;
        skip_group_name();
      } else if (peek('<') && i_ + 1 < p_.size() && p_[i_ + 1] != '=' && p_[i_ + 1] != '!') {
        ++i_;
        skip_group_name();
      } else if (peek('=') || peek('!') || peek('<')) {
        fail("lookaround assertions are not supported");
        return ex::nothing();
      } else if (peek('P') && i_ + 1 < p_.size() && p_[i_ + 1] == '=') {
        fail("backreferences are not supported");
        return ex::nothing();
      } else if (peek('>')) {
        fail("atomic groups are not supported");
        return ex::nothing();
      } else {
        fail("inline flags and other (?...) groups are not supported");
        return ex::nothing();
      }
    }
    ExprPtr inner = parse_alt(depth + 1);
    if (!error_.empty()) return inner;
    if (!peek(')')) {
      fail("missing ')'");
      return ex::nothing();
    }
    ++i_;
    return inner;
  }

  void skip_group_name() {
    size_t start = i_;
    while (i_ < p_.size() && p_[i_] != '>') ++i_;
    if (i_ >= p_.size() || i_ == start) {
      fail("bad group name");
      return;
    }
    ++i_;
  }

  std::optional<uint32_t> parse_hex(size_t digits) {
    if (i_ + digits > p_.size()) {
      fail("incomplete hex escape");
      return std::nullopt;
    }
    uint32_t v = 0;
    for (size_t k = 0; k < digits; ++k) {
      char h = p_[i_ + k];
      int d = h >= '0' && h <= '9'   ? h - '0'
              : h >= 'a' && h <= 'f' ? h - 'a' + 10
              : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                     : -1;
      if (d < 0) {
        fail("bad hex escape");
        return std::nullopt;
      }
      v = v * 16 + uint32_t(d);
    }
    i_ += digits;
    return v;
  }

  // After a backslash: appends the escape's code points to `out`.
  bool parse_escape(bool in_class, std::vector<Range>& out) {
    if (i_ >= p_.size()) {
      fail("pattern ends with '\\'");
      return false;
    }
    char c = p_[i_++];
    auto one = [&](uint32_t cp) {
      out.push_back({cp, cp});
      return true;
    };
    auto add = [&](const std::vector<Range>& r, bool negate) {
      auto v = negate ? complement_ranges(r, kMaxCodePoint) : r;
      out.insert(out.end(), v.begin(), v.end());
      return true;
    };
    switch (c) {
      case 'd':
        return add(digit_ranges(), false);
      case 'D':
        return add(digit_ranges(), true);
      case 'w':
        return add(word_ranges(), false);
      case 'W':
        return add(word_ranges(), true);
      case 's':
        return add(space_ranges(), false);
      case 'S':
        return add(space_ranges(), true);
      case 'n':
        return one('\n');
      case 'r':
        return one('\r');
      case 't':
        return one('\t');
      case 'f':
        return one('\f');
      case 'v':
        return one('\v');
      case 'a':
        return one('\a');
      case '0':
        return one(0);
      case 'b':
        if (in_class) return one('\b');
        fail("word boundaries (\\b) are not supported");
        return false;
      case 'x': {
        auto v = parse_hex(2);
        return v && one(*v);
      }
      case 'u': {
        if (peek('{')) {
          ++i_;
          size_t end = p_.find('}', i_);
          if (end == std::string_view::npos || end == i_ || end - i_ > 6) {
            fail("bad \\u{...} escape");
            return false;
          }
          auto v = parse_hex(end - i_);
          ++i_;
          if (v && *v > kMaxCodePoint) {
            fail("code point out of range");
            return false;
          }
          return v && one(*v);
        }
        auto v = parse_hex(4);
        return v && one(*v);
      }
      case 'U': {
        auto v = parse_hex(8);
        if (v && *v > kMaxCodePoint) {
          fail("code point out of range");
          return false;
        }
        return v && one(*v);
      }
      case 'p':
      case 'P':
        fail("Unicode property classes (\\p{...}) are not supported");
        return false;
      case 'B':
      case 'A':
      case 'Z':
      case 'z':
      case 'G':
        fail(fmt::format("the assertion \\{} is not supported", c));
        return false;
      case 'k':
        fail("backreferences are not supported");
        return false;
      case 'c':
        fail("control escapes (\\c) are not supported");
        return false;
      default:
        break;
    }
    if (c >= '1' && c <= '9') {
      fail("backreferences are not supported");
      return false;
    }
    if (uint8_t(c) >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      fail(fmt::format("unknown escape \\{}", c));
      return false;
    }
    return one(uint8_t(c));  // escaped punctuation stands for itself
  }

  // One class member: a character or an escape; `single` tells whether it
  // is a single character (usable as a range end).
  bool parse_class_atom(std::vector<Range>& out, std::optional<uint32_t>& single) {
    single.reset();
    if (p_[i_] == '\\') {
      ++i_;
      std::vector<Range> r;
      if (!parse_escape(true, r)) return false;
      if (r.size() == 1 && r[0].first == r[0].second) single = r[0].first;
      out.insert(out.end(), r.begin(), r.end());
      return true;
    }
    auto cp = next_char();
    if (!cp) return false;
    single = *cp;
    out.push_back({*cp, *cp});
    return true;
  }

  ExprPtr parse_class() {
    ++i_;  // '['
    bool negate = false;
    if (peek('^')) {
      negate = true;
      ++i_;
    }
    std::vector<Range> ranges;
    bool first = true;
    for (;;) {
      if (i_ >= p_.size()) {
        fail("missing ']'");
        return ex::nothing();
      }
      if (p_[i_] == ']' && !first) {
        ++i_;
        break;
      }
      first = false;
      std::vector<Range> item;
      std::optional<uint32_t> lo;
      if (!parse_class_atom(item, lo)) return ex::nothing();
      if (lo && i_ + 1 < p_.size() && p_[i_] == '-' && p_[i_ + 1] != ']') {
        ++i_;
        std::vector<Range> hi_item;
        std::optional<uint32_t> hi;
        if (!parse_class_atom(hi_item, hi)) return ex::nothing();
        if (!hi) {
          fail("bad character range");
          return ex::nothing();
        }
        if (*hi < *lo) {
          fail("character range out of order");
          return ex::nothing();
        }
        ranges.push_back({*lo, *hi});
        continue;
      }
      ranges.insert(ranges.end(), item.begin(), item.end());
    }
    ranges = normalize_ranges(std::move(ranges));
    if (negate) ranges = complement_ranges(ranges, kMaxCodePoint);
    return chars(std::move(ranges));
  }

  std::string_view p_;
  CharEncoding enc_;
  RegexAnchoring anchoring_;
  size_t i_ = 0;
  std::string error_;
};

}  // namespace

util::Result<ExprPtr> parse_regex(std::string_view pattern, CharEncoding encoding,
                                  RegexAnchoring anchoring) {
  return RegexParser(pattern, encoding, anchoring).parse();
}

}  // namespace kiln::sampling::grammar
