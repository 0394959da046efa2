#include "cli/builtin_templates.h"

#include <initializer_list>

namespace kiln::cli {

namespace {

#include "builtin_templates.inc"

bool has_tokens(const tokenizer::Tokenizer& tok, std::initializer_list<std::string_view> tokens) {
  for (auto t : tokens) {
    if (!tok.token_id(t)) return false;
  }
  return true;
}

}  // namespace

std::optional<BuiltinTemplate> builtin_template(std::string_view name) {
  if (name == "gemma") return BuiltinTemplate{"gemma", kGemmaTemplate};
  if (name == "chatml") return BuiltinTemplate{"chatml", kChatmlTemplate};
  if (name == "llama3") return BuiltinTemplate{"llama3", kLlama3Template};
  if (name == "phi3") return BuiltinTemplate{"phi3", kPhi3Template};
  return std::nullopt;
}

std::optional<BuiltinTemplate> builtin_template_for(model::Arch arch,
                                                    const tokenizer::Tokenizer& tok) {
  const bool gemma = has_tokens(tok, {"<start_of_turn>", "<end_of_turn>"});
  const bool chatml = has_tokens(tok, {"<|im_start|>", "<|im_end|>"});
  const bool llama3 = has_tokens(tok, {"<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"});
  const bool phi3 = has_tokens(tok, {"<|user|>", "<|assistant|>", "<|end|>"});
  switch (arch) {
    case model::Arch::kGemma3:
      if (gemma) return builtin_template("gemma");
      break;
    case model::Arch::kQwen2:
    case model::Arch::kQwen3:
      if (chatml) return builtin_template("chatml");
      break;
    case model::Arch::kPhi3:
      if (phi3) return builtin_template("phi3");
      break;
    case model::Arch::kLlama:
      // Llama-architecture checkpoints use several turn formats (Llama 3,
      // ChatML fine-tunes such as SmolLM); the vocabulary tells which.
      if (llama3) return builtin_template("llama3");
      if (chatml) return builtin_template("chatml");
      break;
  }
  return std::nullopt;
}

}  // namespace kiln::cli
