// kiln bench: the llama-bench of Kiln. For a model and each thread count it
// measures
//   prefill: tokens/s of one p-token prompt evaluated as one batch (chunks of
//            at most 512 tokens), logits of the last token only;
//   decode:  tokens/s of n single-token steps on an empty sequence, logits
//            every step (llama-bench's tg test);
// over r repetitions after one warm-up run, with random token ids (fixed
// seed). Prints a table, or with --json one JSON object per line and test.
//
//   kiln bench --model PATH -p 512 -n 128 -t 1,2 [-r 5] [--json] [--cpu-time]
//
// --cpu-time times with the process CPU clock divided by the thread count
// instead of the wall clock: on a machine shared with other work it ignores
// preemption (meaningful with one thread; with more it also counts idle
// workers' spinning).
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "backend/cpu/quant/format.h"
#include "cli/commands.h"
#include "model/forward.h"
#include "model/model.h"

namespace kiln::cli {
namespace {

struct BenchArgs {
  std::string model;
  int64_t n_prompt = 512;
  int64_t n_gen = 128;
  std::vector<int> threads = {0};
  int reps = 5;
  bool json = false;
  bool cpu_time = false;
};

constexpr int64_t kMaxBatch = 512;  // tokens per forward call while prefilling

double now_s(bool cpu_time, int threads) {
  if (cpu_time) {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec)) / threads;
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Stats {
  double mean = 0, stddev = 0, best = 0, median = 0;
};

Stats stats_of(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  for (double x : v) s.stddev += (x - s.mean) * (x - s.mean);
  s.stddev = v.size() > 1 ? std::sqrt(s.stddev / static_cast<double>(v.size() - 1)) : 0.0;
  s.best = v.back();
  s.median = v[v.size() / 2];
  return s;
}

// One test (prefill or decode) on a fresh sequence; returns seconds.
util::Result<double> run_once(model::Model& m, model::KvCache& kv, bool decode, int64_t count,
                              std::mt19937& rng, bool cpu_time, int threads) {
  model::KvSequence seq(kv);
  if (!seq.reserve(count)) return util::make_error("KV cache too small");
  std::uniform_int_distribution<int32_t> id(0, static_cast<int32_t>(m.n_vocab() - 1));
  std::vector<int32_t> ids(static_cast<size_t>(count));
  for (auto& t : ids) t = id(rng);
  const double t0 = now_s(cpu_time, threads);
  if (decode) {
    for (int64_t i = 0; i < count; ++i) {
      model::Batch b;
      b.seqs = {&seq};
      b.tokens.push_back({.id = ids[static_cast<size_t>(i)], .seq = 0, .pos = i, .logits = true});
      auto r = m.forward(b, kv);
      if (!r) return util::make_error(r.message());
    }
  } else {
    for (int64_t begin = 0; begin < count; begin += kMaxBatch) {
      const int64_t end = std::min(count, begin + kMaxBatch);
      model::Batch b;
      b.seqs = {&seq};
      for (int64_t i = begin; i < end; ++i)
        b.tokens.push_back(
            {.id = ids[static_cast<size_t>(i)], .seq = 0, .pos = i, .logits = i + 1 == count});
      auto r = m.forward(b, kv);
      if (!r) return util::make_error(r.message());
    }
  }
  return now_s(cpu_time, threads) - t0;
}

int run_bench(const BenchArgs& a) {
  auto desc = model::load_model(a.model);
  if (!desc) {
    std::fprintf(stderr, "kiln bench: %s\n", desc.message().c_str());
    return 1;
  }
  auto shared = std::make_shared<const model::ModelDescription>(std::move(desc).value());
  std::error_code ec;
  const auto file_bytes = std::filesystem::is_regular_file(a.model, ec)
                              ? static_cast<long long>(std::filesystem::file_size(a.model, ec))
                              : 0LL;
  const int64_t n_ctx = std::max<int64_t>(16, std::max(a.n_prompt, a.n_gen));
  if (!a.json)
    std::printf("%-40s %7s %8s %7s %14s %14s\n", "model", "threads", "test", "tokens", "t/s mean",
                "t/s best");
  for (int threads_arg : a.threads) {
    model::ModelOptions mo;
    mo.n_threads = threads_arg;
    mo.n_ctx = n_ctx;
    auto m = model::Model::create(shared, mo);
    if (!m) {
      std::fprintf(stderr, "kiln bench: %s\n", m.message().c_str());
      return 1;
    }
    const int threads = threads_arg > 0
                            ? threads_arg
                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    constexpr int32_t kBlock = 16;
    auto kv = model::KvCache::create((*m)->kv_cache_options((n_ctx + kBlock - 1) / kBlock, kBlock));
    if (!kv) {
      std::fprintf(stderr, "kiln bench: %s\n", kv.message().c_str());
      return 1;
    }
    std::mt19937 rng(1234);
    for (const bool decode : {false, true}) {
      const int64_t count = decode ? a.n_gen : a.n_prompt;
      if (count <= 0) continue;
      std::vector<double> rates;
      for (int rep = -1; rep < a.reps; ++rep) {  // rep -1: warm-up
        auto s = run_once(**m, **kv, decode, count, rng, a.cpu_time, threads);
        if (!s) {
          std::fprintf(stderr, "kiln bench: %s\n", s.message().c_str());
          return 1;
        }
        if (rep >= 0) rates.push_back(static_cast<double>(count) / *s);
      }
      const Stats st = stats_of(rates);
      rusage ru{};
      getrusage(RUSAGE_SELF, &ru);
      const char* test = decode ? "decode" : "prefill";
      if (a.json) {
        std::printf(
            "{\"model\": \"%s\", \"model_bytes\": %lld, \"test\": \"%s\", \"n_prompt\": %lld, "
            "\"n_gen\": %lld, \"threads\": %d, \"reps\": %d, \"clock\": \"%s\", \"isa\": \"%s\", "
            "\"tokens_per_s\": %.3f, \"stddev_tokens_per_s\": %.3f, \"best_tokens_per_s\": "
            "%.3f, \"median_tokens_per_s\": %.3f, \"samples_tokens_per_s\": [",
            a.model.c_str(), file_bytes, test, static_cast<long long>(decode ? 0 : a.n_prompt),
            static_cast<long long>(decode ? a.n_gen : 0), threads, a.reps,
            a.cpu_time ? "cpu" : "wall",
            std::string(backend::quant::kernel_isa_name(backend::quant::active_kernel_isa()))
                .c_str(),
            st.mean, st.stddev, st.best, st.median);
        for (size_t i = 0; i < rates.size(); ++i) std::printf("%s%.3f", i ? ", " : "", rates[i]);
        std::printf("], \"max_rss_mb\": %.1f}\n", static_cast<double>(ru.ru_maxrss) / 1024.0);
      } else {
        std::printf("%-40s %7d %8s %7lld %8.2f ± %4.2f %14.2f\n",
                    std::filesystem::path(a.model).filename().string().c_str(), threads, test,
                    static_cast<long long>(count), st.mean, st.stddev, st.best);
      }
      std::fflush(stdout);
    }
  }
  return 0;
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  auto* cmd = app.add_subcommand("bench", "Measure prefill and decode speed (tokens per second)");
  cmd->add_option("--model,-m", args->model, "GGUF file or Hugging Face model directory")
      ->required();
  cmd->add_option("-p,--n-prompt", args->n_prompt, "Prompt tokens of the prefill test (0: skip)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-n,--n-gen", args->n_gen, "Tokens of the decode test (0: skip)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-t,--threads", args->threads, "Thread counts, e.g. 1,2 (0: one per core)")
      ->delimiter(',')
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-r,--reps", args->reps, "Repetitions per test (after one warm-up)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", args->json, "One JSON object per line and test");
  cmd->add_flag("--cpu-time", args->cpu_time,
                "Time with the process CPU clock / threads (shared machines, 1 thread)");
  cmd->callback([args] { std::exit(run_bench(*args)); });
}

}  // namespace kiln::cli
