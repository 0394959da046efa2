// The forward pass: one call evaluates a batch that mixes sequences and
// positions (prefill chunks of some sequences, single decode tokens of
// others) against the paged KV cache, and returns logits for the tokens that
// ask for them.
//
// Threads: a Model and the KvCache it writes belong to one thread (the
// engine thread); forward() uses the model's compute pool internally. The
// ModelDescription it reads is immutable and may be shared.
//
// Batch invariance: a sequence's logits are bit-identical whether it runs
// alone or in any batch, and whether its prompt arrives in one chunk or token
// by token (matmul reduces per token, norms are per token, attention reduces
// over keys in position order). Only the ISA (cpu_isa.h) changes the bits.
//
// Usage:
//   auto model = Model::create(description, {}).value();
//   auto kv = KvCache::create(model->kv_cache_options(n_blocks)).value();
//   KvSequence seq(*kv);
//   if (!seq.reserve(n_prompt)) { /* no room: preempt someone */ }
//   Batch batch;
//   batch.seqs = {&seq};
//   for (i...) batch.tokens.push_back({.id = ids[i], .seq = 0, .pos = i, .logits = i == last});
//   auto logits = model->forward(batch, *kv);   // seq.n_positions() is now n_prompt
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "backend/cpu/kv_cache.h"
#include "model/model.h"
#include "util/result.h"

namespace kiln::model {

using backend::cpu::KvCache;
using backend::cpu::KvCacheOptions;
using backend::cpu::KvSequence;

struct BatchToken {
  int32_t id = 0;       // token id, < n_vocab
  int32_t seq = 0;      // index into Batch::seqs
  int64_t pos = 0;      // position in its sequence
  bool logits = false;  // return this token's logits
};

// The tokens of one step. A sequence's tokens must have consecutive
// positions in batch order, starting at or before its n_positions() (an
// earlier start recomputes and drops what followed), and its blocks must
// already cover them (KvSequence::reserve) and not be shared with another
// sequence. After forward() a sequence's n_positions() is its last position + 1.
struct Batch {
  std::vector<BatchToken> tokens;
  std::vector<KvSequence*> seqs;
};

struct Logits {
  int64_t n_vocab = 0;
  std::vector<int32_t> token_index;  // row r belongs to Batch::tokens[token_index[r]]
  std::vector<float> data;           // [rows][n_vocab]

  size_t n_rows() const { return token_index.size(); }
  std::span<const float> row(size_t r) const {
    return {data.data() + r * static_cast<size_t>(n_vocab), static_cast<size_t>(n_vocab)};
  }
};

struct ModelOptions {
  int n_threads = 0;  // compute pool size; 0: one per core
  int64_t n_ctx = 0;  // longest sequence accepted; 0: the model's training context
  // Compute GELU as llama.cpp's CPU backend does (f16 input, f16 table), to
  // reproduce its numbers; the default is the exact tanh formula.
  bool gelu_f16_table = false;
  // Copy the weight matrices into matmul's panel layout at load (faster
  // products; the copy costs the matrices' size in memory).
  bool pack_weights = true;
};

class Model {
 public:
  // Checks the description (architecture, tensor presence, shapes, types)
  // and prepares the weights; fails with a message naming the tensor.
  static util::Result<std::unique_ptr<Model>> create(
      std::shared_ptr<const ModelDescription> description, const ModelOptions& options = {});
  virtual ~Model();

  const ModelDescription& description() const;
  int64_t n_vocab() const;
  int64_t n_ctx() const;

  // Cache geometry for this model with n_blocks blocks of block_size positions.
  KvCacheOptions kv_cache_options(int64_t n_blocks, int32_t block_size = 16) const;

  // Evaluates the batch; fails (changing nothing) on bad input: a token id
  // outside the vocabulary, a position beyond n_ctx() or not covered by its
  // sequence's blocks, positions out of order, a cache of another geometry.
  util::Result<Logits> forward(const Batch& batch, KvCache& kv);

  class Impl;

 private:
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::model
