// Figures about a loaded model for `kiln inspect`, /info and capacity planning:
// parameter count, weight types, tokenizer size and the KV cache a context needs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/model.h"

namespace kiln::model {

struct TypeCount {
  std::string type;  // GGML type name ("Q4_K", "F32", ...)
  int64_t n_tensors = 0;
  int64_t n_params = 0;
  uint64_t n_bytes = 0;
};

struct ModelSummary {
  int64_t n_params = 0;          // elements of every tensor
  uint64_t weight_bytes = 0;     // as stored (and mapped)
  std::vector<TypeCount> types;  // most bytes first
  std::string tokenizer;         // "gguf:llama", "tokenizer.json:BPE", "none"
  int64_t tokenizer_vocab = 0;   // tokens the tokenizer knows (0: unknown)
};

ModelSummary summarize(const ModelDescription& model);

struct KvSizeOptions {
  int64_t n_ctx = 0;        // tokens per sequence
  int64_t n_seq = 1;        // sequences held at once
  int bytes_per_value = 2;  // f16 K and V
  // Sliding-window layers keep only min(n_ctx, window) tokens per sequence.
  bool window_only_on_swa_layers = true;
};

// Bytes of K and V for every layer at these sizes.
uint64_t kv_cache_bytes(const HyperParams& hp, const KvSizeOptions& options);

// The sizes as Kiln's paged cache stores them (backend/cpu/kv_cache.h): f32 K
// and V on every layer at the full context, sliding-window layers included.
inline KvSizeOptions engine_kv_sizes(int64_t n_ctx, int64_t n_seq) {
  return {.n_ctx = n_ctx, .n_seq = n_seq, .bytes_per_value = 4, .window_only_on_swa_layers = false};
}

}  // namespace kiln::model
