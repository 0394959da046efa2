// Typed reads of one JSON object's fields, with serde-like error texts that
// name the field's path ("parameters.top_k: invalid type: string \"a\",
// expected i32"). Absent and null read the same (contract §0.3). Internal to
// the parsers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "api/errors.h"
#include "api/json_util.h"
#include "api/types.h"

namespace kiln::api {

class FieldReader {
 public:
  // `object` must outlive the reader; `path` prefixes error texts ("" at top).
  FieldReader(const Json& object, std::string path) : object_(object), path_(std::move(path)) {}

  bool ok() const { return !error_; }
  const ApiError& error() const { return *error_; }
  // Keeps the first error only: it names the first bad field.
  void fail(ApiError error) {
    if (!error_) error_ = std::move(error);
  }
  void fail_field(const std::string& key, const std::string& text);

  std::string path_of(const std::string& key) const;
  // The field, or null when absent or JSON null.
  const Json* get(const char* key) const;

  std::optional<std::string> string(const char* key);
  std::optional<bool> boolean(const char* key);
  bool flag(const char* key, bool fallback) { return boolean(key).value_or(fallback); }
  std::optional<double> number(const char* key);
  // An integer within [min, max]; `type` names it in errors ("u32", "i32").
  std::optional<int64_t> integer(const char* key, int64_t min, int64_t max, const char* type);
  std::optional<uint64_t> u64(const char* key);
  // A string, or an array of strings (OpenAI `stop`, DEV-7).
  std::vector<std::string> strings(const char* key, bool allow_single);
  // A required string; records "missing field" when absent.
  std::string required_string(const char* key);

  // "integer `5`", "string \"x\"", "sequence", "map", ... as serde names them.
  static std::string describe(const Json& value);

 private:
  void type_error(const char* key, const Json& value, const char* expected);

  const Json& object_;
  std::string path_;
  std::optional<ApiError> error_;
};

// Bounds of the integer types TGI declares, for FieldReader::integer.
inline constexpr int64_t kU32Max = 4294967295LL;
inline constexpr int64_t kI32Max = 2147483647LL;
inline constexpr int64_t kI32Min = -2147483648LL;
inline constexpr int64_t kI64Max = INT64_MAX;

// `grammar` (native) or `response_format` (OpenAI, which also accepts the
// OpenAI shapes, DEV-8). Returns nullopt for {"type":"text"}.
std::optional<GrammarSpec> read_grammar(FieldReader& reader, const char* key, bool openai);

}  // namespace kiln::api
