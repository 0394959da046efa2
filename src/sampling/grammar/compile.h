// Compiling JSON Schema and regular expressions into a Constraint.
//
// Call on an I/O thread (validation): compilation builds the automata and,
// for grammars with up to CompileOptions::precompute_masks distinct masks,
// every token mask, so the engine thread only looks masks up. Errors
// are one line naming the construct, e.g.
//   "unsupported JSON Schema keyword 'not' at #/properties/a"
//   "regex: lookaround assertions are not supported at offset 3"
// which api/ returns as 422 (contract §6.5).
//
// JSON output is canonical where JSON allows choices (see json_primitives.h):
// properties come in schema order; optional properties may be skipped;
// additionalProperties absent means no extra keys when `properties` is given
// (any keys when it is not); whitespace between tokens is at most
// max_whitespace bytes of [ \t\n\r] per gap, none before or after the value.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "sampling/grammar/automaton.h"
#include "sampling/grammar/constraint.h"
#include "sampling/grammar/vocabulary.h"
#include "util/result.h"

namespace kiln::sampling::grammar {

struct JsonSchemaOptions {
  // Whitespace bytes allowed in each gap between JSON tokens; 0 = compact.
  int32_t max_whitespace = 20;
  // With `properties` given and no `additionalProperties`, allow extra keys.
  bool additional_properties_default = false;
  size_t max_schema_bytes = size_t(1) << 20;
  int32_t max_nesting = 64;   // JSON nesting of the schema document
  int32_t max_rules = 20000;  // distinct subschemas
  int64_t max_total_states = 2000000;
};

struct CompileOptions {
  JsonSchemaOptions json;
  Budget budget;                    // per-rule automaton limits
  int32_t precompute_masks = 4096;  // more distinct masks than this: computed on first use
};

// A JSON Schema (as text). TGI's extra "properties required at top level"
// rule is api/'s to enforce, not this function's.
util::Result<std::shared_ptr<const Constraint>> compile_json_schema(
    std::string_view schema, std::shared_ptr<const Vocabulary> vocab,
    const CompileOptions& options = {});

// Any JSON object (OpenAI response_format {"type": "json_object"}).
util::Result<std::shared_ptr<const Constraint>> compile_json_object(
    std::shared_ptr<const Vocabulary> vocab, const CompileOptions& options = {});

// A regular expression matched against the whole output (TGI regex grammar).
util::Result<std::shared_ptr<const Constraint>> compile_regex(
    std::string_view pattern, std::shared_ptr<const Vocabulary> vocab,
    const CompileOptions& options = {});

}  // namespace kiln::sampling::grammar
