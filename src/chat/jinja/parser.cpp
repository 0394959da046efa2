// Recursive-descent parser following jinja2 3.1's parser.py: the same
// precedence (condexpr < or < and < not < compare < +,- < ~ < *,/,//,% < **
// < unary < postfix/filters/tests), tuples without parentheses, and the
// statements real chat templates use. Unknown filters and tests fail at
// compile time, as in jinja2.
#include <algorithm>
#include <unordered_map>

#include "chat/jinja/internal.h"
#include "chat/jinja/parser.h"

namespace kiln::jinja {

namespace {

class Parser {
 public:
  Parser(std::vector<Token> toks, const Limits& limits) : toks_(std::move(toks)), limits_(limits) {}

  ParsedTemplate run() {
    out_.body = subparse({});
    out_.symbol_ids = syms_;
    auto it = syms_.find("loop");
    if (it != syms_.end()) out_.sym_loop = it->second;
    return std::move(out_);
  }

 private:
  // --- token helpers ---------------------------------------------------------

  const Token& cur() const { return toks_[pos_]; }
  const Token& peek(size_t k = 1) const { return toks_[std::min(pos_ + k, toks_.size() - 1)]; }
  void next() {
    if (pos_ + 1 < toks_.size()) ++pos_;
  }
  bool is_op(const char* op) const { return cur().type == Tok::kOp && cur().text == op; }
  bool is_name(const char* name) const { return cur().type == Tok::kName && cur().text == name; }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  bool skip_name(const char* name) {
    if (!is_name(name)) return false;
    next();
    return true;
  }

  static std::string describe(const Token& t) {
    switch (t.type) {
      case Tok::kVarEnd:
        return "end of print statement";
      case Tok::kBlockEnd:
        return "end of statement block";
      case Tok::kEof:
        return "end of template";
      case Tok::kData:
        return "template data / text";
      case Tok::kVarBegin:
        return "begin of print statement";
      case Tok::kBlockBegin:
        return "begin of statement block";
      default:
        return t.text;
    }
  }

  [[noreturn]] void error(std::string msg) const {
    throw JinjaError{Error{ErrorKind::kSyntax, std::move(msg), cur().line}};
  }
  [[noreturn]] void unexpected() const { error("unexpected '" + describe(cur()) + "'"); }

  void expect_op(const char* op) {
    if (!skip_op(op))
      error("expected token '" + std::string(op) + "', got '" + describe(cur()) + "'");
  }
  void expect(Tok t, const char* what) {
    if (cur().type != t)
      error(std::string("expected token '") + what + "', got '" + describe(cur()) + "'");
    next();
  }
  std::string expect_name() {
    if (cur().type != Tok::kName) error("expected token 'name', got '" + describe(cur()) + "'");
    std::string n = cur().text;
    next();
    return n;
  }

  struct DepthGuard {
    DepthGuard(Parser& p) : p_(p) {
      if (++p_.depth_ > p_.limits_.max_nesting_depth)
        throw JinjaError{Error{ErrorKind::kLimit,
                               "template nesting exceeds max_nesting_depth (" +
                                   std::to_string(p_.limits_.max_nesting_depth) + ")",
                               p_.cur().line}};
    }
    ~DepthGuard() { --p_.depth_; }
    Parser& p_;
  };

  template <typename T>
  T* finish(T* node, std::initializer_list<const Expr*> kids) {
    int d = 0;
    for (const Expr* k : kids)
      if (k) d = std::max(d, k->depth);
    node->depth = d + 1;
    if (node->depth > limits_.max_nesting_depth)
      throw JinjaError{Error{ErrorKind::kLimit,
                             "template nesting exceeds max_nesting_depth (" +
                                 std::to_string(limits_.max_nesting_depth) + ")",
                             node->line}};
    return node;
  }

  int intern(const std::string& name) {
    auto it = syms_.find(name);
    if (it != syms_.end()) return it->second;
    int id = static_cast<int>(out_.symbols.size());
    syms_.emplace(name, id);
    out_.symbols.push_back(name);
    out_.symbol_global.push_back(find_global(name));
    out_.symbol_loaded.push_back(false);
    return id;
  }

  // --- statements --------------------------------------------------------------

  bool at_end_tag(const std::vector<const char*>& ends) const {
    if (cur().type != Tok::kName) return false;
    for (const char* e : ends)
      if (cur().text == e) return true;
    return false;
  }

  Body subparse(const std::vector<const char*>& ends) {
    Body body;
    while (true) {
      const Token& t = cur();
      switch (t.type) {
        case Tok::kData: {
          if (!body.empty() && body.back()->kind == StmtKind::kText) {
            static_cast<TextStmt*>(body.back().get())->text += t.text;
          } else {
            auto s = std::make_unique<TextStmt>(t.line);
            s->text = t.text;
            body.push_back(std::move(s));
          }
          next();
          break;
        }
        case Tok::kVarBegin: {
          next();
          auto s = std::make_unique<PrintStmt>(cur().line);
          s->expr = parse_tuple(false, true, {}, false);
          expect(Tok::kVarEnd, "end of print statement");
          body.push_back(std::move(s));
          break;
        }
        case Tok::kBlockBegin: {
          next();
          if (!ends.empty() && at_end_tag(ends)) return body;
          body.push_back(parse_statement());
          expect(Tok::kBlockEnd, "end of statement block");
          break;
        }
        case Tok::kEof:
          if (!ends.empty()) {
            std::string want;
            for (size_t i = 0; i < ends.size(); ++i)
              want += (i ? " or '" : "'") + std::string(ends[i]) + "'";
            error("Unexpected end of template. Jinja was looking for the following tags: " + want +
                  ".");
          }
          return body;
        default:
          unexpected();
      }
    }
  }

  // After the tag's arguments: `%}` then the body up to one of `ends`.
  Body parse_statements(const std::vector<const char*>& ends, bool drop_needle) {
    skip_op(":");
    expect(Tok::kBlockEnd, "end of statement block");
    Body body = subparse(ends);
    if (drop_needle) next();
    return body;
  }

  StmtPtr parse_statement() {
    DepthGuard guard(*this);
    if (cur().type != Tok::kName) error("tag name expected");
    const std::string tag = cur().text;
    int line = cur().line;
    if (tag == "if") return parse_if();
    if (tag == "for") return parse_for();
    if (tag == "set") return parse_set();
    if (tag == "macro") return parse_macro();
    if (tag == "call") return parse_call_block();
    if (tag == "filter") return parse_filter_block();
    if (tag == "with") return parse_with();
    if (tag == "print") {
      next();
      auto s = std::make_unique<PrintStmt>(line);
      std::vector<ExprPtr> items;
      while (cur().type != Tok::kBlockEnd) {
        if (!items.empty()) expect_op(",");
        items.push_back(parse_expression(true));
      }
      auto tuple = std::make_unique<SeqExpr>(ExprKind::kTuple, line);
      tuple->items = std::move(items);
      if (tuple->items.size() == 1) {
        s->expr = std::move(tuple->items[0]);
      } else {
        s->expr = std::move(tuple);
      }
      return s;
    }
    if (tag == "break" || tag == "continue") {
      next();
      if (loop_depth_ == 0) error("'" + tag + "' outside loop");
      return std::make_unique<Stmt>(tag == "break" ? StmtKind::kBreak : StmtKind::kContinue, line);
    }
    if (tag == "generation" || tag == "block") {
      next();
      auto s = std::make_unique<ScopeStmt>(line);
      if (tag == "block") {
        std::string name = expect_name();
        skip_name("scoped");
        skip_name("required");
        s->body = parse_statements({"endblock"}, true);
        if (cur().type == Tok::kName && cur().text == name) next();
      } else {
        s->body = parse_statements({"endgeneration"}, true);
      }
      return s;
    }
    error("Encountered unknown tag '" + tag + "'.");
  }

  StmtPtr parse_if() {
    auto s = std::make_unique<IfStmt>(cur().line);
    next();
    while (true) {
      ExprPtr test = parse_tuple(false, false, {}, false);
      Body body = parse_statements({"elif", "else", "endif"}, false);
      s->branches.emplace_back(std::move(test), std::move(body));
      std::string which = cur().text;
      next();
      if (which == "elif") continue;
      if (which == "else") s->otherwise = parse_statements({"endif"}, true);
      break;
    }
    return s;
  }

  StmtPtr parse_for() {
    auto s = std::make_unique<ForStmt>(cur().line);
    next();
    s->target = parse_assign_target(true, false, {"in"}, false);
    if (!skip_name("in")) error("expected token 'in', got '" + describe(cur()) + "'");
    s->iter = parse_tuple(false, false, {"recursive"}, false);
    if (skip_name("if")) s->filter = parse_expression(true);
    s->recursive = skip_name("recursive");
    for_stack_.push_back(s.get());
    ++loop_depth_;
    s->body = parse_statements({"endfor", "else"}, false);
    --loop_depth_;
    std::string which = cur().text;
    next();
    if (which == "else") s->otherwise = parse_statements({"endfor"}, true);
    for_stack_.pop_back();
    return s;
  }

  StmtPtr parse_set() {
    int line = cur().line;
    next();
    Target target = parse_assign_target(true, false, {}, true);
    if (skip_op("=")) {
      auto s = std::make_unique<SetStmt>(line);
      s->target = std::move(target);
      s->value = parse_tuple(false, true, {}, false);
      return s;
    }
    auto s = std::make_unique<SetBlockStmt>(line);
    s->target = std::move(target);
    if (is_op("|")) s->filter = parse_filter(nullptr, false);
    s->body = parse_statements({"endset"}, true);
    return s;
  }

  void parse_signature(MacroStmt* m) {
    expect_op("(");
    bool defaults = false;
    while (!is_op(")")) {
      if (!m->params.empty()) expect_op(",");
      Param p;
      p.name = expect_name();
      p.sym = intern(p.name);
      if (skip_op("=")) {
        p.default_value = parse_expression(true);
        defaults = true;
      } else if (defaults) {
        error("non-default argument follows default argument");
      }
      m->params.push_back(std::move(p));
    }
    expect_op(")");
  }

  std::unique_ptr<MacroStmt> parse_macro_body(std::unique_ptr<MacroStmt> m, const char* end) {
    macro_stack_.push_back(m.get());
    int saved_loops = loop_depth_;
    loop_depth_ = 0;
    auto saved_for = std::move(for_stack_);
    for_stack_.clear();
    m->body = parse_statements({end}, true);
    for_stack_ = std::move(saved_for);
    loop_depth_ = saved_loops;
    macro_stack_.pop_back();
    return m;
  }

  StmtPtr parse_macro() {
    auto m = std::make_unique<MacroStmt>(cur().line);
    next();
    m->name = expect_name();
    m->sym = intern(m->name);
    parse_signature(m.get());
    return parse_macro_body(std::move(m), "endmacro");
  }

  StmtPtr parse_call_block() {
    auto s = std::make_unique<CallBlockStmt>(cur().line);
    next();
    auto m = std::make_unique<MacroStmt>(s->line);
    m->name = "caller";
    if (is_op("(")) parse_signature(m.get());
    s->call = parse_expression(true);
    if (s->call->kind != ExprKind::kCall) error("expected call");
    s->caller = parse_macro_body(std::move(m), "endcall");
    return s;
  }

  StmtPtr parse_filter_block() {
    auto s = std::make_unique<FilterBlockStmt>(cur().line);
    next();
    s->filter = parse_filter(nullptr, true);
    s->body = parse_statements({"endfilter"}, true);
    return s;
  }

  StmtPtr parse_with() {
    auto s = std::make_unique<WithStmt>(cur().line);
    next();
    while (cur().type != Tok::kBlockEnd) {
      if (!s->assigns.empty()) expect_op(",");
      Target t = parse_assign_target(true, false, {}, false);
      expect_op("=");
      s->assigns.emplace_back(std::move(t), parse_expression(true));
    }
    s->body = parse_statements({"endwith"}, true);
    return s;
  }

  Target to_target(Expr* e) {
    Target t;
    if (e->kind == ExprKind::kName) {
      auto* n = static_cast<NameExpr*>(e);
      t.kind = Target::Kind::kName;
      t.name = n->name;
      t.sym = n->sym;
      return t;
    }
    if (e->kind == ExprKind::kTuple) {
      t.kind = Target::Kind::kTuple;
      for (auto& item : static_cast<SeqExpr*>(e)->items) t.items.push_back(to_target(item.get()));
      return t;
    }
    error("can't assign to this expression");
  }

  Target parse_assign_target(bool with_tuple, bool name_only,
                             const std::vector<const char*>& extra_end, bool with_namespace) {
    if (name_only || (!with_tuple && cur().type == Tok::kName &&
                      !(with_namespace && peek().type == Tok::kOp && peek().text == "."))) {
      Target t;
      t.name = expect_name();
      t.sym = intern(t.name);
      return t;
    }
    // Namespace attribute: name '.' name.
    if (with_namespace && cur().type == Tok::kName && peek().type == Tok::kOp &&
        peek().text == "." && peek(2).type == Tok::kName) {
      Target t;
      t.kind = Target::Kind::kNsAttr;
      t.name = cur().text;
      t.sym = intern(t.name);
      next();
      next();
      t.attr = cur().text;
      next();
      mark_loaded(t.sym, t.name);
      return t;
    }
    store_mode_ = true;
    ExprPtr e = parse_tuple(true, true, extra_end, false);
    store_mode_ = false;
    return to_target(e.get());
  }

  // --- expressions ---------------------------------------------------------------

  bool is_tuple_end(const std::vector<const char*>& extra_end) const {
    if (cur().type == Tok::kVarEnd || cur().type == Tok::kBlockEnd || is_op(")")) return true;
    return at_end_tag(extra_end);
  }

  ExprPtr parse_tuple(bool simplified, bool with_condexpr,
                      const std::vector<const char*>& extra_end, bool explicit_parens) {
    int line = cur().line;
    std::vector<ExprPtr> args;
    bool is_tuple = false;
    while (true) {
      if (!args.empty()) expect_op(",");
      if (is_tuple_end(extra_end)) break;
      args.push_back(simplified ? parse_primary() : parse_expression(with_condexpr));
      if (is_op(","))
        is_tuple = true;
      else
        break;
    }
    if (!is_tuple) {
      if (!args.empty()) return std::move(args[0]);
      if (!explicit_parens) error("Expected an expression, got '" + describe(cur()) + "'");
    }
    auto t = std::make_unique<SeqExpr>(ExprKind::kTuple, line);
    std::vector<const Expr*> kids;
    int d = 0;
    for (auto& a : args) d = std::max(d, a->depth);
    t->items = std::move(args);
    t->depth = d + 1;
    return t;
  }

  ExprPtr parse_expression(bool with_condexpr) {
    DepthGuard guard(*this);
    return with_condexpr ? parse_condexpr() : parse_or();
  }

  ExprPtr parse_condexpr() {
    int line = cur().line;
    ExprPtr expr1 = parse_or();
    while (skip_name("if")) {
      auto c = std::make_unique<CondExpr>(line);
      c->test = parse_or();
      if (skip_name("else")) c->otherwise = parse_condexpr();
      c->then = std::move(expr1);
      finish(c.get(), {c->test.get(), c->then.get(), c->otherwise.get()});
      expr1 = std::move(c);
    }
    return expr1;
  }

  ExprPtr binary(ExprKind k, BinOp op, ExprPtr l, ExprPtr r, int line) {
    auto b = std::make_unique<BinaryExpr>(k, line);
    b->op = op;
    b->lhs = std::move(l);
    b->rhs = std::move(r);
    finish(b.get(), {b->lhs.get(), b->rhs.get()});
    return b;
  }

  ExprPtr parse_or() {
    int line = cur().line;
    ExprPtr left = parse_and();
    while (skip_name("or"))
      left = binary(ExprKind::kOr, BinOp::kAdd, std::move(left), parse_and(), line);
    return left;
  }

  ExprPtr parse_and() {
    int line = cur().line;
    ExprPtr left = parse_not();
    while (skip_name("and"))
      left = binary(ExprKind::kAnd, BinOp::kAdd, std::move(left), parse_not(), line);
    return left;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      DepthGuard guard(*this);
      int line = cur().line;
      next();
      auto u = std::make_unique<UnaryExpr>(ExprKind::kNot, line);
      u->operand = parse_not();
      finish(u.get(), {u->operand.get()});
      return u;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    int line = cur().line;
    ExprPtr expr = parse_math1();
    std::unique_ptr<CompareExpr> cmp;
    while (true) {
      CmpOp op;
      if (is_op("=="))
        op = CmpOp::kEq;
      else if (is_op("!="))
        op = CmpOp::kNe;
      else if (is_op("<"))
        op = CmpOp::kLt;
      else if (is_op("<="))
        op = CmpOp::kLe;
      else if (is_op(">"))
        op = CmpOp::kGt;
      else if (is_op(">="))
        op = CmpOp::kGe;
      else if (is_name("in"))
        op = CmpOp::kIn;
      else if (is_name("not") && peek().type == Tok::kName && peek().text == "in") {
        next();
        op = CmpOp::kNotIn;
      } else {
        break;
      }
      next();
      if (!cmp) {
        cmp = std::make_unique<CompareExpr>(line);
        cmp->first = std::move(expr);
      }
      cmp->rest.emplace_back(op, parse_math1());
    }
    if (!cmp) return expr;
    int d = cmp->first->depth;
    for (auto& [op, e] : cmp->rest) d = std::max(d, e->depth);
    cmp->depth = d + 1;
    finish(cmp.get(), {});
    cmp->depth = d + 1;
    return cmp;
  }

  ExprPtr parse_math1() {
    int line = cur().line;
    ExprPtr left = parse_concat();
    while (is_op("+") || is_op("-")) {
      BinOp op = is_op("+") ? BinOp::kAdd : BinOp::kSub;
      next();
      left = binary(ExprKind::kBinary, op, std::move(left), parse_concat(), line);
    }
    return left;
  }

  ExprPtr parse_concat() {
    int line = cur().line;
    ExprPtr first = parse_math2();
    if (!is_op("~")) return first;
    auto c = std::make_unique<ConcatExpr>(line);
    int d = first->depth;
    c->parts.push_back(std::move(first));
    while (skip_op("~")) {
      c->parts.push_back(parse_math2());
      d = std::max(d, c->parts.back()->depth);
    }
    c->depth = d + 1;
    return c;
  }

  ExprPtr parse_math2() {
    int line = cur().line;
    ExprPtr left = parse_pow();
    while (true) {
      BinOp op;
      if (is_op("*"))
        op = BinOp::kMul;
      else if (is_op("/"))
        op = BinOp::kDiv;
      else if (is_op("//"))
        op = BinOp::kFloorDiv;
      else if (is_op("%"))
        op = BinOp::kMod;
      else
        break;
      next();
      left = binary(ExprKind::kBinary, op, std::move(left), parse_pow(), line);
    }
    return left;
  }

  ExprPtr parse_pow() {
    int line = cur().line;
    ExprPtr left = parse_unary(true);
    while (skip_op("**"))
      left = binary(ExprKind::kBinary, BinOp::kPow, std::move(left), parse_unary(true), line);
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
    DepthGuard guard(*this);
    int line = cur().line;
    ExprPtr node;
    if (is_op("-") || is_op("+")) {
      auto u = std::make_unique<UnaryExpr>(is_op("-") ? ExprKind::kNeg : ExprKind::kPos, line);
      next();
      u->operand = parse_unary(false);
      finish(u.get(), {u->operand.get()});
      node = std::move(u);
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_expr(std::move(node));
    return node;
  }

  void mark_loaded(int sym, const std::string& name) {
    out_.symbol_loaded[static_cast<size_t>(sym)] = true;
    if (name == "loop")
      for (ForStmt* f : for_stack_) f->uses_loop = true;
    if (name == "caller" || name == "varargs" || name == "kwargs") {
      for (MacroStmt* m : macro_stack_) {
        if (name == "caller") m->uses_caller = true;
        if (name == "varargs") m->uses_varargs = true;
        if (name == "kwargs") m->uses_kwargs = true;
      }
    }
  }

  ExprPtr make_const(Value v, int line) {
    auto c = std::make_unique<ConstExpr>(line);
    c->value = std::move(v);
    return c;
  }

  ExprPtr parse_primary() {
    const Token& t = cur();
    int line = t.line;
    switch (t.type) {
      case Tok::kName: {
        std::string name = t.text;
        next();
        if (name == "true" || name == "True") return make_const(Value::boolean(true), line);
        if (name == "false" || name == "False") return make_const(Value::boolean(false), line);
        if (name == "none" || name == "None") return make_const(Value::none(), line);
        auto n = std::make_unique<NameExpr>(line);
        n->name = name;
        n->sym = intern(name);
        if (!store_mode_) mark_loaded(n->sym, name);
        return n;
      }
      case Tok::kString: {
        auto c = std::make_unique<ConstExpr>(line);
        c->text = t.text;
        next();
        while (cur().type == Tok::kString) {
          c->text += cur().text;
          next();
        }
        c->value = Value::borrowed(c->text);
        return c;
      }
      case Tok::kInt: {
        int64_t v = t.i;
        next();
        return make_const(Value::integer(v), line);
      }
      case Tok::kFloat: {
        double v = t.f;
        next();
        return make_const(Value::number(v), line);
      }
      case Tok::kOp:
        if (t.text == "(") {
          DepthGuard guard(*this);
          next();
          bool saved = store_mode_;
          ExprPtr e = parse_tuple(false, true, {}, true);
          store_mode_ = saved;
          expect_op(")");
          return e;
        }
        if (t.text == "[") return parse_list();
        if (t.text == "{") return parse_dict();
        break;
      default:
        break;
    }
    unexpected();
  }

  ExprPtr parse_list() {
    auto l = std::make_unique<SeqExpr>(ExprKind::kList, cur().line);
    next();
    int d = 0;
    while (!is_op("]")) {
      if (!l->items.empty()) expect_op(",");
      if (is_op("]")) break;
      l->items.push_back(parse_expression(true));
      d = std::max(d, l->items.back()->depth);
    }
    expect_op("]");
    l->depth = d + 1;
    return l;
  }

  ExprPtr parse_dict() {
    auto m = std::make_unique<DictExpr>(cur().line);
    next();
    int d = 0;
    while (!is_op("}")) {
      if (!m->items.empty()) expect_op(",");
      if (is_op("}")) break;
      ExprPtr k = parse_expression(true);
      expect_op(":");
      ExprPtr v = parse_expression(true);
      d = std::max({d, k->depth, v->depth});
      m->items.emplace_back(std::move(k), std::move(v));
    }
    expect_op("}");
    m->depth = d + 1;
    return m;
  }

  ExprPtr parse_postfix(ExprPtr node) {
    while (true) {
      if (is_op(".") || is_op("[")) {
        node = parse_subscript(std::move(node));
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_filter_expr(ExprPtr node) {
    while (true) {
      if (is_op("|")) {
        node = parse_filter(std::move(node), false);
      } else if (is_name("is")) {
        node = parse_test(std::move(node));
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr node) {
    int line = cur().line;
    if (skip_op(".")) {
      if (cur().type == Tok::kName) {
        auto g = std::make_unique<GetAttrExpr>(line);
        g->attr = cur().text;
        next();
        g->obj = std::move(node);
        finish(g.get(), {g->obj.get()});
        return g;
      }
      if (cur().type != Tok::kInt) error("expected name or number");
      auto g = std::make_unique<GetItemExpr>(line);
      g->key = make_const(Value::integer(cur().i), line);
      next();
      g->obj = std::move(node);
      finish(g.get(), {g->obj.get()});
      return g;
    }
    expect_op("[");
    std::vector<ExprPtr> args;
    while (!is_op("]")) {
      if (!args.empty()) expect_op(",");
      args.push_back(parse_subscribed());
    }
    expect_op("]");
    auto g = std::make_unique<GetItemExpr>(line);
    if (args.size() == 1) {
      g->key = std::move(args[0]);
    } else {
      auto t = std::make_unique<SeqExpr>(ExprKind::kTuple, line);
      int d = 0;
      for (auto& a : args) d = std::max(d, a->depth);
      t->items = std::move(args);
      t->depth = d + 1;
      g->key = std::move(t);
    }
    g->obj = std::move(node);
    finish(g.get(), {g->obj.get(), g->key.get()});
    return g;
  }

  ExprPtr parse_subscribed() {
    int line = cur().line;
    ExprPtr start;
    if (!is_op(":")) {
      start = parse_expression(true);
      if (!is_op(":")) return start;
    }
    next();  // ':'
    auto s = std::make_unique<SliceExpr>(line);
    s->start = std::move(start);
    if (!is_op(":") && !is_op("]") && !is_op(",")) s->stop = parse_expression(true);
    if (skip_op(":")) {
      if (!is_op("]") && !is_op(",")) s->step = parse_expression(true);
    }
    finish(s.get(), {s->start.get(), s->stop.get(), s->step.get()});
    return s;
  }

  void parse_call_args(CallArgs& call) {
    expect_op("(");
    bool require_comma = false;
    while (!is_op(")")) {
      if (require_comma) {
        expect_op(",");
        if (is_op(")")) break;
      }
      if (skip_op("*")) {
        if (call.dyn_args || call.dyn_kwargs) error("invalid syntax for function call expression");
        call.dyn_args = parse_expression(true);
      } else if (skip_op("**")) {
        if (call.dyn_kwargs) error("invalid syntax for function call expression");
        call.dyn_kwargs = parse_expression(true);
      } else if (cur().type == Tok::kName && peek().type == Tok::kOp && peek().text == "=") {
        if (call.dyn_kwargs) error("invalid syntax for function call expression");
        std::string key = cur().text;
        next();
        next();
        call.kwargs.emplace_back(std::move(key), parse_expression(true));
      } else {
        if (call.dyn_args || call.dyn_kwargs || !call.kwargs.empty())
          error("invalid syntax for function call expression");
        call.args.push_back(parse_expression(true));
      }
      require_comma = true;
    }
    expect_op(")");
  }

  static int args_depth(const CallArgs& c) {
    int d = 0;
    for (auto& a : c.args) d = std::max(d, a->depth);
    for (auto& [k, a] : c.kwargs) d = std::max(d, a->depth);
    if (c.dyn_args) d = std::max(d, c.dyn_args->depth);
    if (c.dyn_kwargs) d = std::max(d, c.dyn_kwargs->depth);
    return d;
  }

  ExprPtr parse_call(ExprPtr node) {
    auto c = std::make_unique<CallExpr>(cur().line);
    parse_call_args(c->call);
    c->callee = std::move(node);
    c->depth = std::max(c->callee->depth, args_depth(c->call)) + 1;
    finish(c.get(), {});
    c->depth = std::max(c->callee->depth, args_depth(c->call)) + 1;
    return c;
  }

  ExprPtr parse_filter(ExprPtr node, bool start_inline) {
    while (is_op("|") || start_inline) {
      if (!start_inline) next();
      start_inline = false;
      int line = cur().line;
      std::string name = expect_name();
      while (skip_op(".")) {
        name.push_back('.');
        name += expect_name();
      }
      auto f = std::make_unique<FilterExpr>(ExprKind::kFilter, line);
      f->id = find_filter(name);
      if (f->id < 0)
        throw JinjaError{Error{ErrorKind::kAssertion, "No filter named '" + name + "'.", line}};
      f->name = name;
      if (is_op("(")) parse_call_args(f->call);
      f->operand = std::move(node);
      f->depth = std::max(f->operand ? f->operand->depth : 0, args_depth(f->call)) + 1;
      int d = f->depth;
      finish(f.get(), {});
      f->depth = d;
      node = std::move(f);
    }
    return node;
  }

  ExprPtr parse_test(ExprPtr node) {
    int line = cur().line;
    next();  // 'is'
    bool negated = skip_name("not");
    std::string name = expect_name();
    while (skip_op(".")) {
      name.push_back('.');
      name += expect_name();
    }
    auto t = std::make_unique<FilterExpr>(ExprKind::kTest, line);
    t->id = find_test(name);
    if (t->id < 0)
      throw JinjaError{Error{ErrorKind::kAssertion, "No test named '" + name + "'.", line}};
    t->name = name;
    if (is_op("(")) {
      parse_call_args(t->call);
    } else if ((cur().type == Tok::kName || cur().type == Tok::kString || cur().type == Tok::kInt ||
                cur().type == Tok::kFloat || is_op("(") || is_op("[") || is_op("{")) &&
               !is_name("else") && !is_name("or") && !is_name("and")) {
      if (is_name("is")) error("You cannot chain multiple tests with is");
      t->call.args.push_back(parse_postfix(parse_primary()));
    }
    t->operand = std::move(node);
    int d = std::max(t->operand->depth, args_depth(t->call)) + 1;
    t->depth = d;
    finish(t.get(), {});
    t->depth = d;
    if (!negated) return t;
    auto n = std::make_unique<UnaryExpr>(ExprKind::kNot, line);
    n->operand = std::move(t);
    finish(n.get(), {n->operand.get()});
    return n;
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
  const Limits& limits_;
  ParsedTemplate out_;
  std::unordered_map<std::string, int> syms_;
  int depth_ = 0;
  int loop_depth_ = 0;
  bool store_mode_ = false;
  std::vector<MacroStmt*> macro_stack_;
  std::vector<ForStmt*> for_stack_;
};

}  // namespace

ParsedTemplate parse(std::string_view source, const Limits& limits) {
  // jinja2 splits on \r\n, \r and \n and joins with \n, then drops one
  // trailing newline (keep_trailing_newline=False).
  std::string src;
  src.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      src.push_back('\n');
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      src.push_back(source[i]);
    }
  }
  if (!src.empty() && src.back() == '\n') src.pop_back();
  return Parser(tokenize(src), limits).run();
}

}  // namespace kiln::jinja
