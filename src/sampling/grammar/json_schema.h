// JSON Schema -> Grammar (internal to sampling/grammar).
//
// Supported: type (incl. lists), properties, required, additionalProperties
// (false / true / a schema), enum, const, anyOf, oneOf (compiled as anyOf:
// outputs matching several branches are possible when branches overlap),
// allOf (merged keyword by keyword where that is exact), $ref/$defs
// (in-document JSON pointers, recursion included), items, prefixItems,
// additionalItems, minItems/maxItems, minLength/maxLength, pattern, format
// (date, time, date-time, email, hostname, ipv4, ipv6, uuid; other formats
// are annotations), minimum/maximum/exclusiveMinimum/exclusiveMaximum for
// integers and numbers. Annotations (title, description, default, examples,
// ...) and unknown keywords are ignored, as JSON Schema says. Keywords that
// constrain but are not supported (not, if/then/else, patternProperties,
// multipleOf, uniqueItems: true, ...) are refused, naming the keyword.
#pragma once

#include <string_view>

#include "sampling/grammar/compile.h"
#include "sampling/grammar/grammar.h"
#include "util/result.h"

namespace kiln::sampling::grammar {

util::Result<Grammar> json_schema_grammar(std::string_view schema, const JsonSchemaOptions& options,
                                          const Budget& budget);

// Any JSON object.
util::Result<Grammar> json_object_grammar(const JsonSchemaOptions& options, const Budget& budget);

}  // namespace kiln::sampling::grammar
