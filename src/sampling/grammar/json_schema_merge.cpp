#include "sampling/grammar/json_schema_merge.h"

#include <algorithm>
#include <unordered_set>

#include <fmt/format.h>

namespace kiln::sampling::grammar {

bool is_annotation(const std::string& key) {
  // Everything JSON Schema does not define as a constraint is an annotation
  // (title, description, default, examples, $comment, vendor x-... keys).
  static const std::unordered_set<std::string> k{"type",
                                                 "enum",
                                                 "const",
                                                 "properties",
                                                 "required",
                                                 "additionalProperties",
                                                 "items",
                                                 "prefixItems",
                                                 "additionalItems",
                                                 "minItems",
                                                 "maxItems",
                                                 "minLength",
                                                 "maxLength",
                                                 "pattern",
                                                 "format",
                                                 "minimum",
                                                 "maximum",
                                                 "exclusiveMinimum",
                                                 "exclusiveMaximum",
                                                 "anyOf",
                                                 "oneOf",
                                                 "allOf",
                                                 "$ref",
                                                 "not",
                                                 "if",
                                                 "then",
                                                 "else",
                                                 "dependentSchemas",
                                                 "dependentRequired",
                                                 "dependencies",
                                                 "patternProperties",
                                                 "propertyNames",
                                                 "unevaluatedProperties",
                                                 "unevaluatedItems",
                                                 "contains",
                                                 "minContains",
                                                 "maxContains",
                                                 "multipleOf",
                                                 "minProperties",
                                                 "maxProperties",
                                                 "$dynamicRef",
                                                 "$dynamicAnchor",
                                                 "$recursiveRef",
                                                 "$recursiveAnchor",
                                                 "uniqueItems"};
  return !k.count(key) && !is_container(key);
}

bool is_container(const std::string& key) {
  return key == "$defs" || key == "definitions" || key == "$functions";
}

size_t constraining_keys(const Json& schema, const char* except) {
  size_t n = 0;
  for (auto it = schema.begin(); it != schema.end(); ++it)
    if (it.key() != except && !is_annotation(it.key()) && !is_container(it.key())) ++n;
  return n;
}

util::Result<const Json*> SchemaMerger::resolve(const std::string& ref) const {
  if (ref.empty() || ref[0] != '#')
    return util::make_error(
        fmt::format("only in-document $ref ('#/...') is supported, got '{}'", ref));
  std::string pointer;
  for (size_t i = 1; i < ref.size(); ++i) {  // URI fragments are percent-encoded
    if (ref[i] == '%' && i + 2 < ref.size() && std::isxdigit(uint8_t(ref[i + 1])) &&
        std::isxdigit(uint8_t(ref[i + 2]))) {
      pointer.push_back(char(std::stoi(ref.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      pointer.push_back(ref[i]);
    }
  }
  if (!pointer.empty() && pointer[0] != '/')
    return util::make_error(
        fmt::format("$ref '{}' is not a JSON pointer (anchors are not supported)", ref));
  try {
    const Json& target = doc_.at(Json::json_pointer(pointer));
    return &target;
  } catch (const nlohmann::json::exception&) {
    return util::make_error(fmt::format("$ref '{}' does not resolve", ref));
  }
}

util::Result<Json> SchemaMerger::merge_all_of(const Json& schema, const std::string& path) const {
  return flatten(schema, path, 0);
}

// Folds allOf branches and a top-level $ref into one schema.
util::Result<Json> SchemaMerger::flatten(const Json& schema, const std::string& path,
                                         int32_t depth) const {
  if (depth > max_depth_)
    return util::make_error(
        fmt::format("$ref/allOf at {} nest too deeply (or form a cycle)", path));
  if (!schema.is_object()) return schema;
  Json acc = Json::object();
  for (auto it = schema.begin(); it != schema.end(); ++it)
    if (it.key() != "allOf" && it.key() != "$ref") acc[it.key()] = it.value();
  if (schema.contains("$ref")) {
    if (!schema["$ref"].is_string())
      return util::make_error(fmt::format("$ref at {} must be a string", path));
    auto target = resolve(schema["$ref"].get<std::string>());
    if (!target.ok()) return util::make_error(fmt::format("{} at {}", target.message(), path));
    auto flat = flatten(**target, schema["$ref"].get<std::string>(), depth + 1);
    if (!flat.ok()) return flat;
    auto merged = merge_two(std::move(acc), *flat, path);
    if (!merged.ok()) return merged;
    acc = std::move(*merged);
  }
  if (schema.contains("allOf")) {
    const Json& branches = schema["allOf"];
    if (!branches.is_array() || branches.empty())
      return util::make_error(fmt::format("allOf at {} must be a non-empty array", path));
    for (size_t i = 0; i < branches.size(); ++i) {
      auto flat = flatten(branches[i], fmt::format("{}/allOf/{}", path, i), depth + 1);
      if (!flat.ok()) return flat;
      auto merged = merge_two(std::move(acc), *flat, path);
      if (!merged.ok()) return merged;
      acc = std::move(*merged);
    }
  }
  return acc;
}

namespace {

std::vector<std::string> type_list(const Json& t) {
  std::vector<std::string> out;
  if (t.is_string())
    out.push_back(t.get<std::string>());
  else if (t.is_array())
    for (const auto& x : t)
      if (x.is_string()) out.push_back(x.get<std::string>());
  return out;
}

bool has_type(const std::vector<std::string>& types, const std::string& t) {
  return std::find(types.begin(), types.end(), t) != types.end();
}

// allOf of several schemas as one (true when empty, false when any is false).
Json all_of(std::vector<Json> schemas) {
  std::vector<Json> kept;
  for (auto& s : schemas) {
    if (s == Json(false)) return false;
    if (s != Json(true) && s != Json::object()) kept.push_back(std::move(s));
  }
  if (kept.empty()) return true;
  if (kept.size() == 1) return kept[0];
  return Json{{"allOf", kept}};
}

// properties/additionalProperties of both sides: a name one side does not
// declare must satisfy that side's additionalProperties.
void merge_properties(Json& a, const Json& b) {
  static const Json kEmpty = Json::object();
  const Json& pa = a.contains("properties") ? a["properties"] : kEmpty;
  const Json& pb = b.contains("properties") ? b["properties"] : kEmpty;
  const Json apa = a.contains("additionalProperties") ? a["additionalProperties"] : Json(true);
  const Json apb = b.contains("additionalProperties") ? b["additionalProperties"] : Json(true);
  Json props = Json::object();
  auto add = [&](const std::string& name) {
    if (props.contains(name)) return;
    props[name] = all_of({pa.contains(name) ? pa[name] : apa, pb.contains(name) ? pb[name] : apb});
  };
  for (auto it = pa.begin(); it != pa.end(); ++it) add(it.key());
  for (auto it = pb.begin(); it != pb.end(); ++it) add(it.key());
  Json extra = all_of({apa, apb});
  a.erase("properties");
  a.erase("additionalProperties");
  if (!props.empty()) a["properties"] = std::move(props);
  if (extra != Json(true)) a["additionalProperties"] = std::move(extra);
}

}  // namespace

util::Result<Json> SchemaMerger::merge_two(Json a, const Json& b, const std::string& path) const {
  if (b.is_boolean()) return b.get<bool>() ? a : b;
  if (a.is_boolean()) return a.get<bool>() ? b : a;
  if (!b.is_object())
    return util::make_error(fmt::format("allOf branch at {} must be a schema", path));
  if ((a.contains("properties") || a.contains("additionalProperties") || b.contains("properties") ||
       b.contains("additionalProperties")) &&
      (!a.value("properties", Json::object()).is_object() ||
       !b.value("properties", Json::object()).is_object()))
    return util::make_error(fmt::format("properties at {} must be an object", path));
  merge_properties(a, b);
  for (auto it = b.begin(); it != b.end(); ++it) {
    const std::string& k = it.key();
    const Json& v = it.value();
    if (k == "properties" || k == "additionalProperties") continue;
    if (!a.contains(k)) {
      a[k] = v;
      continue;
    }
    Json& u = a[k];
    if (u == v || is_annotation(k) || is_container(k)) continue;
    if (k == "type") {
      auto ta = type_list(u), tb = type_list(v);
      Json both = Json::array();
      for (const auto& t : ta) {
        if (has_type(tb, t))
          both.push_back(t);
        else if (t == "number" && has_type(tb, "integer"))
          both.push_back("integer");
        else if (t == "integer" && has_type(tb, "number"))
          both.push_back("integer");
      }
      u = both;
    } else if (k == "required" && u.is_array() && v.is_array()) {
      for (const auto& r : v)
        if (std::find(u.begin(), u.end(), r) == u.end()) u.push_back(r);
    } else if ((k == "minimum" || k == "exclusiveMinimum" || k == "minLength" || k == "minItems") &&
               u.is_number() && v.is_number()) {
      if (v.get<double>() > u.get<double>()) u = v;
    } else if ((k == "maximum" || k == "exclusiveMaximum" || k == "maxLength" || k == "maxItems") &&
               u.is_number() && v.is_number()) {
      if (v.get<double>() < u.get<double>()) u = v;
    } else if (k == "enum" && u.is_array() && v.is_array()) {
      Json both = Json::array();
      for (const auto& x : u)
        if (std::find(v.begin(), v.end(), x) != v.end()) both.push_back(x);
      u = both;
    } else if ((k == "items" || k == "additionalItems") && (u.is_object() || v.is_object())) {
      if (u == Json(false) || v == Json(false))
        u = false;
      else if (u == Json(true))
        u = v;
      else if (v != Json(true))
        u = Json{{"allOf", Json::array({u, v})}};
    } else {
      return util::make_error(
          fmt::format("allOf at {}: cannot combine different values of '{}'", path, k));
    }
  }
  return a;
}

}  // namespace kiln::sampling::grammar
