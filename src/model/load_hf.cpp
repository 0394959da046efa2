// Hugging Face directory -> ModelDescription: config.json for the
// hyper-parameters (read the way transformers 4.57 reads them), safetensors
// files (one file or shards named by model.safetensors.index.json) for the
// tensors, renamed to GGUF's scheme.
#include <cmath>
#include <set>

#include "model/json_reader.h"
#include "model/loaders.h"
#include "model/safetensors.h"

namespace kiln::model::detail {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Gemma 3's period when config.json has neither layer_types nor
// sliding_window_pattern: every 6th layer is global.
constexpr int64_t kGemma3SwaPeriod = 6;

util::Status read_rope_scaling(JsonReader& r, HyperParams& hp) {
  const json* rs_json = r.find("rope_scaling");
  auto& rs = hp.rope_scaling;
  rs.original_ctx = r.get_int("original_max_position_embeddings", 0);
  if (rs_json == nullptr) return {};
  if (!rs_json->is_object()) {
    r.error("field 'rope_scaling' should be an object");
    return r.status();
  }
  JsonReader s(*rs_json, r.file() + ": rope_scaling");
  std::string type = s.get_string("rope_type", s.get_string("type", "default"));
  rs.factor = s.get_float("factor", 1.0);
  rs.original_ctx = s.get_int("original_max_position_embeddings", rs.original_ctx);
  if (type == "default") {
    rs.type = RopeScalingType::kNone;
  } else if (type == "linear") {
    rs.type = RopeScalingType::kLinear;
  } else if (type == "dynamic") {
    rs.type = RopeScalingType::kDynamic;
  } else if (type == "yarn") {
    rs.type = RopeScalingType::kYarn;
    rs.yarn_beta_fast = s.get_float("beta_fast", 32.0);
    rs.yarn_beta_slow = s.get_float("beta_slow", 1.0);
    // transformers' default attention factor for yarn: 0.1 ln(factor) + 1.
    const double fallback = rs.factor <= 1.0 ? 1.0 : 0.1 * std::log(rs.factor) + 1.0;
    rs.attn_factor = s.get_float("attention_factor", fallback);
  } else if (type == "llama3") {
    rs.type = RopeScalingType::kLlama3;
    rs.low_freq_factor = s.get_float("low_freq_factor", 1.0);
    rs.high_freq_factor = s.get_float("high_freq_factor", 4.0);
  } else if (type == "longrope" || type == "su") {
    rs.type = RopeScalingType::kLongRope;
    for (auto v : s.float_list("long_factor")) rs.long_factor.push_back(static_cast<float>(v));
    for (auto v : s.float_list("short_factor")) rs.short_factor.push_back(static_cast<float>(v));
    const size_t pairs = static_cast<size_t>(hp.n_rot / 2);
    if (s.status() && (rs.long_factor.size() != pairs || rs.short_factor.size() != pairs))
      s.error("long_factor and short_factor need " + std::to_string(pairs) + " values each");
    // transformers' default: sqrt(1 + ln(s) / ln(original)) with s = max / original.
    double fallback = 1.0;
    if (rs.original_ctx > 1 && hp.n_ctx_train > rs.original_ctx) {
      const double scale =
          static_cast<double>(hp.n_ctx_train) / static_cast<double>(rs.original_ctx);
      fallback = std::sqrt(1.0 + std::log(scale) / std::log(static_cast<double>(rs.original_ctx)));
    }
    rs.attn_factor = s.get_float("attention_factor", fallback);
  } else {
    s.error("unsupported rope type '" + type + "'");
  }
  return s.status();
}

util::Status read_activation(JsonReader& r, HyperParams& hp) {
  const std::string act = r.get_string("hidden_activation", r.get_string("hidden_act", "silu"));
  if (act == "silu" || act == "swish")
    hp.activation = Activation::kSilu;
  else if (act == "gelu_pytorch_tanh" || act == "gelu_new" || act == "gelu_fast")
    hp.activation = Activation::kGeluTanh;
  else if (act == "gelu")
    hp.activation = Activation::kGelu;
  else
    r.error("unsupported activation '" + act + "'");
  return r.status();
}

void read_sliding_window(JsonReader& r, Arch arch, HyperParams& hp) {
  const auto n_layer = static_cast<size_t>(hp.n_layer);
  hp.layer_is_swa.assign(n_layer, false);
  hp.sliding_window = r.get_int("sliding_window", 0);
  if (hp.sliding_window <= 0) {
    hp.sliding_window = 0;
    return;
  }
  if (r.has("layer_types")) {
    const auto types = r.string_list("layer_types");
    if (types.size() != n_layer) {
      r.error("field 'layer_types' needs one entry per layer (" + std::to_string(n_layer) + ")");
      return;
    }
    for (size_t il = 0; il < n_layer; ++il) hp.layer_is_swa[il] = types[il] == "sliding_attention";
  } else if (arch == Arch::kGemma3) {
    int64_t period =
        r.get_int("sliding_window_pattern", r.get_int("_sliding_window_pattern", kGemma3SwaPeriod));
    if (period <= 0) period = kGemma3SwaPeriod;
    for (size_t il = 0; il < n_layer; ++il)
      hp.layer_is_swa[il] = static_cast<int64_t>(il + 1) % period != 0;
  } else if (arch == Arch::kQwen2 || arch == Arch::kQwen3) {
    const bool use = r.get_bool("use_sliding_window", false);
    const int64_t from = r.get_int("max_window_layers", 0);
    for (size_t il = 0; il < n_layer; ++il)
      hp.layer_is_swa[il] = use && static_cast<int64_t>(il) >= from;
  } else {
    hp.layer_is_swa.assign(n_layer, true);  // Mistral, Phi-3: every layer
  }
  if (std::find(hp.layer_is_swa.begin(), hp.layer_is_swa.end(), true) == hp.layer_is_swa.end())
    hp.sliding_window = 0;
}

}  // namespace

util::Status read_hf_config(const json& config, const std::string& file, ModelDescription& m) {
  JsonReader top(config, file);
  std::string architecture;
  if (const json* a = top.find("architectures");
      a && a->is_array() && !a->empty() && (*a)[0].is_string())
    architecture = (*a)[0].get<std::string>();
  const std::string model_type = top.get_string("model_type", "");
  // Multimodal checkpoints (Gemma3ForConditionalGeneration) keep the text model's
  // settings under text_config.
  const json* text = top.find("text_config");
  const json& cfg = text != nullptr && text->is_object() ? *text : config;
  JsonReader r(cfg, file);
  const std::string text_type = r.get_string("model_type", model_type);
  auto arch = architecture == "Gemma3ForConditionalGeneration"
                  ? std::optional<Arch>(Arch::kGemma3)
                  : arch_from_hf(architecture, text_type);
  if (!arch)
    return util::make_error(file + ": unknown architecture '" +
                            (architecture.empty() ? text_type : architecture) +
                            "' (Kiln runs Llama, Mistral, Qwen2, Qwen3, Gemma 3 and Phi-3)");
  m.arch = *arch;
  m.source_arch = architecture.empty() ? text_type : architecture;

  auto& hp = m.hparams;
  hp.n_embd = r.need_int("hidden_size");
  hp.n_layer = r.need_int("num_hidden_layers");
  hp.n_head = r.need_int("num_attention_heads");
  hp.n_ff = r.need_int("intermediate_size");
  const int64_t vocab = r.need_int("vocab_size");
  if (!r.status()) return r.status();
  if (hp.n_head <= 0 || hp.n_embd <= 0 || hp.n_layer <= 0 || hp.n_layer > 4096)
    return util::make_error(file + ": hidden_size, num_hidden_layers and num_attention_heads " +
                            "must be positive (and at most 4096 layers)");
  hp.n_vocab = vocab;
  hp.n_head_kv = r.get_int("num_key_value_heads", hp.n_head);
  hp.head_dim = r.get_int("head_dim", hp.n_embd / hp.n_head);
  hp.head_dim_v = hp.head_dim;
  hp.n_ctx_train = r.get_int("max_position_embeddings", 0);
  hp.norm_eps = r.get_float("rms_norm_eps", 1e-6);
  hp.rope_theta = r.get_float("rope_theta", 10000.0);
  hp.rope_theta_local = hp.rope_theta;
  hp.rope_layout = RopeLayout::kNeox;  // HF checkpoints are never permuted
  const double partial = r.get_float("partial_rotary_factor", 1.0);
  hp.n_rot = static_cast<int64_t>(static_cast<double>(hp.head_dim) * partial) / 2 * 2;
  hp.attn_softcap = r.get_float("attn_logit_softcapping", 0.0);
  hp.final_softcap = r.get_float("final_logit_softcapping", 0.0);
  if (auto st = read_activation(r, hp); !st) return st;
  if (auto st = read_rope_scaling(r, hp); !st) return st;
  read_sliding_window(r, m.arch, hp);
  if (m.arch == Arch::kGemma3) {
    hp.embedding_scale = std::sqrt(static_cast<double>(hp.n_embd));
    hp.norm_weight_offset = 1.0;
    hp.rope_theta_local = r.get_float("rope_local_base_freq", 10000.0);
    const double scalar = r.get_float("query_pre_attn_scalar", static_cast<double>(hp.head_dim));
    if (scalar > 0) hp.attn_scale = 1.0 / std::sqrt(scalar);
  }
  return r.status();
}

namespace {

struct Shards {
  std::vector<std::shared_ptr<const safetensors::SafetensorsFile>> files;
};

util::Result<Shards> open_weights(const fs::path& dir) {
  Shards out;
  std::error_code ec;
  const fs::path index = dir / "model.safetensors.index.json";
  if (fs::exists(index, ec)) {
    auto j = read_json_file(index);
    if (!j) return j.error();
    const auto wm = j->find("weight_map");
    if (wm == j->end() || !wm->is_object())
      return util::make_error(index.string() + ": no weight_map object");
    std::vector<std::string> shard_names;
    for (const auto& [name, file] : wm->items()) {
      if (!file.is_string())
        return util::make_error(index.string() + ": weight_map entry '" + name +
                                "' is not a string");
      const auto f = file.get<std::string>();
      if (f.find('/') != std::string::npos || f.find("..") != std::string::npos)
        return util::make_error(index.string() + ": shard name '" + f +
                                "' is not a plain file name");
      if (std::find(shard_names.begin(), shard_names.end(), f) == shard_names.end())
        shard_names.push_back(f);
    }
    std::sort(shard_names.begin(), shard_names.end());
    for (const auto& f : shard_names) {
      if (!fs::exists(dir / f, ec))
        return util::make_error(index.string() + ": shard '" + f + "' is missing");
      auto shard = safetensors::SafetensorsFile::open(dir / f);
      if (!shard) return shard.error();
      out.files.push_back(std::move(shard).value());
    }
    for (const auto& [name, file] : wm->items()) {
      const auto f = file.get<std::string>();
      const auto it = std::find_if(out.files.begin(), out.files.end(), [&](const auto& s) {
        return fs::path(s->name()).filename() == f;
      });
      if ((*it)->find_tensor(name) == nullptr)
        return util::make_error(index.string() + ": tensor '" + name + "' is not in shard '" + f +
                                "'");
    }
    return out;
  }
  if (fs::exists(dir / "model.safetensors", ec)) {
    auto f = safetensors::SafetensorsFile::open(dir / "model.safetensors");
    if (!f) return f.error();
    out.files.push_back(std::move(f).value());
    return out;
  }
  return util::make_error(dir.string() +
                          ": no model.safetensors or model.safetensors.index.json in directory");
}

util::Status add_tensors(const Shards& shards, ModelDescription& m) {
  std::set<std::string> seen;
  for (const auto& file : shards.files) {
    m.mappings.push_back(file->mapping());
    for (const auto& t : file->tensors()) {
      auto name = gguf_name_of_hf(t.name, m.arch);
      if (!name)
        return util::make_error(file->name() + ": unknown tensor '" + t.name + "' for " +
                                std::string(arch_name(m.arch)));
      if (name->empty()) continue;  // not used by the forward pass
      const auto dtype = safetensors::to_backend_dtype(t.dtype);
      if (!dtype)
        return util::make_error(file->name() + ": tensor '" + t.name + "' has dtype " + t.dtype +
                                ", which Kiln does not support (F32, F16, BF16, F64, I8-I64)");
      if (!seen.insert(*name).second)
        return util::make_error(file->name() + ": tensor '" + t.name + "' appears twice");
      m.tensors.push_back({.name = *name,
                           .source_name = t.name,
                           .dtype = *dtype,
                           .shape = t.shape,
                           .data = t.data,
                           .n_bytes = t.n_bytes});
    }
  }
  return {};
}

}  // namespace

util::Result<ModelDescription> load_hf_dir(const fs::path& dir) {
  const fs::path config_path = dir / "config.json";
  auto config = read_json_file(config_path);
  if (!config) return config.error();
  ModelDescription m;
  m.format = Format::kSafetensors;
  m.path = dir;
  m.name = (dir / ".").parent_path().filename().string();
  const std::string file = config_path.string();
  if (auto st = read_hf_config(*config, file, m); !st) return util::make_error(st.message());
  const int64_t config_vocab = m.hparams.n_vocab;

  auto shards = open_weights(dir);
  if (!shards) return shards.error();
  if (auto st = add_tensors(*shards, m); !st) return util::make_error(st.message());
  JsonReader top(*config, file);
  if (top.opt_bool("tie_word_embeddings") == false && m.tensor("output.weight") == nullptr)
    return util::make_error(file + ": tie_word_embeddings is false but there is no lm_head.weight");
  if (auto st = finish_description(m, file); !st) return util::make_error(st.message());
  if (config_vocab != m.hparams.n_vocab)
    return util::make_error(file + ": vocab_size " + std::to_string(config_vocab) +
                            " disagrees with embed_tokens rows " +
                            std::to_string(m.hparams.n_vocab));
  if (auto st = load_hf_extras(dir, m); !st) return util::make_error(st.message());
  return m;
}

}  // namespace kiln::model::detail
