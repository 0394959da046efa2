// Internal to src/model: typed, error-collecting reads of the small JSON files of
// a Hugging Face directory (config.json, generation_config.json,
// tokenizer_config.json). A JSON null counts as absent, as in transformers.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"

namespace kiln::model::detail {

// Reads and parses a JSON file (error names the file; files over 256 MB are refused).
util::Result<nlohmann::json> read_json_file(const std::filesystem::path& path);

class JsonReader {
 public:
  // `obj` must outlive the reader; `file` prefixes messages.
  JsonReader(const nlohmann::json& obj, std::string file) : obj_(obj), file_(std::move(file)) {}

  bool has(const std::string& key) const;                    // present and not null
  const nlohmann::json* find(const std::string& key) const;  // nullptr when absent or null

  // Absent -> nullopt (or the fallback); wrong type -> records an error and
  // returns the fallback. Integers are accepted where a float is expected.
  std::optional<int64_t> opt_int(const std::string& key);
  std::optional<double> opt_float(const std::string& key);
  std::optional<bool> opt_bool(const std::string& key);
  std::optional<std::string> opt_string(const std::string& key);
  int64_t get_int(const std::string& key, int64_t fallback) {
    return opt_int(key).value_or(fallback);
  }
  double get_float(const std::string& key, double fallback) {
    return opt_float(key).value_or(fallback);
  }
  bool get_bool(const std::string& key, bool fallback) { return opt_bool(key).value_or(fallback); }
  std::string get_string(const std::string& key, const std::string& fallback) {
    return opt_string(key).value_or(fallback);
  }
  int64_t need_int(const std::string& key);  // absent -> error
  // An integer or a list of integers (eos_token_id), as a list.
  std::vector<int64_t> int_list(const std::string& key);
  std::vector<double> float_list(const std::string& key);
  std::vector<std::string> string_list(const std::string& key);

  void error(const std::string& message);  // records "file: message" unless one is recorded
  const util::Status& status() const { return status_; }
  const std::string& file() const { return file_; }

 private:
  void wrong_type(const std::string& key, const char* want);
  const nlohmann::json& obj_;
  std::string file_;
  util::Status status_;
};

}  // namespace kiln::model::detail
