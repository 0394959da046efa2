// libFuzzer: the tool-call parser (chat/tool_calls.h) on arbitrary text. The
// first byte picks the format and the split points; the oracle is that
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
  o.format = static_cast<ToolCallFormat>(control % 4);
  o.tool_names = {"f", "get_weather"};
  o.parallel = (control & 4) != 0;
  const ToolCallOutput whole = parse_tool_calls(text, o);

  ToolCallStreamParser p(o);
  ToolCallOutput out;
  const size_t step = 1 + (control >> 3);  // 1..32 bytes per feed
  for (size_t at = 0; at < text.size(); at += step) p.feed(text.substr(at, step), out);
  p.finish(out);
  if (out.content != whole.content || out.calls.size() != whole.calls.size()) std::abort();
  for (size_t i = 0; i < out.calls.size(); ++i) {
    if (out.calls[i].name != whole.calls[i].name ||
        out.calls[i].arguments != whole.calls[i].arguments)
      std::abort();
  }
  return 0;
}
