// Operators, attribute/item access and calls, with Python's semantics and
// jinja2's sandbox rules (missing attributes and bad subscripts give
// Undefined; mutating methods are refused).
#include <cmath>
#include <limits>

#include "chat/jinja/interp.h"

namespace kiln::jinja {

namespace {

[[noreturn]] void unsupported(const char* op, const Value& a, const Value& b) {
  fail(ErrorKind::kType, std::string("unsupported operand type(s) for ") + op + ": '" +
                             std::string(type_name(a)) + "' and '" + std::string(type_name(b)) +
                             "'");
}

int64_t as_i(const Value& v) { return v.is_bool() ? v.as_bool() : v.as_int(); }

Value repeat(Interp& in, const Value& seq, int64_t n) {
  if (n <= 0) {
    if (seq.is_string()) return Value::borrowed("");
    return make_list({}, as_list(seq)->lkind);
  }
  if (seq.is_string()) {
    std::string_view s = seq.str();
    in.check_string_size(s.size() * static_cast<size_t>(std::min<int64_t>(n, 1 << 30)));
    std::string out;
    out.reserve(s.size() * static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) out += s;
    return Value::string(std::move(out));
  }
  const auto& items = as_list(seq)->items;
  in.count_iterations(items.size() * static_cast<uint64_t>(std::min<int64_t>(n, 1LL << 32)));
  std::vector<Value> out;
  out.reserve(items.size() * static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), items.begin(), items.end());
  return make_list(std::move(out), as_list(seq)->lkind);
}

// Python float floor division and modulo (Objects/floatobject.c float_divmod).
void float_divmod(double vx, double wx, double* floordiv, double* mod) {
  double m = std::fmod(vx, wx);
  double div = (vx - m) / wx;
  if (m != 0.0) {
    if ((wx < 0) != (m < 0)) {
      m += wx;
      div -= 1.0;
    }
  } else {
    m = std::copysign(0.0, wx);
  }
  double fd;
  if (div != 0.0) {
    fd = std::floor(div);
    if (div - fd > 0.5) fd += 1.0;
  } else {
    fd = std::copysign(0.0, vx / wx);
  }
  *floordiv = fd;
  *mod = m;
}

}  // namespace

Value py_add(Interp& in, const Value& a, const Value& b) {
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return Value::number(a.to_double() + b.to_double());
    int64_t r;
    if (__builtin_add_overflow(as_i(a), as_i(b), &r))
      fail(ErrorKind::kOverflow, "integer overflow");
    return Value::integer(r);
  }
  if (a.is_string()) {
    if (!b.is_string())
      fail(ErrorKind::kType,
           "can only concatenate str (not \"" + std::string(type_name(b)) + "\") to str");
    std::string s;
    s.reserve(a.str().size() + b.str().size());
    s += a.str();
    s += b.str();
    in.check_string_size(s.size());
    return Value::string(std::move(s));
  }
  if (is_sequence_list(a)) {
    if (!b.is_list() || as_list(b)->lkind != as_list(a)->lkind)
      fail(ErrorKind::kType, "can only concatenate " + std::string(type_name(a)) + " (not \"" +
                                 std::string(type_name(b)) + "\") to " + std::string(type_name(a)));
    std::vector<Value> items = as_list(a)->items;
    const auto& more = as_list(b)->items;
    in.count_iterations(items.size() + more.size());
    items.insert(items.end(), more.begin(), more.end());
    return make_list(std::move(items), as_list(a)->lkind);
  }
  unsupported("+", a, b);
}

Value Interp::binary(BinOp op, const Value& a, const Value& b) {
  if (op == BinOp::kAdd) return py_add(*this, a, b);
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  bool nums = a.is_number() && b.is_number();
  bool floats = nums && (a.is_float() || b.is_float());
  switch (op) {
    case BinOp::kSub: {
      if (!nums) unsupported("-", a, b);
      if (floats) return Value::number(a.to_double() - b.to_double());
      int64_t r;
      if (__builtin_sub_overflow(as_i(a), as_i(b), &r))
        fail(ErrorKind::kOverflow, "integer overflow");
      return Value::integer(r);
    }
    case BinOp::kMul: {
      if (nums) {
        if (floats) return Value::number(a.to_double() * b.to_double());
        int64_t r;
        if (__builtin_mul_overflow(as_i(a), as_i(b), &r))
          fail(ErrorKind::kOverflow, "integer overflow");
        return Value::integer(r);
      }
      bool a_seq = a.is_string() || is_sequence_list(a);
      bool b_seq = b.is_string() || is_sequence_list(b);
      if (a_seq && (b.is_int() || b.is_bool())) return repeat(*this, a, as_i(b));
      if (b_seq && (a.is_int() || a.is_bool())) return repeat(*this, b, as_i(a));
      if (a_seq && b.is_float())
        fail(ErrorKind::kType, "can't multiply sequence by non-int of type 'float'");
      unsupported("*", a, b);
    }
    case BinOp::kDiv: {
      if (!nums) unsupported("/", a, b);
      double d = b.to_double();
      if (d == 0.0)
        fail(ErrorKind::kZeroDivision, floats ? "float division by zero" : "division by zero");
      return Value::number(a.to_double() / d);
    }
    case BinOp::kFloorDiv:
    case BinOp::kMod: {
      bool is_mod = op == BinOp::kMod;
      if (is_mod && a.is_string()) return Value::string(percent_format(a.str(), b));
      if (!nums) unsupported(is_mod ? "%" : "//", a, b);
      if (floats) {
        double y = b.to_double();
        if (y == 0.0)
          fail(ErrorKind::kZeroDivision, is_mod ? "float modulo" : "float floor division by zero");
        double fd, m;
        float_divmod(a.to_double(), y, &fd, &m);
        return Value::number(is_mod ? m : fd);
      }
      int64_t x = as_i(a), y = as_i(b);
      if (y == 0) fail(ErrorKind::kZeroDivision, "integer division or modulo by zero");
      if (x == INT64_MIN && y == -1) {
        if (is_mod) return Value::integer(0);
        fail(ErrorKind::kOverflow, "integer overflow");
      }
      int64_t q = x / y, r = x % y;
      if (r != 0 && ((r < 0) != (y < 0))) {
        r += y;
        q -= 1;
      }
      return Value::integer(is_mod ? r : q);
    }
    case BinOp::kPow: {
      if (!nums) unsupported("** or pow()", a, b);
      if (!floats && as_i(b) >= 0) {
        int64_t base = as_i(a), e = as_i(b), r = 1;
        while (e > 0) {
          if (e & 1) {
            if (__builtin_mul_overflow(r, base, &r)) fail(ErrorKind::kOverflow, "integer overflow");
          }
          e >>= 1;
          if (e > 0 && __builtin_mul_overflow(base, base, &base))
            fail(ErrorKind::kOverflow, "integer overflow");
        }
        return Value::integer(r);
      }
      double x = a.to_double(), y = b.to_double();
      if (x == 0.0 && y < 0)
        fail(ErrorKind::kZeroDivision, "0.0 cannot be raised to a negative power");
      if (x < 0 && y != std::floor(y)) fail(ErrorKind::kValue, "complex results are not supported");
      double r = std::pow(x, y);
      if (std::isinf(r) && std::isfinite(x) && std::isfinite(y))
        fail(ErrorKind::kOverflow, "(34, 'Numerical result out of range')");
      return Value::number(r);
    }
    case BinOp::kAdd:
      break;
  }
  return Value();
}

bool contains(const Value& container, const Value& item) {
  switch (container.type()) {
    case Type::kUndefined:
      return false;
    case Type::kString:
      if (!item.is_string())
        fail(ErrorKind::kType,
             "'in <string>' requires string as left operand, not " + std::string(type_name(item)));
      return container.str().find(item.str()) != std::string_view::npos;
    case Type::kDict:
      if (!hashable(item))
        fail(ErrorKind::kType, "unhashable type: '" + std::string(type_name(item)) + "'");
      return as_dict(container)->find(item) != nullptr;
    case Type::kList: {
      ListObj* l = as_list(container);
      if (l->lkind == ListKind::kGenerator || l->lkind == ListKind::kIterator) {
        while (l->pos < l->items.size())
          if (py_equal(l->items[l->pos++], item)) return true;
        return false;
      }
      for (const Value& x : l->items)
        if (py_equal(x, item)) return true;
      return false;
    }
    default:
      fail(ErrorKind::kType,
           "argument of type '" + std::string(type_name(container)) + "' is not iterable");
  }
}

bool Interp::compare(CmpOp op, const Value& a, const Value& b) {
  switch (op) {
    case CmpOp::kEq:
      return py_equal(a, b);
    case CmpOp::kNe:
      return !py_equal(a, b);
    case CmpOp::kIn:
      return contains(b, a);
    case CmpOp::kNotIn:
      return !contains(b, a);
    default:
      break;
  }
  if (a.is_float() || b.is_float()) {
    if (a.is_number() && b.is_number()) {
      double x = a.to_double(), y = b.to_double();
      switch (op) {
        case CmpOp::kLt:
          return x < y;
        case CmpOp::kLe:
          return x <= y;
        case CmpOp::kGt:
          return x > y;
        default:
          return x >= y;
      }
    }
  }
  static const char* kNames[] = {"==", "!=", "<", "<=", ">", ">="};
  const char* name = kNames[static_cast<int>(op)];
  switch (op) {
    case CmpOp::kLt:
      return py_less(a, b, name);
    case CmpOp::kLe:
      return py_equal(a, b) ? (py_less(a, b, name), true) : py_less(a, b, name);
    case CmpOp::kGt:
      return py_less(b, a, name);
    default:
      return py_equal(a, b) ? (py_less(b, a, name), true) : py_less(b, a, name);
  }
}

// --- attribute and item access -------------------------------------------------

namespace {

bool is_dict_method(std::string_view n) {
  return n == "items" || n == "keys" || n == "values" || n == "get" || n == "copy" ||
         n == "clear" || n == "pop" || n == "popitem" || n == "setdefault" || n == "update" ||
         n == "fromkeys";
}
bool is_dict_mutator(std::string_view n) {
  return n == "clear" || n == "pop" || n == "popitem" || n == "setdefault" || n == "update";
}
bool is_list_method(std::string_view n) {
  return n == "append" || n == "clear" || n == "copy" || n == "count" || n == "extend" ||
         n == "index" || n == "insert" || n == "pop" || n == "remove" || n == "reverse" ||
         n == "sort";
}
bool is_list_mutator(std::string_view n) {
  return n == "append" || n == "clear" || n == "extend" || n == "insert" || n == "pop" ||
         n == "remove" || n == "reverse" || n == "sort";
}
bool is_str_method(std::string_view n) {
  static const char* kNames[] = {
      "capitalize",   "casefold",    "center",    "count",      "encode",       "endswith",
      "expandtabs",   "find",        "format",    "format_map", "index",        "isalnum",
      "isalpha",      "isascii",     "isdecimal", "isdigit",    "isidentifier", "islower",
      "isnumeric",    "isprintable", "isspace",   "istitle",    "isupper",      "join",
      "ljust",        "lower",       "lstrip",    "maketrans",  "partition",    "removeprefix",
      "removesuffix", "replace",     "rfind",     "rindex",     "rjust",        "rpartition",
      "rsplit",       "rstrip",      "split",     "splitlines", "startswith",   "strip",
      "swapcase",     "title",       "translate", "upper",      "zfill"};
  for (const char* k : kNames)
    if (n == k) return true;
  return false;
}
bool is_dunder(std::string_view n) { return n.size() > 1 && n[0] == '_'; }

Value bound_method(const Value& self, std::string_view name) {
  auto* m = new MethodObj();
  m->self = self;
  m->name = std::string(name);
  return Value::object(Type::kCallable, m);
}

// Python attribute lookup only (methods and object attributes).
bool py_getattr(Interp& in, const Value& obj, std::string_view name, Value* out) {
  switch (obj.type()) {
    case Type::kDict:
      if (is_dict_method(name)) {
        *out = is_dict_mutator(name) ? unsafe_undefined(obj, name) : bound_method(obj, name);
        return true;
      }
      break;
    case Type::kList:
      if (is_sequence_list(obj) && is_list_method(name) &&
          (!is_tuple(obj) || name == "count" || name == "index")) {
        *out = is_list_mutator(name) ? unsafe_undefined(obj, name) : bound_method(obj, name);
        return true;
      }
      break;
    case Type::kString:
      if (is_str_method(name)) {
        *out = bound_method(obj, name);
        return true;
      }
      break;
    case Type::kNamespace:
      if (Value* v = as_ns(obj)->find(name)) {
        *out = *v;
        return true;
      }
      break;
    case Type::kObject:
    case Type::kCallable:
      if (object_attr(in, obj, name, out)) return true;
      break;
    default:
      break;
  }
  if (is_dunder(name) && name.size() > 4 && name.substr(0, 2) == "__") {
    *out = unsafe_undefined(obj, name);
    return true;
  }
  return false;
}

}  // namespace

Value Interp::getattr(const Value& obj, std::string_view name) {
  if (obj.is_undefined()) fail_undefined(obj);
  Value out;
  if (py_getattr(*this, obj, name, &out)) return out;
  if (obj.is_dict()) {
    if (const Value* v = as_dict(obj)->find(name)) return *v;
  }
  return undefined_attr(obj, name);
}

Value Interp::getitem(const Value& obj, const Value& key) {
  if (obj.is_undefined()) fail_undefined(obj);
  switch (obj.type()) {
    case Type::kDict:
      if (hashable(key)) {
        if (const Value* v = as_dict(obj)->find(key)) return *v;
      }
      break;
    case Type::kList:
      if (is_sequence_list(obj) || as_list(obj)->lkind == ListKind::kList) {
        if (key.is_int() || key.is_bool()) {
          const auto& items = as_list(obj)->items;
          int64_t i = as_i(key);
          int64_t n = static_cast<int64_t>(items.size());
          if (i < 0) i += n;
          if (i >= 0 && i < n) return items[static_cast<size_t>(i)];
        }
      }
      break;
    case Type::kString:
      if (key.is_int() || key.is_bool()) {
        std::string_view s = obj.str();
        int64_t i = as_i(key);
        if (is_ascii(s)) {
          int64_t n = static_cast<int64_t>(s.size());
          if (i < 0) i += n;
          if (i >= 0 && i < n) return Value::string(std::string(1, s[static_cast<size_t>(i)]));
        } else {
          auto cps = to_codepoints(s);
          int64_t n = static_cast<int64_t>(cps.size());
          if (i < 0) i += n;
          if (i >= 0 && i < n)
            return Value::string(from_codepoints(&cps[static_cast<size_t>(i)], 1));
        }
      }
      break;
    case Type::kNamespace:
      break;
    default:
      break;
  }
  if (key.is_string()) {
    Value out;
    if (py_getattr(*this, obj, key.str(), &out)) return out;
  }
  return undefined_item(obj, key);
}

namespace {

bool slice_index(const Value& v, int64_t* out) {
  if (v.is_none() || v.is_undefined()) return false;
  if (v.is_int() || v.is_bool()) {
    *out = as_i(v);
    return true;
  }
  fail(ErrorKind::kType, "slice indices must be integers or None or have an __index__ method");
}

}  // namespace

Value Interp::slice(const Value& obj, const SliceExpr& s) {
  if (obj.is_undefined()) fail_undefined(obj);
  int64_t start = 0, stop = 0, step = 1;
  bool has_start = s.start && slice_index(eval(*s.start), &start);
  bool has_stop = s.stop && slice_index(eval(*s.stop), &stop);
  if (s.step) slice_index(eval(*s.step), &step);
  if (step == 0) fail(ErrorKind::kValue, "slice step cannot be zero");
  bool is_str = obj.is_string();
  if (!is_str && !is_sequence_list(obj)) return undefined_hint("object is not subscriptable");
  std::vector<char32_t> cps;
  int64_t len;
  bool ascii = is_str && is_ascii(obj.str());
  if (is_str) {
    if (!ascii) cps = to_codepoints(obj.str());
    len = static_cast<int64_t>(ascii ? obj.str().size() : cps.size());
  } else {
    len = static_cast<int64_t>(as_list(obj)->items.size());
  }
  // CPython PySlice_AdjustIndices.
  if (!has_start) {
    start = step < 0 ? len - 1 : 0;
  } else if (start < 0) {
    start += len;
    if (start < 0) start = step < 0 ? -1 : 0;
  } else if (start >= len) {
    start = step < 0 ? len - 1 : len;
  }
  if (!has_stop) {
    stop = step < 0 ? -1 : len;
  } else if (stop < 0) {
    stop += len;
    if (stop < 0) stop = step < 0 ? -1 : 0;
  } else if (stop >= len) {
    stop = step < 0 ? len - 1 : len;
  }
  std::vector<int64_t> idx;
  if (step > 0) {
    for (int64_t i = start; i < stop; i += step) idx.push_back(i);
  } else {
    for (int64_t i = start; i > stop; i += step) idx.push_back(i);
  }
  count_iterations(idx.size());
  if (is_str) {
    std::string out;
    out.reserve(idx.size());
    for (int64_t i : idx) {
      if (ascii)
        out.push_back(obj.str()[static_cast<size_t>(i)]);
      else
        append_utf8(out, cps[static_cast<size_t>(i)]);
    }
    return Value::string(std::move(out));
  }
  const auto& items = as_list(obj)->items;
  std::vector<Value> out;
  out.reserve(idx.size());
  for (int64_t i : idx) out.push_back(items[static_cast<size_t>(i)]);
  return make_list(std::move(out), as_list(obj)->lkind);
}

Value Interp::call_value(const Value& callee, Args& args) {
  switch (callee.type()) {
    case Type::kUndefined:
      fail_undefined(callee);
    case Type::kCallable:
      switch (kobj(callee)->kind) {
        case ObjKind::kMacro:
          return call_macro(static_cast<MacroObj*>(callee.obj()), args);
        case ObjKind::kBuiltin:
          return call_global(static_cast<BuiltinObj*>(callee.obj())->global, args);
        case ObjKind::kMethod: {
          auto* m = static_cast<MethodObj*>(callee.obj());
          bool found = false;
          Value r = call_method(m->self, m->name, args, &found);
          if (found) return r;
          break;
        }
        case ObjKind::kJoiner: {
          auto* j = static_cast<JoinerObj*>(callee.obj());
          if (!j->used) {
            j->used = true;
            return Value::borrowed("");
          }
          return Value::string(j->sep);
        }
        default:
          break;
      }
      break;
    case Type::kObject:
      if (kobj(callee)->kind == ObjKind::kLoop) {
        auto* loop = static_cast<LoopObj*>(callee.obj());
        if (!loop->node->recursive)
          fail(ErrorKind::kType, "The loop must be marked recursive to call it");
        if (args.pos.size() != 1) fail(ErrorKind::kType, "loop() takes exactly one argument");
        if (++call_depth_ > limits_.max_recursion_depth) {
          --call_depth_;
          fail(ErrorKind::kLimit, "recursive loops nest deeper than max_recursion_depth (" +
                                      std::to_string(limits_.max_recursion_depth) + ")");
        }
        std::string text;
        std::string* saved = out_;
        out_ = &text;
        try {
          exec_for(*loop->node, args.pos[0], loop->depth0 + 1, loop->outer);
        } catch (...) {
          out_ = saved;
          --call_depth_;
          throw;
        }
        out_ = saved;
        --call_depth_;
        return Value::string(std::move(text));
      }
      break;
    default:
      break;
  }
  fail(ErrorKind::kType, "'" + std::string(type_name(callee)) + "' object is not callable");
}

std::vector<const Value*> bind_args(const Args& args, std::string_view fn,
                                    std::initializer_list<std::string_view> names,
                                    size_t skip_positional) {
  std::vector<const Value*> out(names.size(), nullptr);
  size_t np = args.pos.size() > skip_positional ? args.pos.size() - skip_positional : 0;
  if (np > names.size()) {
    fail(ErrorKind::kType, std::string(fn) + "() takes at most " + std::to_string(names.size()) +
                               " arguments (" + std::to_string(np) + " given)");
  }
  for (size_t i = 0; i < np; ++i) out[i] = &args.pos[skip_positional + i];
  for (const auto& [k, v] : args.kw) {
    size_t i = 0;
    for (std::string_view n : names) {
      if (n == k) break;
      ++i;
    }
    if (i == names.size())
      fail(ErrorKind::kType, std::string(fn) + "() got an unexpected keyword argument '" + k + "'");
    if (out[i] != nullptr)
      fail(ErrorKind::kType, std::string(fn) + "() got multiple values for argument '" + k + "'");
    out[i] = &v;
  }
  return out;
}

}  // namespace kiln::jinja
