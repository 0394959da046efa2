// Hostile input: huge or deeply nested schemas, catastrophic regexes,
// recursive references. Each is refused with a clear message or compiled
// within the budgets; none may hang, crash or exhaust memory.
#include <string>

#include <gtest/gtest.h>

#include "test_vocab.h"

namespace kiln::sampling::grammar::test {
namespace {

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(Hostile, DeeplyNestedSchemaIsRefused) {
  std::string s = repeat(R"({"type": "array", "items": )", 30000) + "{}" + repeat("}", 30000);
  auto c = compile_json_schema(s, small_vocab());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.message().find("nested deeper"), std::string::npos) << c.message();
  // Nesting inside strings does not count.
  auto ok = compile_json_schema(
      R"({"type": "string", "description": ")" + repeat("[{", 1000) + "\"}", small_vocab());
  EXPECT_TRUE(ok.ok()) << ok.message();
}

TEST(Hostile, NestingWithinTheLimitCompiles) {
  std::string s =
      repeat(R"({"type": "array", "items": )", 30) + R"({"type": "integer"})" + repeat("}", 30);
  auto c = compile_json_schema(s, small_vocab());
  ASSERT_TRUE(c.ok()) << c.message();
  EXPECT_TRUE(accepts(*c, repeat("[", 30) + "7" + repeat("]", 30)));
  EXPECT_FALSE(accepts(*c, repeat("[", 29) + "7" + repeat("]", 29)));
}

TEST(Hostile, HugeSchemasAreBounded) {
  std::string props;
  std::string required;
  for (int i = 0; i < 1000; ++i) {
    props.append(i ? "," : "")
        .append("\"p")
        .append(std::to_string(i))
        .append("\": {\"type\": \"integer\"}");
    required.append(i ? "," : "").append("\"p").append(std::to_string(i)).append("\"");
  }
  // A thousand required properties: one after the other, linear in size.
  std::string schema = R"({"type": "object", "properties": {)";
  schema.append(props).append(R"(}, "required": [)").append(required).append("]}");
  auto c = compile_json_schema(schema, small_vocab());
  ASSERT_TRUE(c.ok()) << c.message();
  std::string text = "{";
  for (int i = 0; i < 1000; ++i)
    text.append(i ? ", " : "").append("\"p").append(std::to_string(i)).append("\": 7");
  text.append("}");
  EXPECT_TRUE(accepts(*c, text));
  EXPECT_FALSE(accepts(*c, R"({"p0": 1})"));
  // A thousand optional properties in order need a quadratic automaton
  // (after each one, any later one may follow): refused, quickly.
  std::string optional = R"({"type": "object", "properties": {)";
  optional.append(props).append("}}");
  auto opt = compile_json_schema(optional, small_vocab());
  ASSERT_FALSE(opt.ok());
  EXPECT_NE(opt.message().find("too complex"), std::string::npos) << opt.message();

  std::string values;
  for (int i = 0; i < 5000; ++i)
    values.append(i ? "," : "").append("\"v").append(std::to_string(i)).append("\"");
  std::string enum_schema = R"({"enum": [)";
  enum_schema.append(values).append("]}");
  auto e = compile_json_schema(enum_schema, small_vocab());
  ASSERT_TRUE(e.ok()) << e.message();
  EXPECT_TRUE(accepts(*e, "\"v4321\""));

  CompileOptions small;
  small.json.max_schema_bytes = 1000;
  auto big = compile_json_schema(enum_schema, small_vocab(), small);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.message().find("larger than"), std::string::npos);
}

TEST(Hostile, CountsAreBounded) {
  auto many =
      compile_json_schema(R"({"type": "array", "minItems": 5, "maxItems": 5000})", small_vocab());
  EXPECT_FALSE(many.ok());  // 5000 unrolled items exceed the automaton budget
  if (!many.ok()) {
    EXPECT_NE(many.message().find("too complex"), std::string::npos) << many.message();
  }
  auto length = compile_json_schema(R"({"type": "string", "maxLength": 5000})", small_vocab());
  EXPECT_TRUE(length.ok()) << length.message();
  auto over = compile_json_schema(R"({"type": "string", "minLength": 10001})", small_vocab());
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.message().find("minLength"), std::string::npos);
}

TEST(Hostile, CatastrophicRegexesAreLinear) {
  const std::pair<const char*, std::string> cases[] = {
      {"(a+)+$", repeat("a", 5000) + "!"},
      {"(a|a)*b", repeat("a", 5000)},
      {"(x+x+)+y", repeat("x", 5000)},
      {"(.*a){12}", repeat("a", 11)},
  };
  for (const auto& [pattern, text] : cases) {
    auto c = compile_regex(pattern, small_vocab());
    ASSERT_TRUE(c.ok()) << pattern << ": " << c.message();
    EXPECT_FALSE(accepts(*c, text)) << pattern;
  }
}

TEST(Hostile, StateExplosionIsRefused) {
  const char* patterns[] = {
      "(a|b)*a(a|b){40}",      // subset construction: 2^40 states
      "((a{100}){100}){100}",  // a million unrolled copies
      "(((x{1,100}){1,100}){1,100})",
  };
  for (const char* p : patterns) {
    auto c = compile_regex(p, small_vocab());
    ASSERT_FALSE(c.ok()) << p;
    EXPECT_NE(c.message().find("too complex"), std::string::npos) << p << " -> " << c.message();
  }
  std::string groups = repeat("(", 1000) + "a" + repeat(")", 1000);
  auto deep = compile_regex(groups, small_vocab());
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.message().find("nested deeper"), std::string::npos);
  std::string quantified = "a";
  quantified.append(repeat("?", 100000));
  auto quantifiers = compile_regex(quantified, small_vocab());
  EXPECT_FALSE(quantifiers.ok());
}

TEST(Hostile, RecursiveRefsAreBoundedOrRefused) {
  // Mutual recursion with a base case compiles and nests as deep as the text does.
  auto c = compile_json_schema(R"({"$defs": {
      "a": {"type": "array", "items": {"$ref": "#/$defs/b"}, "maxItems": 2},
      "b": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/a"}]}},
      "$ref": "#/$defs/a"})",
                               small_vocab());
  ASSERT_TRUE(c.ok()) << c.message();
  EXPECT_TRUE(accepts(*c, repeat("[", 200) + repeat("]", 200)));
  // No base case: no finite value.
  auto endless = compile_json_schema(R"({"$defs": {"n": {"type": "object",
      "properties": {"next": {"$ref": "#/$defs/n"}}, "required": ["next"]}}, "$ref": "#/$defs/n"})",
                                     small_vocab());
  ASSERT_FALSE(endless.ok());
  EXPECT_NE(endless.message().find("admits no value"), std::string::npos) << endless.message();
  // A long chain of aliases is refused instead of recursing without bound.
  std::string defs;
  for (int i = 0; i < 3000; ++i)
    defs.append("\"d")
        .append(std::to_string(i))
        .append("\": {\"$ref\": \"#/$defs/d")
        .append(std::to_string(i + 1))
        .append("\"},");
  defs += "\"d3000\": {\"type\": \"integer\"}";
  std::string chained = R"({"$defs": {)";
  chained.append(defs).append(R"(}, "$ref": "#/$defs/d0"})");
  auto chain = compile_json_schema(chained, small_vocab());
  ASSERT_FALSE(chain.ok());
  EXPECT_NE(chain.message().find("deeper"), std::string::npos) << chain.message();
}

}  // namespace
}  // namespace kiln::sampling::grammar::test
