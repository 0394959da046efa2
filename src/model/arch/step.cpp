// The shared building blocks of every architecture (see arch.h).
#include <cstring>
#include <utility>

#include "backend/cpu/attention.h"
#include "backend/cpu/ops.h"
#include "model/arch/arch.h"

namespace kiln::model::arch {
namespace cpu = backend::cpu;

namespace {

// Below this many floats of per-token work a pool wake-up (a few
// microseconds per thread) costs more than it saves: decode steps of small
// models run their element-wise ops on the engine thread alone.
constexpr int64_t kParallelMinWork = 1 << 15;

void grow(std::vector<float>& v, int64_t n) {
  if (static_cast<int64_t>(v.size()) < n) v.resize(static_cast<size_t>(n));
}

}  // namespace

Step::Step(StepInputs inputs, Workspace& ws, int64_t n_tokens)
    : in_(std::move(inputs)), ws_(ws), n_(n_tokens) {
  const HyperParams& hp = in_.model->hparams;
  grow(ws_.x, n_ * hp.n_embd);
  grow(ws_.h, n_ * hp.n_embd);
  grow(ws_.tmp, n_ * hp.n_embd);
}

template <class F>
void Step::for_tokens(int64_t work_per_token, const F& fn) {
  if (n_ * work_per_token < kParallelMinWork || in_.pool->size() == 1) {
    for (int64_t t = 0; t < n_; ++t) fn(t);
    return;
  }
  in_.pool->parallel_for(n_, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) fn(t);
  });
}

void Step::norm(const float* x, const std::vector<float>& w, float* y) {
  const int64_t E = in_.model->hparams.n_embd;
  const float eps = static_cast<float>(in_.model->hparams.norm_eps);
  for_tokens(E, [&](int64_t t) { cpu::rms_norm(x + t * E, w.data(), y + t * E, E, eps); });
}

void Step::add(const float* x, float* y) {
  const int64_t E = in_.model->hparams.n_embd;
  for_tokens(E, [&](int64_t t) { cpu::add(x + t * E, y + t * E, E); });
}

void Step::project(const Linear& m, const float* x, int64_t ldx, float* y, int64_t ldy) {
  cpu::matmul(m.w, x, ldx, n_, y, ldy, *in_.pool);
  add_bias(m, y, ldy);
}

void Step::project_many(std::initializer_list<Output> outputs, const float* x, int64_t ldx) {
  std::vector<cpu::MatmulTarget> targets;
  for (const Output& o : outputs) targets.push_back({.w = &o.m->w, .y = o.y, .ldy = o.ldy});
  cpu::matmul_many(targets, x, ldx, n_, *in_.pool);
  for (const Output& o : outputs) add_bias(*o.m, o.y, o.ldy);
}

void Step::add_bias(const Linear& m, float* y, int64_t ldy) {
  if (!m.bias.empty())
    for_tokens(m.w.rows, [&](int64_t t) { cpu::add(m.bias.data(), y + t * ldy, m.w.rows); });
}

void Step::attention(const LayerWeights& w, int32_t il, const float* h, float* out) {
  const HyperParams& hp = in_.model->hparams;
  const int64_t E = hp.n_embd, hd = hp.head_dim, hdv = hp.head_dim_v;
  const int64_t Dq = hp.n_head * hd, Dk = hp.n_head_kv * hd, Dv = hp.n_head_kv * hdv;
  const int64_t Do = hp.n_head * hdv;
  // q, k and v share one buffer in the fused layout [q | k | v] per token,
  // whether or not the weights are fused.
  const int64_t ld = Dq + Dk + Dv;
  grow(ws_.q, n_ * ld);
  float* q = ws_.q.data();
  float* k = q + Dq;
  float* v = k + Dk;
  if (w.qkv.present()) {
    project(w.qkv, h, E, q, ld);
  } else {
    project_many({{&w.q, q, ld}, {&w.k, k, ld}, {&w.v, v, ld}}, h, E);
  }

  const bool local = in_.model->hparams.layer_is_swa[static_cast<size_t>(il)];
  const cpu::Rope& rope = local ? *in_.rope_local : *in_.rope_global;
  const float* cos = local ? ws_.cos_local.data() : ws_.cos_global.data();
  const float* sin = local ? ws_.sin_local.data() : ws_.sin_global.data();
  const int64_t n_rot = rope.n_rot();
  const float eps = static_cast<float>(hp.norm_eps);
  KvCache& kv = *in_.kv;
  float* k_cache = kv.k_data(il);
  float* v_cache = kv.v_data(il);
  const int64_t bs = kv.block_size();
  for_tokens(ld, [&](int64_t t) {
    float* qt = q + t * ld;
    float* kt = k + t * ld;
    for (int64_t hh = 0; hh < hp.n_head; ++hh) {
      float* head = qt + hh * hd;
      if (!w.attn_q_norm.empty()) cpu::rms_norm(head, w.attn_q_norm.data(), head, hd, eps);
      rope.apply(head, cos + t * n_rot, sin + t * n_rot);
    }
    for (int64_t hh = 0; hh < hp.n_head_kv; ++hh) {
      float* head = kt + hh * hd;
      if (!w.attn_k_norm.empty()) cpu::rms_norm(head, w.attn_k_norm.data(), head, hd, eps);
      rope.apply(head, cos + t * n_rot, sin + t * n_rot);
    }
    const auto& query = in_.queries[static_cast<size_t>(t)];
    const int64_t row = static_cast<int64_t>(query.blocks[query.pos / bs]) * bs + query.pos % bs;
    std::memcpy(k_cache + row * Dk, kt, static_cast<size_t>(Dk) * sizeof(float));
    std::memcpy(v_cache + row * Dv, v + t * ld, static_cast<size_t>(Dv) * sizeof(float));
  });

  grow(ws_.attn, n_ * Do);
  const cpu::AttentionShape shape{.n_heads = static_cast<int32_t>(hp.n_head),
                                  .n_kv_heads = static_cast<int32_t>(hp.n_head_kv),
                                  .head_dim_k = static_cast<int32_t>(hd),
                                  .head_dim_v = static_cast<int32_t>(hdv)};
  const cpu::AttentionOptions options{
      .scale = static_cast<float>(hp.attn_scale),
      .softcap = static_cast<float>(hp.attn_softcap),
      .window = local ? static_cast<int32_t>(hp.sliding_window) : 0};
  cpu::paged_attention(shape, options, {k_cache, v_cache, static_cast<int32_t>(bs)}, in_.queries, q,
                       ld, ws_.attn.data(), Do, *in_.pool);
  project(w.o, ws_.attn.data(), Do, out, E);
}

void Step::gated_mlp(const LayerWeights& w, const float* h, float* out) {
  const HyperParams& hp = in_.model->hparams;
  const int64_t E = hp.n_embd, F = hp.n_ff;
  float *gate, *up;
  int64_t ld;
  if (w.gate_up.present()) {
    ld = 2 * F;
    grow(ws_.gate, n_ * ld);
    project(w.gate_up, h, E, ws_.gate.data(), ld);
    gate = ws_.gate.data();
    up = gate + F;
  } else {
    ld = F;
    grow(ws_.gate, n_ * F);
    grow(ws_.up, n_ * F);
    project_many({{&w.gate, ws_.gate.data(), F}, {&w.up, ws_.up.data(), F}}, h, E);
    gate = ws_.gate.data();
    up = ws_.up.data();
  }
  // The activation overwrites the gate values in place.
  const Activation act = hp.activation;
  const bool table = in_.gelu_f16_table;
  for_tokens(F, [&](int64_t t) {
    float* g = gate + t * ld;
    const float* u = up + t * ld;
    if (act == Activation::kSilu) {
      cpu::silu_mul(g, u, g, F);
    } else if (table) {
      cpu::gelu_tanh_mul_f16_table(g, u, g, F);
    } else {
      cpu::gelu_tanh_mul(g, u, g, F);
    }
  });
  project(w.down, gate, ld, out, E);
}

void Step::pre_norm_layer(const LayerWeights& w, int32_t il) {
  norm(x(), w.attn_norm, h());
  attention(w, il, h(), tmp());
  add(tmp(), x());
  norm(x(), w.ffn_norm, h());
  gated_mlp(w, h(), tmp());
  add(tmp(), x());
}

}  // namespace kiln::model::arch
