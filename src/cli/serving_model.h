// What `kiln serve` loads before it listens: --model-id resolved (a Hub repo
// id, a local Hugging Face directory or a .gguf file), the model description,
// its tokenizer, its chat template and the facts /info reports.
//
// Chat template, first match wins:
//   1. --chat-template (a file, or inline Jinja text);
//   2. Hugging Face directory: api-contract §5.1 (chat_template.json, then
//      tokenizer_config.json or --tokenizer-config-path, chat_template.jinja,
//      processor_config.json), through chat::load_hf_templates;
//      GGUF file: --tokenizer-config-path's chat_template, then the file's
//      tokenizer.chat_template metadata;
//   3. Kiln's built-in template for the architecture (builtin_templates.h),
//      with a warning in the log;
//   4. none: chat routes answer 422 `Template error: template not found`.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "api/model_services.h"
#include "chat/chat_template.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"
#include "util/result.h"

namespace kiln::cli {

struct ServingModelOptions {
  std::string model_id;  // --model-id as given
  std::string revision = "main";
  std::string hub_cache;              // --huggingface-hub-cache; empty: huggingface_hub's default
  std::string chat_template;          // --chat-template: a path or inline Jinja
  std::string tokenizer_config_path;  // --tokenizer-config-path
  // Progress and notices (warning = true for things the operator should see).
  std::function<void(bool warning, const std::string& line)> log;
};

struct ServingModel {
  std::shared_ptr<const model::ModelDescription> description;
  std::shared_ptr<const tokenizer::Tokenizer> tokenizer;
  std::shared_ptr<const chat::ChatTemplate> chat_template;  // null: the model has none
  std::string template_origin;  // where it came from, for the log
  bool builtin_template = false;
  api::ModelFacts facts;
};

util::Result<ServingModel> load_serving_model(const ServingModelOptions& options);

// `/info` model_dtype: the GGUF file type ("q4_k_m", "f16", ...) or the
// dominant tensor type ("bfloat16", "float32", ...).
std::string model_dtype(const model::ModelDescription& model);

}  // namespace kiln::cli
