// Qwen3: the Llama layer with an RMSNorm over each Q and K head before RoPE.
#include "model/arch/arch.h"

namespace kiln::model::arch {
namespace {

class Qwen3 final : public Architecture {
 public:
  util::Status check(const ModelDescription& m) const override {
    if (!m.hparams.qk_norm)
      return util::make_error(m.path.string() + ": qwen3 expects attn_q_norm/attn_k_norm");
    if (m.hparams.activation != Activation::kSilu)
      return util::make_error(m.path.string() + ": qwen3 expects a SiLU-gated MLP");
    return {};
  }
  void layer(Step& step, const LayerWeights& w, int32_t il) const override {
    step.pre_norm_layer(w, il);  // Step::attention applies the Q/K norms
  }
};

}  // namespace

std::unique_ptr<Architecture> make_qwen3() { return std::make_unique<Qwen3>(); }

}  // namespace kiln::model::arch
