// Gemma 3: "sandwich" norms (each block's output is normed again before the
// residual add), Q/K norms, GELU(tanh)-gated MLP, embeddings scaled by
// sqrt(n_embd) (set by the loader in embedding_scale), and sliding-window
// layers with their own RoPE base (HyperParams::layer_is_swa).
#include "model/arch/arch.h"

namespace kiln::model::arch {
namespace {

class Gemma3 final : public Architecture {
 public:
  util::Status check(const ModelDescription& m) const override {
    const auto& hp = m.hparams;
    if (!hp.qk_norm || !hp.post_norms)
      return util::make_error(m.path.string() +
                              ": gemma3 expects Q/K norms and post-attention/post-FFN norms");
    if (hp.activation != Activation::kGeluTanh)
      return util::make_error(m.path.string() + ": gemma3 expects a GELU(tanh)-gated MLP");
    return {};
  }
  void layer(Step& step, const LayerWeights& w, int32_t il) const override {
    step.norm(step.x(), w.attn_norm, step.h());
    step.attention(w, il, step.h(), step.tmp());
    step.norm(step.tmp(), w.post_attention_norm, step.tmp());
    step.add(step.tmp(), step.x());
    step.norm(step.x(), w.ffn_norm, step.h());
    step.gated_mlp(w, step.h(), step.tmp());
    step.norm(step.tmp(), w.post_ffw_norm, step.tmp());
    step.add(step.tmp(), step.x());
  }
};

}  // namespace

std::unique_ptr<Architecture> make_gemma3() { return std::make_unique<Gemma3>(); }

}  // namespace kiln::model::arch
