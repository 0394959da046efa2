// Expressions, with jinja2 3.1's precedence: condexpr < or < and < not <
// compare < +,- < ~ < *,/,//,% < ** < unary < postfix/filters/tests, tuples
// without parentheses; filters bind tighter than arithmetic.
#include "chat/jinja/parser_impl.h"

namespace kiln::jinja {

ExprPtr Parser::parse_tuple(bool simplified, bool with_condexpr,
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

ExprPtr Parser::parse_condexpr() {
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

ExprPtr Parser::binary(ExprKind k, BinOp op, ExprPtr l, ExprPtr r, int line) {
  auto b = std::make_unique<BinaryExpr>(k, line);
  b->op = op;
  b->lhs = std::move(l);
  b->rhs = std::move(r);
  finish(b.get(), {b->lhs.get(), b->rhs.get()});
  return b;
}

ExprPtr Parser::parse_or() {
  int line = cur().line;
  ExprPtr left = parse_and();
  while (skip_name("or"))
    left = binary(ExprKind::kOr, BinOp::kAdd, std::move(left), parse_and(), line);
  return left;
}

ExprPtr Parser::parse_and() {
  int line = cur().line;
  ExprPtr left = parse_not();
  while (skip_name("and"))
    left = binary(ExprKind::kAnd, BinOp::kAdd, std::move(left), parse_not(), line);
  return left;
}

ExprPtr Parser::parse_not() {
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

ExprPtr Parser::parse_compare() {
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

ExprPtr Parser::parse_math1() {
  int line = cur().line;
  ExprPtr left = parse_concat();
  while (is_op("+") || is_op("-")) {
    BinOp op = is_op("+") ? BinOp::kAdd : BinOp::kSub;
    next();
    left = binary(ExprKind::kBinary, op, std::move(left), parse_concat(), line);
  }
  return left;
}

ExprPtr Parser::parse_concat() {
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

ExprPtr Parser::parse_math2() {
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

ExprPtr Parser::parse_pow() {
  int line = cur().line;
  ExprPtr left = parse_unary(true);
  while (skip_op("**"))
    left = binary(ExprKind::kBinary, BinOp::kPow, std::move(left), parse_unary(true), line);
  return left;
}

ExprPtr Parser::parse_unary(bool with_filter) {
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

void Parser::mark_loaded(int sym, const std::string& name) {
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

ExprPtr Parser::make_const(Value v, int line) {
  auto c = std::make_unique<ConstExpr>(line);
  c->value = std::move(v);
  return c;
}

ExprPtr Parser::parse_primary() {
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

ExprPtr Parser::parse_list() {
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

ExprPtr Parser::parse_dict() {
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

ExprPtr Parser::parse_postfix(ExprPtr node) {
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

ExprPtr Parser::parse_filter_expr(ExprPtr node) {
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

ExprPtr Parser::parse_subscript(ExprPtr node) {
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

ExprPtr Parser::parse_subscribed() {
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

void Parser::parse_call_args(CallArgs& call) {
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

int Parser::args_depth(const CallArgs& c) {
  int d = 0;
  for (auto& a : c.args) d = std::max(d, a->depth);
  for (auto& [k, a] : c.kwargs) d = std::max(d, a->depth);
  if (c.dyn_args) d = std::max(d, c.dyn_args->depth);
  if (c.dyn_kwargs) d = std::max(d, c.dyn_kwargs->depth);
  return d;
}

ExprPtr Parser::parse_call(ExprPtr node) {
  auto c = std::make_unique<CallExpr>(cur().line);
  parse_call_args(c->call);
  c->callee = std::move(node);
  c->depth = std::max(c->callee->depth, args_depth(c->call)) + 1;
  finish(c.get(), {});
  c->depth = std::max(c->callee->depth, args_depth(c->call)) + 1;
  return c;
}

ExprPtr Parser::parse_filter(ExprPtr node, bool start_inline) {
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

ExprPtr Parser::parse_test(ExprPtr node) {
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

}  // namespace kiln::jinja
