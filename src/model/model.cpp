#include "model/model.h"

#include <algorithm>
#include <cmath>

#include "model/loaders.h"

namespace kiln::model {

std::string_view arch_name(Arch arch) {
  switch (arch) {
    case Arch::kLlama:
      return "llama";
    case Arch::kQwen2:
      return "qwen2";
    case Arch::kQwen3:
      return "qwen3";
    case Arch::kGemma3:
      return "gemma3";
    case Arch::kPhi3:
      return "phi3";
  }
  return "unknown";
}

int64_t Tensor::n_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

const Tensor* ModelDescription::tensor(std::string_view name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

const ChatTemplate* ModelDescription::chat_template(std::string_view name) const {
  for (const auto& t : chat_templates)
    if (t.name == name) return &t;
  return nullptr;
}

util::Result<ModelDescription> load_model(const std::filesystem::path& path,
                                          const LoadOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    // Safetensors weights win; a directory with only GGUF files (a Hub snapshot of
    // a GGUF repository) loads one of those.
    if (fs::exists(path / "model.safetensors", ec) ||
        fs::exists(path / "model.safetensors.index.json", ec))
      return detail::load_hf_dir(path);
    std::vector<fs::path> ggufs;
    for (const auto& e : fs::directory_iterator(path, ec))
      if (e.path().extension() == ".gguf") ggufs.push_back(e.path());
    std::sort(ggufs.begin(), ggufs.end());
    if (!options.gguf_file.empty()) return detail::load_gguf(path / options.gguf_file);
    if (ggufs.size() == 1) return detail::load_gguf(ggufs[0]);
    if (ggufs.size() > 1)
      return util::make_error(path.string() + ": several .gguf files; choose one with --gguf-file");
    if (fs::exists(path / "config.json", ec)) return detail::load_hf_dir(path);
    return util::make_error(path.string() + ": no model.safetensors, config.json or .gguf file");
  }
  if (!std::filesystem::exists(path, ec))
    return util::make_error(path.string() + ": no such file or directory");
  return detail::load_gguf(path);
}

util::Status check_dtypes(const ModelDescription& model,
                          const std::vector<backend::DType>& supported) {
  for (const auto& t : model.tensors) {
    if (std::find(supported.begin(), supported.end(), t.dtype) != supported.end()) continue;
    const auto traits = backend::dtype_traits(static_cast<uint32_t>(t.dtype));
    const std::string type = traits ? std::string(traits->name)
                                    : "type id " + std::to_string(static_cast<uint32_t>(t.dtype));
    return util::make_error(model.path.string() + ": tensor '" + t.name + "' has type " + type +
                            ", which Kiln cannot compute yet");
  }
  return {};
}

namespace detail {

std::optional<Arch> arch_from_gguf(std::string_view name) {
  if (name == "llama") return Arch::kLlama;
  if (name == "qwen2") return Arch::kQwen2;
  if (name == "qwen3") return Arch::kQwen3;
  if (name == "gemma3") return Arch::kGemma3;
  if (name == "phi3") return Arch::kPhi3;
  return std::nullopt;
}

std::optional<Arch> arch_from_hf(std::string_view architecture, std::string_view model_type) {
  if (architecture == "LlamaForCausalLM" || architecture == "MistralForCausalLM" ||
      model_type == "llama" || model_type == "mistral")
    return Arch::kLlama;
  if (architecture == "Qwen2ForCausalLM" || model_type == "qwen2") return Arch::kQwen2;
  if (architecture == "Qwen3ForCausalLM" || model_type == "qwen3") return Arch::kQwen3;
  if (architecture == "Gemma3ForCausalLM" || architecture == "Gemma3ForConditionalGeneration" ||
      model_type == "gemma3_text")
    return Arch::kGemma3;
  if (architecture == "Phi3ForCausalLM" || model_type == "phi3") return Arch::kPhi3;
  return std::nullopt;
}

void guess_eot(const std::vector<std::pair<int64_t, std::string>>& candidates,
               ModelDescription& m) {
  if (m.special.eot) return;
  const ChatTemplate* tmpl = m.chat_template("default");
  auto pick = [&](bool from_template) {
    for (auto text : kEndOfTurnTexts) {
      if (from_template ? tmpl->source.find(text) == std::string::npos
                        : text == "<|endoftext|>" || text == "<|end_of_text|>")
        continue;
      for (const auto& [id, t] : candidates) {
        if (t != text || id < 0 || id >= m.hparams.n_vocab) continue;
        m.special.eot = static_cast<int32_t>(id);
        m.special.eot_text = t;
        return true;
      }
    }
    return false;
  };
  if (tmpl != nullptr && pick(true)) return;
  pick(false);
}

namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

class ShapeChecker {
 public:
  ShapeChecker(const ModelDescription& m, const std::string& file) : m_(m), file_(file) {}

  // Required tensor with exactly this shape.
  void need(const std::string& name, std::vector<int64_t> shape) {
    if (!status_) return;
    const Tensor* t = m_.tensor(name);
    if (t == nullptr) {
      status_ = util::make_error(file_ + ": missing tensor '" + name + "'");
      return;
    }
    check(*t, shape);
  }
  // Optional tensor: checked when present.
  void maybe(const std::string& name, std::vector<int64_t> shape) {
    if (!status_) return;
    if (const Tensor* t = m_.tensor(name)) check(*t, shape);
  }
  util::Status status() const { return status_; }

 private:
  void check(const Tensor& t, const std::vector<int64_t>& shape) {
    if (t.shape != shape)
      status_ = util::make_error(file_ + ": tensor '" + t.name + "' has shape " +
                                 shape_str(t.shape) + ", expected " + shape_str(shape));
  }
  const ModelDescription& m_;
  const std::string& file_;
  util::Status status_;
};

bool has(const ModelDescription& m, const std::string& name) { return m.tensor(name) != nullptr; }

}  // namespace

util::Status finish_description(ModelDescription& m, const std::string& file) {
  auto& hp = m.hparams;
  // Counts bounded so that the per-layer loops and shape products below stay small
  // and cannot overflow, whatever a header claims.
  constexpr int64_t kMaxLayers = 4096, kMaxDim = int64_t{1} << 24;
  for (auto [value, what] : {std::pair{hp.n_layer, "layer count"},
                             {hp.n_embd, "hidden size"},
                             {hp.n_head, "head count"},
                             {hp.n_head_kv, "KV head count"},
                             {hp.head_dim, "head dim"},
                             {hp.n_ff, "intermediate size"}}) {
    if (value <= 0 || value > (what[0] == 'l' ? kMaxLayers : kMaxDim))
      return util::make_error(file + ": " + what + " " + std::to_string(value) +
                              " is out of range");
  }
  if (hp.head_dim_v <= 0 || hp.head_dim_v > kMaxDim) hp.head_dim_v = hp.head_dim;
  if (hp.n_head % hp.n_head_kv != 0)
    return util::make_error(file + ": head count " + std::to_string(hp.n_head) +
                            " is not a multiple of the KV head count " +
                            std::to_string(hp.n_head_kv));
  if (hp.n_rot <= 0 || hp.n_rot > hp.head_dim || hp.n_rot % 2 != 0)
    return util::make_error(file + ": rotary dimension count " + std::to_string(hp.n_rot) +
                            " must be even and at most the head dim " +
                            std::to_string(hp.head_dim));
  hp.layer_is_swa.resize(static_cast<size_t>(hp.n_layer), false);
  if (hp.attn_scale == 0.0) hp.attn_scale = 1.0 / std::sqrt(static_cast<double>(hp.head_dim));

  const Tensor* embd = m.tensor("token_embd.weight");
  if (embd == nullptr) return util::make_error(file + ": missing tensor 'token_embd.weight'");
  if (embd->shape.size() != 2 || embd->shape[1] != hp.n_embd)
    return util::make_error(file + ": tensor 'token_embd.weight' has shape " +
                            shape_str(embd->shape) + ", expected [n_vocab, " +
                            std::to_string(hp.n_embd) + "]");
  hp.n_vocab = embd->shape[0];

  const std::string b0 = "blk.0.";
  hp.tied_embeddings = !has(m, "output.weight");
  hp.fused_qkv = has(m, b0 + "attn_qkv.weight");
  hp.qkv_bias = has(m, b0 + "attn_q.bias") || has(m, b0 + "attn_qkv.bias");
  hp.attn_out_bias = has(m, b0 + "attn_output.bias");
  hp.mlp_bias = has(m, b0 + "ffn_down.bias");
  hp.qk_norm = has(m, b0 + "attn_q_norm.weight");
  hp.post_norms = has(m, b0 + "post_attention_norm.weight");
  hp.fused_gate_up = !has(m, b0 + "ffn_gate.weight");

  const int64_t E = hp.n_embd, Dq = hp.n_head * hp.head_dim, Dk = hp.n_head_kv * hp.head_dim,
                Dv = hp.n_head_kv * hp.head_dim_v, Do = hp.n_head * hp.head_dim_v, F = hp.n_ff;
  ShapeChecker c(m, file);
  c.maybe("output.weight", {hp.n_vocab, E});
  c.need("output_norm.weight", {E});
  for (int64_t il = 0; il < hp.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    c.need(p + "attn_norm.weight", {E});
    if (hp.fused_qkv) {
      c.need(p + "attn_qkv.weight", {Dq + Dk + Dv, E});
      c.maybe(p + "attn_qkv.bias", {Dq + Dk + Dv});
    } else {
      c.need(p + "attn_q.weight", {Dq, E});
      c.need(p + "attn_k.weight", {Dk, E});
      c.need(p + "attn_v.weight", {Dv, E});
      if (hp.qkv_bias) {
        c.need(p + "attn_q.bias", {Dq});
        c.need(p + "attn_k.bias", {Dk});
        c.need(p + "attn_v.bias", {Dv});
      }
    }
    c.need(p + "attn_output.weight", {E, Do});
    if (hp.attn_out_bias) c.need(p + "attn_output.bias", {E});
    if (hp.qk_norm) {
      c.need(p + "attn_q_norm.weight", {hp.head_dim});
      c.need(p + "attn_k_norm.weight", {hp.head_dim});
    }
    if (hp.post_norms) {
      c.need(p + "post_attention_norm.weight", {E});
      c.need(p + "post_ffw_norm.weight", {E});
    }
    c.need(p + "ffn_norm.weight", {E});
    if (hp.fused_gate_up) {
      c.need(p + "ffn_up.weight", {2 * F, E});
    } else {
      c.need(p + "ffn_gate.weight", {F, E});
      c.need(p + "ffn_up.weight", {F, E});
    }
    c.need(p + "ffn_down.weight", {E, F});
    if (hp.mlp_bias) c.need(p + "ffn_down.bias", {E});
  }
  return c.status();
}

}  // namespace detail
}  // namespace kiln::model
