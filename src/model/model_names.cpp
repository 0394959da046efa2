// Hugging Face tensor names -> GGUF's names, the one scheme ModelDescription uses.
// The pairs follow what llama.cpp's converter writes for each architecture, so
// a GGUF file and the checkpoint it was converted from describe the same tensors
// (up to the converter's Q/K row permutation for Llama, recorded as RopeLayout).
#include <charconv>

#include "model/loaders.h"

namespace kiln::model::detail {
namespace {

struct Pair {
  std::string_view hf;
  std::string_view gguf;
};

// Per-layer names after "model.layers.N.", before ".weight"/".bias".
constexpr Pair kLayerNames[] = {
    {"input_layernorm", "attn_norm"},
    {"self_attn.q_proj", "attn_q"},
    {"self_attn.k_proj", "attn_k"},
    {"self_attn.v_proj", "attn_v"},
    {"self_attn.o_proj", "attn_output"},
    {"self_attn.qkv_proj", "attn_qkv"},
    {"self_attn.q_norm", "attn_q_norm"},
    {"self_attn.k_norm", "attn_k_norm"},
    {"mlp.gate_proj", "ffn_gate"},
    {"mlp.up_proj", "ffn_up"},
    {"mlp.down_proj", "ffn_down"},
    {"mlp.gate_up_proj", "ffn_up"},             // Phi-3: [gate | up] rows, as llama.cpp stores it
    {"pre_feedforward_layernorm", "ffn_norm"},  // Gemma 3
    {"post_feedforward_layernorm", "post_ffw_norm"},  // Gemma 3
};

// Prefixes under which multimodal checkpoints keep the text model.
constexpr Pair kTextPrefixes[] = {
    {"model.language_model.", "model."},
    {"language_model.model.", "model."},
    {"language_model.lm_head.", "lm_head."},
};
constexpr std::string_view kIgnoredPrefixes[] = {
    "model.vision_tower.",
    "vision_tower.",
    "model.multi_modal_projector.",
    "multi_modal_projector.",
};

}  // namespace

std::optional<std::string> gguf_name_of_hf(std::string_view name, Arch arch) {
  std::string buf;
  for (const auto& p : kTextPrefixes) {
    if (name.starts_with(p.hf)) {
      buf = std::string(p.gguf) + std::string(name.substr(p.hf.size()));
      name = buf;
      break;
    }
  }
  for (auto prefix : kIgnoredPrefixes)
    if (name.starts_with(prefix)) return std::string();
  if (name.ends_with("rotary_emb.inv_freq")) return std::string();
  if (name == "model.embed_tokens.weight") return "token_embd.weight";
  if (name == "model.norm.weight") return "output_norm.weight";
  if (name == "lm_head.weight") return "output.weight";

  constexpr std::string_view kLayers = "model.layers.";
  if (!name.starts_with(kLayers)) return std::nullopt;
  std::string_view rest = name.substr(kLayers.size());
  int layer = -1;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), layer);
  if (ec != std::errc() || layer < 0 || end == rest.data() + rest.size() || *end != '.')
    return std::nullopt;
  rest = rest.substr(static_cast<size_t>(end - rest.data()) + 1);
  std::string_view suffix;
  for (std::string_view s : {".weight", ".bias"}) {
    if (rest.ends_with(s)) {
      suffix = s;
      rest.remove_suffix(s.size());
      break;
    }
  }
  if (suffix.empty()) return std::nullopt;
  std::string_view mapped;
  if (rest == "post_attention_layernorm") {
    // Gemma 3 normalizes the attention output with it; elsewhere it is the pre-FFN norm.
    mapped = arch == Arch::kGemma3 ? "post_attention_norm" : "ffn_norm";
  } else {
    for (const auto& p : kLayerNames)
      if (rest == p.hf) mapped = p.gguf;
  }
  if (mapped.empty()) return std::nullopt;
  return "blk." + std::to_string(layer) + "." + std::string(mapped) + std::string(suffix);
}

}  // namespace kiln::model::detail
