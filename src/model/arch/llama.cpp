// Llama 1/2/3, Mistral, SmolLM: pre-norm layers, SiLU-gated MLP, no biases.
#include "model/arch/arch.h"

namespace kiln::model::arch {
namespace {

class Llama final : public Architecture {
 public:
  util::Status check(const ModelDescription& m) const override {
    if (m.hparams.activation != Activation::kSilu)
      return util::make_error(m.path.string() + ": llama expects a SiLU-gated MLP");
    return {};
  }
  void layer(Step& step, const LayerWeights& w, int32_t il) const override {
    step.pre_norm_layer(w, il);
  }
};

}  // namespace

std::unique_ptr<Architecture> make_llama() { return std::make_unique<Llama>(); }

}  // namespace kiln::model::arch
