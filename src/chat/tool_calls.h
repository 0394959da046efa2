// Tool calls in generated text (api-contract §6.0): the model's own format is
// recognised and split out of the reply as it streams, so no grammar is
// needed in `auto` mode and a plain answer is always possible. Formats:
//  - Hermes/Qwen: `<tool_call>{"name": …, "arguments": {…}}</tool_call>`
//    blocks anywhere in the reply, as many as the model writes;
//  - Mistral: `[TOOL_CALLS]` followed by a JSON array (or object) of calls;
//    Granite 3: the same after `<|tool_call|>`;
//  - Llama 3.1: the reply is `{"name": …, "parameters": {…}}`, optionally
//    after `<|python_tag|>`, several separated by whitespace or `;`;
//  - generic JSON (every format's fallback): a reply that starts with a JSON
//    object or array of calls naming an offered tool.
// A call's payload may also be OpenAI's `{"function": {"name", "arguments"}}`
// or TGI's `{"function": {"_name": …, <arguments>}}`. Arguments come out as
// compact JSON object text, `{}` when the model gave none.
//
// The grammar used when a call is forced (tool_choice required / named)
// produces the bare JSON payload, which every format's parser accepts.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "chat/chat_template.h"

namespace kiln::chat {

enum class ToolCallFormat { kJson, kHermes, kLlama3, kMistral, kGranite };

// The format a template's source asks the model to use (its markers);
// kJson when it defines none.
ToolCallFormat detect_tool_call_format(std::string_view template_source);
const char* tool_call_format_name(ToolCallFormat format);
// The payload's arguments key the format's models are trained on:
// "parameters" for Llama 3.1 and generic JSON (TGI's tool prompt), else "arguments".
const char* arguments_key(ToolCallFormat format);

// A call, or a piece of one: a call's first piece has `first` set and its
// name; later pieces (forced mode streams the arguments as they are
// generated) continue its arguments. Concatenated, a call's arguments are
// compact JSON object text.
struct ParsedToolCall {
  size_t index = 0;  // position of the call in the reply
  bool first = true;
  std::string name;
  std::string arguments;
};

// What one feed()/finish() produced, in order: content first, then calls.
struct ToolCallOutput {
  std::string content;
  std::vector<ParsedToolCall> calls;
};

struct ToolCallParserOptions {
  ToolCallFormat format = ToolCallFormat::kJson;
  // Offered tools. A bare JSON reply is a call only when it names one of
  // them; a block behind an explicit marker may name any tool.
  std::vector<std::string> tool_names;
  bool parallel = true;  // false: calls after the first are dropped
  // The reply is one call forced by tool_call_schema()'s grammar: its
  // arguments stream as they are generated (whitespace outside strings
  // dropped). A reply of another shape is parsed as usual.
  bool forced = false;
};

// Splits generated text into content and tool calls as it streams in. The
// result does not depend on how the text is split across feed() calls.
// Text that may still become a call (a marker's prefix, an open block,
// whitespace before one) is held until it is decided. One per request, one
// thread.
class ToolCallStreamParser {
 public:
  explicit ToolCallStreamParser(ToolCallParserOptions options);

  void feed(std::string_view text, ToolCallOutput& out);
  // End of generation: an unclosed block that parses is still a call,
  // anything else held is content.
  void finish(ToolCallOutput& out);
  // Calls emitted so far (dropped ones not counted).
  size_t calls() const { return calls_; }
  // Forced mode: the generation ended inside the call's arguments.
  bool truncated() const { return forced_ == Forced::kArgs; }

 private:
  enum class State { kText, kBlock, kJson };
  enum class Forced { kHead, kArgs, kTail, kOff };
  void feed_forced(std::string_view text, ToolCallOutput& out);
  void process(bool at_end, ToolCallOutput& out);
  bool step_text(bool at_end, ToolCallOutput& out);
  bool step_block(bool at_end, ToolCallOutput& out);
  bool step_json(bool at_end, ToolCallOutput& out);
  void string_char(char c);
  void emit_text(std::string_view text, ToolCallOutput& out);
  // Parses a payload into calls; false (nothing emitted) if it is not one.
  bool emit_calls(std::string_view payload, bool marked, ToolCallOutput& out);
  void end_block();

  ToolCallParserOptions o_;
  std::string buf_;         // unconsumed text
  std::string held_ws_;     // whitespace held until the next content
  std::string dropped_ws_;  // whitespace before the open marker (content if no call)
  std::string marker_;      // the marker that opened the current block/JSON
  State state_ = State::kText;
  bool value_start_ = true;  // a JSON call may start here (reply start, after a call)
  // JSON scan of buf_ in kJson: position, nesting, string state.
  size_t scan_ = 0;
  int depth_ = 0;
  bool started_ = false, in_string_ = false, escape_ = false;
  size_t calls_ = 0;
  bool any_call_ = false;  // a call was recognised (emitted or dropped)
  // Forced mode: the text up to the arguments' `{`, then the arguments.
  Forced forced_ = Forced::kOff;
  std::string head_;
};

// One-shot: feed(text) then finish().
ToolCallOutput parse_tool_calls(std::string_view text, const ToolCallParserOptions& options);

// The JSON Schema of a forced call to one of `tools` (OpenAI tool objects):
// `{"name": <const>, <key>: <the tool's parameters>}`, one anyOf branch per
// tool, the tools' own schemas under $defs with their in-document $refs
// rewritten. A tool without parameters takes exactly `{}`.
Json tool_call_schema(const Json& tools, ToolCallFormat format);

}  // namespace kiln::chat
