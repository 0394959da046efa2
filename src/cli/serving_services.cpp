#include "cli/serving_services.h"

#include <algorithm>

#include "chat/prompt.h"
#include "cli/serving_tools.h"
#include "sampling/grammar/vocabulary.h"

namespace kiln::cli {

ServingServices::ServingServices(ServingModel model, ServicesOptions options)
    : model_(std::move(model)), options_(options) {}

util::Result<std::vector<api::TokenSpan>> ServingServices::tokenize(std::string_view text,
                                                                     bool add_special_tokens) const {
  const auto enc = model_.tokenizer->encode_with_offsets(text, add_special_tokens);
  std::vector<api::TokenSpan> out;
  out.reserve(enc.ids.size());
  for (size_t i = 0; i < enc.ids.size(); ++i) {
    const auto& off = enc.offsets[i];
    // A token the post-processor added (BOS) covers no input: 0/0 and special.
    const bool added = off.start == off.stop && model_.tokenizer->is_special(enc.ids[i]);
    out.push_back({enc.ids[i], off.start, off.stop, added});
  }
  return out;
}

chat::Json messages_json(const api::ChatRequest& request) {
  chat::Json messages = chat::Json::array();
  for (const auto& m : request.messages) {
    chat::Json j = chat::Json::object();
    j["role"] = m.role;
    j["content"] = m.content_was_null ? chat::Json(nullptr) : chat::Json(m.content);
    if (!m.tool_calls.empty()) {
      chat::Json calls = chat::Json::array();
      for (const auto& c : m.tool_calls) {
        chat::Json fn = chat::Json::object();
        fn["name"] = c.name;
        fn["arguments"] = c.arguments;
        chat::Json call = chat::Json::object();
        call["id"] = c.id;
        call["type"] = "function";
        call["function"] = std::move(fn);
        calls.push_back(std::move(call));
      }
      j["tool_calls"] = std::move(calls);
    }
    if (m.tool_call_id) j["tool_call_id"] = *m.tool_call_id;
    messages.push_back(std::move(j));
  }
  return messages;
}

api::ApiResult<api::ChatPrompt> ServingServices::apply_chat_template(
    const api::ChatRequest& request) const {
  if (!model_.chat_template) return api::ApiError::template_error("template not found");
  const auto tools = tool_setup(request, *model_.chat_template);
  if (tools && options_.disable_grammar_support && tools->forced)
    return api::ApiError::validation("grammar is not supported");
  const chat::Json messages = messages_json(request);
  chat::ChatPromptRequest in;
  in.messages = &messages;
  if (tools) {
    in.tools = &tools->tools;
    if (tools->describe_in_prompt) in.tool_prompt = request.tool_prompt;
  }
  auto rendered = chat::build_chat_prompt(*model_.chat_template, in);
  if (!rendered.ok()) {
    if (rendered.error.kind == chat::TemplateError::Kind::kMissingVariable)
      return api::ApiError::missing_variable(rendered.error.message);
    return api::ApiError::template_error(rendered.error.message);
  }
  api::ChatPrompt prompt;
  prompt.text = std::move(rendered.prompt->text);
  if (tools) {
    prompt.grammar = tools->grammar;
    prompt.parse_tool_calls = true;
  }
  return prompt;
}

util::Result<sampling::grammar::ConstraintCache*> ServingServices::constraints() const {
  std::call_once(constraints_once_, [this] {
    const auto& tok = *model_.tokenizer;
    // One entry per logit row: ids the tokenizer does not know (padding rows)
    // and special tokens have no bytes, so no constraint ever allows them.
    const auto n_vocab = static_cast<size_t>(model_.description->hparams.n_vocab);
    std::vector<std::string> bytes(n_vocab);
    for (size_t id = 0; id < std::min(n_vocab, tok.vocab_size()); ++id) {
      const auto t = static_cast<tokenizer::TokenId>(id);
      if (!tok.is_special(t)) bytes[id] = std::string(tok.token_bytes(t));
    }
    std::vector<int32_t> eos;
    for (int32_t id : model_.description->special.eos_ids) {
      if (id >= 0 && static_cast<size_t>(id) < n_vocab) eos.push_back(id);
    }
    auto vocab = sampling::grammar::Vocabulary::create(std::move(bytes), std::move(eos));
    if (!vocab) {
      constraints_error_ = vocab.message();
      return;
    }
    constraints_ = std::make_unique<sampling::grammar::ConstraintCache>(
        std::move(vocab).value(), options_.grammar_cache_entries, options_.grammar);
  });
  if (!constraints_) return util::make_error(constraints_error_);
  return constraints_.get();
}

api::ApiResult<std::shared_ptr<const sampling::Constraint>> ServingServices::compile_grammar(
    const api::GrammarSpec& grammar) const {
  if (options_.disable_grammar_support)
    return api::ApiError::validation("grammar is not supported");
  auto cache = constraints();
  if (!cache) return api::ApiError::validation("grammar is not supported: " + cache.message());
  sampling::grammar::ConstraintCache::Compiled compiled = util::make_error("");
  switch (grammar.type) {
    case api::GrammarSpec::Type::kJsonSchema:
      if (!grammar.value.is_object() && !grammar.value.is_boolean())
        return api::ApiError::validation("grammar is not valid: a JSON schema must be an object");
      compiled = (*cache)->json_schema(grammar.value.dump());
      break;
    case api::GrammarSpec::Type::kRegex:
      if (!grammar.value.is_string())
        return api::ApiError::validation("grammar is not valid: a regex must be a string");
      compiled = (*cache)->regex(grammar.value.get_ref<const std::string&>());
      break;
    case api::GrammarSpec::Type::kAnyJsonObject:
      compiled = (*cache)->json_object();
      break;
  }
  if (!compiled) {
    return api::ApiError::validation(
        (grammar.type == api::GrammarSpec::Type::kRegex ? "grammar is not valid: "
                                                        : "cannot compile regex from schema: ") +
        compiled.message());
  }
  return std::move(compiled).value();
}

std::unique_ptr<api::ToolCallParser> ServingServices::tool_call_parser(
    const api::ChatRequest& request, const api::ChatPrompt& prompt) const {
  if (!prompt.parse_tool_calls || !model_.chat_template) return nullptr;
  const auto tools = tool_setup(request, *model_.chat_template);
  return tools ? make_tool_call_parser(request, *tools) : nullptr;
}

}  // namespace kiln::cli
