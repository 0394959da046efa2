// The /v1/chat/completions prompt (api-contract §5.3, §5.4, §6.1) built on
// ChatTemplate::apply(): OpenAI messages normalised for the template, tools
// passed or described in the last message, and a final assistant message
// continued rather than closed.
#pragma once

#include <ctime>
#include <optional>
#include <string>

#include "chat/chat_template.h"

namespace kiln::chat {

// TGI's default tool prompt (§6.1 step 3), byte-identical for prompt parity.
extern const char* const kDefaultToolPrompt;

struct ChatPromptRequest {
  const Json* messages = nullptr;          // OpenAI messages as received (shape validated by api/)
  const Json* tools = nullptr;             // tools to offer, OpenAI shape; nullptr: no tools
  std::optional<std::string> tool_prompt;  // set: TGI grammar flow, text appended to the last
                                           // message (§6.1 step 2); empty means the default
  const Json* template_kwargs = nullptr;   // chat_template_kwargs (object)
  std::optional<std::tm> now;              // frozen clock (tests)
};

struct ChatPrompt {
  std::string text;
  bool continues_assistant = false;  // last message was an assistant prefill (§5.4)
};

struct ChatPromptResult {
  std::optional<ChatPrompt> prompt;
  TemplateError error;  // when !prompt
  bool ok() const { return prompt.has_value(); }
};

// Renders the prompt for a chat request. Errors are the template's own
// (raise_exception, type errors, limits) or an unsupported content part.
ChatPromptResult build_chat_prompt(const ChatTemplate& tmpl, const ChatPromptRequest& request);

// §5.3: content parts flattened (text concatenated, images as "![](url)"),
// null content as "", developer -> system, tool-call arguments parsed when
// they are JSON, tool_call_id kept, name dropped. Error text on a part type
// other than text/image_url.
util::Result<Json> normalize_messages(const Json& messages);

}  // namespace kiln::chat
