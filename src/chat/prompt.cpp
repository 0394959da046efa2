// build_chat_prompt: the HTTP-side steps around the template render.
#include "chat/prompt.h"

namespace kiln::chat {

const char* const kDefaultToolPrompt =
    "\nGiven the functions available, please respond with a JSON for a function call with its "
    "proper arguments that best answers the given prompt. Respond in the format {name: function "
    "name, parameters: dictionary of argument name and its value}.Do not use variables.\n";

util::Result<Json> normalize_messages(const Json& messages) {
  if (!messages.is_array()) return util::make_error("messages: expected an array");
  Json out = Json::array();
  for (size_t i = 0; i < messages.size(); ++i) {
    const Json& m = messages[i];
    if (!m.is_object())
      return util::make_error("messages[" + std::to_string(i) + "]: expected an object");
    Json n = Json::object();
    std::string role =
        m.contains("role") && m["role"].is_string() ? m["role"].get<std::string>() : "";
    n["role"] = role == "developer" ? "system" : role;
    std::string content;
    if (m.contains("content")) {
      const Json& c = m["content"];
      if (c.is_string()) {
        content = c.get<std::string>();
      } else if (c.is_array()) {
        for (const Json& part : c) {
          std::string type = part.contains("type") && part["type"].is_string()
                                 ? part["type"].get<std::string>()
                                 : "";
          if (type == "text" && part.contains("text") && part["text"].is_string()) {
            content += part["text"].get<std::string>();
          } else if (type == "image_url" && part.contains("image_url") &&
                     part["image_url"].is_object() && part["image_url"].contains("url") &&
                     part["image_url"]["url"].is_string()) {
            content += "![](" + part["image_url"]["url"].get<std::string>() + ")";
          } else {
            return util::make_error("messages[" + std::to_string(i) +
                                    "].content: unsupported part type '" + type + "'");
          }
        }
      } else if (!c.is_null()) {
        return util::make_error("messages[" + std::to_string(i) +
                                "].content: expected a string, an array or null");
      }
    }
    n["content"] = content;
    if (m.contains("tool_calls") && m["tool_calls"].is_array()) {
      Json calls = m["tool_calls"];
      for (Json& call : calls) {
        if (!call.is_object() || !call.contains("function") || !call["function"].is_object())
          continue;
        Json& fn = call["function"];
        if (fn.contains("arguments") && fn["arguments"].is_string()) {
          Json parsed = Json::parse(fn["arguments"].get<std::string>(), nullptr, false);
          if (!parsed.is_discarded()) fn["arguments"] = std::move(parsed);
        }
      }
      n["tool_calls"] = std::move(calls);
    }
    if (m.contains("tool_call_id")) n["tool_call_id"] = m["tool_call_id"];
    out.push_back(std::move(n));
  }
  return out;
}

ChatPromptResult build_chat_prompt(const ChatTemplate& tmpl, const ChatPromptRequest& req) {
  ChatPromptResult result;
  static const Json kEmpty = Json::array();
  auto normalized = normalize_messages(req.messages ? *req.messages : kEmpty);
  if (!normalized) {
    result.error.kind = TemplateError::Kind::kTemplate;
    result.error.message = normalized.message();
    return result;
  }
  Json messages = std::move(normalized).value();
  const bool with_tools = req.tools != nullptr;

  // §6.1 step 2: the tool prompt goes into the last message, unless that
  // message has no text (a pure tool-call assistant message).
  if (with_tools && req.tool_prompt && !messages.empty()) {
    const Json& original = (*req.messages)[messages.size() - 1];
    bool has_text = original.contains("content") && !original["content"].is_null();
    if (has_text) {
      std::string prompt = req.tool_prompt->empty() ? kDefaultToolPrompt : *req.tool_prompt;
      std::string extra = tmpl.uses_tools(true) ? "\n---\n" + prompt
                                                : "\n---\n" + req.tools->dump() + "\n" + prompt;
      Json& last = messages.back();
      last["content"] = last["content"].get<std::string>() + extra;
    }
  }

  RenderInputs in;
  in.messages = &messages;
  in.tools = req.tools;
  in.extra = req.template_kwargs;
  in.add_generation_prompt = true;
  in.now = req.now;
  auto rendered = tmpl.apply(in, with_tools);
  if (!rendered) {
    result.error = to_template_error(rendered.error());
    return result;
  }
  ChatPrompt prompt;
  prompt.text = std::move(rendered).value();

  // §5.4: continue a final assistant message: cut right after the last
  // occurrence of its content, then drop trailing whitespace.
  // An empty assistant message (a pure tool call) has nothing to continue.
  if (!messages.empty() && messages.back()["role"] == "assistant" &&
      !messages.back()["content"].get_ref<const std::string&>().empty()) {
    const std::string& content = messages.back()["content"].get_ref<const std::string&>();
    size_t at = prompt.text.rfind(content);
    if (at != std::string::npos) {
      prompt.text.resize(at + content.size());
      size_t end = prompt.text.find_last_not_of(" \t\n\r\f\v");
      prompt.text.resize(end == std::string::npos ? 0 : end + 1);
      prompt.continues_assistant = true;
    }
  }
  result.prompt = std::move(prompt);
  return result;
}

}  // namespace kiln::chat
