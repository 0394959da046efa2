// Forward-pass speed of one sequence: prefill of a --prompt-token prompt in
// one forward call, then --decode single-token steps on the KV cache (greedy
// ids are irrelevant to speed; the prompt is fixed pseudo-random ids). Each
// of --reps runs starts from an empty sequence; the best run is reported, as
// one JSON line: {"model", "threads", "prefill_tok_s", "decode_tok_s", ...},
// also per CPU-second of the process ("*_tok_per_cpu_s").
// bench/forward/compare.py runs it beside llama.cpp (llama-cpp-python).
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>

#include "backend/cpu/cpu_isa.h"
#include "model/forward.h"

namespace {

using Clock = std::chrono::steady_clock;
using kiln::model::Batch;

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// CPU seconds of the whole process (all threads): on a shared machine this
// is steadier than wall time, which includes waiting for a core.
double cpu_now() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

int usage() {
  std::fprintf(stderr,
               "usage: kiln_forward_bench --model PATH [--threads N] [--prompt 512] [--decode 128] "
               "[--reps 3]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  int threads = 1, reps = 3;
  int64_t n_prompt = 512, n_decode = 128;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--model")
      path = v;
    else if (k == "--threads")
      threads = std::atoi(v.c_str());
    else if (k == "--prompt")
      n_prompt = std::atoll(v.c_str());
    else if (k == "--decode")
      n_decode = std::atoll(v.c_str());
    else if (k == "--reps")
      reps = std::atoi(v.c_str());
    else
      return usage();
  }
  if (path.empty() || threads < 1 || n_prompt < 1 || n_decode < 1 || reps < 1) return usage();

  auto desc = kiln::model::load_model(path);
  if (!desc) {
    std::fprintf(stderr, "%s\n", desc.message().c_str());
    return 1;
  }
  kiln::model::ModelOptions options;
  options.n_threads = threads;
  options.n_ctx = n_prompt + n_decode;
  const auto t_load = Clock::now();
  auto model = kiln::model::Model::create(
      std::make_shared<kiln::model::ModelDescription>(std::move(desc).value()), options);
  if (!model) {
    std::fprintf(stderr, "%s\n", model.message().c_str());
    return 1;
  }
  const double load_s = since(t_load);
  auto& m = **model;
  auto kv = std::move(
      kiln::model::KvCache::create(m.kv_cache_options((options.n_ctx + 15) / 16)).value());

  std::mt19937 rng(1);
  std::uniform_int_distribution<int32_t> id(0, static_cast<int32_t>(m.n_vocab() - 1));
  std::vector<int32_t> prompt(static_cast<size_t>(n_prompt));
  for (auto& t : prompt) t = id(rng);

  double best_prefill = 0.0, best_decode = 0.0, best_prefill_cpu = 0.0, best_decode_cpu = 0.0;
  for (int r = 0; r < reps; ++r) {
    auto seq = std::make_unique<kiln::model::KvSequence>(*kv);
    if (!seq->reserve(options.n_ctx)) return 1;
    Batch batch;
    batch.seqs = {seq.get()};
    for (int64_t i = 0; i < n_prompt; ++i)
      batch.tokens.push_back({.id = prompt[i], .seq = 0, .pos = i, .logits = i + 1 == n_prompt});
    auto t0 = Clock::now();
    double c0 = cpu_now();
    auto out = m.forward(batch, *kv);
    const double prefill_s = since(t0), prefill_cpu = cpu_now() - c0;
    if (!out) {
      std::fprintf(stderr, "%s\n", out.message().c_str());
      return 1;
    }
    t0 = Clock::now();
    c0 = cpu_now();
    for (int64_t i = 0; i < n_decode; ++i) {
      batch.tokens = {{.id = id(rng), .seq = 0, .pos = n_prompt + i, .logits = true}};
      if (!m.forward(batch, *kv)) return 1;
    }
    const double decode_s = since(t0), decode_cpu = cpu_now() - c0;
    best_prefill = std::max(best_prefill, static_cast<double>(n_prompt) / prefill_s);
    best_decode = std::max(best_decode, static_cast<double>(n_decode) / decode_s);
    best_prefill_cpu = std::max(best_prefill_cpu, static_cast<double>(n_prompt) / prefill_cpu);
    best_decode_cpu = std::max(best_decode_cpu, static_cast<double>(n_decode) / decode_cpu);
  }
  std::printf(
      "{\"model\": \"%s\", \"threads\": %d, \"isa\": \"%s\", \"prompt\": %lld, \"decode\": %lld, "
      "\"load_s\": %.3f, \"prefill_tok_s\": %.2f, \"decode_tok_s\": %.2f, "
      "\"prefill_tok_per_cpu_s\": %.2f, \"decode_tok_per_cpu_s\": %.2f}\n",
      path.c_str(), threads,
      std::string(kiln::backend::cpu::isa_name(kiln::backend::cpu::active_isa())).c_str(),
      static_cast<long long>(n_prompt), static_cast<long long>(n_decode), load_s, best_prefill,
      best_decode, best_prefill_cpu, best_decode_cpu);
  return 0;
}
