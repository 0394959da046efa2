// Statements and expressions of the interpreter (see interp.h for scoping).
#include "chat/jinja/interp.h"

#include <chrono>
#include <ctime>

namespace kiln::jinja {

namespace {

// Swaps a value into a slot for the lifetime of the guard (exception safe).
template <typename T>
class Swap {
 public:
  Swap(T& slot, T value) : slot_(slot), saved_(std::move(slot)) { slot_ = std::move(value); }
  ~Swap() { slot_ = std::move(saved_); }

 private:
  T& slot_;
  T saved_;
};

}  // namespace

Interp::Interp(const ParsedTemplate& tmpl, const Limits& limits, const Context& ctx,
               std::string* out)
    : t_(tmpl), limits_(limits), ctx_(ctx), out_(out), scope_(new Scope(Ref<Scope>())) {
  g_max_value_depth = limits.max_recursion_depth;
  g_in_render = true;
  global_cache_.resize(8);
  for (const auto& [name, value] : ctx.vars()) {
    auto it = t_.symbol_ids.find(name);
    if (it != t_.symbol_ids.end()) scope_->set(it->second, value);
  }
}

Interp::~Interp() {
  g_in_render = false;
  for (auto& s : macro_scopes_) s->vars.clear();
  for (auto& n : namespaces_) as_ns(n)->attrs.clear();
}

void Interp::run() { exec(t_.body); }

void Interp::count_iterations(uint64_t n) {
  iterations_ += n;
  if (iterations_ > limits_.max_loop_iterations)
    fail(ErrorKind::kLimit, "loop iterations exceed max_loop_iterations (" +
                                std::to_string(limits_.max_loop_iterations) + ")");
}

void Interp::check_string_size(size_t n) const {
  if (n > limits_.max_output_bytes)
    fail(ErrorKind::kLimit,
         "output exceeds max_output_bytes (" + std::to_string(limits_.max_output_bytes) + ")");
}

std::tm Interp::now(int* micros) const {
  if (ctx_.now()) {
    std::tm t = *ctx_.now();
    t.tm_isdst = -1;
    std::tm copy = t;
    if (timegm(&copy) != -1) {  // normalises and fills tm_wday / tm_yday
      t.tm_wday = copy.tm_wday;
      t.tm_yday = copy.tm_yday;
    }
    *micros = 0;
    return t;
  }
  auto now = std::chrono::system_clock::now();
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  std::tm t{};
  localtime_r(&secs, &t);
  *micros = static_cast<int>(
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
      1000000);
  return t;
}

// --- statements -----------------------------------------------------------------

Interp::Flow Interp::exec(const Body& body) {
  for (const auto& s : body) {
    Flow f = exec_stmt(*s);
    if (f != Flow::kNormal) return f;
  }
  return Flow::kNormal;
}

void Interp::append_output(const Value& v) {
  append_str(*out_, v);
  check_string_size(out_->size());
}

std::string Interp::capture(const Body& body, Ref<Scope> scope) {
  std::string text;
  {
    Swap<std::string*> out(out_, &text);
    Swap<Ref<Scope>> sc(scope_, std::move(scope));
    exec(body);
  }
  return text;
}

Value Interp::make_macro(const MacroStmt* node) {
  auto* m = new MacroObj();
  m->node = node;
  m->closure = scope_;
  macro_scopes_.push_back(scope_);
  return Value::object(Type::kCallable, m);
}

Interp::Flow Interp::exec_stmt(const Stmt& s) {
  switch (s.kind) {
    case StmtKind::kText:
      out_->append(static_cast<const TextStmt&>(s).text);
      check_string_size(out_->size());
      return Flow::kNormal;
    case StmtKind::kPrint:
      append_output(eval(*static_cast<const PrintStmt&>(s).expr));
      return Flow::kNormal;
    case StmtKind::kIf: {
      const auto& n = static_cast<const IfStmt&>(s);
      for (const auto& [test, body] : n.branches)
        if (truthy(eval(*test))) return exec(body);
      return exec(n.otherwise);
    }
    case StmtKind::kFor: {
      const auto& n = static_cast<const ForStmt&>(s);
      Value it = eval(*n.iter);
      Ref<Scope> outer = scope_;
      exec_for(n, it, 0, outer);
      return Flow::kNormal;
    }
    case StmtKind::kSet: {
      const auto& n = static_cast<const SetStmt&>(s);
      assign(n.target, eval(*n.value));
      return Flow::kNormal;
    }
    case StmtKind::kSetBlock: {
      const auto& n = static_cast<const SetBlockStmt&>(s);
      Value v = Value::string(capture(n.body, Ref<Scope>(new Scope(scope_))));
      if (n.filter) v = eval_filter(static_cast<const FilterExpr&>(*n.filter), std::move(v));
      assign(n.target, std::move(v));
      return Flow::kNormal;
    }
    case StmtKind::kMacro: {
      const auto& n = static_cast<const MacroStmt&>(s);
      scope_->set(n.sym, make_macro(&n));
      return Flow::kNormal;
    }
    case StmtKind::kCallBlock: {
      const auto& n = static_cast<const CallBlockStmt&>(s);
      const auto& call = static_cast<const CallExpr&>(*n.call);
      Value caller = make_macro(n.caller.get());
      Value fn = eval(*call.callee);
      Args args;
      eval_args(call.call, args);
      args.kw.emplace_back("caller", std::move(caller));
      append_output(call_value(fn, args));
      return Flow::kNormal;
    }
    case StmtKind::kFilterBlock: {
      const auto& n = static_cast<const FilterBlockStmt&>(s);
      Value v = Value::string(capture(n.body, Ref<Scope>(new Scope(scope_))));
      append_output(eval_filter(static_cast<const FilterExpr&>(*n.filter), std::move(v)));
      return Flow::kNormal;
    }
    case StmtKind::kWith: {
      const auto& n = static_cast<const WithStmt&>(s);
      Ref<Scope> inner(new Scope(scope_));
      for (const auto& [target, expr] : n.assigns) bind_target(inner.get(), target, eval(*expr));
      Swap<Ref<Scope>> sc(scope_, std::move(inner));
      return exec(n.body);
    }
    case StmtKind::kScope: {
      Swap<Ref<Scope>> sc(scope_, Ref<Scope>(new Scope(scope_)));
      exec(static_cast<const ScopeStmt&>(s).body);
      return Flow::kNormal;
    }
    case StmtKind::kBreak:
      return Flow::kBreak;
    case StmtKind::kContinue:
      return Flow::kContinue;
  }
  return Flow::kNormal;
}

void Interp::exec_for(const ForStmt& f, const Value& iterable, int depth0,
                      const Ref<Scope>& outer) {
  std::vector<Value> items = iterate(iterable);
  count_iterations(items.size());
  if (f.filter) {
    std::vector<Value> kept;
    Ref<Scope> test_scope(new Scope(outer));
    Swap<Ref<Scope>> sc(scope_, test_scope);
    for (Value& item : items) {
      test_scope->vars.clear();
      bind_target(test_scope.get(), f.target, item);
      if (truthy(eval(*f.filter))) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  if (items.empty()) {
    exec(f.otherwise);
    return;
  }
  Value loopv;
  LoopObj* loop = nullptr;
  if (f.uses_loop && t_.sym_loop >= 0) {
    loop = new LoopObj();
    loopv = Value::object(Type::kObject, loop);
    loop->items = std::move(items);
    loop->depth0 = depth0;
    loop->node = &f;
    loop->outer = outer;
  }
  const std::vector<Value>& seq = loop ? loop->items : items;
  Ref<Scope> iter_scope;
  for (size_t i = 0; i < seq.size(); ++i) {
    if (!iter_scope || iter_scope->refs_ > 1)
      iter_scope = Ref<Scope>(new Scope(outer));
    else
      iter_scope->vars.clear();
    if (loop) {
      loop->index0 = i;
      iter_scope->set(t_.sym_loop, loopv);
    }
    bind_target(iter_scope.get(), f.target, seq[i]);
    Flow fl;
    {
      Swap<Ref<Scope>> sc(scope_, iter_scope);
      fl = exec(f.body);
    }
    if (fl == Flow::kBreak) break;
  }
}

void Interp::bind_target(Scope* scope, const Target& t, Value v) {
  switch (t.kind) {
    case Target::Kind::kName:
      scope->set(t.sym, std::move(v));
      return;
    case Target::Kind::kTuple: {
      if (!v.is_list() && !v.is_string() && !v.is_dict() && !v.is_undefined())
        fail(ErrorKind::kType,
             "cannot unpack non-iterable " + std::string(type_name(v)) + " object");
      std::vector<Value> items = iterate(v);
      if (items.size() < t.items.size())
        fail(ErrorKind::kValue, "not enough values to unpack (expected " +
                                    std::to_string(t.items.size()) + ", got " +
                                    std::to_string(items.size()) + ")");
      if (items.size() > t.items.size())
        fail(ErrorKind::kValue,
             "too many values to unpack (expected " + std::to_string(t.items.size()) + ")");
      for (size_t i = 0; i < items.size(); ++i) bind_target(scope, t.items[i], std::move(items[i]));
      return;
    }
    case Target::Kind::kNsAttr: {
      Value ns;
      for (Scope* s = scope_.get(); s; s = s->parent.get()) {
        if (Value* x = s->find(t.sym)) {
          ns = *x;
          break;
        }
      }
      if (ns.type() != Type::kNamespace)
        fail(ErrorKind::kRuntime, "cannot assign attribute on non-namespace object");
      as_ns(ns)->set(t.attr, std::move(v));
      return;
    }
  }
}

void Interp::assign(const Target& t, Value v) { bind_target(scope_.get(), t, std::move(v)); }

// --- macros -------------------------------------------------------------------------

Value Interp::call_macro(MacroObj* m, Args& args) {
  const MacroStmt& node = *m->node;
  if (++call_depth_ > limits_.max_recursion_depth) {
    --call_depth_;
    fail(ErrorKind::kLimit, "macro calls nest deeper than max_recursion_depth (" +
                                std::to_string(limits_.max_recursion_depth) + ")");
  }
  struct DepthRestore {
    int& d;
    ~DepthRestore() { --d; }
  } restore{call_depth_};

  Ref<Scope> scope(new Scope(m->closure));
  const size_t nparams = node.params.size();
  std::vector<bool> given(nparams, false);
  if (args.pos.size() > nparams && !node.uses_varargs) {
    fail(ErrorKind::kType, "macro '" + node.name + "' takes not more than " +
                               std::to_string(nparams) + " argument(s)");
  }
  for (size_t i = 0; i < args.pos.size() && i < nparams; ++i) {
    scope->set(node.params[i].sym, args.pos[i]);
    given[i] = true;
  }
  Value kwargs = Value::dict();
  Value caller;
  bool has_caller = false;
  for (auto& [name, v] : args.kw) {
    bool matched = false;
    for (size_t i = 0; i < nparams; ++i) {
      if (node.params[i].name == name) {
        if (given[i])
          fail(ErrorKind::kType,
               "macro '" + node.name + "' got multiple values for argument '" + name + "'");
        scope->set(node.params[i].sym, v);
        given[i] = true;
        matched = true;
        break;
      }
    }
    if (matched) continue;
    if (name == "caller" && node.uses_caller) {
      caller = v;
      has_caller = true;
    } else if (node.uses_kwargs) {
      dict_set(kwargs, Value::string(name), v);
    } else {
      fail(ErrorKind::kType, "macro '" + node.name + "' takes no keyword argument '" + name + "'");
    }
  }
  {
    Swap<Ref<Scope>> sc(scope_, scope);
    for (size_t i = 0; i < nparams; ++i) {
      if (given[i]) continue;
      const Param& p = node.params[i];
      scope->set(p.sym, p.default_value
                            ? eval(*p.default_value)
                            : undefined_hint("parameter '" + p.name + "' was not provided"));
    }
  }
  auto set_special = [&](const char* name, Value v) {
    auto it = t_.symbol_ids.find(name);
    if (it != t_.symbol_ids.end()) scope->set(it->second, std::move(v));
  };
  if (node.uses_varargs) {
    std::vector<Value> extra;
    for (size_t i = nparams; i < args.pos.size(); ++i) extra.push_back(args.pos[i]);
    set_special("varargs", Value::tuple(std::move(extra)));
  }
  if (node.uses_kwargs) set_special("kwargs", kwargs);
  if (node.uses_caller)
    set_special("caller", has_caller ? caller : undefined_hint("No caller defined"));
  return Value::string(capture(node.body, std::move(scope)));
}

// --- expressions ------------------------------------------------------------------

Value Interp::lookup(const NameExpr& n) {
  for (Scope* s = scope_.get(); s; s = s->parent.get())
    if (Value* v = s->find(n.sym)) return *v;
  int g = t_.symbol_global[static_cast<size_t>(n.sym)];
  if (g >= 0) {
    Value& cached = global_cache_[static_cast<size_t>(g)];
    if (cached.is_undefined()) {
      auto* b = new BuiltinObj();
      b->global = g;
      cached = Value::object(Type::kCallable, b);
    }
    return cached;
  }
  return undefined_name(n.name);
}

void Interp::eval_args(const CallArgs& call, Args& out) {
  out.pos.reserve(call.args.size());
  for (const auto& a : call.args) out.pos.push_back(eval(*a));
  if (call.dyn_args) {
    Value d = eval(*call.dyn_args);
    for (Value& v : iterate(d)) out.pos.push_back(std::move(v));
  }
  for (const auto& [k, e] : call.kwargs) out.kw.emplace_back(k, eval(*e));
  if (call.dyn_kwargs) {
    Value d = eval(*call.dyn_kwargs);
    if (!d.is_dict())
      fail(ErrorKind::kType,
           "argument after ** must be a mapping, not " + std::string(type_name(d)));
    for (const auto& [k, v] : as_dict(d)->entries) {
      if (!k.is_string()) fail(ErrorKind::kType, "keywords must be strings");
      out.kw.emplace_back(std::string(k.str()), v);
    }
  }
}

Value Interp::eval_call(const CallExpr& c) {
  Args args;
  switch (c.callee->kind) {
    case ExprKind::kGetAttr: {
      const auto& ga = static_cast<const GetAttrExpr&>(*c.callee);
      Value obj = eval(*ga.obj);
      if (obj.is_undefined()) fail_undefined(obj);
      eval_args(c.call, args);
      bool found = false;
      Value r = call_method(obj, ga.attr, args, &found);
      if (found) return r;
      return call_value(getattr(obj, ga.attr), args);
    }
    case ExprKind::kName: {
      const auto& n = static_cast<const NameExpr&>(*c.callee);
      for (Scope* s = scope_.get(); s; s = s->parent.get()) {
        if (Value* v = s->find(n.sym)) {
          Value fn = *v;
          eval_args(c.call, args);
          return call_value(fn, args);
        }
      }
      int g = t_.symbol_global[static_cast<size_t>(n.sym)];
      if (g < 0) fail_undefined(undefined_name(n.name));
      eval_args(c.call, args);
      return call_global(g, args);
    }
    default: {
      Value fn = eval(*c.callee);
      eval_args(c.call, args);
      return call_value(fn, args);
    }
  }
}

// Filter chains of {% filter %} and set blocks: the innermost filter has no
// operand and receives the block's text.
Value Interp::eval_filter(const FilterExpr& f, Value block_text) {
  Value input;
  if (f.operand == nullptr)
    input = std::move(block_text);
  else if (f.operand->kind == ExprKind::kFilter)
    input = eval_filter(static_cast<const FilterExpr&>(*f.operand), std::move(block_text));
  else
    input = eval(*f.operand);
  Args args;
  eval_args(f.call, args);
  return apply_filter(f.id, input, args);
}

Value Interp::eval(const Expr& e) {
  switch (e.kind) {
    case ExprKind::kConst:
      return static_cast<const ConstExpr&>(e).value;
    case ExprKind::kName:
      return lookup(static_cast<const NameExpr&>(e));
    case ExprKind::kGetAttr: {
      const auto& g = static_cast<const GetAttrExpr&>(e);
      return getattr(eval(*g.obj), g.attr);
    }
    case ExprKind::kGetItem: {
      const auto& g = static_cast<const GetItemExpr&>(e);
      Value obj = eval(*g.obj);
      if (g.key->kind == ExprKind::kSlice) return slice(obj, static_cast<const SliceExpr&>(*g.key));
      return getitem(obj, eval(*g.key));
    }
    case ExprKind::kSlice:
      fail(ErrorKind::kSyntax, "slice outside a subscript");
    case ExprKind::kNeg:
    case ExprKind::kPos: {
      Value v = eval(*static_cast<const UnaryExpr&>(e).operand);
      if (v.is_undefined()) fail_undefined(v);
      bool neg = e.kind == ExprKind::kNeg;
      if (v.is_float()) return Value::number(neg ? -v.as_float() : v.as_float());
      if (v.is_int() || v.is_bool()) {
        int64_t i = v.is_bool() ? v.as_bool() : v.as_int();
        if (neg && i == INT64_MIN) fail(ErrorKind::kOverflow, "integer overflow");
        return Value::integer(neg ? -i : i);
      }
      fail(ErrorKind::kType, std::string("bad operand type for unary ") + (neg ? "-" : "+") +
                                 ": '" + std::string(type_name(v)) + "'");
    }
    case ExprKind::kNot:
      return Value::boolean(!truthy(eval(*static_cast<const UnaryExpr&>(e).operand)));
    case ExprKind::kBinary: {
      const auto& b = static_cast<const BinaryExpr&>(e);
      Value l = eval(*b.lhs);
      Value r = eval(*b.rhs);
      return binary(b.op, l, r);
    }
    case ExprKind::kAnd: {
      const auto& b = static_cast<const BinaryExpr&>(e);
      Value l = eval(*b.lhs);
      if (!truthy(l)) return l;
      return eval(*b.rhs);
    }
    case ExprKind::kOr: {
      const auto& b = static_cast<const BinaryExpr&>(e);
      Value l = eval(*b.lhs);
      if (truthy(l)) return l;
      return eval(*b.rhs);
    }
    case ExprKind::kConcat: {
      std::string s;
      for (const auto& p : static_cast<const ConcatExpr&>(e).parts) {
        append_str(s, eval(*p));
        check_string_size(s.size());
      }
      return Value::string(std::move(s));
    }
    case ExprKind::kCompare: {
      const auto& c = static_cast<const CompareExpr&>(e);
      Value a = eval(*c.first);
      for (const auto& [op, rhs] : c.rest) {
        Value b = eval(*rhs);
        if (!compare(op, a, b)) return Value::boolean(false);
        a = std::move(b);
      }
      return Value::boolean(true);
    }
    case ExprKind::kCond: {
      const auto& c = static_cast<const CondExpr&>(e);
      if (truthy(eval(*c.test))) return eval(*c.then);
      if (c.otherwise) return eval(*c.otherwise);
      return undefined_hint("the inline if-expression on line " + std::to_string(c.line) +
                            " evaluated to false and no else section was defined.");
    }
    case ExprKind::kList:
    case ExprKind::kTuple: {
      std::vector<Value> items;
      const auto& s = static_cast<const SeqExpr&>(e);
      items.reserve(s.items.size());
      for (const auto& x : s.items) items.push_back(eval(*x));
      return make_list(std::move(items),
                       e.kind == ExprKind::kList ? ListKind::kList : ListKind::kTuple);
    }
    case ExprKind::kDict: {
      Value d = Value::dict();
      for (const auto& [k, v] : static_cast<const DictExpr&>(e).items) {
        Value key = eval(*k);
        if (!hashable(key))
          fail(ErrorKind::kType, "unhashable type: '" + std::string(type_name(key)) + "'");
        as_dict(d)->set(std::move(key), eval(*v));
      }
      return d;
    }
    case ExprKind::kCall:
      return eval_call(static_cast<const CallExpr&>(e));
    case ExprKind::kFilter: {
      const auto& f = static_cast<const FilterExpr&>(e);
      Value input = eval(*f.operand);
      Args args;
      eval_args(f.call, args);
      return apply_filter(f.id, input, args);
    }
    case ExprKind::kTest: {
      const auto& f = static_cast<const FilterExpr&>(e);
      Value input = eval(*f.operand);
      Args args;
      eval_args(f.call, args);
      return Value::boolean(apply_test(f.id, input, args));
    }
  }
  return Value();
}

}  // namespace kiln::jinja
