// GGUF -> ModelDescription: reads the `<arch>.*` hyper-parameter keys and the
// `tokenizer.*` keys the way llama.cpp writes them.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/loaders.h"

namespace kiln::model::detail {
namespace {

// llama.cpp's default Gemma 3 sliding-window period when the file has no
// `attention.sliding_window_pattern`: layer il is local iff il % 6 < 5.
constexpr int64_t kGemma3SwaPeriod = 6;
// Gemma 3 local layers use theta 10000 when the file has no `rope.freq_base_swa`.
constexpr double kGemma3LocalTheta = 10000.0;
// tokenizer.ggml.token_type values (llama.cpp's llama_token_type).
constexpr int64_t kTokenControl = 3;
constexpr int64_t kTokenUserDefined = 4;
class GgufReader {
 public:
  GgufReader(const gguf::GgufFile& f, std::string arch) : f_(f), arch_(std::move(arch)) {}

  // Each getter records the first error and returns the fallback afterwards,
  // so the loader reads like a list of keys and checks ok() once.
  int64_t i(std::string_view key, std::optional<int64_t> fallback = std::nullopt) {
    auto r = fallback ? f_.get_int(k(key), *fallback) : f_.get_int(k(key));
    return take(std::move(r), fallback.value_or(0));
  }
  double f(std::string_view key, double fallback) {
    return take(f_.get_float(k(key), fallback), fallback);
  }
  std::string s(std::string_view key, std::string_view fallback) {
    return std::string(take(f_.get_string(key, fallback), fallback));
  }
  bool b(std::string_view key, bool fallback) { return take(f_.get_bool(key, fallback), fallback); }
  bool has(std::string_view key) const { return f_.find(k(key)) != nullptr; }
  const gguf::Value* find(std::string_view key) const { return f_.find(k(key)); }
  util::Status status() const { return status_; }

 private:
  // Keys starting with '.' are relative to the architecture: ".context_length".
  std::string k(std::string_view key) const {
    return key.starts_with('.') ? arch_ + std::string(key) : std::string(key);
  }
  template <typename T, typename F>
  T take(util::Result<T> r, F fallback) {
    if (r) return *r;
    if (status_) status_ = r.error();
    return T(fallback);
  }

  const gguf::GgufFile& f_;
  std::string arch_;
  util::Status status_;
};

std::vector<int64_t> reversed(const std::vector<int64_t>& ne) { return {ne.rbegin(), ne.rend()}; }

std::optional<std::vector<float>> small_f32_tensor(const gguf::GgufFile& f, std::string_view name) {
  const auto* t = f.find_tensor(name);
  if (t == nullptr || t->type != static_cast<uint32_t>(backend::DType::kF32)) return std::nullopt;
  std::vector<float> out(static_cast<size_t>(t->n_elements()));
  if (!out.empty()) std::memcpy(out.data(), t->data, out.size() * sizeof(float));
  return out;
}

util::Status read_hparams(const gguf::GgufFile& f, ModelDescription& m) {
  GgufReader r(f, m.source_arch);
  auto& hp = m.hparams;
  hp.n_ctx_train = r.i(".context_length");
  hp.n_embd = r.i(".embedding_length");
  hp.n_layer = r.i(".block_count");
  hp.n_ff = r.i(".feed_forward_length");
  hp.n_head = r.i(".attention.head_count");
  hp.n_head_kv = r.i(".attention.head_count_kv", hp.n_head);
  if (auto st = r.status(); !st) return st;
  if (hp.n_head <= 0 || hp.n_embd <= 0 || hp.n_layer <= 0 || hp.n_head_kv <= 0)
    return util::make_error(f.name() + ": embedding_length, block_count, head_count and " +
                            "head_count_kv must be positive");
  hp.head_dim = r.i(".attention.key_length", hp.n_embd / hp.n_head);
  hp.head_dim_v = r.i(".attention.value_length", hp.head_dim);
  hp.n_rot = r.i(".rope.dimension_count", hp.head_dim);
  hp.norm_eps = r.f(".attention.layer_norm_rms_epsilon", 1e-5);
  hp.rope_theta = r.f(".rope.freq_base", 10000.0);
  hp.rope_theta_local = hp.rope_theta;
  hp.attn_softcap = r.f(".attn_logit_softcapping", 0.0);
  hp.final_softcap = r.f(".final_logit_softcapping", 0.0);
  hp.rope_layout = m.arch == Arch::kLlama ? RopeLayout::kNormal : RopeLayout::kNeox;

  auto& rs = hp.rope_scaling;
  const std::string type = r.s(m.source_arch + ".rope.scaling.type", "none");
  rs.factor = r.f(".rope.scaling.factor", 1.0);
  if (r.has(".rope.scale_linear")) {  // older files
    rs.type = RopeScalingType::kLinear;
    rs.factor = r.f(".rope.scale_linear", 1.0);
  }
  if (type == "linear")
    rs.type = RopeScalingType::kLinear;
  else if (type == "yarn")
    rs.type = RopeScalingType::kYarn;
  else if (type == "longrope")
    rs.type = RopeScalingType::kLongRope;
  else if (type != "none" && !type.empty())
    return util::make_error(f.name() + ": unsupported rope.scaling.type '" + type + "'");
  rs.original_ctx = r.i(".rope.scaling.original_context_length", 0);
  rs.attn_factor = r.f(".rope.scaling.attn_factor", 1.0);
  rs.yarn_beta_fast = r.f(".rope.scaling.yarn_beta_fast", 32.0);
  rs.yarn_beta_slow = r.f(".rope.scaling.yarn_beta_slow", 1.0);
  if (auto v = small_f32_tensor(f, "rope_freqs.weight")) rs.freq_factors = std::move(*v);
  if (auto v = small_f32_tensor(f, "rope_factors_long.weight")) {
    rs.long_factor = std::move(*v);
    rs.type = RopeScalingType::kLongRope;
  }
  if (auto v = small_f32_tensor(f, "rope_factors_short.weight")) rs.short_factor = std::move(*v);

  hp.layer_is_swa.assign(static_cast<size_t>(std::min<int64_t>(hp.n_layer, 1 << 20)), false);
  if (m.arch == Arch::kGemma3 || m.arch == Arch::kPhi3 || r.has(".attention.sliding_window")) {
    hp.sliding_window = r.i(".attention.sliding_window", 0);
  }
  if (hp.sliding_window > 0) {
    const gguf::Value* pattern = r.find(".attention.sliding_window_pattern");
    int64_t period = m.arch == Arch::kGemma3 ? kGemma3SwaPeriod : 1;
    if (pattern != nullptr && pattern->type() == gguf::ValueType::kArray) {
      if (pattern->size() != hp.layer_is_swa.size() ||
          pattern->element_type() != gguf::ValueType::kBool)
        return util::make_error(f.name() + ": attention.sliding_window_pattern must be " +
                                "one bool per layer");
      for (size_t il = 0; il < pattern->size(); ++il)
        hp.layer_is_swa[il] = *pattern->at(il).to_bool();
      period = 0;
    } else if (pattern != nullptr) {
      period = r.i(".attention.sliding_window_pattern");
      if (period <= 0) return util::make_error(f.name() + ": bad sliding_window_pattern");
    }
    // A period p marks every layer local except each p-th (p == 1: all local).
    for (size_t il = 0; period > 0 && il < hp.layer_is_swa.size(); ++il)
      hp.layer_is_swa[il] = period == 1 || static_cast<int64_t>(il) % period < period - 1;
  }

  switch (m.arch) {
    case Arch::kGemma3:
      hp.embedding_scale = std::sqrt(static_cast<double>(hp.n_embd));
      hp.activation = Activation::kGeluTanh;
      hp.rope_theta_local = r.f(".rope.freq_base_swa", kGemma3LocalTheta);
      break;
    default:
      break;
  }
  hp.attn_scale = r.f(".attention.scale", 0.0);
  return r.status();
}

void read_tokenizer(const gguf::GgufFile& f, ModelDescription& m) {
  GgufReader r(f, m.source_arch);
  m.tokenizer.kind = f.find("tokenizer.ggml.tokens") ? TokenizerSource::Kind::kGgufVocab
                                                     : TokenizerSource::Kind::kNone;
  m.tokenizer.gguf_model = r.s("tokenizer.ggml.model", "");
  m.tokenizer.gguf_pre = r.s("tokenizer.ggml.pre", "");
}

util::Status read_special(const gguf::GgufFile& f, ModelDescription& m) {
  auto& sp = m.special;
  std::span<const std::string_view> tokens;
  if (auto t = f.get_strings("tokenizer.ggml.tokens")) tokens = *t;
  std::vector<int64_t> types;
  if (auto t = f.get_ints("tokenizer.ggml.token_type")) types = std::move(*t);
  const int64_t n_vocab = m.hparams.n_vocab;

  util::Status status;
  auto id = [&](const char* key, std::string* text) -> std::optional<int32_t> {
    auto v = f.get_int(key, -1);
    if (!v) {
      if (status) status = v.error();
      return std::nullopt;
    }
    if (*v < 0 || *v >= n_vocab) return std::nullopt;  // e.g. 4294967295 = "none"
    if (text != nullptr && static_cast<size_t>(*v) < tokens.size())
      *text = std::string(tokens[static_cast<size_t>(*v)]);
    return static_cast<int32_t>(*v);
  };
  sp.bos = id("tokenizer.ggml.bos_token_id", &sp.bos_text);
  sp.eos = id("tokenizer.ggml.eos_token_id", &sp.eos_text);
  sp.eot = id("tokenizer.ggml.eot_token_id", &sp.eot_text);
  sp.pad = id("tokenizer.ggml.padding_token_id", &sp.pad_text);
  sp.unk = id("tokenizer.ggml.unknown_token_id", nullptr);
  const auto eom = id("tokenizer.ggml.eom_token_id", nullptr);
  for (const char* key : {"tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token"}) {
    if (f.find(key) == nullptr) continue;
    auto v = f.get_bool(key);
    if (!v) return v.error();
    (std::strstr(key, "bos") ? sp.add_bos : sp.add_eos) = *v;
  }
  if (!status) return status;

  auto add_eos = [&](std::optional<int32_t> v) {
    if (v && std::find(sp.eos_ids.begin(), sp.eos_ids.end(), *v) == sp.eos_ids.end())
      sp.eos_ids.push_back(*v);
  };
  add_eos(sp.eos);
  add_eos(eom);
  std::vector<std::pair<int64_t, std::string>> candidates;
  for (size_t i = 0; i < tokens.size() && static_cast<int64_t>(i) < n_vocab; ++i) {
    if (types.size() == tokens.size() && types[i] != kTokenControl && types[i] != kTokenUserDefined)
      continue;
    for (auto text : kEndOfTurnTexts)
      if (tokens[i] == text) candidates.emplace_back(static_cast<int64_t>(i), std::string(text));
  }
  guess_eot(candidates, m);
  add_eos(sp.eot);
  return {};
}

util::Status read_templates(const gguf::GgufFile& f, ModelDescription& m) {
  if (f.find("tokenizer.chat_template") != nullptr) {
    auto t = f.get_string("tokenizer.chat_template");
    if (!t) return t.error();
    m.chat_templates.push_back({"default", std::string(*t)});
  }
  if (f.find("tokenizer.chat_templates") == nullptr) return {};
  auto names = f.get_strings("tokenizer.chat_templates");
  if (!names) return names.error();
  for (auto name : *names) {
    const std::string key = "tokenizer.chat_template." + std::string(name);
    auto t = f.get_string(key);
    if (!t) return t.error();
    m.chat_templates.push_back({std::string(name), std::string(*t)});
  }
  return {};
}

}  // namespace

util::Result<ModelDescription> load_gguf(const std::filesystem::path& path) {
  auto file = gguf::GgufFile::open(path);
  if (!file) return file.error();
  return describe_gguf(std::move(file).value(), path);
}

util::Result<ModelDescription> describe_gguf(std::shared_ptr<const gguf::GgufFile> file,
                                             const std::filesystem::path& path) {
  const gguf::GgufFile& f = *file;
  ModelDescription m;
  m.format = Format::kGguf;
  m.path = path;
  m.gguf = file;
  if (f.mapping()) m.mappings.push_back(f.mapping());

  auto arch = f.get_string("general.architecture");
  if (!arch) return arch.error();
  m.source_arch = std::string(*arch);
  auto a = arch_from_gguf(m.source_arch);
  if (!a) return util::make_error(f.name() + ": unsupported architecture '" + m.source_arch + "'");
  m.arch = *a;
  const std::string stem = path.stem().string();
  auto name = f.get_string("general.name", stem);
  if (!name) return name.error();
  m.name = std::string(*name);

  m.tensors.reserve(f.tensors().size());
  for (const auto& t : f.tensors()) {
    m.tensors.push_back({.name = t.name,
                         .source_name = t.name,
                         .dtype = static_cast<backend::DType>(t.type),
                         .shape = reversed(t.ne),
                         .data = t.data,
                         .n_bytes = t.n_bytes});
  }
  if (auto st = read_hparams(f, m); !st) return util::make_error(st.message());
  if (auto st = finish_description(m, f.name()); !st) return util::make_error(st.message());
  read_tokenizer(f, m);
  if (auto st = read_templates(f, m); !st) return util::make_error(st.message());
  if (auto st = read_special(f, m); !st) return util::make_error(st.message());
  return m;
}

}  // namespace kiln::model::detail
