#include "model/summary.h"

#include <algorithm>
#include <map>

#include "model/json_reader.h"

namespace kiln::model {
namespace {

// Token count of a tokenizer.json: the model vocabulary plus added tokens
// beyond it (the largest id + 1).
int64_t tokenizer_json_vocab(const std::filesystem::path& path, std::string& kind) {
  auto j = detail::read_json_file(path);
  if (!j) return 0;
  int64_t max_id = -1;
  if (auto m = j->find("model"); m != j->end() && m->is_object()) {
    if (auto t = m->find("type"); t != m->end() && t->is_string()) kind = t->get<std::string>();
    if (auto v = m->find("vocab"); v != m->end()) {
      if (v->is_object()) {
        for (const auto& [k, id] : v->items())
          if (id.is_number_integer()) max_id = std::max(max_id, id.get<int64_t>());
      } else if (v->is_array()) {
        max_id = static_cast<int64_t>(v->size()) - 1;  // Unigram: [piece, score] pairs
      }
    }
  }
  if (auto a = j->find("added_tokens"); a != j->end() && a->is_array()) {
    for (const auto& t : *a)
      if (t.is_object() && t.contains("id") && t["id"].is_number_integer())
        max_id = std::max(max_id, t["id"].get<int64_t>());
  }
  return max_id + 1;
}

}  // namespace

ModelSummary summarize(const ModelDescription& model) {
  ModelSummary s;
  std::map<std::string, TypeCount> by_type;
  for (const auto& t : model.tensors) {
    const auto traits = backend::dtype_traits(static_cast<uint32_t>(t.dtype));
    const std::string name = traits ? std::string(traits->name)
                                    : "type" + std::to_string(static_cast<uint32_t>(t.dtype));
    auto& c = by_type[name];
    c.type = name;
    c.n_tensors += 1;
    c.n_params += t.n_elements();
    c.n_bytes += t.n_bytes;
    s.n_params += t.n_elements();
    s.weight_bytes += t.n_bytes;
  }
  for (auto& [k, v] : by_type) s.types.push_back(v);
  std::sort(s.types.begin(), s.types.end(),
            [](const TypeCount& a, const TypeCount& b) { return a.n_bytes > b.n_bytes; });
  switch (model.tokenizer.kind) {
    case TokenizerSource::Kind::kGgufVocab: {
      s.tokenizer = "gguf:" + model.tokenizer.gguf_model;
      if (!model.tokenizer.gguf_pre.empty())
        s.tokenizer += " (pre " + model.tokenizer.gguf_pre + ")";
      if (model.gguf) {
        if (const auto* v = model.gguf->find("tokenizer.ggml.tokens"))
          s.tokenizer_vocab = static_cast<int64_t>(v->size());
      }
      break;
    }
    case TokenizerSource::Kind::kTokenizerJson: {
      std::string kind;
      s.tokenizer_vocab = tokenizer_json_vocab(model.tokenizer.tokenizer_json, kind);
      s.tokenizer = "tokenizer.json" + (kind.empty() ? std::string() : ":" + kind);
      break;
    }
    case TokenizerSource::Kind::kNone:
      s.tokenizer = "none";
      break;
  }
  return s;
}

uint64_t kv_cache_bytes(const HyperParams& hp, const KvSizeOptions& o) {
  uint64_t total = 0;
  const auto per_token = static_cast<uint64_t>(hp.n_head_kv * (hp.head_dim + hp.head_dim_v)) *
                         static_cast<uint64_t>(o.bytes_per_value);
  for (int64_t il = 0; il < hp.n_layer; ++il) {
    int64_t tokens = o.n_ctx;
    const bool swa = static_cast<size_t>(il) < hp.layer_is_swa.size() && hp.layer_is_swa[il];
    if (o.window_only_on_swa_layers && swa && hp.sliding_window > 0)
      tokens = std::min(tokens, hp.sliding_window);
    total += per_token * static_cast<uint64_t>(tokens) * static_cast<uint64_t>(o.n_seq);
  }
  return total;
}

}  // namespace kiln::model
