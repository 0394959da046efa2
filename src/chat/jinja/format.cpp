// Python's text forms of numbers and the formatting mini-languages that
// templates use: float repr, json.dumps, printf-style `%`, str.format().
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "chat/jinja/internal.h"

namespace kiln::jinja {

void append_float_repr(std::string& out, double f) {
  if (std::isnan(f)) {
    out += "nan";
    return;
  }
  if (std::isinf(f)) {
    out += f < 0 ? "-inf" : "inf";
    return;
  }
  // Shortest round-trip digits, then Python's 'r' layout: exponent form when
  // the decimal point position is <= -4 or > 16, else fixed with at least ".0".
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));
  bool neg = false;
  if (!sci.empty() && sci[0] == '-') {
    neg = true;
    sci.remove_prefix(1);
  }
  size_t epos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, epos))
    if (c != '.') digits.push_back(c);
  int exp10 = std::atoi(std::string(sci.substr(epos + 1)).c_str());
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  int decpt = exp10 + 1;
  if (neg) out.push_back('-');
  int nd = static_cast<int>(digits.size());
  if (decpt <= -4 || decpt > 16) {
    out.push_back(digits[0]);
    if (nd > 1) {
      out.push_back('.');
      out.append(digits, 1, std::string::npos);
    }
    int e = decpt - 1;
    out.push_back('e');
    out.push_back(e < 0 ? '-' : '+');
    int ae = e < 0 ? -e : e;
    if (ae < 10) out.push_back('0');
    out += std::to_string(ae);
  } else if (decpt <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-decpt), '0');
    out += digits;
  } else if (decpt >= nd) {
    out += digits;
    out.append(static_cast<size_t>(decpt - nd), '0');
    out += ".0";
  } else {
    out.append(digits, 0, static_cast<size_t>(decpt));
    out.push_back('.');
    out.append(digits, static_cast<size_t>(decpt), std::string::npos);
  }
}

// --- json.dumps ---------------------------------------------------------------

namespace {

const char kHexDigits[] = "0123456789abcdef";

void append_u4(std::string& out, unsigned v) {
  out += "\\u";
  for (int k = 3; k >= 0; --k) out.push_back(kHexDigits[(v >> (4 * k)) & 15]);
}

void append_json_string(std::string& out, std::string_view s, bool ensure_ascii) {
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b >= 0x80) {
      size_t start = i;
      char32_t c = decode_utf8(s, i);
      if (!ensure_ascii) {
        out.append(s.substr(start, i - start));
      } else if (c >= 0x10000) {
        unsigned v = c - 0x10000;
        append_u4(out, 0xD800 + (v >> 10));
        append_u4(out, 0xDC00 + (v & 0x3FF));
      } else {
        append_u4(out, c);
      }
      continue;
    }
    ++i;
    switch (b) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (b < 0x20)
          append_u4(out, b);
        else
          out.push_back(static_cast<char>(b));
    }
  }
  out.push_back('"');
}

void append_json_float(std::string& out, double f) {
  if (std::isnan(f))
    out += "NaN";
  else if (std::isinf(f))
    out += f < 0 ? "-Infinity" : "Infinity";
  else
    append_float_repr(out, f);
}

[[noreturn]] void not_serializable(const Value& v) {
  fail(ErrorKind::kType,
       "Object of type " + std::string(type_name(v)) + " is not JSON serializable");
}

std::string json_key(const Value& k) {
  switch (k.type()) {
    case Type::kString:
      return std::string(k.str());
    case Type::kBool:
      return k.as_bool() ? "true" : "false";
    case Type::kNone:
      return "null";
    case Type::kInt:
      return std::to_string(k.as_int());
    case Type::kFloat: {
      std::string s;
      append_json_float(s, k.as_float());
      return s;
    }
    default:
      fail(ErrorKind::kType,
           "keys must be str, int, float, bool or None, not " + std::string(type_name(k)));
  }
}

void newline_indent(std::string& out, const JsonOptions& opt, int level) {
  out.push_back('\n');
  for (int i = 0; i < level; ++i) out += opt.indent;
}

}  // namespace

void append_json(std::string& out, const Value& v, const JsonOptions& opt, int level) {
  switch (v.type()) {
    case Type::kNone:
      out += "null";
      return;
    case Type::kBool:
      out += v.as_bool() ? "true" : "false";
      return;
    case Type::kInt:
      out += std::to_string(v.as_int());
      return;
    case Type::kFloat:
      append_json_float(out, v.as_float());
      return;
    case Type::kString:
      append_json_string(out, v.str(), opt.ensure_ascii);
      return;
    case Type::kList: {
      if (!is_sequence_list(v)) not_serializable(v);
      check_depth(level + 1);
      const auto& items = as_list(v)->items;
      if (items.empty()) {
        out += "[]";
        return;
      }
      out.push_back('[');
      if (opt.has_indent) newline_indent(out, opt, level + 1);
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) {
          out += opt.item_sep;
          if (opt.has_indent) newline_indent(out, opt, level + 1);
        }
        append_json(out, items[i], opt, level + 1);
      }
      if (opt.has_indent) newline_indent(out, opt, level);
      out.push_back(']');
      return;
    }
    case Type::kDict: {
      check_depth(level + 1);
      const auto& entries = as_dict(v)->entries;
      if (entries.empty()) {
        out += "{}";
        return;
      }
      std::vector<const std::pair<Value, Value>*> order;
      order.reserve(entries.size());
      for (const auto& e : entries) order.push_back(&e);
      if (opt.sort_keys) {
        std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
          return py_less(a->first, b->first, "<");
        });
      }
      out.push_back('{');
      if (opt.has_indent) newline_indent(out, opt, level + 1);
      bool first = true;
      for (const auto* e : order) {
        if (!first) {
          out += opt.item_sep;
          if (opt.has_indent) newline_indent(out, opt, level + 1);
        }
        first = false;
        append_json_string(out, json_key(e->first), opt.ensure_ascii);
        out += opt.key_sep;
        append_json(out, e->second, opt, level + 1);
      }
      if (opt.has_indent) newline_indent(out, opt, level);
      out.push_back('}');
      return;
    }
    default:
      not_serializable(v);
  }
}

// --- format specs (str.format and format()) ----------------------------------

namespace {

struct Spec {
  char32_t fill = ' ';
  char align = 0;  // < > ^ =
  char sign = 0;   // + - space
  bool alt = false;
  bool zero = false;
  int width = -1;
  char grouping = 0;
  int precision = -1;
  char type = 0;
};

Spec parse_spec(std::string_view s) {
  Spec sp;
  size_t i = 0;
  auto is_align = [](char c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  // [[fill]align]
  if (!s.empty()) {
    size_t j = 0;
    char32_t c = decode_utf8(s, j);
    if (j < s.size() && is_align(s[j])) {
      sp.fill = c;
      sp.align = s[j];
      i = j + 1;
    } else if (is_align(s[0])) {
      sp.align = s[0];
      i = 1;
    }
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-' || s[i] == ' ')) sp.sign = s[i++];
  if (i < s.size() && s[i] == '#') {
    sp.alt = true;
    ++i;
  }
  if (i < s.size() && s[i] == '0') {
    sp.zero = true;
    ++i;
  }
  if (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
    sp.width = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
      sp.width = std::min(sp.width * 10 + (s[i++] - '0'), 1 << 20);
  }
  if (i < s.size() && (s[i] == ',' || s[i] == '_')) sp.grouping = s[i++];
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i])))
      fail(ErrorKind::kValue, "Format specifier missing precision");
    sp.precision = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
      sp.precision = std::min(sp.precision * 10 + (s[i++] - '0'), 1 << 16);
  }
  if (i < s.size()) sp.type = s[i++];
  if (i != s.size()) fail(ErrorKind::kValue, "Invalid format specifier");
  return sp;
}

void apply_grouping(std::string& digits, char sep) {
  std::string out;
  int n = static_cast<int>(digits.size());
  for (int i = 0; i < n; ++i) {
    if (i > 0 && (n - i) % 3 == 0) out.push_back(sep);
    out.push_back(digits[i]);
  }
  digits = out;
}

std::string pad(std::string body, std::string sign_prefix, const Spec& sp, char default_align) {
  char align = sp.align ? sp.align : (sp.zero ? '=' : default_align);
  char32_t fill = sp.align ? sp.fill : (sp.zero ? U'0' : U' ');
  size_t len = count_codepoints(body) + count_codepoints(sign_prefix);
  if (sp.width < 0 || len >= static_cast<size_t>(sp.width)) return sign_prefix + body;
  size_t n = static_cast<size_t>(sp.width) - len;
  std::string f;
  append_utf8(f, fill);
  auto rep = [&](size_t k) {
    std::string r;
    for (size_t i = 0; i < k; ++i) r += f;
    return r;
  };
  switch (align) {
    case '<':
      return sign_prefix + body + rep(n);
    case '^':
      return rep(n / 2) + sign_prefix + body + rep(n - n / 2);
    case '=':
      return sign_prefix + rep(n) + body;
    default:
      return rep(n) + sign_prefix + body;
  }
}

std::string c_format_double(double v, int precision, char type) {
  char fmt[16];
  std::snprintf(fmt, sizeof(fmt), "%%.%d%c", precision, type);
  int n = std::snprintf(nullptr, 0, fmt, v);
  std::string s(static_cast<size_t>(n), '\0');
  std::snprintf(s.data(), s.size() + 1, fmt, v);
  return s;
}

std::string format_int(int64_t v, const Spec& sp) {
  bool neg = v < 0;
  uint64_t mag = neg ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  std::string digits;
  std::string prefix;
  int base = 10;
  switch (sp.type) {
    case 'b':
      base = 2;
      prefix = sp.alt ? "0b" : "";
      break;
    case 'o':
      base = 8;
      prefix = sp.alt ? "0o" : "";
      break;
    case 'x':
    case 'X':
      base = 16;
      prefix = sp.alt ? (sp.type == 'x' ? "0x" : "0X") : "";
      break;
    case 'c': {
      std::string s;
      append_utf8(s, static_cast<char32_t>(v));
      return pad(s, "", sp, '<');
    }
    default:
      break;
  }
  const char* dig = sp.type == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
  do {
    digits.insert(digits.begin(), dig[mag % static_cast<uint64_t>(base)]);
    mag /= static_cast<uint64_t>(base);
  } while (mag);
  if (sp.grouping) apply_grouping(digits, sp.grouping);
  std::string sign = neg ? "-" : (sp.sign == '+' ? "+" : sp.sign == ' ' ? " " : "");
  return pad(digits, sign + prefix, sp, '>');
}

std::string format_double(double v, const Spec& sp) {
  bool neg = std::signbit(v) && !std::isnan(v);
  double a = std::fabs(v);
  std::string body;
  char type = sp.type;
  if (type == 0 && sp.precision < 0) {
    append_float_repr(body, a);
  } else if (type == 0) {
    body = c_format_double(a, sp.precision == 0 ? 1 : sp.precision, 'g');
    if (body.find_first_of(".einf") == std::string::npos) body += ".0";
  } else if (type == '%') {
    body = c_format_double(a * 100, sp.precision < 0 ? 6 : sp.precision, 'f') + "%";
  } else {
    char t = type == 'n' ? 'g' : type;
    body = c_format_double(a, sp.precision < 0 ? 6 : sp.precision, t);
    if (sp.alt && body.find('.') == std::string::npos) body += '.';
  }
  if (sp.grouping) {
    size_t end = body.find_first_not_of("0123456789");
    std::string ip = body.substr(0, end);
    apply_grouping(ip, sp.grouping);
    body = ip + (end == std::string::npos ? "" : body.substr(end));
  }
  std::string sign = neg ? "-" : (sp.sign == '+' ? "+" : sp.sign == ' ' ? " " : "");
  return pad(body, sign, sp, '>');
}

}  // namespace

std::string format_spec(const Value& v, std::string_view spec_text) {
  if (spec_text.empty()) return to_str(v);
  Spec sp = parse_spec(spec_text);
  switch (v.type()) {
    case Type::kString: {
      if (sp.type && sp.type != 's')
        fail(ErrorKind::kValue,
             std::string("Unknown format code '") + sp.type + "' for object of type 'str'");
      std::string s(v.str());
      if (sp.precision >= 0) {
        auto cps = to_codepoints(s);
        if (cps.size() > static_cast<size_t>(sp.precision))
          s = from_codepoints(cps.data(), static_cast<size_t>(sp.precision));
      }
      return pad(s, "", sp, '<');
    }
    case Type::kBool:
    case Type::kInt: {
      int64_t i = v.is_bool() ? v.as_bool() : v.as_int();
      if (sp.type == 0 || std::strchr("bcdoxXn", sp.type)) return format_int(i, sp);
      if (std::strchr("eEfFgG%", sp.type)) return format_double(static_cast<double>(i), sp);
      break;
    }
    case Type::kFloat:
      if (sp.type == 0 || std::strchr("eEfFgGn%", sp.type)) return format_double(v.as_float(), sp);
      break;
    default:
      fail(ErrorKind::kType,
           "unsupported format string passed to " + std::string(type_name(v)) + ".__format__");
  }
  fail(ErrorKind::kValue, std::string("Unknown format code '") + sp.type +
                              "' for object of type '" + std::string(type_name(v)) + "'");
}

// --- printf-style `%` ------------------------------------------------------------

namespace {

int64_t percent_int(const Value& v, char type) {
  if (v.is_bool()) return v.as_bool();
  if (v.is_int()) return v.as_int();
  if (v.is_float() && type != 'x' && type != 'X' && type != 'o' && type != 'c') {
    double f = v.as_float();
    if (!std::isfinite(f)) fail(ErrorKind::kOverflow, "cannot convert float infinity to integer");
    return static_cast<int64_t>(f);
  }
  fail(ErrorKind::kType,
       std::string("%") + type + " format: a " +
           (type == 'd' || type == 'i' || type == 'u' ? "real number" : "integer") +
           " is required, not " + std::string(type_name(v)));
}

}  // namespace

std::string percent_format(std::string_view fmt, const Value& args) {
  std::vector<Value> positional;
  const DictObj* mapping = nullptr;
  if (is_tuple(args)) {
    positional = as_list(args)->items;
  } else {
    positional.push_back(args);
    if (args.is_dict()) mapping = as_dict(args);
  }
  size_t next = 0;
  bool used_mapping = false;
  auto take = [&]() -> const Value& {
    if (next >= positional.size()) fail(ErrorKind::kType, "not enough arguments for format string");
    return positional[next++];
  };
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c != '%') {
      out.push_back(c);
      continue;
    }
    if (++i >= fmt.size()) fail(ErrorKind::kValue, "incomplete format");
    Value keyed;
    bool has_key = false;
    if (fmt[i] == '(') {
      size_t close = fmt.find(')', i);
      if (close == std::string_view::npos) fail(ErrorKind::kValue, "incomplete format key");
      if (mapping == nullptr) fail(ErrorKind::kType, "format requires a mapping");
      const Value* found = mapping->find(fmt.substr(i + 1, close - i - 1));
      if (found == nullptr)
        fail(ErrorKind::kType, "KeyError: " + std::string(fmt.substr(i + 1, close - i - 1)));
      keyed = *found;
      has_key = used_mapping = true;
      i = close + 1;
    }
    Spec sp;
    for (; i < fmt.size(); ++i) {
      char f = fmt[i];
      if (f == '-')
        sp.align = '<';
      else if (f == '+')
        sp.sign = '+';
      else if (f == ' ')
        sp.sign = sp.sign ? sp.sign : ' ';
      else if (f == '#')
        sp.alt = true;
      else if (f == '0')
        sp.zero = true;
      else
        break;
    }
    auto read_num = [&](int& target) {
      if (i < fmt.size() && fmt[i] == '*') {
        const Value& w = take();
        if (!w.is_int()) fail(ErrorKind::kType, "* wants int");
        target = static_cast<int>(std::min<int64_t>(w.as_int(), 1 << 20));
        ++i;
        return;
      }
      if (i < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[i]))) {
        target = 0;
        while (i < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[i])))
          target = std::min(target * 10 + (fmt[i++] - '0'), 1 << 20);
      }
    };
    read_num(sp.width);
    if (i < fmt.size() && fmt[i] == '.') {
      ++i;
      sp.precision = 0;
      read_num(sp.precision);
    }
    while (i < fmt.size() && (fmt[i] == 'l' || fmt[i] == 'h' || fmt[i] == 'L')) ++i;
    if (i >= fmt.size()) fail(ErrorKind::kValue, "incomplete format");
    char type = fmt[i];
    if (type == '%') {
      out.push_back('%');
      continue;
    }
    const Value& v = has_key ? keyed : take();
    if (sp.zero && sp.align != '<') sp.align = '=', sp.fill = U'0';
    switch (type) {
      case 's':
      case 'r':
      case 'a': {
        std::string s = type == 's' ? to_str(v) : to_repr(v);
        if (sp.precision >= 0) {
          auto cps = to_codepoints(s);
          if (cps.size() > static_cast<size_t>(sp.precision))
            s = from_codepoints(cps.data(), static_cast<size_t>(sp.precision));
        }
        Spec s2 = sp;
        s2.fill = U' ';
        if (s2.align != '<') s2.align = '>';
        out += pad(s, "", s2, '>');
        break;
      }
      case 'd':
      case 'i':
      case 'u':
      case 'x':
      case 'X':
      case 'o':
      case 'c': {
        Spec s2 = sp;
        s2.type = (type == 'i' || type == 'u') ? 'd' : type;
        if (!s2.align) s2.align = '>';
        std::string body = format_int(percent_int(v, type), s2);
        if (sp.precision > 0 && type != 'c') {
          // %.3d pads the digits with zeros.
          size_t start = body.find_first_of("0123456789abcdefABCDEF");
          size_t ndig = body.size() - start;
          if (ndig < static_cast<size_t>(sp.precision))
            body.insert(start, static_cast<size_t>(sp.precision) - ndig, '0');
        }
        out += body;
        break;
      }
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G': {
        if (!v.is_number())
          fail(ErrorKind::kType,
               std::string("must be real number, not ") + std::string(type_name(v)));
        Spec s2 = sp;
        s2.type = type;
        if (s2.precision < 0) s2.precision = 6;
        if (!s2.align) s2.align = '>';
        out += format_double(v.to_double(), s2);
        break;
      }
      default:
        fail(ErrorKind::kValue, std::string("unsupported format character '") + type + "'");
    }
  }
  if (!used_mapping && next < positional.size() && mapping == nullptr)
    fail(ErrorKind::kType, "not all arguments converted during string formatting");
  return out;
}

// --- str.format -----------------------------------------------------------------

std::string str_format(std::string_view fmt, const std::vector<Value>& args,
                       const std::vector<std::pair<std::string, Value>>& kwargs) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') {
        out.push_back('}');
        ++i;
        continue;
      }
      fail(ErrorKind::kValue, "Single '}' encountered in format string");
    }
    if (c != '{') {
      out.push_back(c);
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out.push_back('{');
      ++i;
      continue;
    }
    size_t close = fmt.find('}', i);
    if (close == std::string_view::npos)
      fail(ErrorKind::kValue, "Single '{' encountered in format string");
    std::string_view field = fmt.substr(i + 1, close - i - 1);
    i = close;
    std::string_view spec, conv;
    if (size_t colon = field.find(':'); colon != std::string_view::npos) {
      spec = field.substr(colon + 1);
      field = field.substr(0, colon);
    }
    if (size_t bang = field.find('!'); bang != std::string_view::npos) {
      conv = field.substr(bang + 1);
      field = field.substr(0, bang);
    }
    size_t name_end = field.find_first_of(".[");
    std::string_view name = field.substr(0, name_end);
    Value v;
    if (name.empty()) {
      if (auto_index >= args.size())
        fail(ErrorKind::kValue, "Replacement index " + std::to_string(auto_index) +
                                    " out of range for positional args tuple");
      v = args[auto_index++];
    } else if (std::isdigit(static_cast<unsigned char>(name[0]))) {
      size_t idx = static_cast<size_t>(std::atoll(std::string(name).c_str()));
      if (idx >= args.size())
        fail(ErrorKind::kValue, "Replacement index " + std::to_string(idx) +
                                    " out of range for positional args tuple");
      v = args[idx];
    } else {
      bool found = false;
      for (const auto& [k, x] : kwargs)
        if (k == name) {
          v = x;
          found = true;
        }
      if (!found) fail(ErrorKind::kValue, "KeyError: '" + std::string(name) + "'");
    }
    // .attr and [key] lookups on dicts and lists.
    std::string_view rest = name_end == std::string_view::npos ? "" : field.substr(name_end);
    while (!rest.empty()) {
      std::string key;
      bool bracket = rest[0] == '[';
      size_t end = bracket ? rest.find(']') : rest.find_first_of(".[", 1);
      if (bracket && end == std::string_view::npos)
        fail(ErrorKind::kValue, "Missing ']' in format string");
      key = std::string(rest.substr(1, (end == std::string_view::npos ? rest.size() : end) - 1));
      rest = end == std::string_view::npos ? "" : rest.substr(bracket ? end + 1 : end);
      if (v.is_dict()) {
        const Value* x = as_dict(v)->find(key);
        if (x == nullptr) fail(ErrorKind::kValue, "KeyError: '" + key + "'");
        v = *x;
      } else if (is_sequence_list(v) && !key.empty() &&
                 std::isdigit(static_cast<unsigned char>(key[0]))) {
        size_t idx = static_cast<size_t>(std::atoll(key.c_str()));
        if (idx >= as_list(v)->items.size())
          fail(ErrorKind::kValue, "IndexError: list index out of range");
        v = as_list(v)->items[idx];
      } else {
        fail(ErrorKind::kValue, "cannot look up '" + key + "' in format string");
      }
    }
    if (conv == "r" || conv == "a")
      v = Value::string(to_repr(v));
    else if (conv == "s")
      v = Value::string(to_str(v));
    out += format_spec(v, spec);
  }
  return out;
}

}  // namespace kiln::jinja
