// Tool calling for /v1/chat/completions (api-contract §6, Kiln's flow of
// §6.0): which tools reach the template, whether the output is constrained,
// and the parser that splits the reply into content and tool calls.
//
//  - tool_choice `none` or no tools: nothing here (the template gets no tools).
//  - `auto`: tools go to the template; no grammar; the reply is parsed in the
//    template's own format (chat/tool_calls.h), so a plain answer stays possible.
//  - `required` / a named function: a JSON Schema grammar forces one call,
//    `{"name": …, "arguments"|"parameters": {…}}` (chat::tool_call_schema).
// Templates with no call format of their own (no marker in the source) also
// get TGI's tool prompt in the last message (§6.1 step 2), which asks for
// that same JSON.
#pragma once

#include <memory>
#include <optional>

#include "api/model_services.h"
#include "chat/chat_template.h"
#include "chat/tool_calls.h"

namespace kiln::cli {

struct ToolSetup {
  chat::Json tools = chat::Json::array();  // OpenAI tool objects offered to the template
  chat::ToolCallFormat format = chat::ToolCallFormat::kJson;
  bool forced = false;  // required / named: grammar below
  std::optional<api::GrammarSpec> grammar;
  bool describe_in_prompt = false;  // no native format: TGI's tool prompt is appended
};

// Null when the request offers no tools (none, or an empty list).
std::optional<ToolSetup> tool_setup(const api::ChatRequest& request,
                                    const chat::ChatTemplate& tmpl);

// The api-side parser over chat::ToolCallStreamParser: assigns call ids
// (`call_` + 24 hex digits), emits each call as a first fragment (id, name,
// empty arguments) and then its arguments (in forced mode, piece by piece as
// they are generated); in forced mode a reply without a complete call is a
// 422 `Tool error: Failed to parse generated text`.
std::unique_ptr<api::ToolCallParser> make_tool_call_parser(const api::ChatRequest& request,
                                                           const ToolSetup& setup);

}  // namespace kiln::cli
