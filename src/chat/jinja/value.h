// Value: one Jinja/Python value (None, bool, int, float, str, list, tuple,
// dict, callable, namespace, Undefined, ...) in 16 bytes.
//
// Heap values (owned strings, lists, dicts, callables) share an intrusive
// reference count that is NOT atomic: a value graph belongs to one thread at a
// time (one render). Strings can also be *borrowed* (pointer + length, no
// count) when the bytes outlive the render: template literals and the caller's
// context, e.g. the request JSON that chat/ converts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiln::jinja {

enum class Type : uint8_t {
  kUndefined,
  kNone,
  kBool,
  kInt,
  kFloat,
  kString,
  kList,       // list, tuple, dict views, generators (see ListKind)
  kDict,       // insertion-ordered
  kCallable,   // macros, builtins, bound methods, caller, joiner
  kNamespace,  // namespace(): the only mutable object in the sandbox
  kObject,     // loop, cycler, undefined-producing helpers
};

class Value;

// Base of every heap value. Non-atomic count: see the file comment.
class Object {
 public:
  virtual ~Object() = default;
  uint32_t refs_ = 0;
};

class Value {
 public:
  Value() : type_(Type::kUndefined) { u_.obj = nullptr; }
  static Value none() { return Value(Type::kNone); }
  static Value boolean(bool b) {
    Value v(Type::kBool);
    v.u_.b = b;
    return v;
  }
  static Value integer(int64_t i) {
    Value v(Type::kInt);
    v.u_.i = i;
    return v;
  }
  static Value number(double f) {
    Value v(Type::kFloat);
    v.u_.f = f;
    return v;
  }
  // An owned copy of `s`.
  static Value string(std::string s);
  // Borrows `s`: the bytes must outlive every use of the value.
  static Value borrowed(std::string_view s) {
    Value v(Type::kString);
    v.u_.s = s.data();
    v.len_ = static_cast<uint32_t>(s.size());
    return v;
  }
  static Value list(std::vector<Value> items);
  static Value tuple(std::vector<Value> items);
  static Value dict();  // empty dict; fill with dict_set()
  // Wraps a heap object of the given type (takes a reference).
  static Value object(Type type, Object* obj);

  Value(const Value& o) : type_(o.type_), flags_(o.flags_), len_(o.len_), u_(o.u_) { retain(); }
  Value(Value&& o) noexcept : type_(o.type_), flags_(o.flags_), len_(o.len_), u_(o.u_) {
    o.type_ = Type::kNone;
    o.flags_ = 0;
  }
  Value& operator=(const Value& o) {
    if (this != &o) {
      Value tmp(o);
      swap(tmp);
    }
    return *this;
  }
  Value& operator=(Value&& o) noexcept {
    if (this != &o) {
      release();
      type_ = o.type_;
      flags_ = o.flags_;
      len_ = o.len_;
      u_ = o.u_;
      o.type_ = Type::kNone;
      o.flags_ = 0;
    }
    return *this;
  }
  ~Value() { release(); }
  void swap(Value& o) noexcept {
    std::swap(type_, o.type_);
    std::swap(flags_, o.flags_);
    std::swap(len_, o.len_);
    std::swap(u_, o.u_);
  }

  Type type() const { return type_; }
  bool is_undefined() const { return type_ == Type::kUndefined; }
  bool is_none() const { return type_ == Type::kNone; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_int() const { return type_ == Type::kInt; }
  bool is_float() const { return type_ == Type::kFloat; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_list() const { return type_ == Type::kList; }
  bool is_dict() const { return type_ == Type::kDict; }
  // int, float or bool (Python: bool is an int).
  bool is_number() const {
    return type_ == Type::kInt || type_ == Type::kFloat || type_ == Type::kBool;
  }

  bool as_bool() const { return u_.b; }
  int64_t as_int() const { return u_.i; }
  double as_float() const { return u_.f; }
  // int/bool as int64, float as double (callers check is_number first).
  double to_double() const {
    return type_ == Type::kFloat ? u_.f : static_cast<double>(type_ == Type::kBool ? u_.b : u_.i);
  }
  std::string_view str() const;
  Object* obj() const { return heap() ? u_.obj : nullptr; }

  // Flags stored next to the type: a string marked safe (Markup) by |safe.
  static constexpr uint8_t kOwned = 1;
  static constexpr uint8_t kSafe = 2;
  bool is_safe() const { return (flags_ & kSafe) != 0; }
  void set_safe() { flags_ |= kSafe; }

 private:
  explicit Value(Type t) : type_(t) { u_.obj = nullptr; }
  bool heap() const {
    return type_ >= Type::kList || (type_ == Type::kString && (flags_ & kOwned)) ||
           (type_ == Type::kUndefined && u_.obj != nullptr);
  }
  void retain() const {
    if (heap()) ++u_.obj->refs_;
  }
  // GCC 12 reports -Warray-bounds here for inlined scalar constants whose
  // heap() is false (a false positive: the pointer is never dereferenced).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#endif
  void release() {
    if (heap() && --u_.obj->refs_ == 0) delete u_.obj;
  }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

  Type type_;
  uint8_t flags_ = 0;
  uint32_t len_ = 0;
  union {
    bool b;
    int64_t i;
    double f;
    const char* s;
    Object* obj;
  } u_;

  friend class ValueAccess;
};

// Building dicts and lists from outside the engine (chat/ converting JSON).
void dict_set(Value& dict, Value key, Value value);
// Appends a key known to be absent (e.g. from a JSON object): no lookup.
void dict_append_new(Value& dict, Value key, Value value);
void dict_reserve(Value& dict, size_t n);
void list_append(Value& list, Value item);

}  // namespace kiln::jinja
