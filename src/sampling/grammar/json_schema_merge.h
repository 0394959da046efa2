// $ref resolution and allOf merging for the schema compiler (internal).
//
// allOf is compiled by merging its branches into one schema, keyword by
// keyword, where the merge is exact: properties merge per name (a shared name
// becomes allOf of both), required is the union, bounds take the tighter
// value, enum the intersection, type the intersection. Keywords whose merge
// would not be exact (two different patterns, differing
// additionalProperties, ...) are refused, naming the keyword.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "util/result.h"

namespace kiln::sampling::grammar {

using Json = nlohmann::ordered_json;

bool is_annotation(const std::string& key);  // title, description, default, ...
bool is_container(const std::string& key);   // $defs, definitions
// Keys other than annotations, containers and `except`.
size_t constraining_keys(const Json& schema, const char* except);

class SchemaMerger {
 public:
  SchemaMerger(const Json& doc, int32_t max_depth) : doc_(doc), max_depth_(max_depth) {}

  // An in-document reference ("#", "#/$defs/a", percent-encoded JSON pointer).
  util::Result<const Json*> resolve(const std::string& ref) const;

  // `schema` with its allOf and top-level $ref folded in: the result has
  // neither at its top level.
  util::Result<Json> merge_all_of(const Json& schema, const std::string& path) const;

 private:
  util::Result<Json> flatten(const Json& schema, const std::string& path, int32_t depth) const;
  util::Result<Json> merge_two(Json a, const Json& b, const std::string& path) const;

  const Json& doc_;
  int32_t max_depth_;
};

}  // namespace kiln::sampling::grammar
