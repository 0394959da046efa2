// Model::forward: validates the batch, then embedding -> layers -> final
// norm -> logits for the tokens that asked, over the shared blocks of
// arch/step.cpp and the per-architecture layers of arch/*.cpp.
#include "model/forward.h"

#include <string>

#include "backend/cpu/ops.h"
#include "backend/cpu/rope.h"
#include "backend/cpu/thread_pool.h"
#include "model/arch/arch.h"

namespace kiln::model {
namespace cpu = backend::cpu;

namespace {

std::unique_ptr<arch::Architecture> make_architecture(Arch a) {
  switch (a) {
    case Arch::kLlama:
      return arch::make_llama();
    case Arch::kQwen2:
      return arch::make_qwen2();
    case Arch::kQwen3:
      return arch::make_qwen3();
    case Arch::kGemma3:
      return arch::make_gemma3();
    case Arch::kPhi3:
      return arch::make_phi3();
  }
  return nullptr;
}

// The description's RoPE in backend terms: global layers use the scaling,
// sliding-window layers (local) the local base without it.
util::Result<cpu::RopeOptions> rope_options(const ModelDescription& m, int64_t n_ctx, bool local) {
  const HyperParams& hp = m.hparams;
  cpu::RopeOptions o;
  o.n_rot = static_cast<int32_t>(hp.n_rot);
  o.layout =
      hp.rope_layout == RopeLayout::kNormal ? cpu::RopeLayout::kNormal : cpu::RopeLayout::kNeox;
  o.theta = local ? hp.rope_theta_local : hp.rope_theta;
  if (local) return o;
  const RopeScaling& s = hp.rope_scaling;
  o.freq_factors = s.freq_factors;
  auto& os = o.scaling;
  os.factor = s.factor;
  os.original_context = s.original_ctx;
  switch (s.type) {
    case RopeScalingType::kNone:
      break;
    case RopeScalingType::kDynamic:
      // Dynamic NTK only changes frequencies past the training context,
      // which n_ctx never exceeds for such models (see create()).
      break;
    case RopeScalingType::kLinear:
      os.type = cpu::RopeScalingType::kLinear;
      break;
    case RopeScalingType::kLlama3:
      os.type = cpu::RopeScalingType::kLlama3;
      os.low_freq_factor = s.low_freq_factor;
      os.high_freq_factor = s.high_freq_factor;
      break;
    case RopeScalingType::kYarn:
      os.type = cpu::RopeScalingType::kYarn;
      os.beta_fast = s.yarn_beta_fast;
      os.beta_slow = s.yarn_beta_slow;
      // llama.cpp's attn_factor multiplies the derived mscale.
      os.attention_factor = cpu::yarn_attention_factor(os) * s.attn_factor;
      break;
    case RopeScalingType::kLongRope:
      // The long factors serve contexts beyond the original one. Chosen once
      // from n_ctx (as llama.cpp does), not per sequence length as in
      // transformers, so a sequence's numbers never depend on its length.
      o.freq_factors = n_ctx > s.original_ctx ? s.long_factor : s.short_factor;
      os.attention_factor = s.attn_factor;
      break;
  }
  if (std::string why = cpu::validate_rope(o); !why.empty())
    return util::make_error(m.path.string() + ": " + why);
  return o;
}

}  // namespace

class Model::Impl {
 public:
  std::shared_ptr<const ModelDescription> desc;
  ModelOptions options;
  int64_t n_ctx = 0;
  std::unique_ptr<arch::Architecture> architecture;
  arch::Weights weights;
  cpu::Rope rope_global, rope_local;
  bool has_local_layers = false;
  std::unique_ptr<cpu::ThreadPool> pool;
  arch::Workspace ws;
  std::vector<float> out_rows;  // normed hidden states of the tokens with logits

  util::Status validate(const Batch& batch, const KvCache& kv) const;
  util::Result<Logits> forward(const Batch& batch, KvCache& kv);
};

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

util::Result<std::unique_ptr<Model>> Model::create(
    std::shared_ptr<const ModelDescription> description, const ModelOptions& options) {
  if (description == nullptr) return util::make_error("no model description");
  const ModelDescription& m = *description;
  const HyperParams& hp = m.hparams;
  const std::string file = m.path.string();
  auto impl = std::make_unique<Impl>();
  impl->architecture = make_architecture(m.arch);
  if (impl->architecture == nullptr) return util::make_error(file + ": unknown architecture");
  if (hp.n_layer <= 0 || hp.n_embd <= 0 || hp.n_head <= 0 || hp.n_head_kv <= 0 ||
      hp.head_dim <= 0 || hp.head_dim_v <= 0 || hp.n_ff <= 0 || hp.n_vocab <= 0 ||
      hp.n_head % hp.n_head_kv != 0)
    return util::make_error(file + ": layer, head, size or vocabulary counts are invalid");
  if (static_cast<int64_t>(hp.layer_is_swa.size()) != hp.n_layer)
    return util::make_error(file + ": sliding-window layer list does not match the layer count");
  if (hp.sliding_window < 0 || hp.sliding_window > INT32_MAX)
    return util::make_error(file + ": sliding window " + std::to_string(hp.sliding_window) +
                            " is out of range");
  if (hp.activation == Activation::kGelu)
    return util::make_error(file + ": exact (erf) GELU is not supported; only GELU(tanh) and SiLU");
  if (!(hp.norm_eps > 0.0) || !(hp.attn_scale > 0.0))
    return util::make_error(file + ": norm epsilon and attention scale must be positive");
  if (auto s = impl->architecture->check(m); !s) return util::make_error(s.message());

  impl->n_ctx = options.n_ctx > 0 ? options.n_ctx : hp.n_ctx_train;
  if (impl->n_ctx <= 0)
    return util::make_error(file + ": the model states no context length; set n_ctx");
  if (hp.rope_scaling.type == RopeScalingType::kDynamic && hp.n_ctx_train > 0 &&
      impl->n_ctx > hp.n_ctx_train)
    return util::make_error(file + ": dynamic RoPE scaling beyond the training context (" +
                            std::to_string(hp.n_ctx_train) + ") is not supported");

  auto global = rope_options(m, impl->n_ctx, false);
  if (!global) return util::make_error(global.message());
  auto local = rope_options(m, impl->n_ctx, true);
  if (!local) return util::make_error(local.message());
  impl->rope_global = cpu::Rope(*global);
  impl->rope_local = cpu::Rope(*local);
  for (bool swa : hp.layer_is_swa) impl->has_local_layers |= swa;

  impl->pool = std::make_unique<cpu::ThreadPool>(options.n_threads);
  auto weights = arch::bind_weights(m, options.pack_weights ? impl->pool.get() : nullptr);
  if (!weights) return util::make_error(weights.message());
  impl->weights = std::move(weights).value();
  impl->desc = std::move(description);
  impl->options = options;
  return std::unique_ptr<Model>(new Model(std::move(impl)));
}

const ModelDescription& Model::description() const { return *impl_->desc; }
int64_t Model::n_vocab() const { return impl_->desc->hparams.n_vocab; }
int64_t Model::n_ctx() const { return impl_->n_ctx; }

KvCacheOptions Model::kv_cache_options(int64_t n_blocks, int32_t block_size) const {
  const HyperParams& hp = impl_->desc->hparams;
  return {.n_layers = static_cast<int32_t>(hp.n_layer),
          .n_kv_heads = static_cast<int32_t>(hp.n_head_kv),
          .head_dim_k = static_cast<int32_t>(hp.head_dim),
          .head_dim_v = static_cast<int32_t>(hp.head_dim_v),
          .block_size = block_size,
          .n_blocks = n_blocks};
}

util::Result<Logits> Model::forward(const Batch& batch, KvCache& kv) {
  return impl_->forward(batch, kv);
}

util::Status Model::Impl::validate(const Batch& batch, const KvCache& kv) const {
  const HyperParams& hp = desc->hparams;
  const KvCacheOptions& ko = kv.options();
  if (ko.n_layers != hp.n_layer || ko.n_kv_heads != hp.n_head_kv || ko.head_dim_k != hp.head_dim ||
      ko.head_dim_v != hp.head_dim_v)
    return util::make_error("KV cache geometry does not match the model (use kv_cache_options())");
  if (batch.tokens.empty()) return util::make_error("empty batch");
  for (size_t a = 0; a < batch.seqs.size(); ++a)
    for (size_t b = a + 1; b < batch.seqs.size(); ++b)
      if (batch.seqs[a] != nullptr && batch.seqs[a] == batch.seqs[b])
        return util::make_error("sequences " + std::to_string(a) + " and " + std::to_string(b) +
                                " of the batch are the same KvSequence");
  // Per sequence: the position the next token must have (-1: none seen yet).
  std::vector<int64_t> next(batch.seqs.size(), -1);
  for (size_t i = 0; i < batch.tokens.size(); ++i) {
    const BatchToken& t = batch.tokens[i];
    const std::string where = "token " + std::to_string(i) + ": ";
    if (t.id < 0 || t.id >= hp.n_vocab)
      return util::make_error(where + "id " + std::to_string(t.id) +
                              " is outside the vocabulary (" + std::to_string(hp.n_vocab) +
                              " tokens)");
    if (t.seq < 0 || static_cast<size_t>(t.seq) >= batch.seqs.size() ||
        batch.seqs[t.seq] == nullptr)
      return util::make_error(where + "sequence index " + std::to_string(t.seq) +
                              " is not in the batch");
    const KvSequence& seq = *batch.seqs[t.seq];
    if (&seq.cache() != &kv)
      return util::make_error(where + "its sequence belongs to another KV cache");
    if (t.pos < 0 || t.pos >= n_ctx)
      return util::make_error(where + "position " + std::to_string(t.pos) +
                              " is beyond the context length " + std::to_string(n_ctx));
    int64_t& expected = next[static_cast<size_t>(t.seq)];
    if (expected < 0 ? t.pos > seq.n_positions() : t.pos != expected)
      return util::make_error(where + "position " + std::to_string(t.pos) + " of sequence " +
                              std::to_string(t.seq) + " does not follow its previous position (" +
                              std::to_string(expected < 0 ? seq.n_positions() : expected) + ")");
    expected = t.pos + 1;
    if (t.pos >= seq.capacity())
      return util::make_error(where + "position " + std::to_string(t.pos) + " of sequence " +
                              std::to_string(t.seq) + " has no KV block (reserve first)");
    if (seq.blocks()[static_cast<size_t>(t.pos / kv.block_size())].ref_count() != 1)
      return util::make_error(where + "position " + std::to_string(t.pos) + " of sequence " +
                              std::to_string(t.seq) + " would overwrite a shared KV block");
  }
  return {};
}

util::Result<Logits> Model::Impl::forward(const Batch& batch, KvCache& kv) {
  if (auto s = validate(batch, kv); !s) return util::make_error(s.message());
  const HyperParams& hp = desc->hparams;
  const int64_t n = static_cast<int64_t>(batch.tokens.size());
  const int64_t E = hp.n_embd;

  arch::StepInputs in{.model = desc.get(),
                      .weights = &weights,
                      .rope_global = &rope_global,
                      .rope_local = &rope_local,
                      .gelu_f16_table = options.gelu_f16_table,
                      .pool = pool.get(),
                      .kv = &kv,
                      .pos = {},
                      .queries = {}};
  std::vector<int32_t> ids(static_cast<size_t>(n));
  in.pos.resize(static_cast<size_t>(n));
  in.queries.resize(static_cast<size_t>(n));
  for (int64_t t = 0; t < n; ++t) {
    const BatchToken& tok = batch.tokens[static_cast<size_t>(t)];
    ids[t] = tok.id;
    in.pos[t] = tok.pos;
    in.queries[t] = {.pos = tok.pos, .blocks = batch.seqs[tok.seq]->block_ids()};
  }
  const int64_t n_rot = hp.n_rot;
  auto tables = [&](const cpu::Rope& rope, std::vector<float>& cos, std::vector<float>& sin) {
    cos.resize(static_cast<size_t>(n * n_rot));
    sin.resize(static_cast<size_t>(n * n_rot));
    for (int64_t t = 0; t < n; ++t)
      rope.tables(in.pos[t], cos.data() + t * n_rot, sin.data() + t * n_rot);
  };
  tables(rope_global, ws.cos_global, ws.sin_global);
  if (has_local_layers) tables(rope_local, ws.cos_local, ws.sin_local);

  arch::Step step(std::move(in), ws, n);
  if (auto s =
          cpu::embed(weights.token_embd, ids, static_cast<float>(hp.embedding_scale), step.x(), E);
      !s)
    return util::make_error(s.message());
  for (int32_t il = 0; il < hp.n_layer; ++il)
    architecture->layer(step, weights.layers[static_cast<size_t>(il)], il);

  Logits logits;
  logits.n_vocab = hp.n_vocab;
  for (int64_t t = 0; t < n; ++t)
    if (batch.tokens[static_cast<size_t>(t)].logits)
      logits.token_index.push_back(static_cast<int32_t>(t));
  const int64_t m = static_cast<int64_t>(logits.token_index.size());
  out_rows.resize(static_cast<size_t>(m * E));
  const float eps = static_cast<float>(hp.norm_eps);
  for (int64_t r = 0; r < m; ++r)
    cpu::rms_norm(step.x() + logits.token_index[r] * E, weights.output_norm.data(),
                  out_rows.data() + r * E, E, eps);
  logits.data.resize(static_cast<size_t>(m * hp.n_vocab));
  if (m > 0)
    cpu::matmul(weights.output, out_rows.data(), E, m, logits.data.data(), hp.n_vocab, *pool);
  if (hp.final_softcap > 0.0)
    for (int64_t r = 0; r < m; ++r)
      cpu::softcap(logits.data.data() + r * hp.n_vocab, static_cast<float>(hp.final_softcap),
                   hp.n_vocab);

  for (const BatchToken& t : batch.tokens) batch.seqs[t.seq]->set_n_positions(t.pos + 1);
  return logits;
}

}  // namespace kiln::model
