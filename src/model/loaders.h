// Internal to src/model: the per-source loaders behind load_model() and the
// shared steps that turn their output into a complete ModelDescription.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "model/model.h"

namespace kiln::model::detail {

util::Result<ModelDescription> load_gguf(const std::filesystem::path& path);
util::Result<ModelDescription> load_hf_dir(const std::filesystem::path& dir);

// Maps a GGUF general.architecture or an HF `architectures[0]`/`model_type` to Arch.
std::optional<Arch> arch_from_gguf(std::string_view name);
std::optional<Arch> arch_from_hf(std::string_view architecture, std::string_view model_type);

// Flags that follow from which tensors exist (bias, qk-norm, fused, tied, post
// norms), and shape checks of the main tensors against the hyper-parameters.
// Messages name `file`.
util::Status finish_description(ModelDescription& model, const std::string& file);

}  // namespace kiln::model::detail
