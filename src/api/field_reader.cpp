#include "api/field_reader.h"

#include <cmath>

namespace kiln::api {

std::string FieldReader::path_of(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

const Json* FieldReader::get(const char* key) const {
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

void FieldReader::fail_field(const std::string& key, const std::string& text) {
  fail(ApiError::deserialize(path_of(key) + ": " + text));
}

std::string FieldReader::describe(const Json& value) {
  switch (value.type()) {
    case Json::value_t::string: {
      std::string s = value.get_ref<const std::string&>();
      if (s.size() > 40) s = s.substr(0, 40) + "...";
      return "string " + dump(Json(s));
    }
    case Json::value_t::boolean:
      return std::string("boolean `") + (value.get<bool>() ? "true" : "false") + "`";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "integer `" + dump(value) + "`";
    case Json::value_t::number_float:
      return "floating point `" + dump(value) + "`";
    case Json::value_t::array:
      return "sequence";
    case Json::value_t::object:
      return "map";
    default:
      return "null";
  }
}

void FieldReader::type_error(const char* key, const Json& value, const char* expected) {
  fail_field(key, "invalid type: " + describe(value) + ", expected " + expected);
}

std::optional<std::string> FieldReader::string(const char* key) {
  const Json* v = get(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    type_error(key, *v, "a string");
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::optional<bool> FieldReader::boolean(const char* key) {
  const Json* v = get(key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) {
    type_error(key, *v, "a boolean");
    return std::nullopt;
  }
  return v->get<bool>();
}

std::optional<double> FieldReader::number(const char* key) {
  const Json* v = get(key);
  if (!v) return std::nullopt;
  if (!v->is_number()) {
    type_error(key, *v, "f32");
    return std::nullopt;
  }
  double d = v->get<double>();
  // The sampler works in f32: a value that does not fit is a type error.
  if (!std::isfinite(d) || std::fabs(d) > 3.4028234663852886e38) {
    fail_field(key, "invalid value: " + describe(*v) + ", expected f32");
    return std::nullopt;
  }
  return d;
}

std::optional<int64_t> FieldReader::integer(const char* key, int64_t min, int64_t max,
                                            const char* type) {
  const Json* v = get(key);
  if (!v) return std::nullopt;
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(max)) {
      fail_field(key, "invalid value: integer `" + std::to_string(u) + "`, expected " + type);
      return std::nullopt;
    }
    return static_cast<int64_t>(u);
  }
  if (v->is_number_integer()) {
    int64_t i = v->get<int64_t>();
    if (i < min || i > max) {
      fail_field(key, "invalid value: integer `" + std::to_string(i) + "`, expected " + type);
      return std::nullopt;
    }
    return i;
  }
  type_error(key, *v, type);
  return std::nullopt;
}

std::optional<uint64_t> FieldReader::u64(const char* key) {
  const Json* v = get(key);
  if (!v) return std::nullopt;
  if (v->is_number_unsigned()) return v->get<uint64_t>();
  if (v->is_number_integer()) {
    fail_field(key, "invalid value: integer `" + dump(*v) + "`, expected u64");
    return std::nullopt;
  }
  type_error(key, *v, "u64");
  return std::nullopt;
}

std::vector<std::string> FieldReader::strings(const char* key, bool allow_single) {
  std::vector<std::string> out;
  const Json* v = get(key);
  if (!v) return out;
  if (allow_single && v->is_string()) {
    out.push_back(v->get<std::string>());
    return out;
  }
  if (!v->is_array()) {
    type_error(key, *v, "a sequence");
    return out;
  }
  for (size_t i = 0; i < v->size(); ++i) {
    const Json& item = (*v)[i];
    if (!item.is_string()) {
      fail_field(std::string(key) + "[" + std::to_string(i) + "]",
                 "invalid type: " + describe(item) + ", expected a string");
      return {};
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::string FieldReader::required_string(const char* key) {
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) {
    std::string text = std::string("missing field `") + key + "`";
    fail(ApiError::deserialize(path_.empty() ? text : path_ + ": " + text));
    return {};
  }
  auto s = string(key);
  return s ? *s : std::string();
}

namespace {

// A schema given as a JSON string is parsed first (§6.5).
std::optional<Json> schema_value(FieldReader& r, const Json& value, const std::string& key) {
  if (value.is_object()) return value;
  if (value.is_string()) {
    Json parsed = Json::parse(value.get_ref<const std::string&>(), nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) {
      r.fail(ApiError::validation("grammar is not valid: the schema string is not a JSON object"));
      return std::nullopt;
    }
    return parsed;
  }
  r.fail_field(key, "invalid type: " + FieldReader::describe(value) + ", expected a JSON schema");
  return std::nullopt;
}

}  // namespace

std::optional<GrammarSpec> read_grammar(FieldReader& r, const char* key, bool openai) {
  const Json* g = r.get(key);
  if (!g) return std::nullopt;
  const std::string path = r.path_of(key);
  if (!g->is_object()) {
    r.fail_field(
        key, "invalid type: " + FieldReader::describe(*g) + ", expected internally tagged enum");
    return std::nullopt;
  }
  FieldReader gr(*g, path);
  std::string type = gr.required_string("type");
  if (!gr.ok()) {
    r.fail(gr.error());
    return std::nullopt;
  }
  const Json* value = gr.get("value");
  GrammarSpec spec;
  spec.require_properties = !openai;
  if (type == "text" && openai) return std::nullopt;
  if (type == "regex") {
    if (!value || !value->is_string()) {
      r.fail(ApiError::deserialize(path + ": `value` must be a regex string"));
      return std::nullopt;
    }
    spec.type = GrammarSpec::Type::kRegex;
    spec.value = *value;
    return spec;
  }
  if (type == "json" || type == "json_object") {
    if (!value) {
      if (openai && type == "json_object") {
        spec.type = GrammarSpec::Type::kAnyJsonObject;
        return spec;
      }
      r.fail(ApiError::deserialize(path + ": missing field `value`"));
      return std::nullopt;
    }
    auto schema = schema_value(r, *value, std::string(key) + ".value");
    if (!schema) return std::nullopt;
    spec.value = std::move(*schema);
    return spec;
  }
  if (type == "json_schema") {
    // TGI: {"value": {"name"?, "schema"}}; OpenAI: {"json_schema": {...}}.
    const Json* holder = value ? value : gr.get("json_schema");
    if (!holder || !holder->is_object()) {
      r.fail(ApiError::deserialize(path + ": missing field `json_schema`"));
      return std::nullopt;
    }
    auto it = holder->find("schema");
    if (it == holder->end() || it->is_null()) {
      // OpenAI allows a json_schema without a schema: any JSON object.
      spec.type = GrammarSpec::Type::kAnyJsonObject;
      return spec;
    }
    auto schema = schema_value(r, *it, std::string(key) + ".json_schema.schema");
    if (!schema) return std::nullopt;
    spec.value = std::move(*schema);
    return spec;
  }
  r.fail(ApiError::deserialize(path + ".type: unknown variant `" + type +
                               "`, expected one of `json`, `json_object`, `json_schema`, `regex`" +
                               (openai ? ", `text`" : "")));
  return std::nullopt;
}

}  // namespace kiln::api
