// JSON Schema keywords: accepted and rejected texts, with Python jsonschema's
// verdicts as the reference (tests/data/grammar/json_schema_cases.json, made
// by scripts/make_grammar_goldens.py). Kiln's deliberate deviations (a
// stricter, canonical subset) are listed there with a note.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_paths.h"
#include "test_vocab.h"

namespace kiln::sampling::grammar::test {
namespace {

using Json = nlohmann::ordered_json;

const Json& cases() {
  static const Json j = [] {
    std::ifstream in(kiln::test::data_dir() / "grammar" / "json_schema_cases.json");
    return Json::parse(in);
  }();
  return j;
}

std::shared_ptr<const Constraint> compile(const Json& schema) {
  auto c = compile_json_schema(schema.dump(), small_vocab());
  EXPECT_TRUE(c.ok()) << schema.dump() << ": " << c.message();
  return c.ok() ? *c : nullptr;
}

TEST(JsonSchemaGoldens, EveryCaseMatchesTheReference) {
  ASSERT_GE(cases()["schemas"].size(), 50u);
  int checked = 0, deviations = 0;
  for (const auto& s : cases()["schemas"]) {
    auto c = compile(s["schema"]);
    if (!c) continue;
    for (const auto& k : s["cases"]) {
      const std::string text = k["text"];
      const bool expect = k["expect"];
      if (k.contains("note")) {
        ++deviations;
        EXPECT_TRUE(k["jsonschema"].get<bool>());
      } else {
        EXPECT_EQ(expect, k["jsonschema"].get<bool>());
      }
      EXPECT_EQ(accepts(c, text), expect) << s["name"] << ": " << text;
      ++checked;
    }
  }
  EXPECT_GT(checked, 500);
  EXPECT_GT(deviations, 5);
}

// Along every accepted text, the mask at each step equals the token-by-token
// check (the cached per-position masks and the stack checks agree with the
// byte path).
TEST(JsonSchemaGoldens, MaskIsExactAlongAcceptedTexts) {
  auto vocab = small_vocab();
  for (const auto& s : cases()["schemas"]) {
    auto c = compile(s["schema"]);
    if (!c) continue;
    int texts = 0;
    for (const auto& k : s["cases"]) {
      if (!k["expect"].get<bool>() || ++texts > 3) continue;
      const std::string text = k["text"];
      ConstraintMatcher m(c);
      for (int32_t id : greedy_tokens(*vocab, text)) {
        expect_mask_is_exact(m, s["name"].get<std::string>() + " in " + text);
        ASSERT_TRUE(m.advance(id)) << s["name"] << ": " << text;
      }
      EXPECT_TRUE(m.can_end());
      expect_mask_is_exact(m, s["name"].get<std::string>() + " at end of " + text);
      EXPECT_TRUE(m.advance(kEos));
      EXPECT_TRUE(m.finished());
    }
  }
}

struct Refusal {
  const char* schema;
  const char* message_part;
};

TEST(JsonSchema, UnsupportedKeywordsAreRefusedByName) {
  const Refusal refusals[] = {
      {R"({"not": {"type": "string"}})", "'not'"},
      {R"({"type": "object", "properties": {"a": {"type": "string", "if": {}, "then": {}}}})",
       "'if'"},
      {R"({"type": "object", "patternProperties": {"^x": {}}})", "'patternProperties'"},
      {R"({"type": "array", "uniqueItems": true})", "'uniqueItems'"},
      {R"({"type": "number", "multipleOf": 3})", "'multipleOf'"},
      {R"({"type": "object", "minProperties": 1})", "'minProperties'"},
      {R"({"type": "array", "contains": {"type": "integer"}})", "'contains'"},
      {R"({"type": "object", "propertyNames": {"pattern": "^a"}})", "'propertyNames'"},
      {R"({"$dynamicRef": "#meta"})", "'$dynamicRef'"},
      {R"({"$ref": "http://example.com/schema.json"})", "in-document"},
      {R"({"$ref": "#/$defs/missing"})", "does not resolve"},
      {R"({"type": "strng"})", "unknown type 'strng'"},
      {R"x({"type": "string", "pattern": "(?=x)"})x", "lookaround"},
      {R"({"type": "string", "maxLength": 1000000})", "maxLength"},
      {R"({"type": "integer", "minimum": 10, "maximum": 5})", "no integer"},
      {R"({"type": "number", "minimum": 1e300})", "minimum"},
      {R"({"type": "object", "properties": {}, "required": ["x"], "additionalProperties": false})",
       "required property 'x'"},
      {R"({"allOf": [{"pattern": "a"}, {"pattern": "b"}]})", "'pattern'"},
      {R"({"type": "object", "properties": {"a": false}, "required": ["a"]})", "admits no value"},
      {R"({"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"})", "admits no value"},
      {R"({"$defs": {"a": {"anyOf": [{"$ref": "#/$defs/b"}]}, "b": {"$ref": "#/$defs/a"}},
          "$ref": "#/$defs/a"})",
       "admits no value"},
      {R"({"$defs": {"a": {"anyOf": [{"type": "integer"}, {"$ref": "#/$defs/a"}]}},
          "$ref": "#/$defs/a"})",
       "left-recursive"},
      {"not json", "not valid JSON"},
      {"42", "object or a boolean"},
  };
  for (const auto& r : refusals) {
    auto c = compile_json_schema(r.schema, small_vocab());
    ASSERT_FALSE(c.ok()) << r.schema;
    EXPECT_NE(c.message().find(r.message_part), std::string::npos)
        << r.schema << " -> " << c.message();
  }
}

TEST(JsonSchema, AnnotationsAndUnknownKeywordsAreIgnored) {
  auto c = compile_json_schema(R"({"title": "T", "description": "d", "x-vendor": {"a": 1},
      "type": "object", "properties": {"a": {"type": "string", "default": "q", "examples": ["e"],
      "format": "binary"}}, "required": ["a"], "additionalProperties": false,
      "$schema": "https://json-schema.org/draft/2020-12/schema"})",
                               small_vocab());
  ASSERT_TRUE(c.ok()) << c.message();
  EXPECT_TRUE(accepts(*c, R"({"a": "anything"})"));
}

TEST(JsonSchema, SchemaGivenAsJsonStringIsParsed) {
  auto c = compile_json_schema(R"("{\"type\": \"boolean\"}")", small_vocab());
  ASSERT_TRUE(c.ok()) << c.message();
  EXPECT_TRUE(accepts(*c, "true"));
  EXPECT_FALSE(accepts(*c, "1"));
}

TEST(JsonSchema, TgiToolGrammarRefsResolve) {
  // The shape of contract §6.5's tool grammar: refs into "$functions".
  auto c = compile_json_schema(R"({"$functions": {"get_weather": {"properties": {
      "_name": {"type": "string", "const": "get_weather"}, "city": {"type": "string"}},
      "required": ["_name", "city"], "additionalProperties": false}},
      "properties": {"function": {"anyOf": [{"$ref": "#/$functions/get_weather"}]}},
      "required": ["function"], "additionalProperties": false})",
                               small_vocab());
  ASSERT_TRUE(c.ok()) << c.message();
  EXPECT_TRUE(accepts(*c, R"({"function": {"_name": "get_weather", "city": "Paris"}})"));
  EXPECT_FALSE(accepts(*c, R"({"function": {"_name": "other", "city": "Paris"}})"));
}

TEST(JsonSchema, CompactWhitespaceOption) {
  CompileOptions o;
  o.json.max_whitespace = 0;
  auto c =
      compile_json_schema(R"({"type": "array", "items": {"type": "integer"}})", small_vocab(), o);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(accepts(*c, "[1,2]"));
  EXPECT_FALSE(accepts(*c, "[1, 2]"));
}

TEST(JsonSchema, AdditionalPropertiesDefaultOption) {
  const char* schema = R"({"type": "object", "properties": {"a": {"type": "integer"}}})";
  auto strict = compile_json_schema(schema, small_vocab());
  CompileOptions o;
  o.json.additional_properties_default = true;
  auto open = compile_json_schema(schema, small_vocab(), o);
  ASSERT_TRUE(strict.ok() && open.ok());
  EXPECT_FALSE(accepts(*strict, R"({"a": 1, "b": [true]})"));
  EXPECT_TRUE(accepts(*open, R"({"a": 1, "b": [true]})"));
  EXPECT_FALSE(accepts(*open, R"({"a": 1, "a": 2})"));  // extra keys exclude declared names
}

TEST(JsonSchema, JsonObjectAcceptsAnyObjectOnly) {
  auto c = compile_json_object(small_vocab());
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(accepts(*c, R"({"k": [1, {"n": null}], "s": "\u00e9"})"));
  EXPECT_TRUE(accepts(*c, "{}"));
  EXPECT_FALSE(accepts(*c, "[]"));
  EXPECT_FALSE(accepts(*c, "\"s\""));
}

}  // namespace
}  // namespace kiln::sampling::grammar::test
