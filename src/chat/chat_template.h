// Chat templates: a model's Jinja template applied to a conversation the way
// transformers' apply_chat_template does (the variables, None vs undefined,
// tools/documents/extra kwargs), compiled once and rendered concurrently.
//
// Two entry points:
//  - ChatTemplate::apply(): exactly transformers (the goldens, `kiln template`).
//  - build_chat_prompt() (prompt.h): the /v1/chat/completions flow on top of it.
#pragma once

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/jinja/jinja.h"
#include "util/result.h"

namespace kiln::chat {

using Json = nlohmann::ordered_json;

// What the HTTP layer maps a failed render to (api-contract §4.2): 422 with
// error_type "template_error" / "missing_template_variable". `message` is the
// template's own text (e.g. raise_exception's argument), without the
// "Template error: " prefix the HTTP layer adds.
struct TemplateError {
  enum class Kind { kTemplate, kMissingVariable } kind = Kind::kTemplate;
  std::string message;
  jinja::Error detail;  // the engine's error (Python exception type and message)
};

// Inputs of one render. Pointers are borrowed for the call; strings inside
// are not copied.
struct RenderInputs {
  const Json* messages = nullptr;   // array of message objects, passed as given
  const Json* tools = nullptr;      // nullptr: `tools` undefined; JSON null: None
  const Json* documents = nullptr;  // nullptr: `documents` undefined; JSON null: None
  const Json* extra = nullptr;      // object: more variables (chat_template_kwargs);
                                    // they override bos_token/eos_token
  bool add_generation_prompt = false;
  std::optional<std::tm> now;  // frozen clock for strftime_now (naive local time)
  // Per-render special tokens replacing ChatTemplateOptions' (outer set);
  // an inner nullopt leaves the variable undefined.
  std::optional<std::optional<std::string>> bos_token, eos_token;
};

struct ChatTemplateOptions {
  std::optional<std::string> bos_token;  // nullopt: the variable is not defined
  std::optional<std::string> eos_token;
  jinja::Limits limits;
  // TGI's textual patches (api-contract §5.2) before compiling. Off for the
  // transformers goldens.
  bool tgi_patches = true;
};

// A named template of a model ("default", "tool_use", ...).
struct NamedTemplate {
  std::string name;
  std::string source;
};

class ChatTemplate {
 public:
  // Compiles every template of the model. A compile failure names the template.
  static util::Result<std::shared_ptr<const ChatTemplate>> compile(
      std::vector<NamedTemplate> templates, ChatTemplateOptions options);
  static util::Result<std::shared_ptr<const ChatTemplate>> compile(std::string source,
                                                                   ChatTemplateOptions options);

  // Renders with transformers' variables. `with_tools` picks the "tool_use"
  // template when the model has one (else "default").
  jinja::Expected<std::string> apply(const RenderInputs& in, bool with_tools = false) const;

  // Whether the template selected for `with_tools` reads the variable `tools`
  // (if not, tools are described in the last message, api-contract §6.1).
  bool uses_tools(bool with_tools = true) const;

  // The source (TGI patches applied) of the template selected for
  // `with_tools`: tool_calls.h reads the model's tool-call markers from it.
  const std::string& source(bool with_tools = true) const { return select(with_tools).source; }

  const ChatTemplateOptions& options() const { return options_; }

 private:
  struct Compiled {
    std::string name;
    std::shared_ptr<const jinja::Template> tmpl;
    std::string source;
  };
  const Compiled& select(bool with_tools) const;

  std::vector<Compiled> templates_;
  ChatTemplateOptions options_;
};

// TemplateError from an engine error: UndefinedError -> kMissingVariable.
TemplateError to_template_error(const jinja::Error& e);

// JSON -> engine value. Strings are borrowed from `j`, which must outlive the
// value's use (one render).
jinja::Value to_value(const Json& j);

// TGI's textual patches (api-contract §5.2).
std::string apply_tgi_patches(std::string source);

}  // namespace kiln::chat
