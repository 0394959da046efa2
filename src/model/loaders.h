// Internal to src/model: the per-source loaders behind load_model() and the
// shared steps that turn their output into a complete ModelDescription.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "model/model.h"

namespace kiln::model::detail {

util::Result<ModelDescription> load_gguf(const std::filesystem::path& path);
// The description of an already parsed GGUF file (also used by the fuzz target).
util::Result<ModelDescription> describe_gguf(std::shared_ptr<const gguf::GgufFile> file,
                                             const std::filesystem::path& path);
util::Result<ModelDescription> load_hf_dir(const std::filesystem::path& dir);
// Reads generation_config.json, tokenizer_config.json, tokenizer.json and the chat
// template files of an HF directory into `m` (hparams.n_vocab must be set).
// config.json's contents -> arch and hyper-parameters of `m` (fuzz target too).
util::Status read_hf_config(const nlohmann::json& config, const std::string& file,
                            ModelDescription& m);
util::Status load_hf_extras(const std::filesystem::path& dir, ModelDescription& m);

// Texts of tokens that end a turn in common chat formats.
inline constexpr std::string_view kEndOfTurnTexts[] = {
    "<|eot_id|>", "<|im_end|>",         "<|end|>",       "<end_of_turn>",   "<|eom_id|>",
    "<EOT>",      "<end_of_utterance>", "<|endoftext|>", "<|end_of_text|>",
};
// When a model names no end-of-turn id: of its special tokens (id, text) whose
// text is in kEndOfTurnTexts, the one its default chat template uses, else the
// first in kEndOfTurnTexts order that is not a plain end-of-text marker. Sets
// special.eot / eot_text; callers then add it to eos_ids.
void guess_eot(const std::vector<std::pair<int64_t, std::string>>& candidates, ModelDescription& m);

// Maps a GGUF general.architecture or an HF `architectures[0]`/`model_type` to Arch.
std::optional<Arch> arch_from_gguf(std::string_view name);
std::optional<Arch> arch_from_hf(std::string_view architecture, std::string_view model_type);

// The GGUF-style name of a Hugging Face tensor name ("model.layers.3.mlp.up_proj.weight"
// -> "blk.3.ffn_up.weight"); "" for tensors the forward pass does not use
// (rotary inv_freq buffers, vision towers of multimodal checkpoints); nullopt for
// names it does not know.
std::optional<std::string> gguf_name_of_hf(std::string_view hf_name, Arch arch);

// Flags that follow from which tensors exist (bias, qk-norm, fused, tied, post
// norms), and shape checks of the main tensors against the hyper-parameters.
// Messages name `file`.
util::Status finish_description(ModelDescription& model, const std::string& file);

}  // namespace kiln::model::detail
