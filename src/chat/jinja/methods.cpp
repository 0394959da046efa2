// Python str/dict/list methods and the attributes of jinja's own objects
// (loop, cycler, macro). Mutating methods raise SecurityError as in
// jinja2's ImmutableSandboxedEnvironment.
#include <algorithm>

#include "chat/jinja/interp.h"

namespace kiln::jinja {

namespace {

const Value& arg(const Args& a, size_t i) { return a.pos[i]; }

std::string_view need_str(const Value& v, const char* what) {
  if (!v.is_string())
    fail(ErrorKind::kType,
         std::string(what) + " arg must be None or str, not " + std::string(type_name(v)));
  return v.str();
}

int64_t need_int(const Value& v, const char* what) {
  if (v.is_int()) return v.as_int();
  if (v.is_bool()) return v.as_bool();
  fail(ErrorKind::kType, "'" + std::string(type_name(v)) +
                             "' object cannot be interpreted as an integer (" + what + ")");
}

size_t cp_index(std::string_view s, size_t byte_off) {
  return count_codepoints(s.substr(0, byte_off));
}

// Python's str.split / rsplit.
Value split(std::string_view s, const Value* sep, int64_t maxsplit, bool from_right) {
  std::vector<Value> parts;
  if (sep == nullptr || sep->is_none()) {
    // Runs of whitespace; leading/trailing whitespace ignored.
    std::vector<std::pair<size_t, size_t>> words;
    size_t i = 0;
    while (i < s.size()) {
      size_t j = i;
      while (j < s.size()) {
        size_t k = j;
        if (!py_isspace(decode_utf8(s, k))) break;
        j = k;
      }
      if (j >= s.size()) break;
      size_t start = j;
      while (j < s.size()) {
        size_t k = j;
        if (py_isspace(decode_utf8(s, k))) break;
        j = k;
      }
      words.emplace_back(start, j);
      i = j;
    }
    if (maxsplit >= 0 && static_cast<int64_t>(words.size()) > maxsplit + 1) {
      if (!from_right) {
        size_t keep = static_cast<size_t>(maxsplit);
        for (size_t w = 0; w < keep; ++w)
          parts.push_back(Value::string(
              std::string(s.substr(words[w].first, words[w].second - words[w].first))));
        std::string_view rest = py_strip(s.substr(words[keep].first), false, false);
        parts.push_back(Value::string(std::string(rest)));
      } else {
        size_t first_kept = words.size() - static_cast<size_t>(maxsplit);
        std::string_view rest = s.substr(0, words[first_kept - 1].second);
        parts.push_back(Value::string(std::string(rest)));
        for (size_t w = first_kept; w < words.size(); ++w)
          parts.push_back(Value::string(
              std::string(s.substr(words[w].first, words[w].second - words[w].first))));
      }
    } else {
      for (auto [b, e] : words) parts.push_back(Value::string(std::string(s.substr(b, e - b))));
    }
    return make_list(std::move(parts));
  }
  std::string_view d = need_str(*sep, "sep");
  if (d.empty()) fail(ErrorKind::kValue, "empty separator");
  if (!from_right) {
    size_t pos = 0;
    int64_t n = 0;
    while (maxsplit < 0 || n < maxsplit) {
      size_t f = s.find(d, pos);
      if (f == std::string_view::npos) break;
      parts.push_back(Value::string(std::string(s.substr(pos, f - pos))));
      pos = f + d.size();
      ++n;
    }
    parts.push_back(Value::string(std::string(s.substr(pos))));
  } else {
    size_t end = s.size();
    int64_t n = 0;
    std::vector<Value> rev;
    while (maxsplit < 0 || n < maxsplit) {
      if (end < d.size()) break;
      size_t f = s.rfind(d, end - d.size());
      if (f == std::string_view::npos) break;
      rev.push_back(Value::string(std::string(s.substr(f + d.size(), end - f - d.size()))));
      end = f;
      ++n;
    }
    rev.push_back(Value::string(std::string(s.substr(0, end))));
    parts.assign(std::make_move_iterator(rev.rbegin()), std::make_move_iterator(rev.rend()));
  }
  return make_list(std::move(parts));
}

bool is_line_break(char32_t c) {
  return c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D || c == 0x1E ||
         c == 0x85 || c == 0x2028 || c == 0x2029;
}

}  // namespace

std::vector<std::string> py_splitlines(std::string_view s, bool keepends) {
  std::vector<std::string> out;
  size_t start = 0, i = 0;
  while (i < s.size()) {
    size_t b = i;
    char32_t c = decode_utf8(s, i);
    if (!is_line_break(c)) continue;
    size_t end_break = i;
    if (c == '\r' && i < s.size() && s[i] == '\n') end_break = ++i;
    out.emplace_back(s.substr(start, (keepends ? end_break : b) - start));
    start = end_break;
  }
  if (start < s.size()) out.emplace_back(s.substr(start));
  return out;
}

std::string py_center(std::string_view s, int64_t width, char32_t fill, char how) {
  int64_t len = static_cast<int64_t>(count_codepoints(s));
  if (width <= len) return std::string(s);
  int64_t marg = width - len;
  int64_t left = how == '<' ? 0 : how == '>' ? marg : marg / 2 + (marg & width & 1);
  std::string f;
  append_utf8(f, fill);
  std::string out;
  for (int64_t i = 0; i < left; ++i) out += f;
  out += s;
  for (int64_t i = 0; i < marg - left; ++i) out += f;
  return out;
}

namespace {

Value str_method(Interp& in, const Value& self, std::string_view name, Args& a, bool* found) {
  std::string_view s = self.str();
  *found = true;
  auto str_result = [&](std::string r) {
    in.check_string_size(r.size());
    return Value::string(std::move(r));
  };
  if (name == "startswith" || name == "endswith") {
    auto p = bind_args(a, name, {"prefix", "start", "end"});
    if (!p[0]) fail(ErrorKind::kType, std::string(name) + "() takes at least 1 argument (0 given)");
    std::string_view target = s;
    if (p[1] || p[2]) {
      auto cps = to_codepoints(s);
      int64_t n = static_cast<int64_t>(cps.size());
      int64_t b = p[1] && !p[1]->is_none() ? need_int(*p[1], "start") : 0;
      int64_t e = p[2] && !p[2]->is_none() ? need_int(*p[2], "end") : n;
      if (b < 0) b = std::max<int64_t>(0, b + n);
      if (e < 0) e = std::max<int64_t>(0, e + n);
      b = std::min(b, n);
      e = std::min(e, n);
      static thread_local std::string buf;
      buf = e > b ? from_codepoints(cps.data() + b, static_cast<size_t>(e - b)) : std::string();
      target = buf;
      if (b > n) return Value::boolean(false);
    }
    bool starts = name == "startswith";
    auto test = [&](std::string_view x) {
      return starts ? target.substr(0, x.size()) == x
                    : (target.size() >= x.size() && target.substr(target.size() - x.size()) == x);
    };
    if (is_tuple(*p[0])) {
      for (const Value& x : as_list(*p[0])->items) {
        if (!x.is_string())
          fail(ErrorKind::kType, "tuple for " + std::string(name) + " must only contain str, not " +
                                     std::string(type_name(x)));
        if (test(x.str())) return Value::boolean(true);
      }
      return Value::boolean(false);
    }
    if (!p[0]->is_string())
      fail(ErrorKind::kType, std::string(name) + " first arg must be str or a tuple of str, not " +
                                 std::string(type_name(*p[0])));
    return Value::boolean(test(p[0]->str()));
  }
  if (name == "split" || name == "rsplit") {
    auto p = bind_args(a, name, {"sep", "maxsplit"});
    int64_t maxsplit = p[1] ? need_int(*p[1], "maxsplit") : -1;
    return split(s, p[0], maxsplit, name == "rsplit");
  }
  if (name == "splitlines") {
    auto p = bind_args(a, name, {"keepends"});
    std::vector<Value> out;
    for (auto& line : py_splitlines(s, p[0] && truthy(*p[0])))
      out.push_back(Value::string(std::move(line)));
    return make_list(std::move(out));
  }
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    auto p = bind_args(a, name, {"chars"});
    bool l = name != "rstrip", r = name != "lstrip";
    std::string_view res = (p[0] && !p[0]->is_none())
                               ? py_strip_chars(s, need_str(*p[0], name.data()), l, r)
                               : py_strip(s, l, r);
    return Value::string(std::string(res));
  }
  if (name == "lower" || name == "casefold") return Value::string(py_lower(s));
  if (name == "upper") return Value::string(py_upper(s));
  if (name == "title") return Value::string(py_title(s));
  if (name == "capitalize") return Value::string(py_capitalize(s));
  if (name == "swapcase") return Value::string(py_swapcase(s));
  if (name == "replace") {
    auto p = bind_args(a, name, {"old", "new", "count"});
    if (!p[0] || !p[1]) fail(ErrorKind::kType, "replace expected at least 2 arguments");
    std::string_view old = need_str(*p[0], "replace"), rep = need_str(*p[1], "replace");
    int64_t count = p[2] ? need_int(*p[2], "count") : -1;
    std::string out;
    if (old.empty()) {
      int64_t n = 0;
      size_t i = 0;
      if (count != 0) {
        out += rep;
        ++n;
      }
      while (i < s.size()) {
        size_t b = i;
        decode_utf8(s, i);
        out.append(s.substr(b, i - b));
        if (count < 0 || n < count) {
          out += rep;
          ++n;
        }
        in.check_string_size(out.size());
      }
      return str_result(std::move(out));
    }
    size_t pos = 0;
    int64_t n = 0;
    while (count < 0 || n < count) {
      size_t f = s.find(old, pos);
      if (f == std::string_view::npos) break;
      out.append(s.substr(pos, f - pos));
      out += rep;
      pos = f + old.size();
      ++n;
      in.check_string_size(out.size());
    }
    out.append(s.substr(pos));
    return str_result(std::move(out));
  }
  if (name == "format") return str_result(str_format(s, a.pos, a.kw));
  if (name == "format_map") {
    if (a.pos.size() != 1 || !a.pos[0].is_dict())
      fail(ErrorKind::kType, "format_map() takes a mapping");
    std::vector<std::pair<std::string, Value>> kw;
    for (const auto& [k, v] : as_dict(a.pos[0])->entries) kw.emplace_back(to_str(k), v);
    return str_result(str_format(s, {}, kw));
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
    auto p = bind_args(a, name, {"sub", "start", "end"});
    if (!p[0]) fail(ErrorKind::kType, std::string(name) + "() takes at least 1 argument (0 given)");
    std::string_view sub = need_str(*p[0], name.data());
    std::string_view hay = s;
    size_t base_cp = 0;
    if (p[1] || p[2]) {
      auto cps = to_codepoints(s);
      int64_t n = static_cast<int64_t>(cps.size());
      int64_t b = p[1] && !p[1]->is_none() ? need_int(*p[1], "start") : 0;
      int64_t e = p[2] && !p[2]->is_none() ? need_int(*p[2], "end") : n;
      if (b < 0) b = std::max<int64_t>(0, b + n);
      if (e < 0) e = std::max<int64_t>(0, e + n);
      e = std::min(e, n);
      if (b > e) {
        if (name == "count") return Value::integer(0);
        if (name == "index" || name == "rindex") fail(ErrorKind::kValue, "substring not found");
        return Value::integer(-1);
      }
      size_t bb = 0, eb = 0, i = 0;
      for (int64_t k = 0; k <= n; ++k) {
        if (k == b) bb = i;
        if (k == e) eb = i;
        if (i < s.size()) decode_utf8(s, i);
      }
      hay = s.substr(bb, eb - bb);
      base_cp = static_cast<size_t>(b);
    }
    if (name == "count") {
      if (sub.empty()) return Value::integer(static_cast<int64_t>(count_codepoints(hay) + 1));
      int64_t n = 0;
      for (size_t pos = hay.find(sub); pos != std::string_view::npos;
           pos = hay.find(sub, pos + sub.size()))
        ++n;
      return Value::integer(n);
    }
    size_t f = (name == "find" || name == "index") ? hay.find(sub) : hay.rfind(sub);
    if (f == std::string_view::npos) {
      if (name == "index" || name == "rindex") fail(ErrorKind::kValue, "substring not found");
      return Value::integer(-1);
    }
    return Value::integer(static_cast<int64_t>(base_cp + cp_index(hay, f)));
  }
  if (name == "join") {
    if (a.pos.size() != 1) fail(ErrorKind::kType, "join() takes exactly one argument");
    std::string out;
    size_t i = 0;
    for (const Value& x : iterate(a.pos[0])) {
      if (!x.is_string())
        fail(ErrorKind::kType, "sequence item " + std::to_string(i) + ": expected str instance, " +
                                   std::string(type_name(x)) + " found");
      if (i++) out += s;
      out += x.str();
      in.check_string_size(out.size());
    }
    return Value::string(std::move(out));
  }
  auto all_cps = [&](auto pred, bool need_nonempty = true) {
    if (need_nonempty && s.empty()) return false;
    for (size_t i = 0; i < s.size();)
      if (!pred(decode_utf8(s, i))) return false;
    return true;
  };
  if (name == "isdigit") return Value::boolean(all_cps(py_isdigit));
  if (name == "isdecimal") return Value::boolean(all_cps(py_isdecimal));
  if (name == "isnumeric") return Value::boolean(all_cps(py_isnumeric));
  if (name == "isalpha") return Value::boolean(all_cps(py_isalpha));
  if (name == "isalnum")
    return Value::boolean(all_cps([](char32_t c) { return py_isalpha(c) || py_isnumeric(c); }));
  if (name == "isspace") return Value::boolean(all_cps(py_isspace));
  if (name == "isascii") return Value::boolean(is_ascii(s));
  if (name == "isprintable") return Value::boolean(all_cps(py_isprintable, false));
  if (name == "isidentifier") {
    bool first = true;
    return Value::boolean(all_cps([&](char32_t c) {
      bool ok = c == '_' || py_isalpha(c) || (!first && py_isdecimal(c));
      first = false;
      return ok;
    }));
  }
  if (name == "islower" || name == "isupper") {
    bool want_lower = name == "islower", any = false;
    for (size_t i = 0; i < s.size();) {
      char32_t c = decode_utf8(s, i);
      if (want_lower ? py_isupper(c) : py_islower(c)) return Value::boolean(false);
      if (py_iscased(c)) any = true;
    }
    return Value::boolean(any);
  }
  if (name == "istitle") {
    bool prev_cased = false, any = false;
    for (size_t i = 0; i < s.size();) {
      char32_t c = decode_utf8(s, i);
      if (py_isupper(c)) {
        if (prev_cased) return Value::boolean(false);
        prev_cased = any = true;
      } else if (py_islower(c)) {
        if (!prev_cased) return Value::boolean(false);
        prev_cased = any = true;
      } else {
        prev_cased = false;
      }
    }
    return Value::boolean(any);
  }
  if (name == "center" || name == "ljust" || name == "rjust") {
    auto p = bind_args(a, name, {"width", "fillchar"});
    if (!p[0]) fail(ErrorKind::kType, std::string(name) + "() takes at least 1 argument (0 given)");
    char32_t fill = ' ';
    if (p[1]) {
      auto cps = to_codepoints(need_str(*p[1], name.data()));
      if (cps.size() != 1)
        fail(ErrorKind::kType, "The fill character must be exactly one character long");
      fill = cps[0];
    }
    int64_t w = need_int(*p[0], "width");
    in.check_string_size(static_cast<size_t>(std::max<int64_t>(w, 0)));
    return Value::string(py_center(s, w, fill,
                                   name == "center"  ? '^'
                                   : name == "ljust" ? '<'
                                                     : '>'));
  }
  if (name == "zfill") {
    if (a.pos.size() != 1) fail(ErrorKind::kType, "zfill() takes exactly one argument");
    int64_t w = need_int(arg(a, 0), "width");
    in.check_string_size(static_cast<size_t>(std::max<int64_t>(w, 0)));
    int64_t len = static_cast<int64_t>(count_codepoints(s));
    if (w <= len) return self;
    std::string out(s);
    size_t at = (!out.empty() && (out[0] == '+' || out[0] == '-')) ? 1 : 0;
    out.insert(at, static_cast<size_t>(w - len), '0');
    return Value::string(std::move(out));
  }
  if (name == "partition" || name == "rpartition") {
    if (a.pos.size() != 1)
      fail(ErrorKind::kType, std::string(name) + "() takes exactly one argument");
    std::string_view sep = need_str(arg(a, 0), name.data());
    if (sep.empty()) fail(ErrorKind::kValue, "empty separator");
    size_t f = name == "partition" ? s.find(sep) : s.rfind(sep);
    std::vector<Value> parts;
    if (f == std::string_view::npos) {
      if (name == "partition")
        parts = {self, Value::borrowed(""), Value::borrowed("")};
      else
        parts = {Value::borrowed(""), Value::borrowed(""), self};
    } else {
      parts = {Value::string(std::string(s.substr(0, f))), Value::string(std::string(sep)),
               Value::string(std::string(s.substr(f + sep.size())))};
    }
    return make_list(std::move(parts), ListKind::kTuple);
  }
  if (name == "removeprefix" || name == "removesuffix") {
    if (a.pos.size() != 1)
      fail(ErrorKind::kType, std::string(name) + "() takes exactly one argument");
    std::string_view x = need_str(arg(a, 0), name.data());
    if (name == "removeprefix" && s.substr(0, x.size()) == x)
      return Value::string(std::string(s.substr(x.size())));
    if (name == "removesuffix" && !x.empty() && s.size() >= x.size() &&
        s.substr(s.size() - x.size()) == x)
      return Value::string(std::string(s.substr(0, s.size() - x.size())));
    return self;
  }
  if (name == "expandtabs") {
    auto p = bind_args(a, name, {"tabsize"});
    int64_t ts = p[0] ? need_int(*p[0], "tabsize") : 8;
    std::string out;
    int64_t col = 0;
    for (size_t i = 0; i < s.size();) {
      size_t b = i;
      char32_t c = decode_utf8(s, i);
      if (c == '\t') {
        if (ts > 0) {
          int64_t n = ts - col % ts;
          out.append(static_cast<size_t>(n), ' ');
          col += n;
        }
      } else {
        out.append(s.substr(b, i - b));
        col = (c == '\n' || c == '\r') ? 0 : col + 1;
      }
      in.check_string_size(out.size());
    }
    return Value::string(std::move(out));
  }
  *found = false;
  return Value();
}

Value dict_method(const Value& self, std::string_view name, Args& a, bool* found) {
  const DictObj* d = as_dict(self);
  *found = true;
  if (name == "get") {
    if (a.pos.empty() || a.pos.size() > 2 || !a.kw.empty())
      fail(ErrorKind::kType, "get expected 1 or 2 arguments");
    if (!hashable(a.pos[0]))
      fail(ErrorKind::kType, "unhashable type: '" + std::string(type_name(a.pos[0])) + "'");
    if (const Value* v = d->find(a.pos[0])) return *v;
    return a.pos.size() == 2 ? a.pos[1] : Value::none();
  }
  if (name == "items" || name == "keys" || name == "values") {
    if (!a.pos.empty() || !a.kw.empty())
      fail(ErrorKind::kType, std::string(name) + "() takes no arguments");
    std::vector<Value> out;
    out.reserve(d->entries.size());
    for (const auto& [k, v] : d->entries) {
      if (name == "items")
        out.push_back(make_list({k, v}, ListKind::kTuple));
      else
        out.push_back(name == "keys" ? k : v);
    }
    return make_list(std::move(out), name == "items"  ? ListKind::kDictItems
                                     : name == "keys" ? ListKind::kDictKeys
                                                      : ListKind::kDictValues);
  }
  if (name == "copy") {
    Value c = Value::dict();
    as_dict(c)->entries = d->entries;
    as_dict(c)->depth = d->depth;
    return c;
  }
  if (name == "clear" || name == "pop" || name == "popitem" || name == "setdefault" ||
      name == "update")
    fail(ErrorKind::kSecurity,
         "access to attribute '" + std::string(name) + "' of 'dict' object is unsafe.");
  *found = false;
  return Value();
}

Value list_method(const Value& self, std::string_view name, Args& a, bool* found) {
  const auto& items = as_list(self)->items;
  *found = true;
  if (name == "count") {
    if (a.pos.size() != 1) fail(ErrorKind::kType, "count() takes exactly one argument");
    int64_t n = 0;
    for (const Value& x : items) n += py_equal(x, a.pos[0]);
    return Value::integer(n);
  }
  if (name == "index") {
    if (a.pos.empty()) fail(ErrorKind::kType, "index expected at least 1 argument, got 0");
    for (size_t i = 0; i < items.size(); ++i)
      if (py_equal(items[i], a.pos[0])) return Value::integer(static_cast<int64_t>(i));
    fail(ErrorKind::kValue, to_repr(a.pos[0]) + " is not in list");
  }
  if (name == "copy" && !is_tuple(self)) return make_list(items);
  if (!is_tuple(self) &&
      (name == "append" || name == "clear" || name == "extend" || name == "insert" ||
       name == "pop" || name == "remove" || name == "reverse" || name == "sort"))
    fail(ErrorKind::kSecurity, "access to attribute '" + std::string(name) + "' of '" +
                                   std::string(type_name(self)) + "' object is unsafe.");
  *found = false;
  return Value();
}

}  // namespace

Value Interp::call_method(const Value& obj, std::string_view name, Args& a, bool* found) {
  *found = false;
  switch (obj.type()) {
    case Type::kString:
      return str_method(*this, obj, name, a, found);
    case Type::kDict:
      return dict_method(obj, name, a, found);
    case Type::kList:
      if (is_sequence_list(obj)) return list_method(obj, name, a, found);
      return Value();
    case Type::kObject:
      if (kobj(obj)->kind == ObjKind::kLoop) {
        auto* loop = static_cast<LoopObj*>(obj.obj());
        if (name == "cycle") {
          *found = true;
          if (a.pos.empty()) fail(ErrorKind::kType, "no items for cycling given");
          return a.pos[loop->index0 % a.pos.size()];
        }
        if (name == "changed") {
          *found = true;
          if (loop->has_last_changed && loop->last_changed.size() == a.pos.size()) {
            bool same = true;
            for (size_t i = 0; i < a.pos.size(); ++i)
              if (!py_equal(loop->last_changed[i], a.pos[i])) same = false;
            if (same) return Value::boolean(false);
          }
          loop->last_changed = a.pos;
          loop->has_last_changed = true;
          return Value::boolean(true);
        }
      } else if (kobj(obj)->kind == ObjKind::kCycler) {
        auto* c = static_cast<CyclerObj*>(obj.obj());
        if (name == "next") {
          *found = true;
          Value v = c->items[c->pos];
          c->pos = (c->pos + 1) % c->items.size();
          return v;
        }
        if (name == "reset") {
          *found = true;
          c->pos = 0;
          return Value::none();
        }
      }
      return Value();
    default:
      return Value();
  }
}

bool object_attr(Interp& /*in*/, const Value& obj, std::string_view name, Value* out) {
  KObject* o = kobj(obj);
  auto method = [&]() {
    auto* m = new MethodObj();
    m->self = obj;
    m->name = std::string(name);
    *out = Value::object(Type::kCallable, m);
    return true;
  };
  if (o->kind == ObjKind::kLoop) {
    auto* l = static_cast<LoopObj*>(o);
    int64_t n = static_cast<int64_t>(l->items.size()), i = static_cast<int64_t>(l->index0);
    if (name == "index")
      *out = Value::integer(i + 1);
    else if (name == "index0")
      *out = Value::integer(i);
    else if (name == "revindex")
      *out = Value::integer(n - i);
    else if (name == "revindex0")
      *out = Value::integer(n - i - 1);
    else if (name == "first")
      *out = Value::boolean(i == 0);
    else if (name == "last")
      *out = Value::boolean(i == n - 1);
    else if (name == "length")
      *out = Value::integer(n);
    else if (name == "depth")
      *out = Value::integer(l->depth0 + 1);
    else if (name == "depth0")
      *out = Value::integer(l->depth0);
    else if (name == "previtem")
      *out = i > 0 ? l->items[static_cast<size_t>(i - 1)]
                   : undefined_hint("there is no previous item");
    else if (name == "nextitem")
      *out = i + 1 < n ? l->items[static_cast<size_t>(i + 1)]
                       : undefined_hint("there is no next item");
    else if (name == "cycle" || name == "changed")
      return method();
    else
      return false;
    return true;
  }
  if (o->kind == ObjKind::kCycler) {
    auto* c = static_cast<CyclerObj*>(o);
    if (name == "current") {
      *out = c->items[c->pos];
      return true;
    }
    if (name == "next" || name == "reset") return method();
    if (name == "items") {
      *out = make_list(c->items);
      return true;
    }
    return false;
  }
  if (o->kind == ObjKind::kMacro) {
    const MacroStmt* m = static_cast<MacroObj*>(o)->node;
    if (name == "name") {
      *out = Value::borrowed(m->name);
    } else if (name == "arguments") {
      std::vector<Value> names;
      for (const auto& p : m->params) names.push_back(Value::borrowed(p.name));
      *out = make_list(std::move(names), ListKind::kTuple);
    } else if (name == "catch_kwargs") {
      *out = Value::boolean(m->uses_kwargs);
    } else if (name == "catch_varargs") {
      *out = Value::boolean(m->uses_varargs);
    } else if (name == "caller") {
      *out = Value::boolean(m->uses_caller);
    } else {
      return false;
    }
    return true;
  }
  return false;
}

}  // namespace kiln::jinja
