// Chat templates Kiln falls back on when a model's files carry none (the
// default Gemma 3 270M GGUF has no tokenizer.chat_template). Written for Kiln
// (src/cli/templates/*.jinja, embedded at build time), one per turn format;
// a format is chosen only when the model's vocabulary has its marker tokens
// as single tokens, so the markers reach the model as the tokens it was
// trained on. `kiln serve` logs a warning whenever it uses one.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace kiln::cli {

struct BuiltinTemplate {
  std::string_view name;    // "gemma", "chatml", "llama3", "phi3"
  std::string_view source;  // Jinja text
};

// The template for this architecture and vocabulary, or nullopt when Kiln
// knows no turn format for it (chat routes then answer 422 template_error).
std::optional<BuiltinTemplate> builtin_template_for(model::Arch arch,
                                                    const tokenizer::Tokenizer& tokenizer);

// By name (tests, scripts/make_e2e_goldens.py's counterpart); nullopt if unknown.
std::optional<BuiltinTemplate> builtin_template(std::string_view name);

}  // namespace kiln::cli
