// Tokenizer reproducing jinja2 3.1's regex lexer for the transformers
// environment: `{{ }}`, `{% %}`, `{# #}`, raw blocks, `-`/`+` whitespace
// control, trim_blocks (one newline after a block/comment tag) and
// lstrip_blocks (spaces before a block/comment tag at a line start).
// The source arrives with newlines already normalised to "\n".
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "chat/jinja/internal.h"
#include "chat/jinja/parser.h"

namespace kiln::jinja {

namespace {

[[noreturn]] void syntax_error(std::string msg, int line) {
  throw JinjaError{Error{ErrorKind::kSyntax, std::move(msg), line}};
}

bool is_space_at(std::string_view s, size_t i, size_t* next) {
  size_t j = i;
  char32_t c = decode_utf8(s, j);
  if (!py_isspace(c)) return false;
  *next = j;
  return true;
}

size_t skip_spaces(std::string_view s, size_t i) {
  size_t j;
  while (i < s.size() && is_space_at(s, i, &j)) i = j;
  return i;
}

bool all_space(std::string_view s) {
  size_t i = 0, j;
  while (i < s.size() && is_space_at(s, i, &j)) i = j;
  return i == s.size();
}

int count_newlines(std::string_view s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

bool is_name_start(unsigned char c) { return std::isalpha(c) || c == '_' || c >= 0x80; }
bool is_name_char(unsigned char c) { return std::isalnum(c) || c == '_' || c >= 0x80; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// (\d+_)*\d+ starting at i; returns the end or i when no match.
size_t match_digits(std::string_view s, size_t i) {
  size_t j = i;
  if (j >= s.size() || !is_digit(s[j])) return i;
  while (true) {
    while (j < s.size() && is_digit(s[j])) ++j;
    if (j + 1 < s.size() && s[j] == '_' && is_digit(s[j + 1])) {
      ++j;
      continue;
    }
    return j;
  }
}

// Python's unicode-escape decoding of a string literal body, after jinja's
// encode("ascii", "backslashreplace").
std::string unescape(std::string_view body, int line) {
  std::string out;
  out.reserve(body.size());
  auto hex = [&](size_t at, int n) -> char32_t {
    if (at + static_cast<size_t>(n) > body.size()) syntax_error("truncated escape", line);
    char32_t v = 0;
    for (int k = 0; k < n; ++k) {
      char c = body[at + static_cast<size_t>(k)];
      int d = is_digit(c)              ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                       : -1;
      if (d < 0) syntax_error("truncated escape", line);
      v = v * 16 + static_cast<char32_t>(d);
    }
    return v;
  };
  for (size_t i = 0; i < body.size();) {
    if (body[i] != '\\') {
      size_t start = i;
      while (i < body.size() && body[i] != '\\') ++i;
      out.append(body.substr(start, i - start));
      continue;
    }
    if (i + 1 >= body.size()) syntax_error("\\ at end of string", line);
    char c = body[i + 1];
    i += 2;
    switch (c) {
      case '\n':
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '\'':
        out.push_back('\'');
        break;
      case '"':
        out.push_back('"');
        break;
      case 'a':
        out.push_back('\a');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'v':
        out.push_back('\v');
        break;
      case 'x':
        append_utf8(out, hex(i, 2));
        i += 2;
        break;
      case 'u':
        append_utf8(out, hex(i, 4));
        i += 4;
        break;
      case 'U': {
        char32_t v = hex(i, 8);
        if (v > 0x10FFFF) syntax_error("illegal Unicode character", line);
        append_utf8(out, v);
        i += 8;
        break;
      }
      case 'N':
        syntax_error("\\N{...} escapes are not supported", line);
      default:
        if (c >= '0' && c <= '7') {
          char32_t v = static_cast<char32_t>(c - '0');
          for (int k = 0; k < 2 && i < body.size() && body[i] >= '0' && body[i] <= '7'; ++k)
            v = v * 8 + static_cast<char32_t>(body[i++] - '0');
          append_utf8(out, v);
        } else if (static_cast<unsigned char>(c) >= 0x80) {
          // backslashreplace turned the character into an escape that the
          // decoder then reads literally after the doubled backslash.
          size_t j = i - 1;
          char32_t cp = decode_utf8(body, j);
          i = j;
          static const char kHex[] = "0123456789abcdef";
          int digits = cp <= 0xFF ? 2 : cp <= 0xFFFF ? 4 : 8;
          out += digits == 2 ? "\\x" : digits == 4 ? "\\u" : "\\U";
          for (int k = digits - 1; k >= 0; --k) out.push_back(kHex[(cp >> (4 * k)) & 15]);
        } else {
          out.push_back('\\');
          out.push_back(c);
        }
    }
  }
  return out;
}

constexpr const char* kOps2[] = {"//", "**", "==", "!=", ">=", "<="};
constexpr const char kOps1[] = "+-/*%~[](){}><=.:|,;";

class Lexer {
 public:
  explicit Lexer(std::string_view src) : s_(src) {}

  std::vector<Token> run() {
    while (pos_ < s_.size()) root();
    push(Tok::kEof, "");
    return std::move(tokens_);
  }

 private:
  void push(Tok t, std::string text) {
    Token tok;
    tok.type = t;
    tok.line = line_;
    tok.text = std::move(text);
    tokens_.push_back(std::move(tok));
  }

  void emit_data(std::string_view text) {
    if (!text.empty()) push(Tok::kData, std::string(text));
    line_ += count_newlines(text);
  }

  // Applies `-` / lstrip_blocks to the text before a tag.
  std::string_view strip_before(std::string_view text, char sign, bool is_variable) {
    if (sign == '-') {
      std::string_view stripped = py_strip(text, false, true);
      line_ += count_newlines(text.substr(stripped.size()));
      return stripped;
    }
    if (sign != '+' && !is_variable) {
      size_t nl = text.rfind('\n');
      size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
      if ((l_pos > 0 || line_starting_) && l_pos < text.size() && all_space(text.substr(l_pos))) {
        return text.substr(0, l_pos);
      }
    }
    return text;
  }

  void root() {
    size_t p = pos_;
    while (true) {
      p = s_.find('{', p);
      if (p == std::string_view::npos || p + 1 >= s_.size()) {
        emit_data(s_.substr(pos_));
        pos_ = s_.size();
        return;
      }
      char k = s_[p + 1];
      if (k == '{' || k == '%' || k == '#') break;
      ++p;
    }
    std::string_view text = s_.substr(pos_, p - pos_);
    char kind = s_[p + 1];
    size_t after = p + 2;
    char sign = 0;
    if (after < s_.size() && (s_[after] == '-' || s_[after] == '+')) sign = s_[after++];

    if (kind == '%') {
      size_t raw_end = match_raw_begin(after);
      if (raw_end != 0) {
        emit_data(strip_before(text, sign, false));
        line_ += count_newlines(s_.substr(p, raw_end - p));
        line_starting_ = s_[raw_end - 1] == '\n';
        pos_ = raw_end;
        raw_body();
        return;
      }
    }
    emit_data(strip_before(text, sign, kind == '{'));
    line_starting_ = false;
    pos_ = after;
    if (kind == '#') {
      comment();
    } else {
      tag(kind == '{');
    }
  }

  // `{%(-|+|)\s*raw\s*(-%}\s*|%})` after the `{%` and sign: returns the end, or 0.
  size_t match_raw_begin(size_t i) {
    i = skip_spaces(s_, i);
    if (s_.compare(i, 3, "raw") != 0) return 0;
    i = skip_spaces(s_, i + 3);
    if (s_.compare(i, 3, "-%}") == 0) return skip_spaces(s_, i + 3);
    if (s_.compare(i, 2, "%}") == 0) return i + 2;
    return 0;
  }

  void raw_body() {
    size_t p = pos_;
    while (true) {
      p = s_.find("{%", p);
      if (p == std::string_view::npos) syntax_error("Missing end of raw directive", line_);
      size_t i = p + 2;
      char sign = 0;
      if (i < s_.size() && (s_[i] == '-' || s_[i] == '+')) sign = s_[i++];
      i = skip_spaces(s_, i);
      if (s_.compare(i, 6, "endraw") == 0) {
        i = skip_spaces(s_, i + 6);
        size_t end = 0;
        if (s_.compare(i, 3, "+%}") == 0) {
          end = i + 3;
        } else if (s_.compare(i, 3, "-%}") == 0) {
          end = skip_spaces(s_, i + 3);
        } else if (s_.compare(i, 2, "%}") == 0) {
          end = i + 2;
          if (end < s_.size() && s_[end] == '\n') ++end;
        }
        if (end != 0) {
          emit_data(strip_before(s_.substr(pos_, p - pos_), sign, false));
          line_ += count_newlines(s_.substr(p, end - p));
          line_starting_ = s_[end - 1] == '\n';
          pos_ = end;
          return;
        }
      }
      p += 2;
    }
  }

  void comment() {
    for (size_t q = pos_; q < s_.size(); ++q) {
      size_t end = 0;
      if (s_.compare(q, 3, "+#}") == 0) {
        end = q + 3;
      } else if (s_.compare(q, 3, "-#}") == 0) {
        end = skip_spaces(s_, q + 3);
      } else if (s_.compare(q, 2, "#}") == 0) {
        end = q + 2;
        if (end < s_.size() && s_[end] == '\n') ++end;
      }
      if (end != 0) {
        line_ += count_newlines(s_.substr(pos_, end - pos_));
        line_starting_ = s_[end - 1] == '\n';
        pos_ = end;
        return;
      }
    }
    syntax_error("Missing end of comment tag", line_);
  }

  void tag(bool variable) {
    push(variable ? Tok::kVarBegin : Tok::kBlockBegin, "");
    std::vector<char> balance;
    while (true) {
      if (pos_ >= s_.size())
        syntax_error(variable ? "unexpected end of template, expected 'end of print statement'."
                              : "unexpected end of template, expected 'end of statement block'.",
                     line_);
      if (balance.empty()) {
        size_t end = 0;
        if (variable) {
          if (s_.compare(pos_, 3, "-}}") == 0)
            end = skip_spaces(s_, pos_ + 3);
          else if (s_.compare(pos_, 2, "}}") == 0)
            end = pos_ + 2;
        } else {
          if (s_.compare(pos_, 3, "+%}") == 0) {
            end = pos_ + 3;
          } else if (s_.compare(pos_, 3, "-%}") == 0) {
            end = skip_spaces(s_, pos_ + 3);
          } else if (s_.compare(pos_, 2, "%}") == 0) {
            end = pos_ + 2;
            if (end < s_.size() && s_[end] == '\n') ++end;  // trim_blocks
          }
        }
        if (end != 0) {
          push(variable ? Tok::kVarEnd : Tok::kBlockEnd, "");
          line_ += count_newlines(s_.substr(pos_, end - pos_));
          line_starting_ = s_[end - 1] == '\n';
          pos_ = end;
          return;
        }
      }
      size_t j;
      if (is_space_at(s_, pos_, &j)) {
        line_ += count_newlines(s_.substr(pos_, j - pos_));
        pos_ = skip_spaces(s_, pos_);
        continue;
      }
      if (lex_number()) continue;
      unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (is_name_start(c)) {
        size_t e = pos_;
        while (e < s_.size() && is_name_char(static_cast<unsigned char>(s_[e]))) ++e;
        push(Tok::kName, std::string(s_.substr(pos_, e - pos_)));
        pos_ = e;
        continue;
      }
      if (c == '\'' || c == '"') {
        lex_string(static_cast<char>(c));
        continue;
      }
      lex_operator(balance);
    }
  }

  bool lex_number() {
    if (!is_digit(s_[pos_])) return false;
    bool after_dot = pos_ > 0 && s_[pos_ - 1] == '.';
    size_t i = pos_;
    // float: (\d+_)*\d+ ( (\.digits)? e[+-]?digits | \.digits )
    if (!after_dot) {
      size_t ip = match_digits(s_, i);
      size_t j = ip;
      bool frac = false;
      if (j < s_.size() && s_[j] == '.') {
        size_t f = match_digits(s_, j + 1);
        if (f != j + 1) {
          j = f;
          frac = true;
        }
      }
      size_t e_end = 0;
      if (j < s_.size() && (s_[j] == 'e' || s_[j] == 'E')) {
        size_t k = j + 1;
        if (k < s_.size() && (s_[k] == '+' || s_[k] == '-')) ++k;
        size_t d = match_digits(s_, k);
        if (d != k) e_end = d;
      }
      if (frac || e_end) {
        size_t end = e_end ? e_end : j;
        std::string clean;
        for (char ch : s_.substr(i, end - i))
          if (ch != '_') clean.push_back(ch);
        Token t;
        t.type = Tok::kFloat;
        t.line = line_;
        t.text = clean;
        t.f = std::strtod(clean.c_str(), nullptr);  // 1e400 -> inf, as literal_eval
        tokens_.push_back(std::move(t));
        pos_ = end;
        return true;
      }
    }
    // integer: 0b/0o/0x prefixes, [1-9](_?\d)*, 0(_?0)*
    int base = 10;
    size_t j = i;
    if (s_[i] == '0' && i + 1 < s_.size()) {
      char p = static_cast<char>(s_[i + 1] | 0x20);
      if (p == 'b' || p == 'o' || p == 'x') base = p == 'b' ? 2 : p == 'o' ? 8 : 16;
    }
    auto valid = [&](char ch) {
      if (base == 16) return std::isxdigit(static_cast<unsigned char>(ch)) != 0;
      if (base == 8) return ch >= '0' && ch <= '7';
      if (base == 2) return ch == '0' || ch == '1';
      return is_digit(ch);
    };
    std::string digits;
    if (base != 10) {
      j = i + 2;
      while (j < s_.size()) {
        if (s_[j] == '_' && j + 1 < s_.size() && valid(s_[j + 1])) ++j;
        if (!valid(s_[j])) break;
        digits.push_back(s_[j++]);
      }
      if (digits.empty()) {  // "0x" alone: the integer 0, then a name
        base = 10;
        j = i;
      }
    }
    if (base == 10) {
      digits.clear();
      j = i;
      if (s_[j] == '0') {
        while (j < s_.size() &&
               (s_[j] == '0' || (s_[j] == '_' && j + 1 < s_.size() && s_[j + 1] == '0')))
          ++j;
        digits.assign(1, '0');
      } else {
        while (j < s_.size() &&
               (is_digit(s_[j]) || (s_[j] == '_' && j + 1 < s_.size() && is_digit(s_[j + 1])))) {
          if (s_[j] != '_') digits.push_back(s_[j]);
          ++j;
        }
      }
    }
    Token t;
    t.type = Tok::kInt;
    t.line = line_;
    t.text = std::string(s_.substr(i, j - i));
    auto r = std::from_chars(digits.data(), digits.data() + digits.size(), t.i, base);
    if (r.ec != std::errc()) {
      throw JinjaError{Error{ErrorKind::kOverflow, "integer literal too large: " + t.text, line_}};
    }
    tokens_.push_back(std::move(t));
    pos_ = j;
    return true;
  }

  void lex_string(char quote) {
    size_t i = pos_ + 1;
    while (i < s_.size() && s_[i] != quote) {
      if (s_[i] == '\\') ++i;
      ++i;
    }
    if (i >= s_.size()) syntax_error("unexpected char '" + std::string(1, quote) + "'", line_);
    std::string_view body = s_.substr(pos_ + 1, i - pos_ - 1);
    push(Tok::kString, unescape(body, line_));
    line_ += count_newlines(body);
    pos_ = i + 1;
  }

  void lex_operator(std::vector<char>& balance) {
    for (const char* op : kOps2) {
      if (s_.compare(pos_, 2, op) == 0) {
        push(Tok::kOp, op);
        pos_ += 2;
        return;
      }
    }
    char c = s_[pos_];
    if (std::strchr(kOps1, c) == nullptr || c == '\0') {
      size_t j = pos_;
      std::string ch;
      append_str_repr(ch, s_.substr(pos_, (decode_utf8(s_, j), j - pos_)));
      syntax_error("unexpected char " + ch + " at " + std::to_string(pos_), line_);
    }
    if (c == '{' || c == '(' || c == '[') {
      balance.push_back(c == '{' ? '}' : c == '(' ? ')' : ']');
    } else if (c == '}' || c == ')' || c == ']') {
      if (balance.empty()) syntax_error(std::string("unexpected '") + c + "'", line_);
      char expected = balance.back();
      balance.pop_back();
      if (expected != c)
        syntax_error(std::string("unexpected '") + c + "', expected '" + expected + "'", line_);
    }
    push(Tok::kOp, std::string(1, c));
    ++pos_;
  }

  std::string_view s_;
  size_t pos_ = 0;
  int line_ = 1;
  bool line_starting_ = true;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) { return Lexer(source).run(); }

}  // namespace kiln::jinja
