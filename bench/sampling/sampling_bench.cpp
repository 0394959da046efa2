// Time per row of sampling::Sampler::sample() for the common parameter sets,
// on rows of logits read from a file (float32, --vocab per row) or on
// synthetic Gemma-sized rows (262144 entries). Prints one JSON object per
// configuration: microseconds of thread CPU time per row, the best of --reps
// passes over all rows (CPU time and the best pass, because the machine this
// was written on is shared and wall-clock medians swing by 10x under load).
// bench/sampling/compare.py runs it beside llama.cpp on the same rows.
//
//   kiln_sampling_bench [--logits rows.f32 --vocab N] [--reps 20] [--isa baseline|avx2|avx512]
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "sampling/sampler.h"
#include "sampling/vec_math.h"

namespace {

using kiln::sampling::SamplingParams;

struct Config {
  const char* name;
  SamplingParams params;
  int32_t top_n = 0;
  bool token_logprob = true;
  int32_t history = 0;  // generated tokens fed to the penalties first
};

std::vector<Config> configs() {
  std::vector<Config> c;
  auto add = [&](const char* name, auto set, int32_t top_n = 0, bool logprob = true,
                 int32_t history = 0) {
    Config cfg{name, {}, top_n, logprob, history};
    set(cfg.params);
    c.push_back(cfg);
  };
  add(
      "greedy", [](SamplingParams&) {}, 0, false);
  add("greedy+logprob", [](SamplingParams&) {});
  add(
      "greedy+top5", [](SamplingParams&) {}, 5);
  add(
      "sample_t1", [](SamplingParams& p) { p.do_sample = true; }, 0, false);
  add(
      "sample_t0.7", [](SamplingParams& p) { p.temperature = 0.7f; }, 0, false);
  add(
      "top_k40_top_p0.95_t0.8",
      [](SamplingParams& p) {
        p.top_k = 40;
        p.top_p = 0.95f;
        p.temperature = 0.8f;
      },
      0, false);
  add(
      "top_p0.9", [](SamplingParams& p) { p.top_p = 0.9f; }, 0, false);
  add(
      "min_p0.05", [](SamplingParams& p) { p.min_p = 0.05f; }, 0, false);
  add(
      "typical0.9", [](SamplingParams& p) { p.typical_p = 0.9f; }, 0, false);
  add(
      "rep1.2_hist512_greedy", [](SamplingParams& p) { p.repetition_penalty = 1.2f; }, 0, false,
      512);
  return c;
}

double thread_cpu_us() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) * 1e-3;
}

std::vector<float> synthetic(size_t rows, size_t vocab) {
  // A peaked, heavy-tailed row like a trained LM's: most logits around 0, a
  // few dozen candidates 5-15 above.
  std::mt19937 gen(1);
  std::normal_distribution<float> body(0.0f, 2.0f);
  std::uniform_int_distribution<size_t> pick(0, vocab - 1);
  std::uniform_real_distribution<float> high(5.0f, 15.0f);
  std::vector<float> x(rows * vocab);
  for (auto& v : x) v = body(gen);
  for (size_t r = 0; r < rows; ++r) {
    for (int i = 0; i < 40; ++i) x[r * vocab + pick(gen)] = high(gen);
  }
  return x;
}

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  size_t vocab = 262144;
  int reps = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--logits") path = argv[i + 1];
    if (a == "--vocab") vocab = std::stoul(argv[i + 1]);
    if (a == "--reps") reps = std::stoi(argv[i + 1]);
    if (a == "--isa") {
      const std::string isa = argv[i + 1];
      using kiln::sampling::detail::Isa;
      kiln::sampling::detail::set_isa(isa == "baseline" ? Isa::kBaseline
                                      : isa == "avx2"   ? Isa::kAvx2
                                                        : Isa::kAvx512);
    }
  }
  std::vector<float> rows;
  if (!path.empty()) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", path.c_str());
      return 1;
    }
    rows.resize(static_cast<size_t>(in.tellg()) / sizeof(float));
    in.seekg(0);
    in.read(reinterpret_cast<char*>(rows.data()), static_cast<std::streamsize>(rows.size() * 4));
  } else {
    rows = synthetic(8, vocab);
  }
  const size_t n_rows = rows.size() / vocab;
  if (n_rows == 0) {
    std::fprintf(stderr, "no complete row of %zu logits\n", vocab);
    return 1;
  }

  std::vector<int32_t> history(512);
  for (size_t i = 0; i < history.size(); ++i) history[i] = static_cast<int32_t>(i * 97 % vocab);
  kiln::sampling::Sampler sampler;
  std::vector<float> work(vocab);
  for (const Config& cfg : configs()) {
    SamplingParams params = cfg.params;
    params.seed = 42;
    kiln::sampling::SamplingState state(kiln::sampling::StateOptions{
        .sampling = params,
        .logprobs = {.top_n = cfg.top_n, .tokens = cfg.token_logprob},
        .prompt = std::span<const int32_t>(history.data(), static_cast<size_t>(cfg.history))});
    kiln::sampling::SampleOutput out;
    std::vector<double> passes;
    for (int rep = 0; rep < reps + 1; ++rep) {
      double total_us = 0;
      for (size_t r = 0; r < n_rows; ++r) {
        std::memcpy(work.data(), rows.data() + r * vocab, vocab * sizeof(float));
        const kiln::sampling::SampleInput in{&state, work};
        const double t0 = thread_cpu_us();
        sampler.sample(std::span(&in, 1), std::span(&out, 1));
        total_us += thread_cpu_us() - t0;
      }
      if (rep > 0) passes.push_back(total_us / static_cast<double>(n_rows));  // first pass warms up
    }
    std::sort(passes.begin(), passes.end());
    std::printf("{\"config\": \"%s\", \"vocab\": %zu, \"rows\": %zu, \"us_per_row\": %.2f}\n",
                cfg.name, vocab, n_rows, passes.front());
  }
  return 0;
}
