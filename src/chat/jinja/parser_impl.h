// The Parser class shared by parse_stmt.cpp (statements, the entry point)
// and parse_expr.cpp (expressions). Internal to the engine.
#pragma once

#include <algorithm>
#include <string>
#include <unordered_map>
#include <vector>

#include "chat/jinja/internal.h"
#include "chat/jinja/parser.h"

namespace kiln::jinja {

class Parser {
 public:
  Parser(std::vector<Token> toks, const Limits& limits) : toks_(std::move(toks)), limits_(limits) {}

  ParsedTemplate run();

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

  static std::string describe(const Token& t);

  [[noreturn]] void error(std::string msg) const {
    throw JinjaError{Error{ErrorKind::kSyntax, std::move(msg), cur().line}};
  }
  [[noreturn]] void unexpected() const { error("unexpected '" + describe(cur()) + "'"); }

  void expect_op(const char* op) {
    if (!skip_op(op))
      error("expected token '" + std::string(op) + "', got '" + describe(cur()) + "'");
  }
  void expect(Tok t, const char* what);
  std::string expect_name();

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

  int intern(const std::string& name);

  // --- statements --------------------------------------------------------------

  bool at_end_tag(const std::vector<const char*>& ends) const {
    if (cur().type != Tok::kName) return false;
    for (const char* e : ends)
      if (cur().text == e) return true;
    return false;
  }

  Body subparse(const std::vector<const char*>& ends);

  // After the tag's arguments: `%}` then the body up to one of `ends`.
  Body parse_statements(const std::vector<const char*>& ends, bool drop_needle);

  StmtPtr parse_statement();

  StmtPtr parse_if();

  StmtPtr parse_for();

  StmtPtr parse_set();

  void parse_signature(MacroStmt* m);

  std::unique_ptr<MacroStmt> parse_macro_body(std::unique_ptr<MacroStmt> m, const char* end);

  StmtPtr parse_macro();

  StmtPtr parse_call_block();

  StmtPtr parse_filter_block();

  StmtPtr parse_with();

  Target to_target(Expr* e);

  Target parse_assign_target(bool with_tuple, bool name_only,
                             const std::vector<const char*>& extra_end, bool with_namespace);

  // --- expressions ---------------------------------------------------------------

  bool is_tuple_end(const std::vector<const char*>& extra_end) const {
    if (cur().type == Tok::kVarEnd || cur().type == Tok::kBlockEnd || is_op(")")) return true;
    return at_end_tag(extra_end);
  }

  ExprPtr parse_tuple(bool simplified, bool with_condexpr,
                      const std::vector<const char*>& extra_end, bool explicit_parens);

  ExprPtr parse_expression(bool with_condexpr) {
    DepthGuard guard(*this);
    return with_condexpr ? parse_condexpr() : parse_or();
  }

  ExprPtr parse_condexpr();

  ExprPtr binary(ExprKind k, BinOp op, ExprPtr l, ExprPtr r, int line);

  ExprPtr parse_or();

  ExprPtr parse_and();

  ExprPtr parse_not();

  ExprPtr parse_compare();

  ExprPtr parse_math1();

  ExprPtr parse_concat();

  ExprPtr parse_math2();

  ExprPtr parse_pow();

  ExprPtr parse_unary(bool with_filter);

  void mark_loaded(int sym, const std::string& name);

  ExprPtr make_const(Value v, int line);

  ExprPtr parse_primary();

  ExprPtr parse_list();

  ExprPtr parse_dict();

  ExprPtr parse_postfix(ExprPtr node);

  ExprPtr parse_filter_expr(ExprPtr node);

  ExprPtr parse_subscript(ExprPtr node);

  ExprPtr parse_subscribed();

  void parse_call_args(CallArgs& call);

  static int args_depth(const CallArgs& c);

  ExprPtr parse_call(ExprPtr node);

  ExprPtr parse_filter(ExprPtr node, bool start_inline);

  ExprPtr parse_test(ExprPtr node);

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

}  // namespace kiln::jinja
