// Batch invariance: 8 sequences of different lengths give bit-identical
// logits at every position whether each runs alone (as one prefill chunk or
// token by token, on one thread) or all run together in mixed batches of
// prefill chunks and decode tokens (three threads, small blocks interleaved
// between sequences).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "forward_test_util.h"
#include "model_test_util.h"

namespace kiln::model {
namespace {

constexpr int kSeqs = 8;
const int kLengths[kSeqs] = {1, 5, 9, 14, 17, 23, 31, 40};

std::unique_ptr<Model> load(const std::string& file, int n_threads) {
  auto path = test::find_gguf(file);
  EXPECT_TRUE(path.has_value()) << file;
  if (!path) return nullptr;
  auto desc = load_model(*path);
  EXPECT_TRUE(desc.ok()) << desc.message();
  ModelOptions options;
  options.n_threads = n_threads;
  return std::move(
      Model::create(std::make_shared<ModelDescription>(std::move(desc).value()), options).value());
}

std::vector<std::vector<int32_t>> prompts(int64_t n_vocab) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> id(0, static_cast<int32_t>(n_vocab - 1));
  std::vector<std::vector<int32_t>> out(kSeqs);
  for (int s = 0; s < kSeqs; ++s)
    for (int i = 0; i < kLengths[s]; ++i) out[s].push_back(id(rng));
  return out;
}

using Rows = std::vector<std::vector<float>>;  // per position

Rows solo_chunk(Model& m, const std::vector<int32_t>& ids) {
  test::SingleSequence s(m);
  const Logits l = s.feed(ids);
  Rows rows;
  for (size_t r = 0; r < l.n_rows(); ++r) rows.emplace_back(l.row(r).begin(), l.row(r).end());
  return rows;
}

Rows solo_token_by_token(Model& m, const std::vector<int32_t>& ids) {
  test::SingleSequence s(m, 64, 3);
  Rows rows;
  for (int32_t id : ids) {
    const Logits l = s.feed({id});
    rows.emplace_back(l.row(0).begin(), l.row(0).end());
  }
  return rows;
}

// All sequences together: each step takes a random chunk (often 1 token, a
// decode step) of every unfinished sequence, in a random order.
std::vector<Rows> mixed(Model& m, const std::vector<std::vector<int32_t>>& ids) {
  auto kv = std::move(KvCache::create(m.kv_cache_options(256, 4)).value());
  std::vector<std::unique_ptr<KvSequence>> seqs;
  for (int s = 0; s < kSeqs; ++s) seqs.push_back(std::make_unique<KvSequence>(*kv));
  std::vector<Rows> rows(kSeqs);
  std::mt19937 rng(11);
  std::vector<int> order(kSeqs);
  for (int s = 0; s < kSeqs; ++s) order[s] = s;
  int steps = 0;
  for (bool busy = true; busy; ++steps) {
    busy = false;
    std::shuffle(order.begin(), order.end(), rng);
    Batch batch;
    for (int s : order) {
      const int64_t done = seqs[s]->n_positions();
      const int64_t left = static_cast<int64_t>(ids[s].size()) - done;
      if (left == 0) continue;
      const int64_t take = std::min<int64_t>(
          left, std::uniform_int_distribution<int64_t>(1, 9)(rng) > 5 ? 1 + rng() % 12 : 1);
      EXPECT_TRUE(seqs[s]->reserve(done + take));
      batch.seqs.push_back(seqs[s].get());
      for (int64_t i = 0; i < take; ++i)
        batch.tokens.push_back({.id = ids[s][done + i],
                                .seq = static_cast<int32_t>(batch.seqs.size() - 1),
                                .pos = done + i,
                                .logits = true});
      busy = true;
    }
    if (!busy) break;
    auto l = m.forward(batch, *kv);
    EXPECT_TRUE(l.ok()) << l.message();
    if (!l) break;
    for (size_t r = 0; r < l->n_rows(); ++r) {
      const BatchToken& t = batch.tokens[l->token_index[r]];
      const int s =
          static_cast<int>(std::find_if(seqs.begin(), seqs.end(),
                                        [&](auto& p) { return p.get() == batch.seqs[t.seq]; }) -
                           seqs.begin());
      EXPECT_EQ(static_cast<int64_t>(rows[s].size()), t.pos);
      rows[s].emplace_back(l->row(r).begin(), l->row(r).end());
    }
  }
  EXPECT_GT(steps, 5);
  seqs.clear();
  return rows;
}

void expect_identical(const Rows& a, const Rows& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t p = 0; p < a.size(); ++p)
    EXPECT_EQ(std::memcmp(a[p].data(), b[p].data(), a[p].size() * sizeof(float)), 0)
        << what << ": position " << p << " differs (max |diff| " << test::max_abs_diff(a[p], b[p])
        << ")";
}

void check_model(const std::string& file) {
  auto one_thread = load(file, 1);
  auto three_threads = load(file, 3);
  ASSERT_TRUE(one_thread && three_threads);
  const auto ids = prompts(one_thread->n_vocab());
  const auto together = mixed(*three_threads, ids);
  for (int s = 0; s < kSeqs; ++s) {
    const Rows chunk = solo_chunk(*one_thread, ids[s]);
    expect_identical(chunk, solo_token_by_token(*one_thread, ids[s]),
                     file + " seq " + std::to_string(s) + " chunk vs token by token");
    expect_identical(chunk, together[s], file + " seq " + std::to_string(s) + " alone vs batched");
  }
}

TEST(ForwardBatchTest, TinyLlamaIsBatchInvariant) { check_model("tiny-llama-f32.gguf"); }
TEST(ForwardBatchTest, TinyLlamaF16IsBatchInvariant) { check_model("tiny-llama-f16.gguf"); }
// Gemma 3 adds sliding-window layers (window 8 < the longer prompts).
TEST(ForwardBatchTest, TinyGemma3IsBatchInvariant) { check_model("tiny-gemma3-f32.gguf"); }

}  // namespace
}  // namespace kiln::model
