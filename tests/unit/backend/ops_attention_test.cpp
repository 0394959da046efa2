// Paged attention against the contiguous scalar reference, with keys spread
// over blocks in scrambled order, on every ISA.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "backend/cpu/attention.h"
#include "backend/cpu/cpu_isa.h"

namespace kiln::backend::cpu {
namespace {

struct Case {
  AttentionShape shape;
  AttentionOptions options;
  int32_t block_size;
  int64_t n_keys;
};

class AttentionTest : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (!isa_supported(GetParam())) GTEST_SKIP() << "CPU lacks " << isa_name(GetParam());
    saved_ = active_isa();
    set_active_isa(GetParam());
  }
  void TearDown() override {
    if (isa_supported(GetParam())) set_active_isa(saved_);
  }
  Isa saved_ = Isa::kScalar;
};

void check_case(const Case& c, ThreadPool& pool) {
  const auto& s = c.shape;
  const int64_t k_row = s.n_kv_heads * s.head_dim_k, v_row = s.n_kv_heads * s.head_dim_v;
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> k(static_cast<size_t>(c.n_keys * k_row)),
      v(static_cast<size_t>(c.n_keys * v_row));
  for (auto& x : k) x = dist(rng);
  for (auto& x : v) x = dist(rng);

  // Scatter the positions over blocks in a scrambled order, with spare blocks.
  const int64_t n_blocks = (c.n_keys + c.block_size - 1) / c.block_size;
  std::vector<int32_t> table(static_cast<size_t>(n_blocks));
  std::iota(table.begin(), table.end(), 3);
  std::shuffle(table.begin(), table.end(), rng);
  const int64_t pool_blocks = n_blocks + 3;
  std::vector<float> kp(static_cast<size_t>(pool_blocks * c.block_size * k_row), NAN);
  std::vector<float> vp(static_cast<size_t>(pool_blocks * c.block_size * v_row), NAN);
  for (int64_t p = 0; p < c.n_keys; ++p) {
    const int64_t row = table[p / c.block_size] * c.block_size + p % c.block_size;
    std::copy_n(&k[p * k_row], k_row, &kp[row * k_row]);
    std::copy_n(&v[p * v_row], v_row, &vp[row * v_row]);
  }

  // Queries at every position (a prefill) in reverse order.
  const int64_t ldq = s.n_heads * s.head_dim_k + 5, ldo = s.n_heads * s.head_dim_v + 3;
  std::vector<float> q(static_cast<size_t>(c.n_keys * ldq));
  for (auto& x : q) x = dist(rng);
  std::vector<int64_t> pos(static_cast<size_t>(c.n_keys));
  std::vector<AttentionQuery> queries;
  for (int64_t i = 0; i < c.n_keys; ++i) {
    pos[i] = c.n_keys - 1 - i;
    queries.push_back({.pos = pos[i], .blocks = table});
  }
  std::vector<float> out(static_cast<size_t>(c.n_keys * ldo), NAN), ref(out.size(), NAN);
  paged_attention(s, c.options, {kp.data(), vp.data(), c.block_size}, queries, q.data(), ldq,
                  out.data(), ldo, pool);
  attention_reference(s, c.options, k.data(), v.data(), pos, q.data(), ldq, ref.data(), ldo);
  double max_diff = 0.0;
  for (int64_t i = 0; i < c.n_keys; ++i)
    for (int64_t j = 0; j < s.n_heads * s.head_dim_v; ++j)
      max_diff = std::max(max_diff, double(std::abs(out[i * ldo + j] - ref[i * ldo + j])));
  EXPECT_LT(max_diff, 2e-5);
}

TEST_P(AttentionTest, MatchesReference) {
  ThreadPool pool(3);
  // GQA 4:1 (tiny-llama), Gemma 3 style (head_dim 64, 1 KV head, window 8),
  // MHA with different K/V sizes and soft-capping.
  check_case({{8, 2, 32, 32}, {.scale = 1.0f / std::sqrt(32.0f)}, 16, 70}, pool);
  check_case({{4, 1, 64, 64}, {.scale = 0.125f, .window = 8}, 4, 40}, pool);
  check_case({{3, 3, 16, 24}, {.scale = 0.25f, .softcap = 5.0f}, 1, 9}, pool);
}

TEST_P(AttentionTest, WindowHidesOldKeys) {
  // One query at position 9 with window 3 sees keys 7, 8, 9: give those
  // value 1 and the rest a huge value that would show if leaked.
  const AttentionShape shape{1, 1, 2, 1};
  std::vector<float> k(20, 0.0f), v(10, 1e6f);
  v[7] = v[8] = v[9] = 1.0f;
  const std::vector<int32_t> table = {0, 1};
  const float q[2] = {0.3f, -0.2f};
  float out = 0.0f;
  ThreadPool pool(1);
  const AttentionQuery query{.pos = 9, .blocks = table};
  paged_attention(shape, {.window = 3}, {k.data(), v.data(), 8}, {&query, 1}, q, 2, &out, 1, pool);
  EXPECT_FLOAT_EQ(out, 1.0f);
}

INSTANTIATE_TEST_SUITE_P(AllIsas, AttentionTest,
                         ::testing::Values(Isa::kScalar, Isa::kAvx2, Isa::kAvx512),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

}  // namespace
}  // namespace kiln::backend::cpu
