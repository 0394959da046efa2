// jinja2's builtin filters (jinja2/filters.py),
// with transformers' tojson (json.dumps, ensure_ascii=False by default).
// Filters that return generators in jinja2 (map, select, unique, ...) return
// generator values here too: always truthy, no len(), consumed once.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "chat/jinja/builtins.h"
#include "chat/jinja/interp.h"

namespace kiln::jinja {

std::vector<std::string> py_splitlines(std::string_view s, bool keepends);
std::string py_center(std::string_view s, int64_t width, char32_t fill, char how);

namespace {

#define KILN_JINJA_NAME(e, n) n,
constexpr const char* kFilterNames[] = {KILN_JINJA_FILTERS(KILN_JINJA_NAME)};
#undef KILN_JINJA_NAME

Value generator(std::vector<Value> items) {
  return make_list(std::move(items), ListKind::kGenerator);
}

int64_t as_i(const Value& v) { return v.is_bool() ? v.as_bool() : v.as_int(); }

// jinja2.filters.make_attrgetter: "a.b.0" -> getitem chain.
Value get_attribute(Interp& in, Value item, std::string_view attribute) {
  size_t start = 0;
  while (true) {
    size_t dot = attribute.find('.', start);
    std::string_view part = attribute.substr(
        start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    bool digits = !part.empty() && std::all_of(part.begin(), part.end(),
                                               [](char c) { return c >= '0' && c <= '9'; });
    Value key = digits ? Value::integer(std::atoll(std::string(part).c_str()))
                       : Value::string(std::string(part));
    item = in.getitem(item, key);
    if (dot == std::string_view::npos) return item;
    start = dot + 1;
  }
}

Value attribute_of(Interp& in, const Value& item, const Value* attribute) {
  if (attribute == nullptr || attribute->is_none()) return item;
  if (attribute->is_int()) return in.getitem(item, *attribute);
  return get_attribute(in, item, to_str(*attribute));
}

Value ignore_case(const Value& v) {
  if (v.is_string()) return Value::string(py_lower(v.str()));
  return v;
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

// Python round(x, ndigits): round half to even on the exact binary value,
// which is what glibc's printf does for %.*f.
double py_round(double x, int64_t nd) {
  if (!std::isfinite(x)) return x;
  if (nd >= 0) {
    if (nd > 320) return x;
    char buf[512];
    std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(nd), x);
    return std::strtod(buf, nullptr);
  }
  double p = std::pow(10.0, static_cast<double>(-nd));
  double y = x / p;
  double r = std::nearbyint(y);
  return r * p;
}

std::vector<Value> sorted_by(Interp& in, std::vector<Value> items, const std::vector<Value>& keys,
                             bool reverse) {
  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return reverse ? py_less(keys[b], keys[a], "<") : py_less(keys[a], keys[b], "<");
  });
  in.count_iterations(items.size());
  std::vector<Value> out;
  out.reserve(items.size());
  for (size_t i : order) out.push_back(std::move(items[i]));
  return out;
}

bool truthy_arg(const Value* v, bool dflt) { return v ? truthy(*v) : dflt; }

// select/reject/selectattr/rejectattr.
Value select_or_reject(Interp& in, const Value& seq, Args& a, bool select, bool by_attr) {
  size_t skip = 0;
  const Value* attr = nullptr;
  if (by_attr) {
    if (a.pos.empty()) fail(ErrorKind::kType, "Missing parameter for attribute name");
    attr = &a.pos[0];
    skip = 1;
  }
  int test = -1;
  Args test_args;
  if (a.pos.size() > skip) {
    std::string name = to_str(a.pos[skip]);
    test = find_test(name);
    if (test < 0) fail(ErrorKind::kRuntime, "No test named '" + name + "'.");
    test_args.pos.assign(a.pos.begin() + static_cast<std::ptrdiff_t>(skip + 1), a.pos.end());
    test_args.kw = a.kw;
  }
  std::vector<Value> out;
  for (Value& item : iterate(seq)) {
    in.count_iterations(1);
    Value probe = by_attr ? attribute_of(in, item, attr) : item;
    bool ok = test < 0 ? truthy(probe) : in.apply_test(test, probe, test_args);
    if (ok == select) out.push_back(std::move(item));
  }
  return generator(std::move(out));
}

Value do_map(Interp& in, const Value& seq, Args& a) {
  std::vector<Value> out;
  const Value* attribute = a.get_kw("attribute");
  if (a.pos.empty() && attribute != nullptr) {
    const Value* dflt = a.get_kw("default");
    for (const Value& item : iterate(seq)) {
      in.count_iterations(1);
      Value v = attribute_of(in, item, attribute);
      if (v.is_undefined() && dflt) v = *dflt;
      out.push_back(std::move(v));
    }
    return generator(std::move(out));
  }
  if (a.pos.empty()) fail(ErrorKind::kRuntime, "map requires a filter argument");
  std::string name = to_str(a.pos[0]);
  int id = find_filter(name);
  if (id < 0) fail(ErrorKind::kRuntime, "No filter named '" + name + "'.");
  Args fargs;
  fargs.pos.assign(a.pos.begin() + 1, a.pos.end());
  fargs.kw = a.kw;
  for (const Value& item : iterate(seq)) {
    in.count_iterations(1);
    out.push_back(in.apply_filter(id, item, fargs));
  }
  return generator(std::move(out));
}

Value do_tojson(Interp& in, const Value& v, Args& a) {
  auto p = bind_args(a, "tojson", {"ensure_ascii", "indent", "separators", "sort_keys"});
  JsonOptions opt;
  opt.ensure_ascii = truthy_arg(p[0], false);
  opt.sort_keys = truthy_arg(p[3], false);
  if (p[1] && !p[1]->is_none()) {
    opt.has_indent = true;
    if (p[1]->is_string())
      opt.indent = std::string(p[1]->str());
    else if (p[1]->is_int() || p[1]->is_bool())
      opt.indent = std::string(static_cast<size_t>(std::clamp<int64_t>(as_i(*p[1]), 0, 1024)), ' ');
    else
      fail(ErrorKind::kType, "indent must be an int or a str");
    opt.item_sep = ",";
  }
  if (p[2] && !p[2]->is_none()) {
    std::vector<Value> seps = iterate(*p[2]);
    if (seps.size() != 2 || !seps[0].is_string() || !seps[1].is_string())
      fail(ErrorKind::kValue, "separators must be a pair of strings");
    opt.item_sep = std::string(seps[0].str());
    opt.key_sep = std::string(seps[1].str());
  }
  std::string out;
  append_json(out, v, opt);
  in.check_string_size(out.size());
  return Value::string(std::move(out));
}

Value do_indent(const Value& v, Args& a) {
  auto p = bind_args(a, "indent", {"width", "first", "blank"});
  std::string indention = "    ";
  if (p[0]) {
    if (p[0]->is_string())
      indention = std::string(p[0]->str());
    else
      indention =
          std::string(static_cast<size_t>(std::clamp<int64_t>(as_i(*p[0]), 0, 1 << 16)), ' ');
  }
  std::string s = to_str(v) + "\n";
  std::vector<std::string> lines = py_splitlines(s, false);
  std::string rv;
  if (truthy_arg(p[2], false)) {
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i) rv += "\n" + indention;
      rv += lines[i];
    }
  } else {
    rv = lines.empty() ? std::string() : lines[0];
    for (size_t i = 1; i < lines.size(); ++i) {
      rv += "\n";
      if (!lines[i].empty()) rv += indention;
      rv += lines[i];
    }
  }
  if (truthy_arg(p[1], false)) rv = indention + rv;
  return Value::string(std::move(rv));
}

Value min_max(Interp& in, const Value& v, Args& a, bool is_max) {
  auto p = bind_args(a, is_max ? "max" : "min", {"case_sensitive", "attribute"});
  bool cs = truthy_arg(p[0], false);
  std::vector<Value> items = iterate(v);
  in.count_iterations(items.size());
  if (items.empty()) return undefined_hint("No aggregated item, sequence was empty.");
  auto key = [&](const Value& x) {
    Value k = attribute_of(in, x, p[1]);
    return cs ? k : ignore_case(k);
  };
  size_t best = 0;
  Value best_key = key(items[0]);
  for (size_t i = 1; i < items.size(); ++i) {
    Value k = key(items[i]);
    if (is_max ? py_less(best_key, k, ">") : py_less(k, best_key, "<")) {
      best = i;
      best_key = std::move(k);
    }
  }
  return items[best];
}

Value to_int(const Value& v, const Value& dflt, int base) {
  if (v.is_undefined()) fail_undefined(v);
  if (v.is_int()) return v;
  if (v.is_bool()) return Value::integer(v.as_bool());
  if (v.is_float()) {
    double f = v.as_float();
    if (std::isnan(f)) fail(ErrorKind::kValue, "cannot convert float NaN to integer");
    if (std::isinf(f)) fail(ErrorKind::kOverflow, "cannot convert float infinity to integer");
    if (std::fabs(f) >= 9.2e18) fail(ErrorKind::kOverflow, "integer overflow");
    return Value::integer(static_cast<int64_t>(f));
  }
  if (v.is_string()) {
    std::string s(py_strip(v.str(), true, true));
    std::string clean;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '_' && i > 0 && i + 1 < s.size() &&
          std::isalnum(static_cast<unsigned char>(s[i - 1])) &&
          std::isalnum(static_cast<unsigned char>(s[i + 1])))
        continue;
      clean.push_back(s[i]);
    }
    if (!clean.empty()) {
      char* end = nullptr;
      errno = 0;
      long long r = std::strtoll(clean.c_str(), &end, base);
      if (end && *end == '\0' && errno == 0 && clean.find_first_of(" \t\n") == std::string::npos)
        return Value::integer(r);
      // int(float(value))
      end = nullptr;
      double f = std::strtod(clean.c_str(), &end);
      bool hexish = clean.find_first_of("xXpP") != std::string::npos;
      if (end && *end == '\0' && !hexish) {
        if (std::isnan(f)) fail(ErrorKind::kValue, "cannot convert float NaN to integer");
        if (std::isinf(f)) fail(ErrorKind::kOverflow, "cannot convert float infinity to integer");
        return Value::integer(static_cast<int64_t>(f));
      }
    }
  }
  return dflt;
}

Value to_float(const Value& v, const Value& dflt) {
  if (v.is_undefined()) fail_undefined(v);
  if (v.is_float()) return v;
  if (v.is_int() || v.is_bool()) return Value::number(v.to_double());
  if (v.is_string()) {
    std::string s(py_strip(v.str(), true, true));
    std::string lower = py_lower(s);
    std::string body =
        (!lower.empty() && (lower[0] == '+' || lower[0] == '-')) ? lower.substr(1) : lower;
    if (body == "inf" || body == "infinity" || body == "nan") {
      double f = body == "nan" ? NAN : INFINITY;
      return Value::number(lower[0] == '-' ? -f : f);
    }
    if (!s.empty() && s.find_first_of("xXpP") == std::string::npos) {
      char* end = nullptr;
      double f = std::strtod(s.c_str(), &end);
      if (end && *end == '\0') return Value::number(f);
    }
  }
  return dflt;
}

std::string truncate(std::string_view s, int64_t length, bool killwords, std::string_view end,
                     int64_t leeway) {
  auto cps = to_codepoints(s);
  int64_t end_len = static_cast<int64_t>(count_codepoints(end));
  if (length < end_len) fail(ErrorKind::kRuntime, "expected length >= " + std::to_string(end_len));
  if (static_cast<int64_t>(cps.size()) <= length + leeway) return std::string(s);
  std::string head = from_codepoints(cps.data(), static_cast<size_t>(length - end_len));
  if (killwords) return head + std::string(end);
  size_t sp = head.rfind(' ');
  if (sp != std::string::npos) head.resize(sp);
  return head + std::string(end);
}

}  // namespace

int find_filter(std::string_view name) {
  for (size_t i = 0; i < std::size(kFilterNames); ++i)
    if (name == kFilterNames[i]) return static_cast<int>(i);
  return -1;
}

Value Interp::apply_filter(int id, const Value& v, Args& a) {
  auto fid = static_cast<FilterId>(id);
  const char* fname = kFilterNames[id];
  switch (fid) {
    case FilterId::kAbs:
      if (v.is_float()) return Value::number(std::fabs(v.as_float()));
      if (v.is_int() || v.is_bool()) {
        int64_t i = as_i(v);
        if (i == INT64_MIN) fail(ErrorKind::kOverflow, "integer overflow");
        return Value::integer(i < 0 ? -i : i);
      }
      if (v.is_undefined()) fail_undefined(v);
      fail(ErrorKind::kType, "bad operand type for abs(): '" + std::string(type_name(v)) + "'");
    case FilterId::kAttr: {
      auto p = bind_args(a, fname, {"name"});
      if (!p[0]) fail(ErrorKind::kType, "attr() missing 1 required positional argument: 'name'");
      if (v.is_undefined()) fail_undefined(v);
      std::string name = to_str(*p[0]);
      Value r = getattr(v, name);
      // |attr reads Python attributes only, never dict items.
      if (v.is_dict() && !r.is_undefined() && r.type() != Type::kCallable)
        return undefined_attr(v, name);
      return r;
    }
    case FilterId::kBatch: {
      auto p = bind_args(a, fname, {"linecount", "fill_with"});
      if (!p[0])
        fail(ErrorKind::kType, "batch() missing 1 required positional argument: 'linecount'");
      int64_t n = as_i(*p[0]);
      if (n <= 0) fail(ErrorKind::kValue, "batch linecount must be positive");
      std::vector<Value> out, cur;
      for (Value& item : iterate(v)) {
        count_iterations(1);
        cur.push_back(std::move(item));
        if (static_cast<int64_t>(cur.size()) == n) {
          out.push_back(make_list(std::move(cur)));
          cur.clear();
        }
      }
      if (!cur.empty()) {
        if (p[1] && !p[1]->is_none())
          while (static_cast<int64_t>(cur.size()) < n) cur.push_back(*p[1]);
        out.push_back(make_list(std::move(cur)));
      }
      return generator(std::move(out));
    }
    case FilterId::kCapitalize:
      return Value::string(py_capitalize(to_str(v)));
    case FilterId::kCenter: {
      auto p = bind_args(a, fname, {"width"});
      int64_t w = p[0] ? as_i(*p[0]) : 80;
      check_string_size(static_cast<size_t>(std::max<int64_t>(w, 0)));
      return Value::string(py_center(to_str(v), w, ' ', '^'));
    }
    case FilterId::kCount:
    case FilterId::kLength:
      return Value::integer(static_cast<int64_t>(py_len(v)));
    case FilterId::kD:
    case FilterId::kDefault: {
      auto p = bind_args(a, fname, {"default_value", "boolean"});
      bool use_default = v.is_undefined() || (truthy_arg(p[1], false) && !truthy(v));
      if (!use_default) return v;
      return p[0] ? *p[0] : Value::borrowed("");
    }
    case FilterId::kDictsort: {
      auto p = bind_args(a, fname, {"case_sensitive", "by", "reverse"});
      if (!v.is_dict()) fail(ErrorKind::kType, "You can only sort by either \"key\" or \"value\"");
      int pos = 0;
      if (p[1]) {
        std::string by = to_str(*p[1]);
        if (by == "value")
          pos = 1;
        else if (by != "key")
          fail(ErrorKind::kRuntime, "You can only sort by either \"key\" or \"value\"");
      }
      bool cs = truthy_arg(p[0], false);
      std::vector<Value> items, keys;
      for (const auto& [k, x] : as_dict(v)->entries) {
        items.push_back(make_list({k, x}, ListKind::kTuple));
        keys.push_back(cs ? (pos ? x : k) : ignore_case(pos ? x : k));
      }
      return make_list(sorted_by(*this, std::move(items), keys, truthy_arg(p[2], false)));
    }
    case FilterId::kE:
    case FilterId::kEscape:
    case FilterId::kForceescape: {
      if (v.is_string() && v.is_safe() && fid != FilterId::kForceescape) return v;
      Value r = Value::string(html_escape(to_str(v)));
      r.set_safe();
      return r;
    }
    case FilterId::kFirst: {
      if (v.is_list()) {
        ListObj* l = as_list(v);
        bool gen = l->lkind == ListKind::kGenerator || l->lkind == ListKind::kIterator;
        size_t at = gen ? l->pos : 0;
        if (at < l->items.size()) {
          if (gen) ++l->pos;
          return l->items[at];
        }
        return undefined_hint("No first item, sequence was empty.");
      }
      std::vector<Value> items = iterate(v);
      if (items.empty()) return undefined_hint("No first item, sequence was empty.");
      return items[0];
    }
    case FilterId::kLast: {
      if (v.is_list()) {
        ListObj* l = as_list(v);
        if (l->lkind == ListKind::kGenerator || l->lkind == ListKind::kIterator)
          fail(ErrorKind::kType, "'" + std::string(type_name(v)) + "' object is not reversible");
      }
      if (!v.is_list() && !v.is_string() && !v.is_dict() && !v.is_undefined())
        fail(ErrorKind::kType, "'" + std::string(type_name(v)) + "' object is not reversible");
      std::vector<Value> items = iterate(v);
      if (items.empty()) return undefined_hint("No last item, sequence was empty.");
      return items.back();
    }
    case FilterId::kFloat: {
      auto p = bind_args(a, fname, {"default"});
      return to_float(v, p[0] ? *p[0] : Value::number(0.0));
    }
    case FilterId::kInt: {
      auto p = bind_args(a, fname, {"default", "base"});
      int base = p[1] ? static_cast<int>(as_i(*p[1])) : 10;
      return to_int(v, p[0] ? *p[0] : Value::integer(0), base);
    }
    case FilterId::kFormat: {
      std::string fmt = to_str(v);
      if (!a.kw.empty()) {
        Value d = Value::dict();
        for (auto& [k, x] : a.kw) dict_set(d, Value::string(k), x);
        return Value::string(percent_format(fmt, d));
      }
      return Value::string(percent_format(fmt, make_list(a.pos, ListKind::kTuple)));
    }
    case FilterId::kGroupby: {
      auto p = bind_args(a, fname, {"attribute", "default", "case_sensitive"});
      if (!p[0])
        fail(ErrorKind::kType, "groupby() missing 1 required positional argument: 'attribute'");
      bool cs = truthy_arg(p[2], false);
      std::vector<Value> items = iterate(v), keys;
      for (const Value& item : items) {
        Value k = attribute_of(*this, item, p[0]);
        if (k.is_undefined() && p[1]) k = *p[1];
        keys.push_back(cs ? k : ignore_case(k));
      }
      std::vector<size_t> order(items.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::stable_sort(order.begin(), order.end(),
                       [&](size_t x, size_t y) { return py_less(keys[x], keys[y], "<"); });
      std::vector<Value> groups;
      for (size_t i = 0; i < order.size();) {
        size_t j = i;
        std::vector<Value> members;
        while (j < order.size() && py_equal(keys[order[j]], keys[order[i]]))
          members.push_back(items[order[j++]]);
        Value grouper = attribute_of(*this, members[0], p[0]);
        if (grouper.is_undefined() && p[1]) grouper = *p[1];
        groups.push_back(make_list({grouper, make_list(std::move(members))}, ListKind::kTuple));
        i = j;
      }
      return make_list(std::move(groups));
    }
    case FilterId::kIndent:
      return do_indent(v, a);
    case FilterId::kItems: {
      if (v.is_undefined()) return generator({});
      if (!v.is_dict()) fail(ErrorKind::kType, "Can only get item pairs from a mapping.");
      std::vector<Value> out;
      for (const auto& [k, x] : as_dict(v)->entries)
        out.push_back(make_list({k, x}, ListKind::kTuple));
      return generator(std::move(out));
    }
    case FilterId::kJoin: {
      auto p = bind_args(a, fname, {"d", "attribute"});
      std::string sep = p[0] ? to_str(*p[0]) : std::string();
      std::string out;
      bool first = true;
      for (const Value& item : iterate(v)) {
        count_iterations(1);
        if (!first) out += sep;
        first = false;
        append_str(out, p[1] ? attribute_of(*this, item, p[1]) : item);
        check_string_size(out.size());
      }
      return Value::string(std::move(out));
    }
    case FilterId::kList:
      return make_list(iterate(v));
    case FilterId::kLower:
      return Value::string(py_lower(to_str(v)));
    case FilterId::kUpper:
      return Value::string(py_upper(to_str(v)));
    case FilterId::kMap:
      return do_map(*this, v, a);
    case FilterId::kMax:
    case FilterId::kMin:
      return min_max(*this, v, a, fid == FilterId::kMax);
    case FilterId::kReject:
    case FilterId::kSelect:
      return select_or_reject(*this, v, a, fid == FilterId::kSelect, false);
    case FilterId::kRejectattr:
    case FilterId::kSelectattr:
      return select_or_reject(*this, v, a, fid == FilterId::kSelectattr, true);
    case FilterId::kReplace: {
      auto p = bind_args(a, fname, {"old", "new", "count"});
      if (!p[0] || !p[1]) fail(ErrorKind::kType, "replace() missing required arguments");
      Args margs;
      margs.pos = {Value::string(to_str(*p[0])), Value::string(to_str(*p[1]))};
      if (p[2] && !p[2]->is_none()) margs.pos.push_back(*p[2]);
      bool found = false;
      return call_method(Value::string(to_str(v)), "replace", margs, &found);
    }
    case FilterId::kReverse: {
      if (v.is_string()) {
        auto cps = to_codepoints(v.str());
        std::reverse(cps.begin(), cps.end());
        return Value::string(from_codepoints(cps.data(), cps.size()));
      }
      if (v.is_undefined()) return make_list({}, ListKind::kIterator);
      if (v.is_list()) {
        ListObj* l = as_list(v);
        bool gen = l->lkind == ListKind::kGenerator || l->lkind == ListKind::kIterator;
        std::vector<Value> items = gen ? iterate(v) : l->items;
        std::reverse(items.begin(), items.end());
        return make_list(std::move(items), gen ? ListKind::kList : ListKind::kIterator);
      }
      if (v.is_dict()) {
        std::vector<Value> items = iterate(v);
        std::reverse(items.begin(), items.end());
        return make_list(std::move(items), ListKind::kIterator);
      }
      fail(ErrorKind::kRuntime, "argument to reverse filter is not iterable");
    }
    case FilterId::kRound: {
      auto p = bind_args(a, fname, {"precision", "method"});
      int64_t precision = p[0] ? as_i(*p[0]) : 0;
      std::string method = p[1] ? to_str(*p[1]) : "common";
      if (method != "common" && method != "ceil" && method != "floor")
        fail(ErrorKind::kRuntime, "method must be common, ceil or floor");
      if (v.is_undefined()) fail_undefined(v);
      if (!v.is_number())
        fail(ErrorKind::kType,
             "type " + std::string(type_name(v)) + " doesn't define __round__ method");
      if (method == "common") {
        if (!v.is_float()) {
          if (precision >= 0) return Value::integer(as_i(v));
          double r = py_round(v.to_double(), precision);
          return Value::integer(static_cast<int64_t>(r));
        }
        return Value::number(py_round(v.as_float(), precision));
      }
      double p10 = std::pow(10.0, static_cast<double>(precision));
      double x = v.to_double() * p10;
      double r = method == "ceil" ? std::ceil(x) : std::floor(x);
      return Value::number(r / p10);
    }
    case FilterId::kSafe: {
      Value r = v.is_string() ? v : Value::string(to_str(v));
      r.set_safe();
      return r;
    }
    case FilterId::kSlice: {
      auto p = bind_args(a, fname, {"slices", "fill_with"});
      if (!p[0]) fail(ErrorKind::kType, "slice() missing 1 required positional argument: 'slices'");
      int64_t slices = as_i(*p[0]);
      if (slices <= 0) fail(ErrorKind::kValue, "slices must be positive");
      std::vector<Value> seq = iterate(v);
      int64_t length = static_cast<int64_t>(seq.size());
      int64_t per = length / slices, with_extra = length % slices, offset = 0;
      std::vector<Value> out;
      for (int64_t i = 0; i < slices; ++i) {
        int64_t start = offset + i * per;
        if (i < with_extra) ++offset;
        int64_t end = offset + (i + 1) * per;
        std::vector<Value> part(seq.begin() + start, seq.begin() + end);
        if (p[1] && !p[1]->is_none() && i >= with_extra) part.push_back(*p[1]);
        out.push_back(make_list(std::move(part)));
      }
      return generator(std::move(out));
    }
    case FilterId::kSort: {
      auto p = bind_args(a, fname, {"reverse", "case_sensitive", "attribute"});
      bool cs = truthy_arg(p[1], false);
      std::vector<Value> items = iterate(v), keys;
      // attribute="a,b" sorts by a tuple of attributes (make_multi_attrgetter).
      std::vector<std::string> attrs;
      if (p[2] && p[2]->is_string()) {
        std::string all(p[2]->str());
        for (size_t start = 0;;) {
          size_t comma = all.find(',', start);
          attrs.push_back(
              all.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
      }
      for (const Value& item : items) {
        if (attrs.size() > 1) {
          std::vector<Value> parts;
          for (const auto& at : attrs) {
            Value k = get_attribute(*this, item, at);
            parts.push_back(cs ? k : ignore_case(k));
          }
          keys.push_back(make_list(std::move(parts), ListKind::kList));
        } else {
          Value k = attribute_of(*this, item, p[2]);
          keys.push_back(cs ? k : ignore_case(k));
        }
      }
      return make_list(sorted_by(*this, std::move(items), keys, truthy_arg(p[0], false)));
    }
    case FilterId::kString:
      if (v.is_string()) return v;
      return Value::string(to_str(v));
    case FilterId::kSum: {
      auto p = bind_args(a, fname, {"attribute", "start"});
      Value total = p[1] ? *p[1] : Value::integer(0);
      for (const Value& item : iterate(v)) {
        count_iterations(1);
        total = py_add(*this, total, attribute_of(*this, item, p[0]));
      }
      return total;
    }
    case FilterId::kTitle: {
      // jinja2's own title: split on [-\s({[<]+ runs, upper first char, lower rest.
      std::string s = to_str(v), out;
      auto is_sep = [](char32_t c) {
        return c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || py_isspace(c);
      };
      bool at_start = true;
      for (size_t i = 0; i < s.size();) {
        size_t b = i;
        char32_t c = decode_utf8(s, i);
        if (is_sep(c)) {
          out.append(s, b, i - b);
          at_start = true;
        } else if (at_start) {
          out += py_upper(std::string_view(s).substr(b, i - b));
          at_start = false;
        } else {
          out += py_lower(std::string_view(s).substr(b, i - b));
        }
      }
      return Value::string(std::move(out));
    }
    case FilterId::kTojson:
      return do_tojson(*this, v, a);
    case FilterId::kTrim: {
      auto p = bind_args(a, fname, {"chars"});
      std::string s = to_str(v);
      if (p[0] && !p[0]->is_none())
        return Value::string(std::string(py_strip_chars(s, to_str(*p[0]), true, true)));
      return Value::string(std::string(py_strip(s, true, true)));
    }
    case FilterId::kTruncate: {
      auto p = bind_args(a, fname, {"length", "killwords", "end", "leeway"});
      return Value::string(truncate(to_str(v), p[0] ? as_i(*p[0]) : 255, truthy_arg(p[1], false),
                                    p[2] ? to_str(*p[2]) : "...",
                                    p[3] && !p[3]->is_none() ? as_i(*p[3]) : 5));
    }
    case FilterId::kUnique: {
      auto p = bind_args(a, fname, {"case_sensitive", "attribute"});
      bool cs = truthy_arg(p[0], false);
      std::vector<Value> out, seen;
      for (Value& item : iterate(v)) {
        count_iterations(1);
        Value k = attribute_of(*this, item, p[1]);
        if (!cs) k = ignore_case(k);
        if (!hashable(k))
          fail(ErrorKind::kType, "unhashable type: '" + std::string(type_name(k)) + "'");
        bool dup = false;
        for (const Value& s : seen)
          if (py_equal(s, k)) {
            dup = true;
            break;
          }
        if (dup) continue;
        seen.push_back(std::move(k));
        out.push_back(std::move(item));
      }
      return generator(std::move(out));
    }
    case FilterId::kWordcount: {
      std::string s = to_str(v);
      int64_t n = 0;
      bool in_word = false;
      for (size_t i = 0; i < s.size();) {
        char32_t c = decode_utf8(s, i);
        bool w = c == '_' || py_isalpha(c) || py_isnumeric(c);
        if (w && !in_word) ++n;
        in_word = w;
      }
      return Value::integer(n);
    }
    case FilterId::kFilesizeformat:
    case FilterId::kPprint:
    case FilterId::kRandom:
    case FilterId::kStriptags:
    case FilterId::kUrlencode:
    case FilterId::kUrlize:
    case FilterId::kWordwrap:
    case FilterId::kXmlattr:
      fail(ErrorKind::kRuntime, std::string("the '") + fname + "' filter is not supported by Kiln");
  }
  return Value();
}

}  // namespace kiln::jinja
