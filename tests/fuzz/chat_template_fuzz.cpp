// libFuzzer: parse and render arbitrary templates. Input = template source,
// optionally followed by a NUL byte and a JSON object of extra variables.
// Small limits keep each run fast; any crash, leak or hang is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "chat/jinja/jinja.h"

namespace {

const kiln::chat::Json& base_context() {
  static const kiln::chat::Json ctx = kiln::chat::Json::parse(R"({
    "messages": [
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": [{"type": "text", "text": "it's \"q\" é 😀"}]},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
        "function": {"name": "f", "arguments": {"x": 1, "y": [1.5, null, true]}}}]},
      {"role": "tool", "tool_call_id": "c1", "content": "{\"ok\": 1}"},
      {"role": "user", "content": "  spaced\n"}
    ],
    "tools": [{"type": "function", "function": {"name": "f", "description": "d",
      "parameters": {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}}}],
    "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>",
    "n": 3, "f": 2.5, "s": "abc", "d": {"b": 1, "a": [2, 3]}, "e": []
  })");
  return ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  std::string source = input;
  kiln::chat::Json extra;
  if (size_t nul = input.find('\0'); nul != std::string::npos) {
    source = input.substr(0, nul);
    extra = kiln::chat::Json::parse(input.substr(nul + 1), nullptr, false);
  }
  kiln::jinja::Limits limits;
  limits.max_output_bytes = 1 << 20;
  limits.max_loop_iterations = 20000;
  limits.max_recursion_depth = 40;
  limits.max_nesting_depth = 60;
  auto tmpl = kiln::jinja::Template::compile(source, limits);
  if (!tmpl) return 0;
  kiln::jinja::Context ctx;
  const auto& base = base_context();
  for (auto it = base.begin(); it != base.end(); ++it)
    ctx.set(it.key(), kiln::chat::to_value(it.value()));
  if (extra.is_object())
    for (auto it = extra.begin(); it != extra.end(); ++it)
      ctx.set(it.key(), kiln::chat::to_value(it.value()));
  auto out = tmpl.value()->render(ctx);
  (void)out;
  return 0;
}
