// load_model() on GGUF files: the normalized description against the facts
// stated in ../shared/data/goldens/README.md (how those files were written) and
// against gguf-py's reading of the tensor table.
#include <gtest/gtest.h>

#include <cmath>

#include "model/model.h"
#include "model_test_util.h"

namespace kiln::model {
namespace {

std::vector<int64_t> reversed(std::vector<int64_t> v) { return {v.rbegin(), v.rend()}; }

// Every tensor of the description matches gguf-py: name, type, shape (reversed to
// outermost-first), size and data.
void expect_tensors_match(const ModelDescription& m, const std::string& file) {
  const auto& want = test::gguf_expected()[file]["tensors"];
  ASSERT_EQ(m.tensors.size(), want.size());
  const auto* base = m.mappings.at(0)->bytes().data();
  for (size_t i = 0; i < want.size(); ++i) {
    const Tensor& t = m.tensors[i];
    EXPECT_EQ(t.name, want[i]["name"].get<std::string>());
    EXPECT_EQ(static_cast<uint32_t>(t.dtype), want[i]["type"].get<uint32_t>());
    EXPECT_EQ(t.shape, reversed(want[i]["ne"].get<std::vector<int64_t>>())) << t.name;
    EXPECT_EQ(t.n_bytes, want[i]["n_bytes"].get<uint64_t>());
    EXPECT_EQ(static_cast<uint64_t>(t.data - base), want[i]["file_offset"].get<uint64_t>());
  }
}

TEST(GgufModel, TinyLlama) {
  for (const char* file : {"tiny-llama-q4_K.gguf", "tiny-llama-q8_0.gguf"}) {
    SCOPED_TRACE(file);
    auto path = test::find_gguf(file);
    ASSERT_TRUE(path);
    auto r = load_model(*path);
    ASSERT_TRUE(r.ok()) << r.message();
    const ModelDescription& m = *r;
    EXPECT_EQ(m.format, Format::kGguf);
    EXPECT_EQ(m.arch, Arch::kLlama);
    EXPECT_EQ(m.name, "tiny-llama");
    const auto& hp = m.hparams;
    EXPECT_EQ(hp.n_vocab, 512);
    EXPECT_EQ(hp.n_embd, 256);
    EXPECT_EQ(hp.n_layer, 2);
    EXPECT_EQ(hp.n_head, 8);
    EXPECT_EQ(hp.n_head_kv, 2);
    EXPECT_EQ(hp.head_dim, 32);
    EXPECT_EQ(hp.n_rot, 32);
    EXPECT_EQ(hp.n_ff, 768);
    EXPECT_EQ(hp.n_ctx_train, 256);
    EXPECT_EQ(hp.rope_theta, 10000.0);
    EXPECT_EQ(hp.rope_layout, RopeLayout::kNormal);
    EXPECT_FLOAT_EQ(static_cast<float>(hp.norm_eps), 1e-5f);
    EXPECT_EQ(hp.norm_weight_offset, 0.0);
    EXPECT_FALSE(hp.tied_embeddings);
    EXPECT_FALSE(hp.qk_norm);
    EXPECT_FALSE(hp.qkv_bias);
    EXPECT_FALSE(hp.fused_gate_up);
    EXPECT_EQ(hp.sliding_window, 0);
    EXPECT_EQ(hp.layer_is_swa, std::vector<bool>(2, false));
    EXPECT_DOUBLE_EQ(hp.attn_scale, 1.0 / std::sqrt(32.0));
    EXPECT_EQ(hp.activation, Activation::kSilu);
    EXPECT_EQ(m.tokenizer.kind, TokenizerSource::Kind::kGgufVocab);
    EXPECT_EQ(m.tokenizer.gguf_model, "llama");
    EXPECT_EQ(m.special.bos, 1);
    EXPECT_EQ(m.special.eos, 2);
    EXPECT_EQ(m.special.bos_text, "<s>");
    EXPECT_EQ(m.special.eos_text, "</s>");
    EXPECT_FALSE(m.special.pad);  // written as 4294967295
    EXPECT_EQ(m.special.eos_ids, std::vector<int32_t>{2});
    EXPECT_TRUE(m.chat_templates.empty());
    EXPECT_NE(m.tensor("blk.1.ffn_down.weight"), nullptr);
    EXPECT_EQ(m.tensor("blk.2.ffn_down.weight"), nullptr);
    expect_tensors_match(m, file);
  }
}

TEST(GgufModel, TinyGemma3) {
  auto path = test::find_gguf("tiny-gemma3-f32.gguf");
  ASSERT_TRUE(path);
  auto r = load_model(*path);
  ASSERT_TRUE(r.ok()) << r.message();
  const ModelDescription& m = *r;
  const auto& hp = m.hparams;
  EXPECT_EQ(m.arch, Arch::kGemma3);
  EXPECT_EQ(hp.n_embd, 128);
  EXPECT_EQ(hp.n_layer, 6);
  EXPECT_EQ(hp.n_head, 4);
  EXPECT_EQ(hp.n_head_kv, 1);
  EXPECT_EQ(hp.head_dim, 64);
  EXPECT_EQ(hp.n_ff, 512);
  EXPECT_EQ(hp.n_vocab, 512);
  EXPECT_FLOAT_EQ(static_cast<float>(hp.norm_eps), 1e-6f);
  EXPECT_TRUE(hp.qk_norm);
  EXPECT_TRUE(hp.post_norms);
  EXPECT_TRUE(hp.tied_embeddings);
  EXPECT_EQ(hp.sliding_window, 8);
  EXPECT_EQ(hp.layer_is_swa, (std::vector<bool>{true, true, true, true, true, false}));
  EXPECT_EQ(hp.rope_theta, 1e6);
  EXPECT_EQ(hp.rope_theta_local, 1e4);
  EXPECT_EQ(hp.rope_layout, RopeLayout::kNeox);
  EXPECT_DOUBLE_EQ(hp.embedding_scale, std::sqrt(128.0));
  EXPECT_DOUBLE_EQ(hp.attn_scale, 0.125);
  EXPECT_EQ(hp.activation, Activation::kGeluTanh);
  EXPECT_EQ(hp.norm_weight_offset, 0.0);  // folded into the GGUF weights
  EXPECT_EQ(hp.final_softcap, 0.0);
  expect_tensors_match(m, "tiny-gemma3-f32.gguf");
  // F32 data is the file's bytes: first value of token_embd equals gguf-py's first 4 bytes.
  const Tensor* e = m.tensor("token_embd.weight");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->shape, (std::vector<int64_t>{512, 128}));
}

TEST(GgufModel, Stories260K) {
  KILN_REQUIRE_SHARED("data/goldens/models/stories260K.gguf");
  auto r = load_model(test::shared_dir() / "data/goldens/models/stories260K.gguf");
  ASSERT_TRUE(r.ok()) << r.message();
  const auto& hp = r->hparams;
  EXPECT_EQ(hp.n_embd, 64);
  EXPECT_EQ(hp.n_layer, 5);
  EXPECT_EQ(hp.n_head, 8);
  EXPECT_EQ(hp.n_head_kv, 4);
  EXPECT_EQ(hp.head_dim, 8);
  EXPECT_EQ(hp.n_ff, 172);
  EXPECT_EQ(hp.n_vocab, 512);
  EXPECT_EQ(hp.n_ctx_train, 128);
  EXPECT_EQ(hp.rope_theta, 10000.0);  // no rope.freq_base key
  EXPECT_FALSE(hp.tied_embeddings);
  expect_tensors_match(*r, "stories260K.gguf");
}

TEST(GgufModel, DefaultGemma3_270M) {
  auto path = test::default_model_path();
  if (!path) GTEST_SKIP() << "default model not installed (scripts/setup.sh)";
  auto r = load_model(*path);
  ASSERT_TRUE(r.ok()) << r.message();
  const ModelDescription& m = *r;
  const auto& hp = m.hparams;
  EXPECT_EQ(m.name, "Gemma 3 270m");
  EXPECT_EQ(hp.n_vocab, 262144);
  EXPECT_EQ(hp.n_embd, 640);
  EXPECT_EQ(hp.n_layer, 18);
  EXPECT_EQ(hp.head_dim, 256);
  EXPECT_EQ(hp.n_ctx_train, 32768);
  EXPECT_EQ(hp.sliding_window, 512);
  for (int il = 0; il < 18; ++il) EXPECT_EQ(hp.layer_is_swa[il], il % 6 != 5) << il;
  EXPECT_EQ(hp.rope_theta_local, 10000.0);
  EXPECT_TRUE(hp.tied_embeddings);
  EXPECT_EQ(m.special.bos, 2);
  EXPECT_EQ(m.special.eos, 1);
  EXPECT_EQ(m.special.bos_text, "<bos>");
  EXPECT_EQ(m.special.add_bos, true);
  EXPECT_EQ(m.special.add_eos, false);
  EXPECT_EQ(m.special.pad, 0);
  // <end_of_turn> (id 106 in Gemma 3's vocabulary) ends generation too.
  EXPECT_EQ(m.special.eot, 106);
  EXPECT_EQ(m.special.eot_text, "<end_of_turn>");
  EXPECT_EQ(m.special.eos_ids, (std::vector<int32_t>{1, 106}));
  expect_tensors_match(m, test::kDefaultModelName);
  EXPECT_FALSE(check_dtypes(m, {backend::DType::kF32, backend::DType::kQ8_0}).ok());
  auto st = check_dtypes(m, {backend::DType::kF32, backend::DType::kQ8_0, backend::DType::kQ5_0,
                             backend::DType::kQ4_K, backend::DType::kQ6_K});
  EXPECT_TRUE(st.ok()) << st.message();
}

TEST(GgufModel, CheckDtypesNamesTensorAndType) {
  auto path = test::find_gguf("tiny-llama-q4_K.gguf");
  ASSERT_TRUE(path);
  auto r = load_model(*path);
  ASSERT_TRUE(r.ok());
  auto st = check_dtypes(*r, {backend::DType::kF32});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("tensor 'output.weight' has type Q4_K, which Kiln cannot compute"),
            std::string::npos)
      << st.message();
}

}  // namespace
}  // namespace kiln::model
