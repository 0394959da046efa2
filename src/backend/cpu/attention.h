// Attention of query tokens over keys and values read from the paged KV
// cache through each sequence's block table, with grouped-query heads,
// causal and sliding-window masks and optional logit soft-capping.
//
// Batch invariance: each (token, KV head) is computed by one thread, over
// its keys in ascending position order, so a token's output depends only on
// its own query and its sequence's cache, never on the other tokens of the
// batch, on the thread count or on how the prompt was chunked.
#pragma once

#include <cstdint>
#include <span>

#include "backend/cpu/thread_pool.h"

namespace kiln::backend::cpu {

struct AttentionShape {
  int32_t n_heads = 0;
  int32_t n_kv_heads = 0;  // divides n_heads; query head h reads KV head h / (n_heads / n_kv_heads)
  int32_t head_dim_k = 0;
  int32_t head_dim_v = 0;
};

struct AttentionOptions {
  float scale = 1.0f;    // multiplies q.k
  float softcap = 0.0f;  // > 0: scores = softcap * tanh(scores / softcap)
  // > 0: a query at position p sees keys at positions p - window + 1 .. p.
  int32_t window = 0;
};

// One layer of the cache: K rows of n_kv_heads * head_dim_k floats (V:
// head_dim_v), block b's rows starting at row b * block_size.
struct PagedKv {
  const float* k = nullptr;
  const float* v = nullptr;
  int32_t block_size = 0;
};

struct AttentionQuery {
  int64_t pos = 0;                  // sees keys at positions <= pos
  std::span<const int32_t> blocks;  // its sequence's block table, covering pos
};

// q: [n_queries][n_heads * head_dim_k], row stride ldq floats;
// out: [n_queries][n_heads * head_dim_v], row stride ldo floats.
void paged_attention(const AttentionShape& shape, const AttentionOptions& options,
                     const PagedKv& kv, std::span<const AttentionQuery> queries, const float* q,
                     int64_t ldq, float* out, int64_t ldo, ThreadPool& pool);

// Scalar reference over contiguous keys and values of one sequence
// (k: [n_keys][n_kv_heads * head_dim_k]); query i is at position pos[i].
void attention_reference(const AttentionShape& shape, const AttentionOptions& options,
                         const float* k, const float* v, std::span<const int64_t> pos,
                         const float* q, int64_t ldq, float* out, int64_t ldo);

}  // namespace kiln::backend::cpu
