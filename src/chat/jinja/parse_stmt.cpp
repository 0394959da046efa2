// Statements and the entry point of the parser (jinja2 3.1's parser.py:
// block tags, assignment targets, macro signatures).
#include "chat/jinja/parser_impl.h"

namespace kiln::jinja {
ParsedTemplate Parser::run() {
  out_.body = subparse({});
  out_.symbol_ids = syms_;
  auto it = syms_.find("loop");
  if (it != syms_.end()) out_.sym_loop = it->second;
  return std::move(out_);
}

std::string Parser::describe(const Token& t) {
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

void Parser::expect(Tok t, const char* what) {
  if (cur().type != t)
    error(std::string("expected token '") + what + "', got '" + describe(cur()) + "'");
  next();
}

std::string Parser::expect_name() {
  if (cur().type != Tok::kName) error("expected token 'name', got '" + describe(cur()) + "'");
  std::string n = cur().text;
  next();
  return n;
}

int Parser::intern(const std::string& name) {
  auto it = syms_.find(name);
  if (it != syms_.end()) return it->second;
  int id = static_cast<int>(out_.symbols.size());
  syms_.emplace(name, id);
  out_.symbols.push_back(name);
  out_.symbol_global.push_back(find_global(name));
  out_.symbol_loaded.push_back(false);
  return id;
}

Body Parser::subparse(const std::vector<const char*>& ends) {
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

Body Parser::parse_statements(const std::vector<const char*>& ends, bool drop_needle) {
  skip_op(":");
  expect(Tok::kBlockEnd, "end of statement block");
  Body body = subparse(ends);
  if (drop_needle) next();
  return body;
}

StmtPtr Parser::parse_statement() {
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

StmtPtr Parser::parse_if() {
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

StmtPtr Parser::parse_for() {
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

StmtPtr Parser::parse_set() {
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

void Parser::parse_signature(MacroStmt* m) {
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

std::unique_ptr<MacroStmt> Parser::parse_macro_body(std::unique_ptr<MacroStmt> m, const char* end) {
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

StmtPtr Parser::parse_macro() {
  auto m = std::make_unique<MacroStmt>(cur().line);
  next();
  m->name = expect_name();
  m->sym = intern(m->name);
  parse_signature(m.get());
  return parse_macro_body(std::move(m), "endmacro");
}

StmtPtr Parser::parse_call_block() {
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

StmtPtr Parser::parse_filter_block() {
  auto s = std::make_unique<FilterBlockStmt>(cur().line);
  next();
  s->filter = parse_filter(nullptr, true);
  s->body = parse_statements({"endfilter"}, true);
  return s;
}

StmtPtr Parser::parse_with() {
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

Target Parser::to_target(Expr* e) {
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

Target Parser::parse_assign_target(bool with_tuple, bool name_only,
                                   const std::vector<const char*>& extra_end, bool with_namespace) {
  if (name_only || (!with_tuple && cur().type == Tok::kName &&
                    !(with_namespace && peek().type == Tok::kOp && peek().text == "."))) {
    Target t;
    t.name = expect_name();
    t.sym = intern(t.name);
    return t;
  }
  // Namespace attribute: name '.' name.
  if (with_namespace && cur().type == Tok::kName && peek().type == Tok::kOp && peek().text == "." &&
      peek(2).type == Tok::kName) {
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
