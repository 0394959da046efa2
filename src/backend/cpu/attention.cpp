#include "backend/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/kernels.h"

namespace kiln::backend::cpu {
namespace {

int64_t first_key(int64_t pos, int32_t window) {
  return window > 0 ? std::max<int64_t>(0, pos - window + 1) : 0;
}

}  // namespace

void paged_attention(const AttentionShape& shape, const AttentionOptions& options,
                     const PagedKv& kv, std::span<const AttentionQuery> queries, const float* q,
                     int64_t ldq, float* out, int64_t ldo, ThreadPool& pool) {
  const Kernels& kern = kernels();
  const int32_t group = shape.n_heads / shape.n_kv_heads;
  const int64_t dk = shape.head_dim_k, dv = shape.head_dim_v;
  const int64_t k_row = shape.n_kv_heads * dk, v_row = shape.n_kv_heads * dv;
  const int64_t n_items = static_cast<int64_t>(queries.size()) * shape.n_kv_heads;
  // Later queries of a prefill see more keys, so items are dealt round-robin
  // rather than in contiguous chunks to balance the threads.
  pool.run([&](int thread, int n_threads) {
    thread_local std::vector<float> scores;
    for (int64_t item = thread; item < n_items; item += n_threads) {
      const AttentionQuery& query = queries[static_cast<size_t>(item / shape.n_kv_heads)];
      const int32_t kvh = static_cast<int32_t>(item % shape.n_kv_heads);
      const int64_t qi = item / shape.n_kv_heads;
      const int64_t begin = first_key(query.pos, options.window);
      const int64_t n_keys = query.pos + 1 - begin;
      scores.resize(static_cast<size_t>(group * n_keys));
      const float* qrow = q + qi * ldq;
      for (int64_t j = 0; j < n_keys; ++j) {
        const int64_t p = begin + j;
        const int64_t row = static_cast<int64_t>(query.blocks[p / kv.block_size]) * kv.block_size +
                            p % kv.block_size;
        const float* krow = kv.k + row * k_row + kvh * dk;
        for (int32_t g = 0; g < group; ++g) {
          const float* qh = qrow + (static_cast<int64_t>(kvh) * group + g) * dk;
          scores[g * n_keys + j] = kern.dot(qh, krow, dk) * options.scale;
        }
      }
      for (int32_t g = 0; g < group; ++g) {
        float* s = scores.data() + g * n_keys;
        if (options.softcap > 0.0f) kern.softcap(s, options.softcap, n_keys);
        kern.softmax(s, n_keys);
        float* o = out + qi * ldo + (static_cast<int64_t>(kvh) * group + g) * dv;
        std::fill(o, o + dv, 0.0f);
      }
      for (int64_t j = 0; j < n_keys; ++j) {
        const int64_t p = begin + j;
        const int64_t row = static_cast<int64_t>(query.blocks[p / kv.block_size]) * kv.block_size +
                            p % kv.block_size;
        const float* vrow = kv.v + row * v_row + kvh * dv;
        for (int32_t g = 0; g < group; ++g) {
          float* o = out + qi * ldo + (static_cast<int64_t>(kvh) * group + g) * dv;
          kern.axpy(scores[g * n_keys + j], vrow, o, dv);
        }
      }
    }
  });
}

void attention_reference(const AttentionShape& shape, const AttentionOptions& options,
                         const float* k, const float* v, std::span<const int64_t> pos,
                         const float* q, int64_t ldq, float* out, int64_t ldo) {
  const int32_t group = shape.n_heads / shape.n_kv_heads;
  const int64_t dk = shape.head_dim_k, dv = shape.head_dim_v;
  const int64_t k_row = shape.n_kv_heads * dk, v_row = shape.n_kv_heads * dv;
  for (size_t i = 0; i < pos.size(); ++i) {
    const int64_t begin = first_key(pos[i], options.window);
    for (int32_t h = 0; h < shape.n_heads; ++h) {
      const int32_t kvh = h / group;
      const float* qh = q + static_cast<int64_t>(i) * ldq + h * dk;
      std::vector<double> s;
      double max = -INFINITY;
      for (int64_t p = begin; p <= pos[i]; ++p) {
        double acc = 0.0;
        for (int64_t d = 0; d < dk; ++d)
          acc += static_cast<double>(qh[d]) * k[p * k_row + kvh * dk + d];
        acc *= options.scale;
        if (options.softcap > 0.0f) acc = options.softcap * std::tanh(acc / options.softcap);
        s.push_back(acc);
        max = std::max(max, acc);
      }
      double sum = 0.0;
      for (double& x : s) sum += (x = std::exp(x - max));
      float* o = out + static_cast<int64_t>(i) * ldo + h * dv;
      for (int64_t d = 0; d < dv; ++d) {
        double acc = 0.0;
        for (size_t j = 0; j < s.size(); ++j)
          acc += s[j] / sum * v[(begin + static_cast<int64_t>(j)) * v_row + kvh * dv + d];
        o[d] = static_cast<float>(acc);
      }
    }
  }
}

}  // namespace kiln::backend::cpu
