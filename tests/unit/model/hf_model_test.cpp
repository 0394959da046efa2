// load_model() on the tiny HF checkpoints (scripts/make_tiny_hf_models.py)
// against what transformers and the safetensors package read from the same
// directories (tests/data/models/hf_expected.json).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "backend/cpu/half.h"
#include "model/model.h"
#include "model/safetensors.h"
#include "model_test_util.h"

namespace kiln::model {
namespace {

using nlohmann::json;

const json& hf_expected() {
  static const json j = [] {
    std::ifstream in(test::data_dir() / "models/hf_expected.json");
    return json::parse(in);
  }();
  return j;
}

double element(const std::byte* p, std::string_view dtype, size_t i) {
  if (dtype == "F32") {
    float f;
    std::memcpy(&f, p + 4 * i, 4);
    return f;
  }
  if (dtype == "F64") {
    double d;
    std::memcpy(&d, p + 8 * i, 8);
    return d;
  }
  uint16_t h;
  std::memcpy(&h, p + 2 * i, 2);
  if (dtype == "F16") return backend::f16_to_f32(h);
  if (dtype == "BF16") return backend::bf16_to_f32(h);
  int64_t v = 0;
  if (dtype == "I8" || dtype == "U8" || dtype == "BOOL") {
    uint8_t b;
    std::memcpy(&b, p + i, 1);
    return dtype == "I8" ? static_cast<int8_t>(b) : b;
  }
  if (dtype == "I16") return static_cast<int16_t>(h);
  if (dtype == "I32") {
    int32_t x;
    std::memcpy(&x, p + 4 * i, 4);
    return x;
  }
  if (dtype == "I64") std::memcpy(&v, p + 8 * i, 8);
  return static_cast<double>(v);
}

std::string_view dtype_name(backend::DType t) {
  switch (t) {
    case backend::DType::kF32:
      return "F32";
    case backend::DType::kF16:
      return "F16";
    case backend::DType::kBF16:
      return "BF16";
    default:
      return "?";
  }
}

// The data of one tensor agrees with the safetensors package: first values exactly,
// sum to float64 rounding.
void expect_values(const std::byte* data, std::string_view dtype, int64_t n, const json& want) {
  const auto& first = want["first"];
  for (size_t i = 0; i < first.size(); ++i)
    EXPECT_EQ(element(data, dtype, i), first[i].get<double>());
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += element(data, dtype, static_cast<size_t>(i));
  EXPECT_NEAR(sum, want["sum"].get<double>(), 1e-9 * (1 + std::abs(sum)));
}

class HfModels : public ::testing::TestWithParam<std::string> {};

TEST_P(HfModels, MatchesTransformersAndSafetensors) {
  const std::string dir = GetParam();
  const json& want = hf_expected()[dir];
  auto r = load_model(test::data_dir() / "models" / dir);
  ASSERT_TRUE(r.ok()) << r.message();
  const ModelDescription& m = *r;
  const auto& hp = m.hparams;
  const json& c = want["config"];
  EXPECT_EQ(m.format, Format::kSafetensors);
  EXPECT_EQ(m.name, dir);
  EXPECT_EQ(m.source_arch, want["architecture"].get<std::string>());
  EXPECT_EQ(hp.n_vocab, c["vocab_size"].get<int64_t>());
  EXPECT_EQ(hp.n_embd, c["hidden_size"].get<int64_t>());
  EXPECT_EQ(hp.n_layer, c["num_hidden_layers"].get<int64_t>());
  EXPECT_EQ(hp.n_head, c["num_attention_heads"].get<int64_t>());
  EXPECT_EQ(hp.n_head_kv, c["num_key_value_heads"].get<int64_t>());
  EXPECT_EQ(hp.n_ff, c["intermediate_size"].get<int64_t>());
  EXPECT_EQ(hp.n_ctx_train, c["max_position_embeddings"].get<int64_t>());
  EXPECT_EQ(hp.head_dim, want["head_dim"].get<int64_t>());
  EXPECT_EQ(hp.n_rot, hp.head_dim);
  EXPECT_EQ(hp.norm_eps, c["rms_norm_eps"].get<double>());
  EXPECT_EQ(hp.rope_theta, c["rope_theta"].get<double>());
  EXPECT_EQ(hp.rope_layout, RopeLayout::kNeox);
  EXPECT_EQ(hp.tied_embeddings, c["tie_word_embeddings"].get<bool>());

  // Sliding window: transformers' layer_types where the model has a window.
  std::vector<bool> swa(static_cast<size_t>(hp.n_layer), false);
  const bool has_window = !c["sliding_window"].is_null();
  if (has_window) {
    EXPECT_EQ(hp.sliding_window, c["sliding_window"].get<int64_t>());
    if (c["layer_types"].is_array()) {
      for (size_t i = 0; i < swa.size(); ++i)
        swa[i] = c["layer_types"][i].get<std::string>() == "sliding_attention";
    } else {
      swa.assign(swa.size(), true);  // Phi-3: every layer
    }
  } else {
    EXPECT_EQ(hp.sliding_window, 0);
  }
  EXPECT_EQ(hp.layer_is_swa, swa);

  const bool gemma = m.arch == Arch::kGemma3;
  EXPECT_EQ(hp.norm_weight_offset, gemma ? 1.0 : 0.0);
  EXPECT_DOUBLE_EQ(hp.embedding_scale, gemma ? std::sqrt(static_cast<double>(hp.n_embd)) : 1.0);
  if (gemma) {
    EXPECT_EQ(hp.rope_theta_local, c["rope_local_base_freq"].get<double>());
    EXPECT_DOUBLE_EQ(hp.attn_scale, 1.0 / std::sqrt(c["query_pre_attn_scalar"].get<double>()));
    EXPECT_EQ(hp.activation, Activation::kGeluTanh);
    EXPECT_TRUE(hp.post_norms);
  } else {
    EXPECT_DOUBLE_EQ(hp.attn_scale, 1.0 / std::sqrt(static_cast<double>(hp.head_dim)));
    EXPECT_EQ(hp.activation, Activation::kSilu);
  }
  EXPECT_EQ(hp.qk_norm, m.arch == Arch::kQwen3 || gemma);
  EXPECT_EQ(hp.qkv_bias, m.arch == Arch::kQwen2);
  EXPECT_EQ(hp.fused_qkv, m.arch == Arch::kPhi3);
  EXPECT_EQ(hp.fused_gate_up, m.arch == Arch::kPhi3);

  const json& rs = want["rope_scaling"];
  if (rs.is_null()) {
    EXPECT_EQ(hp.rope_scaling.type, RopeScalingType::kNone);
  } else {
    const std::string type = rs.contains("rope_type") ? rs["rope_type"] : rs["type"];
    if (type == "llama3") {
      EXPECT_EQ(hp.rope_scaling.type, RopeScalingType::kLlama3);
      EXPECT_EQ(hp.rope_scaling.factor, rs["factor"].get<double>());
      EXPECT_EQ(hp.rope_scaling.low_freq_factor, rs["low_freq_factor"].get<double>());
      EXPECT_EQ(hp.rope_scaling.high_freq_factor, rs["high_freq_factor"].get<double>());
      EXPECT_EQ(hp.rope_scaling.original_ctx,
                rs["original_max_position_embeddings"].get<int64_t>());
    } else {
      ASSERT_EQ(type, "longrope");
      EXPECT_EQ(hp.rope_scaling.type, RopeScalingType::kLongRope);
      const auto lf = rs["long_factor"].get<std::vector<float>>();
      const auto sf = rs["short_factor"].get<std::vector<float>>();
      EXPECT_EQ(hp.rope_scaling.long_factor, lf);
      EXPECT_EQ(hp.rope_scaling.short_factor, sf);
      const auto orig = c["original_max_position_embeddings"].get<int64_t>();
      EXPECT_EQ(hp.rope_scaling.original_ctx, orig);
      // transformers' longrope attention factor sqrt(1 + ln(max/orig) / ln(orig)).
      const double scale = static_cast<double>(hp.n_ctx_train) / static_cast<double>(orig);
      EXPECT_DOUBLE_EQ(hp.rope_scaling.attn_factor,
                       std::sqrt(1 + std::log(scale) / std::log(static_cast<double>(orig))));
    }
  }

  // Tokenizer files and special tokens, as transformers' AutoTokenizer sees them.
  const json& tok = want["tokenizer"];
  EXPECT_EQ(m.tokenizer.kind, TokenizerSource::Kind::kTokenizerJson);
  EXPECT_EQ(m.tokenizer.tokenizer_json.filename(), "tokenizer.json");
  EXPECT_EQ(m.special.bos, tok["bos_token_id"].get<int32_t>());
  EXPECT_EQ(m.special.bos_text, tok["bos_token"].get<std::string>());
  EXPECT_EQ(m.special.eos, tok["eos_token_id"].get<int32_t>());
  EXPECT_EQ(m.special.eos_text, tok["eos_token"].get<std::string>());
  EXPECT_EQ(m.special.pad, tok["pad_token_id"].get<int32_t>());
  for (int64_t id : want["generation_eos"].get<std::vector<int64_t>>())
    EXPECT_NE(std::find(m.special.eos_ids.begin(), m.special.eos_ids.end(), id),
              m.special.eos_ids.end())
        << id;
  const json& tmpl = tok["chat_template"];
  if (tmpl.is_string()) {
    ASSERT_EQ(m.chat_templates.size(), 1u);
    EXPECT_EQ(m.chat_templates[0].name, "default");
    EXPECT_EQ(m.chat_templates[0].source, tmpl.get<std::string>());
  } else {
    ASSERT_EQ(m.chat_templates.size(), tmpl.size());
    EXPECT_EQ(m.chat_templates[0].name, "default");
    for (const auto& [name, source] : tmpl.items()) {
      ASSERT_NE(m.chat_template(name), nullptr) << name;
      EXPECT_EQ(m.chat_template(name)->source, source.get<std::string>());
    }
  }
  const json& gen = want["generation"];
  if (m.generation.top_k) {
    EXPECT_EQ(*m.generation.top_k, gen["top_k"].get<int64_t>());
  }
  if (m.generation.top_p) {
    EXPECT_EQ(*m.generation.top_p, gen["top_p"].get<double>());
  }
  if (m.generation.temperature) {
    EXPECT_EQ(*m.generation.temperature, gen["temperature"].get<double>());
  }
  EXPECT_EQ(m.generation.do_sample.value_or(false), gen["do_sample"].get<bool>());

  // Tensors: every safetensors tensor is in the description under its GGUF name.
  const json& tensors = want["tensors"];
  EXPECT_EQ(m.tensors.size(), tensors.size());
  for (const Tensor& t : m.tensors) {
    SCOPED_TRACE(t.source_name);
    ASSERT_TRUE(tensors.contains(t.source_name));
    const json& w = tensors[t.source_name];
    EXPECT_EQ(t.shape, w["shape"].get<std::vector<int64_t>>());
    EXPECT_EQ(dtype_name(t.dtype), w["dtype"].get<std::string>());
    expect_values(t.data, dtype_name(t.dtype), t.n_elements(), w);
  }
}

INSTANTIATE_TEST_SUITE_P(All, HfModels,
                         ::testing::Values("hf-tiny-llama", "hf-tiny-llama-rope-llama3",
                                           "hf-tiny-qwen2", "hf-tiny-qwen3", "hf-tiny-gemma3",
                                           "hf-tiny-gemma3-bf16", "hf-tiny-phi3",
                                           "hf-tiny-phi3-longrope"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& ch : s)
                             if (ch == '-') ch = '_';
                           return s;
                         });

// The name mapping, spelled out for one model of each naming family.
TEST(HfModels, TensorNamesMapToGgufScheme) {
  auto llama = load_model(test::data_dir() / "models/hf-tiny-llama");
  ASSERT_TRUE(llama.ok()) << llama.message();
  const std::pair<const char*, const char*> pairs[] = {
      {"token_embd.weight", "model.embed_tokens.weight"},
      {"output.weight", "lm_head.weight"},
      {"output_norm.weight", "model.norm.weight"},
      {"blk.1.attn_norm.weight", "model.layers.1.input_layernorm.weight"},
      {"blk.1.attn_q.weight", "model.layers.1.self_attn.q_proj.weight"},
      {"blk.1.attn_k.weight", "model.layers.1.self_attn.k_proj.weight"},
      {"blk.1.attn_v.weight", "model.layers.1.self_attn.v_proj.weight"},
      {"blk.1.attn_output.weight", "model.layers.1.self_attn.o_proj.weight"},
      {"blk.1.ffn_norm.weight", "model.layers.1.post_attention_layernorm.weight"},
      {"blk.1.ffn_gate.weight", "model.layers.1.mlp.gate_proj.weight"},
      {"blk.1.ffn_up.weight", "model.layers.1.mlp.up_proj.weight"},
      {"blk.1.ffn_down.weight", "model.layers.1.mlp.down_proj.weight"},
  };
  for (auto [gguf, hf] : pairs) {
    const Tensor* t = llama->tensor(gguf);
    ASSERT_NE(t, nullptr) << gguf;
    EXPECT_EQ(t->source_name, hf);
  }
  auto gemma = load_model(test::data_dir() / "models/hf-tiny-gemma3");
  ASSERT_TRUE(gemma.ok()) << gemma.message();
  EXPECT_EQ(gemma->tensor("blk.0.post_attention_norm.weight")->source_name,
            "model.layers.0.post_attention_layernorm.weight");
  EXPECT_EQ(gemma->tensor("blk.0.ffn_norm.weight")->source_name,
            "model.layers.0.pre_feedforward_layernorm.weight");
  EXPECT_EQ(gemma->tensor("blk.0.post_ffw_norm.weight")->source_name,
            "model.layers.0.post_feedforward_layernorm.weight");
  EXPECT_EQ(gemma->tensor("blk.2.attn_k_norm.weight")->source_name,
            "model.layers.2.self_attn.k_norm.weight");
  EXPECT_EQ(gemma->tensor("output.weight"), nullptr);
  EXPECT_EQ(gemma->special.eot_text, "<end_of_turn>");
  EXPECT_EQ(gemma->special.eot, 7);
  auto phi = load_model(test::data_dir() / "models/hf-tiny-phi3");
  ASSERT_TRUE(phi.ok()) << phi.message();
  EXPECT_EQ(phi->tensor("blk.0.attn_qkv.weight")->shape, (std::vector<int64_t>{3 * 64, 64}));
  EXPECT_EQ(phi->tensor("blk.0.ffn_up.weight")->shape, (std::vector<int64_t>{2 * 128, 64}));
  EXPECT_EQ(phi->tensor("blk.0.ffn_gate.weight"), nullptr);
}

TEST(Safetensors, EveryDtypeMatchesSafetensorsPackage) {
  const json& want = hf_expected()["safetensors/dtypes.safetensors"];
  auto r = safetensors::SafetensorsFile::open(test::data_dir() /
                                              "models/safetensors/dtypes.safetensors");
  ASSERT_TRUE(r.ok()) << r.message();
  const auto& f = **r;
  EXPECT_EQ(f.metadata().at("format"), "pt");
  EXPECT_EQ(f.metadata().at("note"), "kiln");
  EXPECT_EQ(f.tensors().size(), want["tensors"].size());
  for (const auto& [name, w] : want["tensors"].items()) {
    SCOPED_TRACE(name);
    const auto* t = f.find_tensor(name);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->dtype, w["dtype"].get<std::string>());
    EXPECT_EQ(t->shape, w["shape"].get<std::vector<int64_t>>());
    if (t->dtype.starts_with("F8")) continue;  // no decoder here; Kiln refuses F8 weights
    int64_t n = 1;
    for (auto d : t->shape) n *= d;
    expect_values(t->data, t->dtype, n, w);
  }
  EXPECT_EQ(safetensors::to_backend_dtype("BF16"), backend::DType::kBF16);
  EXPECT_EQ(safetensors::to_backend_dtype("F8_E4M3"), std::nullopt);
}

}  // namespace
}  // namespace kiln::model
