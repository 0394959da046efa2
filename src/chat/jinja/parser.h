// Lexer and parser: template source -> syntax tree, following jinja2 3.1's
// lexer rules (whitespace control, trim_blocks, lstrip_blocks, raw blocks)
// and its grammar (operator precedence, filters binding tighter than math).
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "chat/jinja/ast.h"
#include "chat/jinja/jinja.h"

namespace kiln::jinja {

enum class Tok : uint8_t {
  kData,
  kVarBegin,
  kVarEnd,
  kBlockBegin,
  kBlockEnd,
  kName,
  kString,
  kInt,
  kFloat,
  kOp,
  kEof,
};

struct Token {
  Tok type = Tok::kEof;
  int line = 1;
  std::string text;  // data, name, string value (unescaped), operator
  int64_t i = 0;
  double f = 0;
};

// Throws JinjaError (kSyntax) on malformed input.
std::vector<Token> tokenize(std::string_view source);

struct ParsedTemplate {
  Body body;
  std::vector<std::string> symbols;  // symbol id -> name
  std::vector<int> symbol_global;    // symbol id -> global id, or -1
  std::vector<bool> symbol_loaded;   // symbol id -> read somewhere
  std::unordered_map<std::string, int> symbol_ids;
  int sym_loop = -1;  // the symbol id of "loop", -1 when the template never names it
};

// Throws JinjaError (kSyntax, kAssertion, kLimit).
ParsedTemplate parse(std::string_view source, const Limits& limits);

// Builtin tables (builtins.cpp): ids are indexes used by the interpreter.
int find_filter(std::string_view name);  // -1 when unknown
int find_test(std::string_view name);
int find_global(std::string_view name);

}  // namespace kiln::jinja
