// The syntax tree the parser builds and the interpreter walks. Nodes are
// immutable after parsing, so one tree serves concurrent renders. Constants
// hold Values without heap parts (strings borrow the node's own bytes), so
// copying them never touches a reference count shared between threads.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja/value.h"

namespace kiln::jinja {

enum class ExprKind : uint8_t {
  kConst,
  kName,
  kGetAttr,
  kGetItem,
  kSlice,
  kNeg,
  kPos,
  kNot,
  kBinary,
  kAnd,
  kOr,
  kConcat,
  kCompare,
  kCond,
  kList,
  kTuple,
  kDict,
  kCall,
  kFilter,
  kTest,
};

enum class BinOp : uint8_t { kAdd, kSub, kMul, kDiv, kFloorDiv, kMod, kPow };
enum class CmpOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kNotIn };

struct Expr {
  Expr(ExprKind k, int l) : kind(k), line(l) {}
  virtual ~Expr() = default;
  ExprKind kind;
  int line;
  int depth = 1;  // nesting, bounded by Limits::max_nesting_depth
};
using ExprPtr = std::unique_ptr<Expr>;

struct ConstExpr : Expr {
  ConstExpr(int l) : Expr(ExprKind::kConst, l) {}
  std::string text;  // backing bytes of a string constant
  Value value;       // never owns heap memory
};

struct NameExpr : Expr {
  NameExpr(int l) : Expr(ExprKind::kName, l) {}
  std::string name;
  int sym = 0;
};

struct GetAttrExpr : Expr {
  GetAttrExpr(int l) : Expr(ExprKind::kGetAttr, l) {}
  ExprPtr obj;
  std::string attr;
};

struct GetItemExpr : Expr {
  GetItemExpr(int l) : Expr(ExprKind::kGetItem, l) {}
  ExprPtr obj;
  ExprPtr key;  // may be a SliceExpr
};

struct SliceExpr : Expr {
  SliceExpr(int l) : Expr(ExprKind::kSlice, l) {}
  ExprPtr start, stop, step;  // each may be null
};

struct UnaryExpr : Expr {
  UnaryExpr(ExprKind k, int l) : Expr(k, l) {}
  ExprPtr operand;
};

// kBinary (op), kAnd, kOr.
struct BinaryExpr : Expr {
  BinaryExpr(ExprKind k, int l) : Expr(k, l) {}
  BinOp op = BinOp::kAdd;
  ExprPtr lhs, rhs;
};

struct ConcatExpr : Expr {
  ConcatExpr(int l) : Expr(ExprKind::kConcat, l) {}
  std::vector<ExprPtr> parts;
};

struct CompareExpr : Expr {
  CompareExpr(int l) : Expr(ExprKind::kCompare, l) {}
  ExprPtr first;
  std::vector<std::pair<CmpOp, ExprPtr>> rest;
};

struct CondExpr : Expr {
  CondExpr(int l) : Expr(ExprKind::kCond, l) {}
  ExprPtr test, then, otherwise;  // otherwise may be null
};

// kList, kTuple.
struct SeqExpr : Expr {
  SeqExpr(ExprKind k, int l) : Expr(k, l) {}
  std::vector<ExprPtr> items;
};

struct DictExpr : Expr {
  DictExpr(int l) : Expr(ExprKind::kDict, l) {}
  std::vector<std::pair<ExprPtr, ExprPtr>> items;
};

struct CallArgs {
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  ExprPtr dyn_args, dyn_kwargs;  // *args, **kwargs
};

struct CallExpr : Expr {
  CallExpr(int l) : Expr(ExprKind::kCall, l) {}
  ExprPtr callee;
  CallArgs call;
};

// kFilter, kTest. `operand` is null for the filter of {% filter %} / set blocks.
struct FilterExpr : Expr {
  FilterExpr(ExprKind k, int l) : Expr(k, l) {}
  ExprPtr operand;
  std::string name;
  int id = 0;  // index into the filter or test table
  CallArgs call;
};

// --- statements ------------------------------------------------------------

enum class StmtKind : uint8_t {
  kText,
  kPrint,
  kIf,
  kFor,
  kSet,
  kSetBlock,
  kMacro,
  kCallBlock,
  kFilterBlock,
  kWith,
  kBreak,
  kContinue,
  kScope,  // {% generation %}, {% block %}: body in a new scope
};

struct Stmt {
  Stmt(StmtKind k, int l) : kind(k), line(l) {}
  virtual ~Stmt() = default;
  StmtKind kind;
  int line;
};
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

// Assignment target: a name, a namespace attribute, or a tuple of targets.
struct Target {
  enum class Kind : uint8_t { kName, kNsAttr, kTuple } kind = Kind::kName;
  int sym = 0;
  std::string name;
  std::string attr;
  std::vector<Target> items;
};

struct TextStmt : Stmt {
  TextStmt(int l) : Stmt(StmtKind::kText, l) {}
  std::string text;
};

struct PrintStmt : Stmt {
  PrintStmt(int l) : Stmt(StmtKind::kPrint, l) {}
  ExprPtr expr;
};

struct IfStmt : Stmt {
  IfStmt(int l) : Stmt(StmtKind::kIf, l) {}
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body otherwise;
};

struct ForStmt : Stmt {
  ForStmt(int l) : Stmt(StmtKind::kFor, l) {}
  Target target;
  ExprPtr iter;
  ExprPtr filter;  // may be null
  Body body;
  Body otherwise;
  bool recursive = false;
  bool uses_loop = false;
};

struct SetStmt : Stmt {
  SetStmt(int l) : Stmt(StmtKind::kSet, l) {}
  Target target;
  ExprPtr value;
};

struct SetBlockStmt : Stmt {
  SetBlockStmt(int l) : Stmt(StmtKind::kSetBlock, l) {}
  Target target;
  ExprPtr filter;  // innermost FilterExpr has a null operand; may be null
  Body body;
};

struct Param {
  int sym = 0;
  std::string name;
  ExprPtr default_value;  // may be null
};

// A macro, or the anonymous `caller` of a call block.
struct MacroStmt : Stmt {
  MacroStmt(int l) : Stmt(StmtKind::kMacro, l) {}
  std::string name;
  int sym = 0;
  std::vector<Param> params;
  Body body;
  bool uses_caller = false;
  bool uses_varargs = false;
  bool uses_kwargs = false;
};

struct CallBlockStmt : Stmt {
  CallBlockStmt(int l) : Stmt(StmtKind::kCallBlock, l) {}
  std::unique_ptr<MacroStmt> caller;
  ExprPtr call;  // a CallExpr
};

struct FilterBlockStmt : Stmt {
  FilterBlockStmt(int l) : Stmt(StmtKind::kFilterBlock, l) {}
  ExprPtr filter;
  Body body;
};

struct WithStmt : Stmt {
  WithStmt(int l) : Stmt(StmtKind::kWith, l) {}
  std::vector<std::pair<Target, ExprPtr>> assigns;
  Body body;
};

struct ScopeStmt : Stmt {
  ScopeStmt(int l) : Stmt(StmtKind::kScope, l) {}
  Body body;
};

}  // namespace kiln::jinja
