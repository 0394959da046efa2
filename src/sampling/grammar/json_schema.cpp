#include "sampling/grammar/json_schema.h"

#include <deque>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "sampling/grammar/json_primitives.h"
#include "sampling/grammar/json_schema_merge.h"
#include "sampling/grammar/regex.h"

namespace kiln::sampling::grammar {
namespace {

const std::unordered_set<std::string>& unsupported_keywords() {
  static const std::unordered_set<std::string> k{"not",
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
  return k;
}

std::string pointer_token(const std::string& name) {
  std::string out;
  for (char c : name) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  return out;
}

class SchemaCompiler {
 public:
  SchemaCompiler(const Json& doc, const JsonSchemaOptions& opt, const Budget& budget)
      : opt_(opt), budget_(budget), merger_(doc, opt.max_nesting) {
    ws_ = opt.max_whitespace > 0 ? ex::repeat(ex::bytes({{'\t', '\n'}, {'\r', '\r'}, {' ', ' '}}),
                                              0, opt.max_whitespace)
                                 : ex::empty();
  }

  util::Result<Grammar> compile(const Json* schema) {
    g_.root = g_.add_rule("root");
    int32_t main = schema ? rule_for(*schema, "#") : any_object_rule();
    define(g_.root, ex::call(main));
    while (!pending_.empty() && error_.empty()) {
      Pending p = pending_.front();
      pending_.pop_front();
      define(p.rule, value_expr(*p.schema, p.path));
    }
    if (!error_.empty()) return util::make_error(error_);
    auto st = finalize(g_, "schema");
    if (!st.ok()) return util::make_error(st.message());
    return std::move(g_);
  }

 private:
  struct Pending {
    int32_t rule;
    const Json* schema;
    std::string path;
  };

  void fail(std::string msg) {
    if (error_.empty()) error_ = std::move(msg);
  }

  int32_t reserve(std::string name) {
    if (int32_t(g_.rules.size()) >= opt_.max_rules) {
      fail(fmt::format("schema has more than {} distinct subschemas", opt_.max_rules));
      return g_.root;
    }
    return g_.add_rule(std::move(name));
  }

  void define_dfa(int32_t rule, Dfa dfa) {
    total_states_ += dfa.num_states;
    if (total_states_ > opt_.max_total_states)
      fail(fmt::format("schema is too large (more than {} automaton states)",
                       opt_.max_total_states));
    g_.rules[rule] = std::move(dfa);
  }

  void define(int32_t rule, const ExprPtr& e) {
    if (!error_.empty()) return;
    auto dfa = compile_expr(*e, budget_);
    if (!dfa.ok())
      return fail(fmt::format("schema at {} is too complex: {}", g_.names[rule], dfa.message()));
    define_dfa(rule, std::move(*dfa));
  }

  // A new rule holding the intersection of several call-free languages.
  ExprPtr intersection(const std::vector<ExprPtr>& parts, const std::string& path) {
    if (parts.size() == 1) return parts[0];
    util::Result<Dfa> acc = compile_expr(*parts[0], budget_);
    for (size_t i = 1; i < parts.size() && acc.ok(); ++i) {
      auto next = compile_expr(*parts[i], budget_);
      if (!next.ok()) {
        acc = next.error();
        break;
      }
      acc = intersect(*acc, *next, budget_);
    }
    if (!acc.ok()) {
      fail(fmt::format("schema at {} is too complex: {}", path, acc.message()));
      return ex::nothing();
    }
    int32_t r = reserve(path);
    define_dfa(r, std::move(*acc));
    return ex::call(r);
  }

  int32_t rule_for(const Json& s, const std::string& path) {
    if (s.is_boolean()) {
      if (s.get<bool>()) return any_value_rule();
      if (false_rule_ < 0) {
        false_rule_ = reserve("false");
        define(false_rule_, ex::nothing());
      }
      return false_rule_;
    }
    std::string key = canonical_key(s);
    auto it = by_text_.find(key);
    if (it != by_text_.end()) return it->second;
    int32_t r = reserve(path);
    by_text_.emplace(std::move(key), r);
    pending_.push_back({r, &s, path});
    return r;
  }

  // Text of a schema without its annotations: schemas that differ only in
  // descriptions share one rule (and its masks).
  static std::string canonical_key(const Json& s) {
    if (!s.is_object()) return s.dump();
    Json copy = Json::object();
    for (auto it = s.begin(); it != s.end(); ++it)
      if (!is_annotation(it.key())) copy[it.key()] = it.value();
    return copy.dump();
  }

  int32_t rule_for_ref(const std::string& ref, const std::string& path) {
    auto it = by_ref_.find(ref);
    if (it != by_ref_.end()) return it->second;
    auto target = merger_.resolve(ref);
    if (!target.ok()) {
      fail(fmt::format("{} at {}", target.message(), path));
      return g_.root;
    }
    int32_t r = rule_for(**target, ref);
    by_ref_.emplace(ref, r);
    return r;
  }

  const Json& own(Json j) {
    owned_.push_back(std::move(j));
    return owned_.back();
  }

  ExprPtr value_expr(const Json& s, const std::string& path) {
    if (s.is_boolean()) return s.get<bool>() ? ex::call(any_value_rule()) : ex::nothing();
    if (!s.is_object()) {
      fail(fmt::format("schema at {} must be an object or a boolean", path));
      return ex::nothing();
    }
    for (auto it = s.begin(); it != s.end(); ++it) {
      if (unsupported_keywords().count(it.key()) &&
          !(it.key() == "uniqueItems" && it.value() == Json(false))) {
        fail(fmt::format("unsupported JSON Schema keyword '{}' at {}", it.key(), path));
        return ex::nothing();
      }
    }
    const bool has_ref = s.contains("$ref"), has_all = s.contains("allOf");
    if (has_ref && !has_all && constraining_keys(s, "$ref") == 0) {
      if (!s["$ref"].is_string()) {
        fail(fmt::format("$ref at {} must be a string", path));
        return ex::nothing();
      }
      return ex::call(rule_for_ref(s["$ref"].get<std::string>(), path));
    }
    if (has_ref || has_all) {
      auto merged = merger_.merge_all_of(s, path);
      if (!merged.ok()) {
        fail(merged.message());
        return ex::nothing();
      }
      if (merged->is_object() && (merged->contains("allOf") || merged->contains("$ref"))) {
        fail(fmt::format("allOf at {} could not be merged", path));
        return ex::nothing();
      }
      return ex::call(rule_for(own(std::move(*merged)), path));
    }
    if (s.contains("anyOf") || s.contains("oneOf")) return any_of_expr(s, path);
    if (s.contains("const") || s.contains("enum")) return enum_expr(s, path);

    std::vector<std::string> types;
    if (s.contains("type")) {
      const Json& t = s["type"];
      if (t.is_string()) {
        types.push_back(t.get<std::string>());
      } else if (t.is_array()) {
        for (const auto& x : t) {
          if (!x.is_string()) {
            fail(fmt::format("type at {} must be a string or a list of strings", path));
            return ex::nothing();
          }
          types.push_back(x.get<std::string>());
        }
      } else {
        fail(fmt::format("type at {} must be a string or a list of strings", path));
        return ex::nothing();
      }
    } else {
      types = inferred_types(s);
      if (types.empty()) return ex::call(any_value_rule());
    }
    bool has_number = std::find(types.begin(), types.end(), "number") != types.end();
    std::vector<ExprPtr> alts;
    for (const auto& t : types) {
      if (t == "null")
        alts.push_back(ex::literal("null"));
      else if (t == "boolean")
        alts.push_back(ex::alt({ex::literal("true"), ex::literal("false")}));
      else if (t == "string")
        alts.push_back(string_expr(s, path));
      else if (t == "number")
        alts.push_back(number_expr(s, path, false));
      else if (t == "integer")
        alts.push_back(has_number ? ex::nothing() : number_expr(s, path, true));
      else if (t == "object")
        alts.push_back(object_expr(s, path));
      else if (t == "array")
        alts.push_back(array_expr(s, path));
      else {
        fail(fmt::format("unknown type '{}' at {}", t, path));
        return ex::nothing();
      }
    }
    return ex::alt(std::move(alts));
  }

  static std::vector<std::string> inferred_types(const Json& s) {
    std::vector<std::string> t;
    auto any = [&](std::initializer_list<const char*> keys) {
      for (const char* k : keys)
        if (s.contains(k)) return true;
      return false;
    };
    if (any({"properties", "required", "additionalProperties"})) t.push_back("object");
    if (any({"items", "prefixItems", "additionalItems", "minItems", "maxItems"}))
      t.push_back("array");
    if (any({"minLength", "maxLength", "pattern", "format"})) t.push_back("string");
    if (any({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})) t.push_back("number");
    return t;
  }

  ExprPtr any_of_expr(const Json& s, const std::string& path) {
    if (s.contains("anyOf") && s.contains("oneOf")) {
      fail(fmt::format("anyOf together with oneOf at {} is not supported", path));
      return ex::nothing();
    }
    const char* key = s.contains("anyOf") ? "anyOf" : "oneOf";
    const Json& branches = s[key];
    if (!branches.is_array() || branches.empty()) {
      fail(fmt::format("{} at {} must be a non-empty array", key, path));
      return ex::nothing();
    }
    // Sibling constraints apply to every branch: anyOf(b...) & rest = anyOf(b & rest ...).
    Json rest = Json::object();
    for (auto it = s.begin(); it != s.end(); ++it)
      if (it.key() != key && !is_annotation(it.key()) && !is_container(it.key()))
        rest[it.key()] = it.value();
    std::vector<ExprPtr> alts;
    for (size_t i = 0; i < branches.size(); ++i) {
      std::string p = fmt::format("{}/{}/{}", path, key, i);
      if (rest.empty()) {
        alts.push_back(ex::call(rule_for(branches[i], p)));
      } else {
        Json both = Json::object();
        both["allOf"] = Json::array({branches[i], rest});
        alts.push_back(ex::call(rule_for(own(std::move(both)), p)));
      }
    }
    return ex::alt(std::move(alts));
  }

  ExprPtr enum_expr(const Json& s, const std::string& path) {
    std::vector<Json> values;
    if (s.contains("const")) {
      values.push_back(s["const"]);
    } else {
      if (!s["enum"].is_array()) {
        fail(fmt::format("enum at {} must be an array", path));
        return ex::nothing();
      }
      for (const auto& v : s["enum"]) values.push_back(v);
    }
    if (s.contains("const") && s.contains("enum")) {
      const Json& e = s["enum"];
      if (!e.is_array() || std::find(e.begin(), e.end(), s["const"]) == e.end()) values.clear();
    }
    std::vector<ExprPtr> alts;
    for (const auto& v : values)
      if (matches_type(v, s)) alts.push_back(value_literal(v));
    return ex::alt(std::move(alts));
  }

  // One JSON value, with the same whitespace freedom as generated values.
  // Recursion is bounded by the schema document's nesting (max_nesting).
  ExprPtr value_literal(const Json& v) {
    if (v.is_array() && !v.empty()) {
      std::vector<ExprPtr> parts{ex::literal("["), ws_};
      for (size_t i = 0; i < v.size(); ++i) {
        if (i) parts.push_back(sep());
        parts.push_back(value_literal(v[i]));
      }
      parts.push_back(ws_);
      parts.push_back(ex::literal("]"));
      return ex::seq(std::move(parts));
    }
    if (v.is_object() && !v.empty()) {
      std::vector<ExprPtr> parts{ex::literal("{"), ws_};
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) parts.push_back(sep());
        first = false;
        parts.push_back(ex::literal(Json(it.key()).dump()));
        parts.push_back(colon());
        parts.push_back(value_literal(it.value()));
      }
      parts.push_back(ws_);
      parts.push_back(ex::literal("}"));
      return ex::seq(std::move(parts));
    }
    if (v.is_structured())
      return ex::seq(
          {ex::literal(v.is_array() ? "[" : "{"), ws_, ex::literal(v.is_array() ? "]" : "}")});
    return ex::literal(v.dump());
  }

  static bool matches_type(const Json& v, const Json& s) {
    if (!s.contains("type")) return true;
    std::vector<std::string> types;
    if (s["type"].is_string())
      types.push_back(s["type"].get<std::string>());
    else if (s["type"].is_array())
      for (const auto& t : s["type"])
        if (t.is_string()) types.push_back(t.get<std::string>());
    for (const auto& t : types) {
      if ((t == "null" && v.is_null()) || (t == "boolean" && v.is_boolean()) ||
          (t == "string" && v.is_string()) || (t == "number" && v.is_number()) ||
          (t == "object" && v.is_object()) || (t == "array" && v.is_array()))
        return true;
      if (t == "integer" && v.is_number() &&
          (v.is_number_integer() || v.get<double>() == double(int64_t(v.get<double>()))))
        return true;
    }
    return false;
  }

  std::optional<int32_t> count(const Json& s, const char* key, const std::string& path) {
    if (!s.contains(key)) return std::nullopt;
    const Json& v = s[key];
    if (!v.is_number_integer() &&
        !(v.is_number_float() && v.get<double>() == double(int64_t(v.get<double>())))) {
      fail(fmt::format("{} at {} must be a non-negative integer", key, path));
      return std::nullopt;
    }
    double d = v.get<double>();
    if (d < 0) {
      fail(fmt::format("{} at {} must be a non-negative integer", key, path));
      return std::nullopt;
    }
    if (d > kMaxRepeat) {
      fail(fmt::format("{} {} at {} exceeds the supported limit of {}", key, v.dump(), path,
                       kMaxRepeat));
      return std::nullopt;
    }
    return int32_t(d);
  }

  ExprPtr string_expr(const Json& s, const std::string& path) {
    std::vector<ExprPtr> parts;
    auto quoted = [](ExprPtr content) {
      return ex::seq({ex::literal("\""), content, ex::literal("\"")});
    };
    if (s.contains("format")) {
      if (!s["format"].is_string()) {
        fail(fmt::format("format at {} must be a string", path));
        return ex::nothing();
      }
      if (auto re = format_regex(s["format"].get<std::string>())) {
        auto e = parse_regex(*re, CharEncoding::kJsonString, RegexAnchoring::kFullMatch);
        if (!e.ok()) {
          fail(fmt::format("internal: format regex: {}", e.message()));
          return ex::nothing();
        }
        parts.push_back(quoted(*e));
      }
    }
    if (s.contains("pattern")) {
      if (!s["pattern"].is_string()) {
        fail(fmt::format("pattern at {} must be a string", path));
        return ex::nothing();
      }
      auto e = parse_regex(s["pattern"].get<std::string>(), CharEncoding::kJsonString,
                           RegexAnchoring::kSearch);
      if (!e.ok()) {
        fail(fmt::format("pattern at {}: {}", path, e.message()));
        return ex::nothing();
      }
      parts.push_back(quoted(*e));
    }
    auto lo = count(s, "minLength", path);
    auto hi = count(s, "maxLength", path);
    if (!error_.empty()) return ex::nothing();
    if (lo || hi)
      parts.push_back(quoted(ex::repeat(json_char_expr(), lo.value_or(0), hi ? *hi : -1)));
    if (parts.empty()) return ex::call(string_rule());
    return intersection(parts, path);
  }

  ExprPtr number_expr(const Json& s, const std::string& path, bool integer) {
    NumberBounds b;
    auto bound = [&](const char* key) -> std::optional<Decimal> {
      if (!s.contains(key) || s[key].is_boolean()) return std::nullopt;
      if (!s[key].is_number()) {
        fail(fmt::format("{} at {} must be a number", key, path));
        return std::nullopt;
      }
      auto d = parse_decimal(s[key].dump());
      if (!d)
        fail(fmt::format("{} {} at {} is outside the supported range", key, s[key].dump(), path));
      return d;
    };
    auto tighter = [](std::optional<Decimal>& cur, bool& strict, std::optional<Decimal> d,
                      bool d_strict, bool lower) {
      if (!d) return;
      if (!cur) {
        cur = d, strict = d_strict;
        return;
      }
      Json a = Json::parse(
          fmt::format("{}{}.{}0", cur->negative ? "-" : "", cur->int_digits, cur->frac_digits));
      Json c = Json::parse(
          fmt::format("{}{}.{}0", d->negative ? "-" : "", d->int_digits, d->frac_digits));
      double x = a.get<double>(), y = c.get<double>();
      if ((lower && y > x) || (!lower && y < x) || (y == x && d_strict)) cur = d, strict = d_strict;
    };
    auto min = bound("minimum"), max = bound("maximum");
    auto xmin = bound("exclusiveMinimum"), xmax = bound("exclusiveMaximum");
    if (!error_.empty()) return ex::nothing();
    // Draft 4: exclusiveMinimum/Maximum are booleans that modify minimum/maximum.
    bool min_strict = s.contains("exclusiveMinimum") && s["exclusiveMinimum"] == Json(true);
    bool max_strict = s.contains("exclusiveMaximum") && s["exclusiveMaximum"] == Json(true);
    tighter(b.lo, b.lo_strict, min, min_strict, true);
    tighter(b.lo, b.lo_strict, xmin, true, true);
    tighter(b.hi, b.hi_strict, max, max_strict, false);
    tighter(b.hi, b.hi_strict, xmax, true, false);
    if (!b.any()) return ex::call(integer ? integer_rule() : number_rule());
    auto parts = integer ? bounded_integer_exprs(b) : bounded_number_exprs(b);
    if (!parts.ok()) {
      fail(fmt::format("{} at {}", parts.message(), path));
      return ex::nothing();
    }
    return intersection(*parts, path);
  }

  ExprPtr colon() const { return ex::seq({ws_, ex::literal(":"), ws_}); }
  ExprPtr sep() const { return ex::seq({ws_, ex::literal(","), ws_}); }

  ExprPtr object_expr(const Json& s, const std::string& path) {
    std::vector<std::pair<std::string, const Json*>> props;
    if (s.contains("properties")) {
      if (!s["properties"].is_object()) {
        fail(fmt::format("properties at {} must be an object", path));
        return ex::nothing();
      }
      for (auto it = s["properties"].begin(); it != s["properties"].end(); ++it)
        props.push_back({it.key(), &it.value()});
    }
    std::unordered_set<std::string> required;
    if (s.contains("required")) {
      if (!s["required"].is_array()) {
        fail(fmt::format("required at {} must be an array of strings", path));
        return ex::nothing();
      }
      for (const auto& r : s["required"]) {
        if (!r.is_string()) {
          fail(fmt::format("required at {} must be an array of strings", path));
          return ex::nothing();
        }
        required.insert(r.get<std::string>());
      }
    }
    // Extra keys: a schema for their values, or null when not allowed.
    const Json* extra = nullptr;
    static const Json kTrue(true);
    if (s.contains("additionalProperties")) {
      const Json& a = s["additionalProperties"];
      if (!a.is_boolean() && !a.is_object()) {
        fail(fmt::format("additionalProperties at {} must be a boolean or a schema", path));
        return ex::nothing();
      }
      if (a != Json(false)) extra = &a;
    } else if (props.empty() || opt_.additional_properties_default) {
      extra = &kTrue;
    }
    for (const auto& name : s.contains("required") ? s["required"] : Json::array()) {
      const std::string n = name.get<std::string>();
      bool declared = false;
      for (const auto& p : props) declared = declared || p.first == n;
      if (declared) continue;
      if (!extra) {
        fail(fmt::format("required property '{}' at {} is not allowed by additionalProperties", n,
                         path));
        return ex::nothing();
      }
      props.push_back({n, extra});
    }

    const size_t n = props.size();
    size_t first_required = n;
    for (size_t k = 0; k < n && first_required == n; ++k)
      if (required.count(props[k].first)) first_required = k;
    std::vector<std::pair<ExprPtr, ExprPtr>> steps;
    for (size_t k = 0; k < n; ++k) {
      const auto& [name, schema] = props[k];
      std::string p = fmt::format("{}/properties/{}", path, pointer_token(name));
      ExprPtr member =
          ex::seq({ex::literal(Json(name).dump()), colon(), ex::call(rule_for(*schema, p))});
      ExprPtr after = ex::seq({sep(), member});
      steps.push_back({required.count(name) ? after : ex::opt(after),
                       k <= first_required ? member : ex::nothing()});
    }
    ExprPtr body = ex::chain(std::move(steps));
    const bool all_optional = first_required == n;
    if (extra) {
      std::vector<std::string> names;
      for (const auto& p : props) names.push_back(Json(p.first).dump());
      ExprPtr key = names.empty() ? ex::call(string_rule()) : extra_key(names, path);
      ExprPtr value =
          ex::call(extra->is_boolean() ? any_value_rule()
                                       : rule_for(*extra, path + "/additionalProperties"));
      ExprPtr member = ex::seq({key, colon(), value});
      ExprPtr rest = ex::star(ex::seq({sep(), member}));
      body =
          ex::alt({ex::seq({body, rest}), all_optional ? ex::seq({member, rest}) : ex::nothing()});
    }
    if (all_optional)
      return ex::seq({ex::literal("{"), ws_, ex::opt(ex::seq({body, ws_})), ex::literal("}")});
    return ex::seq({ex::literal("{"), ws_, body, ws_, ex::literal("}")});
  }

  // Keys other than the declared ones (compared as written, which is exact
  // because keys are written in one canonical form).
  ExprPtr extra_key(const std::vector<std::string>& declared, const std::string& path) {
    std::vector<ExprPtr> lits;
    for (const auto& d : declared) lits.push_back(ex::literal(d));
    auto any_key = compile_expr(
        *ex::seq({ex::literal("\""), ex::star(json_char_expr()), ex::literal("\"")}), budget_);
    auto names = compile_expr(*ex::alt(std::move(lits)), budget_);
    if (!any_key.ok() || !names.ok()) {
      fail(fmt::format("schema at {} is too complex: {}", path,
                       any_key.ok() ? names.message() : any_key.message()));
      return ex::nothing();
    }
    auto dfa = intersect(*any_key, complement(*names), budget_);
    if (!dfa.ok()) {
      fail(fmt::format("schema at {} is too complex: {}", path, dfa.message()));
      return ex::nothing();
    }
    int32_t r = reserve(path + "/additionalProperties (key)");
    define_dfa(r, std::move(*dfa));
    return ex::call(r);
  }

  ExprPtr array_expr(const Json& s, const std::string& path) {
    constexpr size_t kMaxPrefixItems = 256;
    std::vector<const Json*> prefix;
    const Json* tail = nullptr;
    static const Json kTrue(true);
    auto tail_from = [&](const char* key) {
      if (!s.contains(key)) return &kTrue;
      const Json& t = s[key];
      return t == Json(false) ? static_cast<const Json*>(nullptr) : &t;
    };
    if (s.contains("prefixItems")) {
      if (!s["prefixItems"].is_array()) {
        fail(fmt::format("prefixItems at {} must be an array", path));
        return ex::nothing();
      }
      for (const auto& p : s["prefixItems"]) prefix.push_back(&p);
      tail = tail_from("items");
    } else if (s.contains("items") && s["items"].is_array()) {  // drafts 4-7 tuples
      for (const auto& p : s["items"]) prefix.push_back(&p);
      tail = tail_from("additionalItems");
    } else {
      tail = tail_from("items");
    }
    if (prefix.size() > kMaxPrefixItems) {
      fail(fmt::format("more than {} prefixItems at {}", kMaxPrefixItems, path));
      return ex::nothing();
    }
    const int32_t k = int32_t(prefix.size());
    int32_t lo = count(s, "minItems", path).value_or(0);
    auto hi_opt = count(s, "maxItems", path);
    if (!error_.empty()) return ex::nothing();
    int32_t hi = hi_opt ? *hi_opt : -1;
    if (!tail) hi = hi < 0 ? k : std::min(hi, k);
    if (hi >= 0 && lo > hi) return ex::nothing();
    if (hi == 0) return ex::seq({ex::literal("["), ws_, ex::literal("]")});

    auto element = [&](int32_t i) {
      if (i < k) return ex::call(rule_for(*prefix[i], fmt::format("{}/prefixItems/{}", path, i)));
      return ex::call(rule_for(*tail, path + "/items"));
    };
    ExprPtr body;
    const int32_t kk = hi < 0 ? k : std::min(k, hi);  // prefix elements that may appear
    if (k == 0) {
      body = ex::seq({element(0), ex::repeat(ex::seq({sep(), element(0)}), std::max(0, lo - 1),
                                             hi < 0 ? -1 : hi - 1)});
    } else {
      ExprPtr rest =
          (tail && (hi < 0 || hi > k))
              ? ex::repeat(ex::seq({sep(), element(k)}), std::max(0, lo - k), hi < 0 ? -1 : hi - k)
              : (lo > kk ? ex::nothing() : ex::empty());
      for (int32_t i = kk - 1; i >= 1; --i) {
        ExprPtr step = ex::seq({sep(), element(i), rest});
        rest = i < lo ? step : ex::opt(step);
      }
      body = ex::seq({element(0), rest});
    }
    if (lo == 0)
      return ex::seq({ex::literal("["), ws_, ex::opt(ex::seq({body, ws_})), ex::literal("]")});
    return ex::seq({ex::literal("["), ws_, body, ws_, ex::literal("]")});
  }

  int32_t string_rule() {
    if (string_rule_ < 0) {
      string_rule_ = reserve("string");
      define(string_rule_, plain_string_expr());
    }
    return string_rule_;
  }
  int32_t number_rule() {
    if (number_rule_ < 0) {
      number_rule_ = reserve("number");
      define(number_rule_, any_number_expr());
    }
    return number_rule_;
  }
  int32_t integer_rule() {
    if (integer_rule_ < 0) {
      integer_rule_ = reserve("integer");
      define(integer_rule_, any_integer_expr());
    }
    return integer_rule_;
  }

  // Any JSON value; objects and arrays recurse through calls.
  int32_t any_value_rule() {
    if (any_value_rule_ >= 0) return any_value_rule_;
    any_value_rule_ = reserve("any value");
    int32_t object = any_object_rule();
    int32_t array = reserve("any array");
    ExprPtr v = ex::call(any_value_rule_);
    define(array,
           ex::seq({ex::literal("["), ws_,
                    ex::opt(ex::seq({v, ex::star(ex::seq({sep(), v})), ws_})), ex::literal("]")}));
    define(any_value_rule_, ex::alt({ex::call(object), ex::call(array), ex::call(string_rule()),
                                     ex::call(number_rule()), ex::literal("true"),
                                     ex::literal("false"), ex::literal("null")}));
    return any_value_rule_;
  }

  int32_t any_object_rule() {
    if (any_object_rule_ >= 0) return any_object_rule_;
    any_object_rule_ = reserve("any object");
    ExprPtr member = ex::seq({ex::call(string_rule()), colon(), ex::call(any_value_rule())});
    define(any_object_rule_,
           ex::seq({ex::literal("{"), ws_,
                    ex::opt(ex::seq({member, ex::star(ex::seq({sep(), member})), ws_})),
                    ex::literal("}")}));
    return any_object_rule_;
  }

  JsonSchemaOptions opt_;
  Budget budget_;
  SchemaMerger merger_;
  Grammar g_;
  std::string error_;
  ExprPtr ws_;
  std::deque<Pending> pending_;
  std::deque<Json> owned_;
  std::unordered_map<std::string, int32_t> by_text_, by_ref_;
  int32_t string_rule_ = -1, number_rule_ = -1, integer_rule_ = -1;
  int32_t any_value_rule_ = -1, any_object_rule_ = -1, false_rule_ = -1;
  int64_t total_states_ = 0;
};

// The schema document's nesting depth, without recursion.
int32_t nesting_depth(const Json& doc, int32_t limit) {
  std::vector<std::pair<const Json*, int32_t>> stack{{&doc, 1}};
  int32_t deepest = 0;
  while (!stack.empty()) {
    auto [j, d] = stack.back();
    stack.pop_back();
    deepest = std::max(deepest, d);
    if (deepest > limit) return deepest;
    if (j->is_structured())
      for (const auto& child : *j) stack.push_back({&child, d + 1});
  }
  return deepest;
}

}  // namespace

util::Result<Grammar> json_schema_grammar(std::string_view text, const JsonSchemaOptions& options,
                                          const Budget& budget) {
  if (text.size() > options.max_schema_bytes)
    return util::make_error(
        fmt::format("schema is larger than {} bytes", options.max_schema_bytes));
  // The parser keeps its own stack and bounds depth only by memory, so a
  // cheap scan rejects absurd nesting before parsing.
  int32_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  if (deepest > options.max_nesting)
    return util::make_error(
        fmt::format("schema is nested deeper than {} levels", options.max_nesting));
  Json doc = Json::parse(text, nullptr, false);
  if (doc.is_discarded()) return util::make_error("schema is not valid JSON");
  if (doc.is_string()) {  // a schema sent as a JSON string holding the schema
    doc = Json::parse(doc.get<std::string>(), nullptr, false);
    if (doc.is_discarded()) return util::make_error("schema is not valid JSON");
  }
  if (!doc.is_object() && !doc.is_boolean())
    return util::make_error("schema must be an object or a boolean");
  if (nesting_depth(doc, options.max_nesting) > options.max_nesting)
    return util::make_error(
        fmt::format("schema is nested deeper than {} levels", options.max_nesting));
  try {
    return SchemaCompiler(doc, options, budget).compile(&doc);
  } catch (const nlohmann::json::exception& e) {
    return util::make_error(fmt::format("schema: {}", e.what()));
  }
}

util::Result<Grammar> json_object_grammar(const JsonSchemaOptions& options, const Budget& budget) {
  Json doc = Json::object();
  return SchemaCompiler(doc, options, budget).compile(nullptr);
}

}  // namespace kiln::sampling::grammar
