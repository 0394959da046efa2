#include "model/json_reader.h"

#include <fstream>
#include <sstream>

namespace kiln::model::detail {

util::Result<nlohmann::json> read_json_file(const std::filesystem::path& path) {
  constexpr uintmax_t kMaxBytes = uintmax_t{256} << 20;
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return util::make_error(path.string() + ": cannot read: " + ec.message());
  if (size > kMaxBytes) return util::make_error(path.string() + ": file is over 256 MB");
  std::ifstream in(path, std::ios::binary);
  if (!in) return util::make_error(path.string() + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  // Rejects nesting beyond 64 levels before nlohmann builds (and later destroys) it.
  bool too_deep = false;
  nlohmann::json::parser_callback_t cb = [&](int depth, nlohmann::json::parse_event_t,
                                             nlohmann::json&) {
    if (depth > 64) too_deep = true;
    return !too_deep;
  };
  auto j = nlohmann::json::parse(text, cb, /*allow_exceptions=*/false);
  if (too_deep) return util::make_error(path.string() + ": JSON nested too deeply");
  if (j.is_discarded()) return util::make_error(path.string() + ": not valid JSON");
  if (!j.is_object()) return util::make_error(path.string() + ": not a JSON object");
  return j;
}

const nlohmann::json* JsonReader::find(const std::string& key) const {
  auto it = obj_.find(key);
  if (it == obj_.end() || it->is_null()) return nullptr;
  return &*it;
}

bool JsonReader::has(const std::string& key) const { return find(key) != nullptr; }

void JsonReader::error(const std::string& message) {
  if (status_) status_ = util::make_error(file_ + ": " + message);
}

void JsonReader::wrong_type(const std::string& key, const char* want) {
  error("field '" + key + "' should be " + want + ", not " + find(key)->type_name());
}

std::optional<int64_t> JsonReader::opt_int(const std::string& key) {
  const auto* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_number_integer() &&
      (!v->is_number_unsigned() || v->get<uint64_t>() <= uint64_t{INT64_MAX}))
    return v->get<int64_t>();
  wrong_type(key, "an integer");
  return std::nullopt;
}

std::optional<double> JsonReader::opt_float(const std::string& key) {
  const auto* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_number()) return v->get<double>();
  wrong_type(key, "a number");
  return std::nullopt;
}

std::optional<bool> JsonReader::opt_bool(const std::string& key) {
  const auto* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_boolean()) return v->get<bool>();
  wrong_type(key, "a boolean");
  return std::nullopt;
}

std::optional<std::string> JsonReader::opt_string(const std::string& key) {
  const auto* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_string()) return v->get<std::string>();
  wrong_type(key, "a string");
  return std::nullopt;
}

int64_t JsonReader::need_int(const std::string& key) {
  if (!has(key)) {
    error("field '" + key + "' is missing");
    return 0;
  }
  return opt_int(key).value_or(0);
}

std::vector<int64_t> JsonReader::int_list(const std::string& key) {
  const auto* v = find(key);
  if (v == nullptr) return {};
  if (v->is_number_integer()) return {v->get<int64_t>()};
  std::vector<int64_t> out;
  if (v->is_array()) {
    for (const auto& x : *v) {
      if (!x.is_number_integer()) {
        wrong_type(key, "an integer or a list of integers");
        return {};
      }
      out.push_back(x.get<int64_t>());
    }
    return out;
  }
  wrong_type(key, "an integer or a list of integers");
  return {};
}

std::vector<double> JsonReader::float_list(const std::string& key) {
  const auto* v = find(key);
  if (v == nullptr) return {};
  std::vector<double> out;
  if (v->is_array()) {
    for (const auto& x : *v) {
      if (!x.is_number()) {
        wrong_type(key, "a list of numbers");
        return {};
      }
      out.push_back(x.get<double>());
    }
    return out;
  }
  wrong_type(key, "a list of numbers");
  return {};
}

std::vector<std::string> JsonReader::string_list(const std::string& key) {
  const auto* v = find(key);
  if (v == nullptr) return {};
  std::vector<std::string> out;
  if (v->is_array()) {
    for (const auto& x : *v) {
      if (!x.is_string()) {
        wrong_type(key, "a list of strings");
        return {};
      }
      out.push_back(x.get<std::string>());
    }
    return out;
  }
  wrong_type(key, "a list of strings");
  return {};
}

}  // namespace kiln::model::detail
