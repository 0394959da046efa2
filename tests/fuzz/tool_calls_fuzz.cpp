// libFuzzer: the tool-call parser (chat/tool_calls.h) on arbitrary text. The
// first byte picks the format, forced mode and the split points; the oracle is that
// feeding the text in pieces gives exactly the one-shot result.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "chat/tool_calls.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kiln::chat;
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  ToolCallParserOptions o;
  o.format = static_cast<ToolCallFormat>(control % 5);
  o.tool_names = {"f", "get_weather"};
  o.parallel = (control & 4) != 0;
  o.forced = (control & 0x80) != 0;
  const ToolCallOutput whole = parse_tool_calls(text, o);

  ToolCallStreamParser p(o);
  ToolCallOutput out;
  const size_t step = 1 + ((control >> 3) & 0x0F);  // 1..16 bytes per feed
  for (size_t at = 0; at < text.size(); at += step) p.feed(text.substr(at, step), out);
  p.finish(out);
  // Pieces are folded per call: forced mode splits arguments differently.
  auto fold = [](const ToolCallOutput& o) {
    std::string s;
    for (const auto& c : o.calls) {
      if (c.first) s += "|" + std::to_string(c.index) + ":" + c.name + ":";
      s += c.arguments;
    }
    return s;
  };
  if (out.content != whole.content || fold(out) != fold(whole)) std::abort();
  return 0;
}
