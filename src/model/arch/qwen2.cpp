// Qwen2 / Qwen2.5: the Llama layer with biases on the Q, K and V projections.
#include "model/arch/arch.h"

namespace kiln::model::arch {
namespace {

class Qwen2 final : public Architecture {
 public:
  util::Status check(const ModelDescription& m) const override {
    if (!m.hparams.qkv_bias)
      return util::make_error(m.path.string() + ": qwen2 expects attn_q/k/v biases");
    if (m.hparams.activation != Activation::kSilu)
      return util::make_error(m.path.string() + ": qwen2 expects a SiLU-gated MLP");
    return {};
  }
  void layer(Step& step, const LayerWeights& w, int32_t il) const override {
    step.pre_norm_layer(w, il);  // Step::attention adds the biases
  }
};

}  // namespace

std::unique_ptr<Architecture> make_qwen2() { return std::make_unique<Qwen2>(); }

}  // namespace kiln::model::arch
