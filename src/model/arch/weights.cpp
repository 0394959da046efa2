// Binds a description's tensors to the forward pass: matrices stay where the
// loader mapped them; norm vectors and biases (small) become float32 copies.
#include <cstdlib>
#include <string>

#include "model/arch/arch.h"

namespace kiln::model::arch {
namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

class Binder {
 public:
  explicit Binder(const ModelDescription& m)
      : m_(m), offset_(static_cast<float>(m.hparams.norm_weight_offset)) {}

  WeightMatrix matrix(const std::string& name, int64_t rows, int64_t cols) {
    const Tensor* t = find(name, {rows, cols});
    if (t == nullptr) return {};
    if (!backend::cpu::matmul_supports(t->dtype)) {
      fail("tensor '" + name + "' has type " + type_name(t->dtype) +
           ", which the CPU matmul cannot compute");
      return {};
    }
    return {.dtype = t->dtype,
            .rows = rows,
            .cols = cols,
            .data = t->data,
            .row_stride = backend::row_bytes(t->dtype, cols)};
  }

  // A float vector of n values; norm weights get the model's offset added.
  std::vector<float> vector(const std::string& name, int64_t n, bool is_norm) {
    const Tensor* t = find(name, {n});
    if (t == nullptr) return {};
    if (t->dtype != backend::DType::kF32 && t->dtype != backend::DType::kF16 &&
        t->dtype != backend::DType::kBF16) {
      fail("tensor '" + name + "' has type " + type_name(t->dtype) + ", expected F32, F16 or BF16");
      return {};
    }
    std::vector<float> out(static_cast<size_t>(n));
    const WeightMatrix row{.dtype = t->dtype,
                           .rows = 1,
                           .cols = n,
                           .data = t->data,
                           .row_stride = backend::row_bytes(t->dtype, n)};
    backend::cpu::dequantize_row(row, 0, out.data());
    if (is_norm && offset_ != 0.0f)
      for (float& v : out) v += offset_;
    return out;
  }

  Linear linear(const std::string& prefix, int64_t rows, int64_t cols, bool bias) {
    Linear l;
    l.w = matrix(prefix + ".weight", rows, cols);
    if (bias) l.bias = vector(prefix + ".bias", rows, false);
    return l;
  }

  util::Status status() const { return status_; }

 private:
  static std::string type_name(backend::DType t) {
    auto traits = backend::dtype_traits(static_cast<uint32_t>(t));
    if (traits) return std::string(traits->name);
    std::string id = "id ";  // `"#" + std::to_string()` trips GCC 12's -Wrestrict
    id += std::to_string(static_cast<uint32_t>(t));
    return id;
  }
  const Tensor* find(const std::string& name, const std::vector<int64_t>& shape) {
    if (!status_) return nullptr;
    const Tensor* t = m_.tensor(name);
    if (t == nullptr) {
      fail("missing tensor '" + name + "'");
    } else if (t->shape != shape) {
      fail("tensor '" + name + "' has shape " + shape_str(t->shape) + ", expected " +
           shape_str(shape) + " from the model's hyper-parameters");
    } else if (t->data == nullptr) {
      fail("tensor '" + name + "' has no data");
    } else {
      return t;
    }
    return nullptr;
  }
  void fail(const std::string& what) {
    if (status_) status_ = util::make_error(m_.path.string() + ": " + what);
  }

  const ModelDescription& m_;
  float offset_;
  util::Status status_;
};

// Replaces w by a packed copy owned by weights.packed.
void pack(WeightMatrix& w, Weights& weights, backend::cpu::ThreadPool* pool) {
  if (w.data == nullptr) return;
  const auto bytes = static_cast<size_t>(backend::cpu::packed_weight_bytes(w));
  // aligned_alloc wants a multiple of the alignment.
  void* dst = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  if (dst == nullptr) std::abort();  // out of memory while loading
  weights.packed.emplace_back(static_cast<uint8_t*>(dst), std::free);
  w = backend::cpu::pack_weights(w, dst, pool);
}

}  // namespace

util::Result<Weights> bind_weights(const ModelDescription& m, backend::cpu::ThreadPool* pack_pool) {
  const HyperParams& hp = m.hparams;
  const int64_t E = hp.n_embd, F = hp.n_ff;
  const int64_t Dq = hp.n_head * hp.head_dim, Dk = hp.n_head_kv * hp.head_dim;
  const int64_t Dv = hp.n_head_kv * hp.head_dim_v, Do = hp.n_head * hp.head_dim_v;
  Binder b(m);
  Weights w;
  w.token_embd = b.matrix("token_embd.weight", hp.n_vocab, E);
  w.output = hp.tied_embeddings ? w.token_embd : b.matrix("output.weight", hp.n_vocab, E);
  w.output_norm = b.vector("output_norm.weight", E, true);
  w.layers.resize(static_cast<size_t>(hp.n_layer));
  for (int64_t il = 0; il < hp.n_layer && b.status(); ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    LayerWeights& l = w.layers[static_cast<size_t>(il)];
    l.attn_norm = b.vector(p + "attn_norm.weight", E, true);
    if (hp.fused_qkv) {
      l.qkv = b.linear(p + "attn_qkv", Dq + Dk + Dv, E, hp.qkv_bias);
    } else {
      l.q = b.linear(p + "attn_q", Dq, E, hp.qkv_bias);
      l.k = b.linear(p + "attn_k", Dk, E, hp.qkv_bias);
      l.v = b.linear(p + "attn_v", Dv, E, hp.qkv_bias);
    }
    l.o = b.linear(p + "attn_output", E, Do, hp.attn_out_bias);
    if (hp.qk_norm) {
      l.attn_q_norm = b.vector(p + "attn_q_norm.weight", hp.head_dim, true);
      l.attn_k_norm = b.vector(p + "attn_k_norm.weight", hp.head_dim, true);
    }
    if (hp.post_norms) {
      l.post_attention_norm = b.vector(p + "post_attention_norm.weight", E, true);
      l.post_ffw_norm = b.vector(p + "post_ffw_norm.weight", E, true);
    }
    l.ffn_norm = b.vector(p + "ffn_norm.weight", E, true);
    if (hp.fused_gate_up) {
      l.gate_up = b.linear(p + "ffn_up", 2 * F, E, hp.mlp_bias);
    } else {
      l.gate = b.linear(p + "ffn_gate", F, E, hp.mlp_bias);
      l.up = b.linear(p + "ffn_up", F, E, hp.mlp_bias);
    }
    l.down = b.linear(p + "ffn_down", E, F, hp.mlp_bias);
  }
  if (!b.status()) return util::make_error(b.status().message());
  if (pack_pool != nullptr) {
    pack(w.output, w, pack_pool);
    for (LayerWeights& l : w.layers)
      for (Linear* lin : {&l.q, &l.k, &l.v, &l.qkv, &l.o, &l.gate, &l.up, &l.gate_up, &l.down})
        pack(lin->w, w, pack_pool);
  }
  return w;
}

}  // namespace kiln::model::arch
