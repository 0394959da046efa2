// The tree-walking interpreter: one Interp per render, on one thread.
//
// Scoping follows jinja2's compiled code: the template body, each macro call
// and each for-loop *iteration* get a scope (a `set` inside a loop body is
// gone at the next iteration and after the loop); `if` has none. Name lookups
// walk the scope chain; a macro's chain continues at the scope it was defined
// in, so it sees that scope's variables as they are at call time.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/jinja/ast.h"
#include "chat/jinja/internal.h"
#include "chat/jinja/parser.h"

namespace kiln::jinja {

struct Scope : KObject {
  explicit Scope(Ref<Scope> p) : KObject(ObjKind::kScope), parent(std::move(p)) {}
  Ref<Scope> parent;
  std::vector<std::pair<int, Value>> vars;  // few per scope: linear search wins
  Value* find(int sym) {
    for (auto& [s, v] : vars)
      if (s == sym) return &v;
    return nullptr;
  }
  void set(int sym, Value v) {
    if (Value* x = find(sym))
      *x = std::move(v);
    else
      vars.emplace_back(sym, std::move(v));
  }
};

struct MacroObj : KObject {
  MacroObj() : KObject(ObjKind::kMacro) {}
  const MacroStmt* node = nullptr;
  Ref<Scope> closure;
};

struct BuiltinObj : KObject {
  BuiltinObj() : KObject(ObjKind::kBuiltin) {}
  int global = 0;
};

// A bound method value, e.g. `d.items` not immediately called.
struct MethodObj : KObject {
  MethodObj() : KObject(ObjKind::kMethod) {}
  Value self;
  std::string name;
};

struct JoinerObj : KObject {
  JoinerObj() : KObject(ObjKind::kJoiner) {}
  std::string sep;
  bool used = false;
};

struct CyclerObj : KObject {
  CyclerObj() : KObject(ObjKind::kCycler) {}
  std::vector<Value> items;
  size_t pos = 0;
};

struct LoopObj : KObject {
  LoopObj() : KObject(ObjKind::kLoop) {}
  std::vector<Value> items;
  size_t index0 = 0;
  int depth0 = 0;
  bool has_last_changed = false;
  std::vector<Value> last_changed;
  const ForStmt* node = nullptr;  // recursive loops
  Ref<Scope> outer;
};

// Positional and keyword arguments of one call.
struct Args {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;
  const Value* get_kw(std::string_view name) const {
    for (const auto& [k, v] : kw)
      if (k == name) return &v;
    return nullptr;
  }
};

// Binds Python-style parameters: `names` in order; returns nullptr slots for
// parameters not given. Throws TypeError naming `fn` for unknown keywords or
// too many positionals.
std::vector<const Value*> bind_args(const Args& args, std::string_view fn,
                                    std::initializer_list<std::string_view> names,
                                    size_t skip_positional = 0);

enum class GlobalId : int {
  kRange,
  kDict,
  kNamespace,
  kCycler,
  kJoiner,
  kLipsum,
  kRaiseException,
  kStrftimeNow,
};

class Interp {
 public:
  Interp(const ParsedTemplate& tmpl, const Limits& limits, const Context& ctx, std::string* out);
  ~Interp();

  void run();

  // --- used by filters/tests/methods ----------------------------------------
  const Limits& limits() const { return limits_; }
  void count_iterations(uint64_t n);
  void check_string_size(size_t n) const;
  Value call_value(const Value& callee, Args& args);
  Value getattr(const Value& obj, std::string_view name);
  Value getitem(const Value& obj, const Value& key);
  Value call_method(const Value& obj, std::string_view name, Args& args, bool* found);
  Value apply_filter(int id, const Value& v, Args& args);
  bool apply_test(int id, const Value& v, Args& args);
  Value call_global(int id, Args& args);
  // Local time for strftime_now(), and its microseconds.
  std::tm now(int* micros) const;

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  Flow exec(const Body& body);
  Flow exec_stmt(const Stmt& s);
  void exec_for(const ForStmt& f, const Value& iterable, int depth0, const Ref<Scope>& outer);
  void assign(const Target& t, Value v);
  void bind_target(Scope* scope, const Target& t, Value v);
  std::string capture(const Body& body, Ref<Scope> scope);
  Value call_macro(MacroObj* m, Args& args);
  Value make_macro(const MacroStmt* node);
  void append_output(const Value& v);

  Value eval(const Expr& e);
  Value lookup(const NameExpr& n);
  Value eval_call(const CallExpr& c);
  void eval_args(const CallArgs& call, Args& out);
  Value eval_filter(const FilterExpr& f, Value operand);
  Value binary(BinOp op, const Value& a, const Value& b);
  bool compare(CmpOp op, const Value& a, const Value& b);
  Value slice(const Value& obj, const SliceExpr& s);

  const ParsedTemplate& t_;
  const Limits& limits_;
  const Context& ctx_;
  std::string* out_;
  Ref<Scope> scope_;
  uint64_t iterations_ = 0;
  int call_depth_ = 0;
  std::vector<Value> global_cache_;
  // Reference cycles (a macro in the scope it closes over, namespaces holding
  // themselves) are broken when the render ends.
  std::vector<Ref<Scope>> macro_scopes_;
  std::vector<Value> namespaces_;
  friend Value make_namespace(Interp& in, Args& args);
  // Attributes of engine objects (loop, cycler, macro); false when unknown.
  bool object_attr(Interp& in, const Value& obj, std::string_view name, Value* out);
};

Value make_namespace(Interp& in, Args& args);
// Attributes of engine objects (loop, cycler, macro); false when unknown.
bool object_attr(Interp& in, const Value& obj, std::string_view name, Value* out);
bool contains(const Value& container, const Value& item);
Value py_add(Interp& in, const Value& a, const Value& b);

}  // namespace kiln::jinja
