// Where a model's chat template comes from (api-contract §5.1), for the
// Hugging Face directory layout and for `--chat-template FILE`. GGUF files
// carry theirs in metadata (model::ModelDescription::chat_templates).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "chat/chat_template.h"
#include "util/result.h"

namespace kiln::chat {

struct ModelTemplates {
  std::vector<NamedTemplate> templates;  // empty: the model has none
  std::optional<std::string> bos_token;  // from tokenizer_config.json
  std::optional<std::string> eos_token;
  std::string origin;  // file the templates came from, for logs
};

// A `chat_template` value: a string, or a list of {"name", "template"}.
util::Result<std::vector<NamedTemplate>> parse_template_value(const Json& value,
                                                              const std::string& where);

// First match of: chat_template.json, tokenizer_config.json's chat_template
// (`tokenizer_config` replaces the directory's file when given),
// chat_template.jinja, processor_config.json's chat_template. Special tokens
// come from tokenizer_config.json ("<s>" or {"content": "<s>"}).
util::Result<ModelTemplates> load_hf_templates(const std::filesystem::path& dir,
                                               const std::filesystem::path& tokenizer_config = {});

// `--chat-template FILE`: the file's text is the template.
util::Result<ModelTemplates> load_template_file(const std::filesystem::path& file);

}  // namespace kiln::chat
