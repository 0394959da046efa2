// Template globals: jinja2's defaults (range, dict, namespace, cycler, joiner,
// lipsum) and the two transformers adds (raise_exception, strftime_now).
#include <locale.h>
#include <clocale>
#include <ctime>

#include "chat/jinja/interp.h"

namespace kiln::jinja {

namespace {

constexpr const char* kGlobalNames[] = {"range",  "dict",   "namespace",       "cycler",
                                        "joiner", "lipsum", "raise_exception", "strftime_now"};

// jinja2.sandbox.MAX_RANGE
constexpr int64_t kMaxRange = 100000;

int64_t range_arg(const Value& v) {
  if (v.is_int()) return v.as_int();
  if (v.is_bool()) return v.as_bool();
  fail(ErrorKind::kType,
       "'" + std::string(type_name(v)) + "' object cannot be interpreted as an integer");
}

Value fill_dict(const Args& a, const char* fn) {
  Value d = Value::dict();
  if (a.pos.size() > 1)
    fail(ErrorKind::kType,
         std::string(fn) + " expected at most 1 argument, got " + std::to_string(a.pos.size()));
  if (a.pos.size() == 1) {
    const Value& src = a.pos[0];
    if (src.is_dict()) {
      for (const auto& [k, v] : as_dict(src)->entries) as_dict(d)->set(k, v);
    } else {
      for (const Value& pair : iterate(src)) {
        std::vector<Value> kv = iterate(pair);
        if (kv.size() != 2)
          fail(ErrorKind::kValue, "dictionary update sequence element has length " +
                                      std::to_string(kv.size()) + "; 2 is required");
        if (!hashable(kv[0]))
          fail(ErrorKind::kType, "unhashable type: '" + std::string(type_name(kv[0])) + "'");
        as_dict(d)->set(kv[0], kv[1]);
      }
    }
  }
  for (const auto& [k, v] : a.kw) as_dict(d)->set(Value::string(k), v);
  return d;
}

locale_t c_locale() {
  static locale_t loc = newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(nullptr));
  return loc;
}

// datetime.strftime: %f, %z and %Z are Python's own (naive time: empty zone),
// the rest is C strftime in the C locale.
std::string py_strftime(Interp& in, std::string_view fmt) {
  int micros = 0;
  std::tm t = in.now(&micros);
  std::string c_fmt;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] == '%' && i + 1 < fmt.size()) {
      char k = fmt[i + 1];
      if (k == 'f') {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "%06d", micros);
        c_fmt += buf;
        ++i;
        continue;
      }
      if (k == 'z' || k == 'Z') {
        ++i;
        continue;
      }
      c_fmt += fmt.substr(i, 2);
      ++i;
      continue;
    }
    c_fmt.push_back(fmt[i]);
  }
  if (c_fmt.empty()) return "";
  // A marker byte tells an empty result from a too-small buffer.
  c_fmt.push_back('\x01');
  std::string out(256, '\0');
  while (true) {
    size_t n = strftime_l(out.data(), out.size(), c_fmt.c_str(), &t, c_locale());
    if (n > 0) {
      out.resize(n - 1);
      return out;
    }
    in.check_string_size(out.size());
    out.resize(out.size() * 4);
  }
}

}  // namespace

int find_global(std::string_view name) {
  for (size_t i = 0; i < std::size(kGlobalNames); ++i)
    if (name == kGlobalNames[i]) return static_cast<int>(i);
  return -1;
}

Value make_namespace(Interp& in, Args& args) {
  Value d = fill_dict(args, "namespace");
  auto* ns = new NamespaceObj();
  Value out = Value::object(Type::kNamespace, ns);
  in.namespaces_.push_back(out);
  for (const auto& [k, v] : as_dict(d)->entries) {
    if (!k.is_string()) fail(ErrorKind::kType, "namespace keys must be strings");
    ns->set(std::string(k.str()), v);
  }
  return out;
}

Value Interp::call_global(int id, Args& a) {
  switch (static_cast<GlobalId>(id)) {
    case GlobalId::kRange: {
      if (!a.kw.empty()) fail(ErrorKind::kType, "range() takes no keyword arguments");
      if (a.pos.empty() || a.pos.size() > 3)
        fail(ErrorKind::kType,
             "range expected at most 3 arguments, got " + std::to_string(a.pos.size()));
      int64_t start = 0, stop, step = 1;
      if (a.pos.size() == 1) {
        stop = range_arg(a.pos[0]);
      } else {
        start = range_arg(a.pos[0]);
        stop = range_arg(a.pos[1]);
        if (a.pos.size() == 3) step = range_arg(a.pos[2]);
      }
      if (step == 0) fail(ErrorKind::kValue, "range() arg 3 must not be zero");
      __int128 span = step > 0 ? (static_cast<__int128>(stop) - start + step - 1) / step
                               : (static_cast<__int128>(start) - stop - step - 1) / -step;
      if (span < 0) span = 0;
      if (span > kMaxRange)
        fail(ErrorKind::kOverflow,
             "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
      count_iterations(static_cast<uint64_t>(span));
      std::vector<Value> items;
      items.reserve(static_cast<size_t>(span));
      for (__int128 i = 0, x = start; i < span; ++i, x += step)
        items.push_back(Value::integer(static_cast<int64_t>(x)));
      return make_list(std::move(items));
    }
    case GlobalId::kDict:
      return fill_dict(a, "dict");
    case GlobalId::kNamespace:
      return make_namespace(*this, a);
    case GlobalId::kCycler: {
      if (a.pos.empty()) fail(ErrorKind::kRuntime, "at least one item has to be provided");
      auto* c = new CyclerObj();
      c->items = a.pos;
      return Value::object(Type::kObject, c);
    }
    case GlobalId::kJoiner: {
      auto p = bind_args(a, "joiner", {"sep"});
      auto* j = new JoinerObj();
      j->sep = p[0] ? to_str(*p[0]) : ", ";
      return Value::object(Type::kCallable, j);
    }
    case GlobalId::kLipsum:
      fail(ErrorKind::kRuntime, "lipsum() is not supported by Kiln (it is random)");
    case GlobalId::kRaiseException: {
      auto p = bind_args(a, "raise_exception", {"message"});
      if (!p[0])
        fail(ErrorKind::kType,
             "raise_exception() missing 1 required positional argument: 'message'");
      fail(ErrorKind::kTemplate, to_str(*p[0]));
    }
    case GlobalId::kStrftimeNow: {
      auto p = bind_args(a, "strftime_now", {"format"});
      if (!p[0])
        fail(ErrorKind::kType, "strftime_now() missing 1 required positional argument: 'format'");
      if (!p[0]->is_string())
        fail(ErrorKind::kType,
             "strftime() argument 1 must be str, not " + std::string(type_name(*p[0])));
      return Value::string(py_strftime(*this, p[0]->str()));
    }
  }
  return Value();
}

}  // namespace kiln::jinja
