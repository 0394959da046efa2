// The one normalized description of a model, whatever it was loaded from (a
// GGUF file or a Hugging Face directory of config.json + *.safetensors). It is
// the only thing the forward pass, the tokenizer, the chat templates and the
// HTTP layer read about a model.
//
// Conventions (the same for both sources):
// - Tensor names use GGUF's scheme ("token_embd.weight", "blk.3.attn_q.weight");
//   Hugging Face names are mapped to it (model_names.h lists the mapping).
// - Tensor data is never converted or copied: each Tensor is dtype + shape +
//   pointer into a memory mapping that the description keeps alive. Where the
//   two sources store the same weight differently (RoPE row order of Llama Q/K,
//   Gemma's `1 + w` norms), the difference is recorded in HyperParams, never
//   fixed up in the data.
// - A description is immutable after load and safe to read from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backend/cpu/dtype.h"
#include "model/gguf.h"
#include "model/mapped_file.h"
#include "util/result.h"

namespace kiln::model {

enum class Arch { kLlama, kQwen2, kQwen3, kGemma3, kPhi3 };
std::string_view arch_name(Arch arch);  // GGUF general.architecture: "llama", "qwen2", ...

enum class Format { kGguf, kSafetensors };

// How RoPE pairs the dimensions of a head. kNormal rotates (2i, 2i+1) (GGUF
// Llama: llama.cpp's converter permutes HF Q/K rows into this order); kNeox
// rotates (i, i + n_rot/2) (every HF checkpoint; GGUF Qwen2/3, Gemma 3, Phi-3).
enum class RopeLayout { kNormal, kNeox };

enum class RopeScalingType { kNone, kLinear, kDynamic, kYarn, kLlama3, kLongRope };

struct RopeScaling {
  RopeScalingType type = RopeScalingType::kNone;
  double factor = 1.0;            // context extension factor (linear, dynamic, yarn, llama3)
  int64_t original_ctx = 0;       // original_max_position_embeddings (0: unknown)
  double low_freq_factor = 1.0;   // llama3
  double high_freq_factor = 4.0;  // llama3
  double yarn_beta_fast = 32.0;
  double yarn_beta_slow = 1.0;
  double attn_factor = 1.0;         // multiplier on cos/sin (yarn mscale, longrope)
  std::vector<float> long_factor;   // longrope (Phi-3): one divisor per rotated pair
  std::vector<float> short_factor;  // longrope: used while the context <= original_ctx
  // Per-pair frequency divisors already computed by llama.cpp's converter (GGUF
  // tensor rope_freqs.weight, Llama 3.1 scaling); with these, type is kNone.
  std::vector<float> freq_factors;
};

enum class Activation { kSilu, kGeluTanh, kGelu };

struct HyperParams {
  int64_t n_vocab = 0;  // rows of token_embd
  int64_t n_embd = 0;   // hidden size
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;     // per-head size of Q and K (Gemma 3: != n_embd / n_head)
  int64_t head_dim_v = 0;   // per-head size of V (== head_dim for every supported arch)
  int64_t n_ff = 0;         // MLP intermediate size
  int64_t n_ctx_train = 0;  // max_position_embeddings / <arch>.context_length

  // RoPE. rope_scaling applies to global layers only; sliding-window layers use
  // rope_theta_local without scaling (Gemma 3), and rope_theta_local equals
  // rope_theta for architectures without local layers.
  int64_t n_rot = 0;  // rotated dims per head (== head_dim unless partial rotary)
  RopeLayout rope_layout = RopeLayout::kNeox;
  double rope_theta = 10000.0;
  double rope_theta_local = 10000.0;
  RopeScaling rope_scaling;

  // Norms: RMSNorm y = x / sqrt(mean(x^2) + norm_eps) * (w + norm_weight_offset).
  // norm_weight_offset is 1 for Gemma HF checkpoints (they store w for `1 + w`)
  // and 0 everywhere else (llama.cpp's converter folds the 1 into GGUF weights).
  // It applies to every norm weight, including attn_q_norm/attn_k_norm.
  double norm_eps = 1e-5;
  double norm_weight_offset = 0.0;
  bool qk_norm = false;     // blk.N.attn_q_norm / attn_k_norm over head_dim (Qwen3, Gemma 3)
  bool post_norms = false;  // blk.N.post_attention_norm / post_ffw_norm (Gemma 3)

  // Sliding-window attention: a query at position p sees keys p - sliding_window + 1 .. p
  // on layers where layer_is_swa[il]. layer_is_swa has n_layer entries.
  int64_t sliding_window = 0;  // 0: none
  std::vector<bool> layer_is_swa;

  bool tied_embeddings = false;  // no output.weight: logits use token_embd.weight
  double embedding_scale = 1.0;  // multiply embeddings by this (Gemma: sqrt(n_embd))
  double attn_scale = 0.0;       // multiplier of q.k (1 / sqrt(head_dim) unless stated)
  double attn_softcap = 0.0;     // 0: none; else s = c * tanh(s / c)
  double final_softcap = 0.0;    // 0: none; else logits = c * tanh(logits / c)
  Activation activation = Activation::kSilu;  // of the gate in down(act(gate x) * up x)

  bool qkv_bias = false;       // blk.N.attn_{q,k,v}.bias (Qwen2) or attn_qkv.bias
  bool attn_out_bias = false;  // blk.N.attn_output.bias
  bool mlp_bias = false;       // blk.N.ffn_{gate,up,down}.bias
  bool fused_qkv = false;      // blk.N.attn_qkv.weight rows = [q | k | v] (Phi-3)
  bool fused_gate_up = false;  // blk.N.ffn_up.weight rows = [gate | up], 2*n_ff (Phi-3)
};

struct Tensor {
  std::string name;         // GGUF-style name
  std::string source_name;  // as stored in the file ("model.layers.0.self_attn.q_proj.weight")
  backend::DType dtype = backend::DType::kF32;  // may be an id Kiln cannot compute
  std::vector<int64_t> shape;       // outermost first, like numpy/torch: a weight is {n_out, n_in}
  const std::byte* data = nullptr;  // row-major, last dim contiguous; not necessarily aligned
  uint64_t n_bytes = 0;

  int64_t n_elements() const;
};

struct TokenizerSource {
  enum class Kind { kNone, kGgufVocab, kTokenizerJson };
  Kind kind = Kind::kNone;
  std::filesystem::path tokenizer_json;  // kTokenizerJson
  std::string gguf_model;                // kGgufVocab: tokenizer.ggml.model ("llama", "gpt2", ...)
  std::string gguf_pre;                  // kGgufVocab: tokenizer.ggml.pre (may be empty)
};

struct SpecialTokens {
  // Ids are nullopt when the model has none (or names one outside the vocabulary).
  std::optional<int32_t> bos, eos, eot, pad, unk;
  std::string bos_text, eos_text, eot_text, pad_text;  // their strings, when known
  std::vector<int32_t> eos_ids;  // every id that ends generation (eos, eot, generation_config)
  std::optional<bool> add_bos, add_eos;  // nullopt: the tokenizer's own post-processor decides
};

struct ChatTemplate {
  std::string name;  // "default", "tool_use", ...
  std::string source;
};

// generation_config.json defaults (GGUF files have none). Unset fields: no default.
struct GenerationDefaults {
  std::optional<bool> do_sample;
  std::optional<double> temperature, top_p, min_p, repetition_penalty;
  std::optional<int64_t> top_k, max_new_tokens, max_length;
};

struct ModelDescription {
  Format format = Format::kGguf;
  std::filesystem::path path;  // the .gguf file or the HF directory
  std::string name;            // general.name, or the directory name
  Arch arch = Arch::kLlama;
  std::string source_arch;  // as the file says it: "gemma3", "Gemma3ForCausalLM"
  HyperParams hparams;
  std::vector<Tensor> tensors;  // file order (shards in index order)
  TokenizerSource tokenizer;
  SpecialTokens special;
  std::vector<ChatTemplate> chat_templates;  // "default" first when present
  GenerationDefaults generation;

  // The parsed GGUF file (format == kGguf), for the vocabulary and any other
  // metadata; null for HF directories.
  std::shared_ptr<const gguf::GgufFile> gguf;
  // Keeps every Tensor::data valid for the lifetime of the description.
  std::vector<std::shared_ptr<const MappedFile>> mappings;

  const Tensor* tensor(std::string_view name) const;  // nullptr when absent
  const ChatTemplate* chat_template(std::string_view name = "default") const;
};

struct LoadOptions {
  // For an HF directory holding several .gguf files and no safetensors, the one to
  // load; ignored otherwise.
  std::string gguf_file;
};

// Loads a .gguf file or a directory in the Hugging Face layout. Fails with a
// one-line message naming the file and field on any bad input.
util::Result<ModelDescription> load_model(const std::filesystem::path& path,
                                          const LoadOptions& options = {});

// Error when a tensor's dtype is not in `supported`, naming the tensor and type:
// the forward pass calls this at load so that files with types it cannot compute
// fail early and clearly.
util::Status check_dtypes(const ModelDescription& model,
                          const std::vector<backend::DType>& supported);

}  // namespace kiln::model
