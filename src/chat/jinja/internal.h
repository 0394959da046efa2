// Internals shared by the engine's translation units: heap object types,
// error throwing, Python value semantics. Not part of the public API.
//
// Errors inside the engine are C++ exceptions (JinjaError) caught at the
// Template API boundary: they are rare, and unwinding keeps the hot path free
// of status checks. Nothing throws across the module boundary.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "chat/jinja/jinja.h"
#include "chat/jinja/value.h"

namespace kiln::jinja {

struct JinjaError {
  Error error;
};

[[noreturn]] void fail(ErrorKind kind, std::string message);

// Object kinds (stored in Object::refs_' neighbour, see ObjectKind below).
enum class ObjKind : uint8_t {
  kStr,
  kList,
  kDict,
  kUndef,
  kMacro,
  kBuiltin,
  kMethod,
  kJoiner,
  kNamespace,
  kLoop,
  kCycler,
  kScope,
};

class KObject : public Object {
 public:
  explicit KObject(ObjKind k) : kind(k) {}
  ObjKind kind;
};

struct StrObj : KObject {
  StrObj() : KObject(ObjKind::kStr) {}
  std::string s;
};

enum class ListKind : uint8_t {
  kList,
  kTuple,
  kGenerator,  // select/map/... results: single pass, always truthy, no len()
  kIterator,   // reversed(list)
  kDictKeys,
  kDictValues,
  kDictItems,
};

struct ListObj : KObject {
  ListObj() : KObject(ObjKind::kList) {}
  std::vector<Value> items;
  uint32_t depth = 1;  // nesting of containers inside, bounded while rendering
  ListKind lkind = ListKind::kList;
  size_t pos = 0;  // generators/iterators: items before pos are consumed
};

struct DictObj : KObject {
  DictObj() : KObject(ObjKind::kDict) {}
  std::vector<std::pair<Value, Value>> entries;
  uint32_t depth = 1;
  const Value* find(std::string_view key) const;
  const Value* find(const Value& key) const;  // Python hash-equality of keys
  void set(Value key, Value value);

 private:
  // Built on first lookup once the dict is large; dicts are immutable in the
  // sandbox after construction, so the index never goes stale.
  mutable std::unordered_map<std::string_view, size_t> index_;
  mutable bool indexed_ = false;
};

// Why a value is undefined, for the UndefinedError message.
struct UndefObj : KObject {
  UndefObj() : KObject(ObjKind::kUndef) {}
  enum class Why : uint8_t { kName, kAttr, kItem, kHint } why = Why::kHint;
  bool unsafe = false;          // sandbox refusal: using it raises SecurityError
  std::string name;             // variable/attribute name, or the hint text
  std::string owner;            // kItem: object_type_repr of the owner ("dict object", "None")
  std::string_view owner_type;  // kAttr: type_name of the owner (static), empty for None
  std::string key_repr;         // kItem: repr of the non-string key
};

struct NamespaceObj : KObject {
  NamespaceObj() : KObject(ObjKind::kNamespace) {}
  std::vector<std::pair<std::string, Value>> attrs;
  uint32_t depth = 1;
  Value* find(std::string_view name);
  void set(const std::string& name, Value v);
};

// Intrusive pointer for engine objects that are not Values (scopes).
template <typename T>
class Ref {
 public:
  Ref() = default;
  explicit Ref(T* p) : p_(p) {
    if (p_) ++p_->refs_;
  }
  Ref(const Ref& o) : Ref(o.p_) {}
  Ref(Ref&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
  Ref& operator=(Ref o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~Ref() {
    if (p_ && --p_->refs_ == 0) delete p_;
  }
  T* get() const { return p_; }
  T* operator->() const { return p_; }
  explicit operator bool() const { return p_ != nullptr; }

 private:
  T* p_ = nullptr;
};

// --- access to Value internals -------------------------------------------

inline KObject* kobj(const Value& v) { return static_cast<KObject*>(v.obj()); }
inline ListObj* as_list(const Value& v) { return static_cast<ListObj*>(v.obj()); }
inline DictObj* as_dict(const Value& v) { return static_cast<DictObj*>(v.obj()); }
inline NamespaceObj* as_ns(const Value& v) { return static_cast<NamespaceObj*>(v.obj()); }
inline UndefObj* as_undef(const Value& v) { return static_cast<UndefObj*>(v.obj()); }
inline bool is_tuple(const Value& v) {
  return v.is_list() && as_list(v)->lkind == ListKind::kTuple;
}
// list or tuple (indexable, sized, re-iterable)
inline bool is_sequence_list(const Value& v) {
  return v.is_list() && (as_list(v)->lkind == ListKind::kList || is_tuple(v));
}
// Nesting of a value (0 for scalars). Containers record theirs when built
// so that no render can create values deep enough to overflow the stack
// when they are printed, compared or freed.
uint32_t value_depth(const Value& v);
// Raises the limit error when a container would nest deeper than the limit
// (only while rendering; conversions outside a render are not bounded here).
void check_new_depth(uint32_t depth);
Value make_list(std::vector<Value> items, ListKind kind = ListKind::kList);

Value undefined_name(std::string_view name);
Value undefined_attr(const Value& owner, std::string_view name);
Value undefined_item(const Value& owner, const Value& key);
Value undefined_hint(std::string hint);
Value unsafe_undefined(const Value& owner, std::string_view attr);
// Raises the UndefinedError (or SecurityError) that using `v` means.
[[noreturn]] void fail_undefined(const Value& v);

// --- Python semantics (value.cpp) ------------------------------------------

bool truthy(const Value& v);
// Python type name: "NoneType", "str", "list", "dict", "Undefined", ...
std::string_view type_name(const Value& v);
// jinja2.utils.object_type_repr: "None", "dict object", ...
std::string object_type_repr(const Value& v);
bool py_equal(const Value& a, const Value& b, int depth = 0);
// Python a < b (op names the operator for the TypeError message).
bool py_less(const Value& a, const Value& b, const char* op, int depth = 0);
bool hashable(const Value& v);
// Python str(v) / repr(v) appended to out.
void append_str(std::string& out, const Value& v, int depth = 0);
void append_repr(std::string& out, const Value& v, int depth = 0);
std::string to_str(const Value& v);
std::string to_repr(const Value& v);
void append_str_repr(std::string& out, std::string_view s);  // Python repr of a str
// len() or throws TypeError (generators have no len).
size_t py_len(const Value& v);
// Materialises an iterable (consuming generators); TypeError if not iterable.
// Undefined iterates as empty.
std::vector<Value> iterate(const Value& v);
// Value nesting bound for printing/comparing/serialising (Limits).
extern thread_local int g_max_value_depth;
extern thread_local bool g_in_render;
void check_depth(int depth);

// --- formatting (format.cpp) -----------------------------------------------

void append_float_repr(std::string& out, double f);
struct JsonOptions {
  bool ensure_ascii = false;
  bool sort_keys = false;
  bool has_indent = false;
  std::string indent;           // per level
  std::string item_sep = ", ";  // json.dumps defaults ("," when indenting)
  std::string key_sep = ": ";
};
void append_json(std::string& out, const Value& v, const JsonOptions& opt, int level = 0);
std::string percent_format(std::string_view fmt, const Value& args);
std::string str_format(std::string_view fmt, const std::vector<Value>& args,
                       const std::vector<std::pair<std::string, Value>>& kwargs);
std::string format_spec(const Value& v, std::string_view spec);

// --- unicode (unicode.cpp) -------------------------------------------------

char32_t decode_utf8(std::string_view s, size_t& i);
void append_utf8(std::string& out, char32_t cp);
bool is_ascii(std::string_view s);
size_t count_codepoints(std::string_view s);
std::vector<char32_t> to_codepoints(std::string_view s);
std::string from_codepoints(const char32_t* cps, size_t n);
bool py_isspace(char32_t c);
bool py_isprintable(char32_t c);
bool py_isalpha(char32_t c);
bool py_isdigit(char32_t c);
bool py_isdecimal(char32_t c);
bool py_isnumeric(char32_t c);
bool py_isupper(char32_t c);
bool py_islower(char32_t c);
bool py_iscased(char32_t c);
std::string py_upper(std::string_view s);
std::string py_lower(std::string_view s);
std::string py_title(std::string_view s);
std::string py_capitalize(std::string_view s);
std::string py_swapcase(std::string_view s);
std::string_view py_strip(std::string_view s, bool left, bool right);
std::string_view py_strip_chars(std::string_view s, std::string_view chars, bool left, bool right);

}  // namespace kiln::jinja
