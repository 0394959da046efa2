// Phi-3: the Llama layer with fused projections: attn_qkv rows [q | k | v]
// and ffn_up rows [gate | up] (SiLU on the first half).
#include "model/arch/arch.h"

namespace kiln::model::arch {
namespace {

class Phi3 final : public Architecture {
 public:
  util::Status check(const ModelDescription& m) const override {
    if (m.hparams.activation != Activation::kSilu)
      return util::make_error(m.path.string() + ": phi3 expects a SiLU-gated MLP");
    return {};  // fused or separate projections both bind (weights.cpp)
  }
  void layer(Step& step, const LayerWeights& w, int32_t il) const override {
    step.pre_norm_layer(w, il);
  }
};

}  // namespace

std::unique_ptr<Architecture> make_phi3() { return std::make_unique<Phi3>(); }

}  // namespace kiln::model::arch
