// api::ModelServices over the real modules: the tokenizer (offsets), the
// chat module (chat::build_chat_prompt over the template serving_model.h
// chose), the grammar engine (sampling/grammar, one ConstraintCache for the
// model's vocabulary, built on first use), tool calling (serving_tools.h)
// and the model's facts.
#pragma once

#include <memory>
#include <mutex>

#include "api/model_services.h"
#include "cli/serving_model.h"
#include "sampling/grammar/cache.h"

namespace kiln::cli {

struct ServicesOptions {
  bool disable_grammar_support = false;  // --disable-grammar-support
  size_t grammar_cache_entries = 64;     // compiled grammars kept (LRU)
  // One whitespace byte at most between JSON tokens: small models otherwise
  // spend max_tokens on blank lines inside constrained JSON (seen with the
  // default Gemma 3 270M), and compact JSON is what clients parse anyway.
  sampling::grammar::CompileOptions grammar = [] {
    sampling::grammar::CompileOptions o;
    o.json.max_whitespace = 1;
    return o;
  }();
};

class ServingServices final : public api::ModelServices {
 public:
  ServingServices(ServingModel model, ServicesOptions options);

  api::ModelFacts facts() const override { return model_.facts; }
  util::Result<std::vector<api::TokenSpan>> tokenize(std::string_view text,
                                                     bool add_special_tokens) const override;
  api::ApiResult<api::ChatPrompt> apply_chat_template(
      const api::ChatRequest& request) const override;
  api::ApiResult<std::shared_ptr<const sampling::Constraint>> compile_grammar(
      const api::GrammarSpec& grammar) const override;
  std::unique_ptr<api::ToolCallParser> tool_call_parser(
      const api::ChatRequest& request, const api::ChatPrompt& prompt) const override;

  const ServingModel& model() const { return model_; }

 private:
  // The grammar vocabulary and cache, built once on the first grammar.
  util::Result<sampling::grammar::ConstraintCache*> constraints() const;

  ServingModel model_;
  ServicesOptions options_;
  mutable std::once_flag constraints_once_;
  mutable std::unique_ptr<sampling::grammar::ConstraintCache> constraints_;
  mutable std::string constraints_error_;
};

// The OpenAI messages of a parsed request, as chat::build_chat_prompt takes
// them (content already flattened by api/, tool calls with their arguments).
chat::Json messages_json(const api::ChatRequest& request);

}  // namespace kiln::cli
