// Value construction and Python value semantics: truthiness, equality,
// ordering, str()/repr(), len(), iteration, Undefined.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "chat/jinja/internal.h"

namespace kiln::jinja {

thread_local int g_max_value_depth = 200;
thread_local bool g_in_render = false;

void fail(ErrorKind kind, std::string message) {
  throw JinjaError{Error{kind, std::move(message), 0}};
}

void check_depth(int depth) {
  if (depth > g_max_value_depth)
    fail(ErrorKind::kLimit,
         "value nesting exceeds max_recursion_depth (" + std::to_string(g_max_value_depth) + ")");
}

// --- Value -----------------------------------------------------------------

Value Value::string(std::string s) {
  auto* o = new StrObj();
  o->s = std::move(s);
  Value v(Type::kString);
  v.flags_ = kOwned;
  v.u_.obj = o;
  ++o->refs_;
  return v;
}

Value Value::object(Type type, Object* obj) {
  Value v(type);
  v.u_.obj = obj;
  ++obj->refs_;
  return v;
}

Value Value::list(std::vector<Value> items) { return make_list(std::move(items)); }
Value Value::tuple(std::vector<Value> items) {
  return make_list(std::move(items), ListKind::kTuple);
}
Value Value::dict() { return Value::object(Type::kDict, new DictObj()); }

std::string_view Value::str() const {
  if (flags_ & kOwned) return static_cast<StrObj*>(u_.obj)->s;
  return std::string_view(u_.s, len_);
}

uint32_t value_depth(const Value& v) {
  switch (v.type()) {
    case Type::kList:
      return as_list(v)->depth;
    case Type::kDict:
      return as_dict(v)->depth;
    case Type::kNamespace:
      return as_ns(v)->depth;
    default:
      return 0;
  }
}

void check_new_depth(uint32_t depth) {
  if (g_in_render && depth > static_cast<uint32_t>(g_max_value_depth))
    fail(ErrorKind::kLimit,
         "value nesting exceeds max_recursion_depth (" + std::to_string(g_max_value_depth) + ")");
}

Value make_list(std::vector<Value> items, ListKind kind) {
  uint32_t d = 0;
  for (const Value& x : items) d = std::max(d, value_depth(x));
  check_new_depth(d + 1);
  auto* l = new ListObj();
  l->items = std::move(items);
  l->lkind = kind;
  l->depth = d + 1;
  return Value::object(Type::kList, l);
}

void dict_set(Value& dict, Value key, Value value) {
  as_dict(dict)->set(std::move(key), std::move(value));
}

void dict_append_new(Value& dict, Value key, Value value) {
  DictObj* d = as_dict(dict);
  d->depth = std::max(d->depth, 1 + std::max(value_depth(key), value_depth(value)));
  d->entries.emplace_back(std::move(key), std::move(value));
}

void dict_reserve(Value& dict, size_t n) { as_dict(dict)->entries.reserve(n); }

void list_append(Value& list, Value item) { as_list(list)->items.push_back(std::move(item)); }

// --- containers ----------------------------------------------------------------

namespace {
constexpr size_t kIndexFrom = 12;  // linear scans beat hashing below this
}

const Value* DictObj::find(std::string_view key) const {
  if (entries.size() >= kIndexFrom) {
    if (!indexed_) {
      index_.clear();
      for (size_t i = 0; i < entries.size(); ++i)
        if (entries[i].first.is_string()) index_.emplace(entries[i].first.str(), i);
      indexed_ = true;
    }
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &entries[it->second].second;
  }
  for (const auto& [k, v] : entries)
    if (k.is_string() && k.str() == key) return &v;
  return nullptr;
}

const Value* DictObj::find(const Value& key) const {
  if (key.is_string()) return find(key.str());
  for (const auto& [k, v] : entries)
    if (!k.is_string() && py_equal(k, key)) return &v;
  return nullptr;
}

void DictObj::set(Value key, Value value) {
  uint32_t d = 1 + std::max(value_depth(key), value_depth(value));
  check_new_depth(d);
  depth = std::max(depth, d);
  for (auto& [k, v] : entries) {
    if (k.is_string() == key.is_string() && py_equal(k, key)) {
      v = std::move(value);
      return;
    }
  }
  entries.emplace_back(std::move(key), std::move(value));
  indexed_ = false;
}

void NamespaceObj::set(const std::string& name, Value v) {
  uint32_t d = 1 + value_depth(v);
  check_new_depth(d);
  depth = std::max(depth, d);
  if (Value* x = find(name))
    *x = std::move(v);
  else
    attrs.emplace_back(name, std::move(v));
}

Value* NamespaceObj::find(std::string_view name) {
  for (auto& [k, v] : attrs)
    if (k == name) return &v;
  return nullptr;
}

// --- Undefined -------------------------------------------------------------------

namespace {
Value make_undef(UndefObj* u) { return Value::object(Type::kUndefined, u); }
}  // namespace

Value undefined_name(std::string_view name) {
  auto* u = new UndefObj();
  u->why = UndefObj::Why::kName;
  u->name = name;
  return make_undef(u);
}

Value undefined_attr(const Value& owner, std::string_view name) {
  auto* u = new UndefObj();
  u->why = UndefObj::Why::kAttr;
  u->name = name;
  u->owner_type = owner.is_none() ? std::string_view() : type_name(owner);
  return make_undef(u);
}

Value undefined_item(const Value& owner, const Value& key) {
  if (key.is_string()) return undefined_attr(owner, key.str());
  auto* u = new UndefObj();
  u->why = UndefObj::Why::kItem;
  u->owner = object_type_repr(owner);
  u->key_repr = to_repr(key);
  return make_undef(u);
}

Value undefined_hint(std::string hint) {
  auto* u = new UndefObj();
  u->why = UndefObj::Why::kHint;
  u->name = std::move(hint);
  return make_undef(u);
}

Value unsafe_undefined(const Value& owner, std::string_view attr) {
  auto* u = new UndefObj();
  u->why = UndefObj::Why::kHint;
  u->unsafe = true;
  std::string msg = "access to attribute ";
  append_str_repr(msg, attr);
  msg += " of ";
  append_str_repr(msg, type_name(owner));
  msg += " object is unsafe.";
  u->name = std::move(msg);
  return make_undef(u);
}

void fail_undefined(const Value& v) {
  const UndefObj* u = v.is_undefined() ? as_undef(v) : nullptr;
  if (u == nullptr) fail(ErrorKind::kUndefined, "'undefined' is undefined");
  std::string msg;
  switch (u->why) {
    case UndefObj::Why::kName:
      append_str_repr(msg, u->name);
      msg += " is undefined";
      break;
    case UndefObj::Why::kAttr:
      append_str_repr(msg, u->owner_type.empty() ? std::string("None")
                                                 : std::string(u->owner_type) + " object");
      msg += " has no attribute ";
      append_str_repr(msg, u->name);
      break;
    case UndefObj::Why::kItem:
      msg = u->owner + " has no element " + u->key_repr;
      break;
    case UndefObj::Why::kHint:
      msg = u->name;
      break;
  }
  fail(u->unsafe ? ErrorKind::kSecurity : ErrorKind::kUndefined, std::move(msg));
}

// --- semantics -----------------------------------------------------------------

bool truthy(const Value& v) {
  switch (v.type()) {
    case Type::kUndefined:
    case Type::kNone:
      return false;
    case Type::kBool:
      return v.as_bool();
    case Type::kInt:
      return v.as_int() != 0;
    case Type::kFloat:
      return v.as_float() != 0.0;
    case Type::kString:
      return !v.str().empty();
    case Type::kList: {
      const ListObj* l = as_list(v);
      if (l->lkind == ListKind::kGenerator || l->lkind == ListKind::kIterator) return true;
      return !l->items.empty();
    }
    case Type::kDict:
      return !as_dict(v)->entries.empty();
    default:
      return true;
  }
}

std::string_view type_name(const Value& v) {
  switch (v.type()) {
    case Type::kUndefined:
      return "Undefined";
    case Type::kNone:
      return "NoneType";
    case Type::kBool:
      return "bool";
    case Type::kInt:
      return "int";
    case Type::kFloat:
      return "float";
    case Type::kString:
      return "str";
    case Type::kList:
      switch (as_list(v)->lkind) {
        case ListKind::kList:
          return "list";
        case ListKind::kTuple:
          return "tuple";
        case ListKind::kGenerator:
          return "generator";
        case ListKind::kIterator:
          return "list_reverseiterator";
        case ListKind::kDictKeys:
          return "dict_keys";
        case ListKind::kDictValues:
          return "dict_values";
        case ListKind::kDictItems:
          return "dict_items";
      }
      return "list";
    case Type::kDict:
      return "dict";
    case Type::kNamespace:
      return "Namespace";
    case Type::kCallable:
      switch (kobj(v)->kind) {
        case ObjKind::kMacro:
          return "Macro";
        case ObjKind::kMethod:
          return "builtin_function_or_method";
        case ObjKind::kJoiner:
          return "Joiner";
        default:
          return "function";
      }
    case Type::kObject:
      return kobj(v)->kind == ObjKind::kLoop ? "LoopContext" : "Cycler";
  }
  return "object";
}

std::string object_type_repr(const Value& v) {
  if (v.is_none()) return "None";
  return std::string(type_name(v)) + " object";
}

namespace {

bool num_equal(const Value& a, const Value& b) {
  if (!a.is_float() && !b.is_float()) {
    int64_t x = a.is_bool() ? a.as_bool() : a.as_int();
    int64_t y = b.is_bool() ? b.as_bool() : b.as_int();
    return x == y;
  }
  return a.to_double() == b.to_double();
}

}  // namespace

bool py_equal(const Value& a, const Value& b, int depth) {
  if (a.is_number() && b.is_number()) return num_equal(a, b);
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Type::kUndefined:
    case Type::kNone:
      return true;
    case Type::kString:
      return a.str() == b.str();
    case Type::kList: {
      const ListObj* x = as_list(a);
      const ListObj* y = as_list(b);
      if (x == y) return true;
      bool xs = x->lkind == ListKind::kList || x->lkind == ListKind::kTuple;
      if (!xs || x->lkind != y->lkind) return false;
      if (x->items.size() != y->items.size()) return false;
      check_depth(depth + 1);
      for (size_t i = 0; i < x->items.size(); ++i)
        if (!py_equal(x->items[i], y->items[i], depth + 1)) return false;
      return true;
    }
    case Type::kDict: {
      const DictObj* x = as_dict(a);
      const DictObj* y = as_dict(b);
      if (x == y) return true;
      if (x->entries.size() != y->entries.size()) return false;
      check_depth(depth + 1);
      for (const auto& [k, v] : x->entries) {
        const Value* w = y->find(k);
        if (w == nullptr || !py_equal(v, *w, depth + 1)) return false;
      }
      return true;
    }
    default:
      return a.obj() == b.obj();
  }
}

bool py_less(const Value& a, const Value& b, const char* op, int depth) {
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  if (a.is_number() && b.is_number()) {
    if (!a.is_float() && !b.is_float()) {
      int64_t x = a.is_bool() ? a.as_bool() : a.as_int();
      int64_t y = b.is_bool() ? b.as_bool() : b.as_int();
      return x < y;
    }
    return a.to_double() < b.to_double();
  }
  if (a.is_string() && b.is_string()) return a.str() < b.str();
  if (a.is_list() && b.is_list() && as_list(a)->lkind == as_list(b)->lkind && is_sequence_list(a)) {
    const auto& x = as_list(a)->items;
    const auto& y = as_list(b)->items;
    check_depth(depth + 1);
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (!py_equal(x[i], y[i], depth + 1)) return py_less(x[i], y[i], op, depth + 1);
    }
    return x.size() < y.size();
  }
  fail(ErrorKind::kType, std::string("'") + op + "' not supported between instances of '" +
                             std::string(type_name(a)) + "' and '" + std::string(type_name(b)) +
                             "'");
}

bool hashable(const Value& v) {
  switch (v.type()) {
    case Type::kList:
      if (!is_tuple(v)) return false;
      for (const Value& x : as_list(v)->items)
        if (!hashable(x)) return false;
      return true;
    case Type::kDict:
    case Type::kNamespace:
      return false;
    default:
      return true;
  }
}

void append_str_repr(std::string& out, std::string_view s) {
  bool has_single = s.find('\'') != std::string_view::npos;
  bool has_double = s.find('"') != std::string_view::npos;
  char quote = (has_single && !has_double) ? '"' : '\'';
  out.push_back(quote);
  static const char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < s.size();) {
    char32_t c = decode_utf8(s, i);
    if (c == static_cast<char32_t>(quote) || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else if (c < 0x7F || py_isprintable(c)) {
      append_utf8(out, c);
    } else {
      int digits = c <= 0xFF ? 2 : c <= 0xFFFF ? 4 : 8;
      out += digits == 2 ? "\\x" : digits == 4 ? "\\u" : "\\U";
      for (int k = digits - 1; k >= 0; --k) out.push_back(kHex[(c >> (4 * k)) & 15]);
    }
  }
  out.push_back(quote);
}

namespace {

void append_items(std::string& out, const std::vector<Value>& items, int depth) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    append_repr(out, items[i], depth + 1);
  }
}

void append_object(std::string& out, const Value& v, int depth) {
  switch (v.type()) {
    case Type::kUndefined:
      break;  // str(Undefined) is ''
    case Type::kNone:
      out += "None";
      break;
    case Type::kBool:
      out += v.as_bool() ? "True" : "False";
      break;
    case Type::kInt:
      out += std::to_string(v.as_int());
      break;
    case Type::kFloat:
      append_float_repr(out, v.as_float());
      break;
    case Type::kString:
      out += v.str();
      break;
    case Type::kList: {
      check_depth(depth + 1);
      const ListObj* l = as_list(v);
      switch (l->lkind) {
        case ListKind::kList:
          out += '[';
          append_items(out, l->items, depth);
          out += ']';
          break;
        case ListKind::kTuple:
          out += '(';
          append_items(out, l->items, depth);
          if (l->items.size() == 1) out += ',';
          out += ')';
          break;
        case ListKind::kGenerator:
          out += "<generator object at 0x7f0000000000>";
          break;
        case ListKind::kIterator:
          out += "<list_reverseiterator object at 0x7f0000000000>";
          break;
        default:
          out += type_name(v);
          out += "([";
          append_items(out, l->items, depth);
          out += "])";
          break;
      }
      break;
    }
    case Type::kDict: {
      check_depth(depth + 1);
      out += '{';
      bool first = true;
      for (const auto& [k, x] : as_dict(v)->entries) {
        if (!first) out += ", ";
        first = false;
        append_repr(out, k, depth + 1);
        out += ": ";
        append_repr(out, x, depth + 1);
      }
      out += '}';
      break;
    }
    case Type::kNamespace: {
      check_depth(depth + 1);
      out += "<Namespace {";
      bool first = true;
      for (const auto& [k, x] : as_ns(v)->attrs) {
        if (!first) out += ", ";
        first = false;
        append_str_repr(out, k);
        out += ": ";
        append_repr(out, x, depth + 1);
      }
      out += "}>";
      break;
    }
    default:
      out += '<';
      out += type_name(v);
      out += " object>";
      break;
  }
}

}  // namespace

void append_str(std::string& out, const Value& v, int depth) {
  if (v.is_string()) {
    out += v.str();
    return;
  }
  append_object(out, v, depth);
}

void append_repr(std::string& out, const Value& v, int depth) {
  if (v.is_string()) {
    append_str_repr(out, v.str());
  } else if (v.is_undefined()) {
    out += "Undefined";
  } else {
    append_object(out, v, depth);
  }
}

std::string to_str(const Value& v) {
  if (v.is_string()) return std::string(v.str());
  std::string s;
  append_str(s, v);
  return s;
}

std::string to_repr(const Value& v) {
  std::string s;
  append_repr(s, v);
  return s;
}

size_t py_len(const Value& v) {
  switch (v.type()) {
    case Type::kUndefined:
      return 0;
    case Type::kString:
      return count_codepoints(v.str());
    case Type::kList: {
      const ListObj* l = as_list(v);
      if (l->lkind == ListKind::kGenerator || l->lkind == ListKind::kIterator) break;
      return l->items.size();
    }
    case Type::kDict:
      return as_dict(v)->entries.size();
    default:
      break;
  }
  fail(ErrorKind::kType, "object of type '" + std::string(type_name(v)) + "' has no len()");
}

std::vector<Value> iterate(const Value& v) {
  switch (v.type()) {
    case Type::kUndefined:
      return {};
    case Type::kString: {
      std::string_view s = v.str();
      std::vector<Value> out;
      out.reserve(s.size());
      for (size_t i = 0; i < s.size();) {
        size_t b = i;
        decode_utf8(s, i);
        out.push_back(Value::string(std::string(s.substr(b, i - b))));
      }
      return out;
    }
    case Type::kList: {
      ListObj* l = as_list(v);
      if (l->lkind == ListKind::kGenerator || l->lkind == ListKind::kIterator) {
        std::vector<Value> out(l->items.begin() + static_cast<std::ptrdiff_t>(l->pos),
                               l->items.end());
        l->pos = l->items.size();
        return out;
      }
      return l->items;
    }
    case Type::kDict: {
      std::vector<Value> out;
      out.reserve(as_dict(v)->entries.size());
      for (const auto& [k, x] : as_dict(v)->entries) out.push_back(k);
      return out;
    }
    default:
      break;
  }
  fail(ErrorKind::kType, "'" + std::string(type_name(v)) + "' object is not iterable");
}

}  // namespace kiln::jinja
