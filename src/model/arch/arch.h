// Internal to src/model: the pieces every architecture is built from. A
// forward call creates one Step (the batch's activations, rope tables and KV
// targets); an architecture is a short file that checks the description and
// writes one decoder layer as a few Step calls.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <vector>

#include "backend/cpu/attention.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/rope.h"
#include "backend/cpu/thread_pool.h"
#include "model/forward.h"

namespace kiln::model::arch {

using backend::cpu::WeightMatrix;

// A weight matrix and its optional bias (empty when the model has none).
struct Linear {
  WeightMatrix w;
  std::vector<float> bias;
  bool present() const { return w.data != nullptr; }
};

// Norm weights are converted to float32 at load with the model's weight
// offset (Gemma HF: 1 + w) folded in. Absent ones are empty.
struct LayerWeights {
  std::vector<float> attn_norm, ffn_norm, post_attention_norm, post_ffw_norm;
  std::vector<float> attn_q_norm, attn_k_norm;  // over head_dim, shared by all heads
  Linear q, k, v, qkv, o;                       // qkv when fused (Phi-3)
  Linear gate, up, gate_up, down;               // gate_up when fused (Phi-3): [gate | up]
};

struct Weights {
  WeightMatrix token_embd;  // row-major, as mapped: read a row at a time by embed()
  WeightMatrix output;      // a copy of token_embd when the embeddings are tied
  std::vector<float> output_norm;
  std::vector<LayerWeights> layers;
  // Owned copies of the matrices in matmul's panel layout (pack_weights()).
  std::vector<std::unique_ptr<uint8_t[], void (*)(void*)>> packed;
};

// Binds every tensor the hyper-parameters call for, checking presence,
// shapes and types; messages name the tensor. With pool, every matrix is
// then copied into the panel layout the matmul kernels read fastest (the
// mapped file's pages are no longer needed after load, except the
// embedding rows).
util::Result<Weights> bind_weights(const ModelDescription& model,
                                   backend::cpu::ThreadPool* pack_pool);

// Scratch memory of one forward call, kept by the model between calls.
struct Workspace {
  std::vector<float> x, h, tmp;      // [n][n_embd]: residual, normed input, block output
  std::vector<float> q, k, v, attn;  // projections and attention output
  std::vector<float> gate, up;       // [n][n_ff] (gate holds [gate | up] when fused)
  std::vector<float> cos_global, sin_global, cos_local, sin_local;  // [n][n_rot]
};

struct StepInputs {
  const ModelDescription* model;
  const Weights* weights;
  const backend::cpu::Rope* rope_global;
  const backend::cpu::Rope* rope_local;  // sliding-window layers
  bool gelu_f16_table;
  backend::cpu::ThreadPool* pool;
  KvCache* kv;
  std::vector<int64_t> pos;                           // per token
  std::vector<backend::cpu::AttentionQuery> queries;  // per token: pos + block table
};

class Step {
 public:
  Step(StepInputs inputs, Workspace& ws, int64_t n_tokens);

  int64_t n_tokens() const { return n_; }
  float* x() { return ws_.x.data(); }      // the residual stream, [n][n_embd]
  float* h() { return ws_.h.data(); }      // scratch [n][n_embd]
  float* tmp() { return ws_.tmp.data(); }  // scratch [n][n_embd]

  // y = rms_norm(x) * w over every token's n_embd values (y may be x).
  void norm(const float* x, const std::vector<float>& w, float* y);
  void add(const float* x, float* y);  // y += x, [n][n_embd]

  // Self-attention of layer il on the normed input h; writes this batch's
  // K/V into the cache and the projected output into out ([n][n_embd]).
  void attention(const LayerWeights& w, int32_t il, const float* h, float* out);

  // down(act(gate h) * up h) into out ([n][n_embd]).
  void gated_mlp(const LayerWeights& w, const float* h, float* out);

  // The common pre-norm layer: x += attn(norm(x)); x += mlp(norm(x)).
  void pre_norm_layer(const LayerWeights& w, int32_t il);

 private:
  struct Output {
    const Linear* m;
    float* y;
    int64_t ldy;
  };
  void project(const Linear& m, const float* x, int64_t ldx, float* y, int64_t ldy);
  // Several projections of the same input in one matmul dispatch.
  void project_many(std::initializer_list<Output> outputs, const float* x, int64_t ldx);
  void add_bias(const Linear& m, float* y, int64_t ldy);
  // Runs fn(t) for every token, on the pool when there is enough work.
  template <class F>
  void for_tokens(int64_t work_per_token, const F& fn);

  StepInputs in_;
  Workspace& ws_;
  int64_t n_;
};

// One decoder architecture: what it requires of a description, and its layer.
class Architecture {
 public:
  virtual ~Architecture() = default;
  // Fails when the description lacks what this architecture needs.
  virtual util::Status check(const ModelDescription& model) const = 0;
  virtual void layer(Step& step, const LayerWeights& w, int32_t il) const = 0;
};

std::unique_ptr<Architecture> make_llama();
std::unique_ptr<Architecture> make_qwen2();
std::unique_ptr<Architecture> make_qwen3();
std::unique_ptr<Architecture> make_gemma3();
std::unique_ptr<Architecture> make_phi3();

}  // namespace kiln::model::arch
