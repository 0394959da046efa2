// Kernel benchmark: times backend::cpu::matmul for one weight type and shape
// and prints one JSON object per line. Driven by bench/kernels/compare.py,
// which runs llama.cpp's ggml_mul_mat on the same shapes in the same script.
//
//   kiln_matmul_bench --type Q4_K --rows 4864 --cols 896 --tokens 1 --threads 2
//                     [--footprint-mb 1024] [--passes 5 --per-pass 16] [--reps 20]
//                     [--isa avx512vnni] [--plain]
//   kiln_matmul_bench --membw [--threads 2] [--footprint-mb 1024]
//
// Weights are random bytes with small finite scales, packed once
// (pack_weights) unless --plain. With --footprint-mb the matrix is copied
// until the copies fill that many MB and the calls cycle through them, so a
// decode-shaped product reads its weights from DRAM as in a real model
// (this machine's L3 is large). Timing: with --passes, each pass makes
// max(copies, per-pass) calls back to back and counts pass time / calls (as
// compare.py does for ggml); otherwise every call is timed alone (--reps).
// Reported: best and median seconds per call, weight GB/s (bytes of W / time)
// and GFLOP/s (2 rows cols tokens / time).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "backend/cpu/dtype.h"
#include "backend/cpu/half.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/quant/format.h"
#include "backend/cpu/thread_pool.h"

namespace {

using kiln::backend::DType;
namespace cpu = kiln::backend::cpu;
namespace quant = kiln::backend::quant;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string type = "Q4_K";
  int64_t rows = 4096, cols = 4096, tokens = 1;
  int threads = 1, reps = 20;
  int passes = 0, per_pass = 1;
  int64_t footprint_mb = 0;
  std::string isa;
  bool plain = false;
  bool membw = false;
};

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr, "kiln_matmul_bench: %s\n", msg);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    if (a == "--type")
      o.type = next();
    else if (a == "--rows")
      o.rows = std::stoll(next());
    else if (a == "--cols")
      o.cols = std::stoll(next());
    else if (a == "--tokens")
      o.tokens = std::stoll(next());
    else if (a == "--threads")
      o.threads = std::stoi(next());
    else if (a == "--reps")
      o.reps = std::stoi(next());
    else if (a == "--passes")
      o.passes = std::stoi(next());
    else if (a == "--per-pass")
      o.per_pass = std::stoi(next());
    else if (a == "--footprint-mb")
      o.footprint_mb = std::stoll(next());
    else if (a == "--isa")
      o.isa = next();
    else if (a == "--plain")
      o.plain = true;
    else if (a == "--membw")
      o.membw = true;
    else
      usage(("unknown option " + a).c_str());
  }
  return o;
}

DType type_of(const std::string& name) {
  for (uint32_t id = 0; id < 40; ++id) {
    const auto t = kiln::backend::dtype_traits(id);
    if (t && t->name == name) return static_cast<DType>(id);
  }
  usage(("unknown type " + name).c_str());
}

std::vector<uint8_t> random_matrix(DType t, int64_t rows, int64_t cols, uint32_t seed) {
  const quant::Format& f = *quant::find_format(t);
  const int64_t bytes = rows * kiln::backend::row_bytes(t, cols);
  std::vector<uint8_t> w(static_cast<size_t>(bytes));
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  if (f.act == quant::ActKind::kF32) {  // float weights: finite values
    for (int64_t i = 0; i < rows * cols; ++i) {
      const float v = normal(rng);
      if (t == DType::kF32) std::memcpy(&w[4 * i], &v, 4);
      const uint16_t h =
          t == DType::kF16 ? kiln::backend::f32_to_f16(v) : kiln::backend::f32_to_bf16(v);
      if (t != DType::kF32) std::memcpy(&w[2 * i], &h, 2);
    }
    return w;
  }
  for (auto& b : w) b = static_cast<uint8_t>(rng());
  for (int64_t blk = 0; blk < bytes / f.block_bytes; ++blk)
    for (int s = 0; s < f.n_segments; ++s)
      if (f.segments[s].unit == 2)
        for (int u = 0; u < f.segments[s].bytes / 2; ++u) {
          const uint16_t h = kiln::backend::f32_to_f16(normal(rng) * 0.05f);
          std::memcpy(&w[blk * f.block_bytes + f.segments[s].offset + 2 * u], &h, 2);
        }
  return w;
}

double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// CPU time of the whole process: with one thread, time on the CPU without
// the preemptions of a shared machine; with several it counts the workers'
// spinning too (so it overstates the per-thread cost).
double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Read bandwidth from DRAM: a buffer of footprint MB (default 1024, far above
// what the other tenants leave of the L3) is read in 8 MB chunks, one chunk
// per timed call, cycling; threads split each chunk. Many short calls, so the
// best ones are free of preemption on this shared machine.
void membw(const Options& o) {
  const int64_t mb = o.footprint_mb > 0 ? o.footprint_mb : 1024;
  const int64_t n = mb << 20, chunk = int64_t{8} << 20;
  auto* buf = static_cast<uint8_t*>(std::aligned_alloc(64, static_cast<size_t>(n)));
  std::memset(buf, 1, static_cast<size_t>(n));
  cpu::ThreadPool pool(o.threads);
  std::vector<double> times;
  std::vector<uint64_t> sink(static_cast<size_t>(o.threads) * 8);
  const int calls = std::max<int>(o.reps, static_cast<int>(3 * n / chunk));
  for (int rep = 0; rep < calls; ++rep) {
    const uint8_t* base = buf + (rep % (n / chunk)) * chunk;
    const auto t0 = Clock::now();
    pool.run([&](int i, int count) {
      const int64_t b = chunk * i / count / 64 * 64, e = chunk * (i + 1) / count / 64 * 64;
#if defined(__x86_64__)
      __m128i a0 = _mm_setzero_si128(), a1 = a0, a2 = a0, a3 = a0;
      for (int64_t k = b; k < e; k += 64) {
        a0 = _mm_add_epi64(a0, _mm_load_si128(reinterpret_cast<const __m128i*>(base + k)));
        a1 = _mm_add_epi64(a1, _mm_load_si128(reinterpret_cast<const __m128i*>(base + k + 16)));
        a2 = _mm_add_epi64(a2, _mm_load_si128(reinterpret_cast<const __m128i*>(base + k + 32)));
        a3 = _mm_add_epi64(a3, _mm_load_si128(reinterpret_cast<const __m128i*>(base + k + 48)));
      }
      const __m128i acc = _mm_add_epi64(_mm_add_epi64(a0, a1), _mm_add_epi64(a2, a3));
      sink[static_cast<size_t>(i) * 8] = static_cast<uint64_t>(_mm_cvtsi128_si64(acc));
#else
      uint64_t acc = 0;
      for (int64_t k = b; k < e; k += 8) acc += *reinterpret_cast<const uint64_t*>(base + k);
      sink[static_cast<size_t>(i) * 8] = acc;
#endif
    });
    times.push_back(seconds(t0, Clock::now()));
  }
  std::sort(times.begin(), times.end());
  std::printf(
      "{\"bench\": \"membw\", \"threads\": %d, \"mb\": %lld, \"best_gbs\": %.2f, "
      "\"p10_gbs\": %.2f, \"median_gbs\": %.2f, \"sink\": %llu}\n",
      o.threads, static_cast<long long>(mb), chunk / times.front() / 1e9,
      chunk / times[times.size() / 10] / 1e9, chunk / times[times.size() / 2] / 1e9,
      static_cast<unsigned long long>(sink[0] & 1));
  std::free(buf);
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  if (o.membw) {
    membw(o);
    return 0;
  }
  const DType t = type_of(o.type);
  if (!cpu::matmul_supports(t)) usage("type not supported by matmul");
  if (!o.isa.empty()) {
    bool found = false;
    for (int i = 0; i < quant::kNumKernelIsas; ++i) {
      const auto isa = static_cast<quant::KernelIsa>(i);
      if (quant::kernel_isa_name(isa) == o.isa) {
        if (!quant::kernel_isa_supported(isa)) usage("isa not supported on this CPU");
        quant::pin_kernel_isa(isa);
        found = true;
      }
    }
    if (!found) usage("unknown isa");
  }
  const int64_t rb = kiln::backend::row_bytes(t, o.cols);
  const int64_t mat_bytes = o.rows * rb;
  const int64_t copies =
      std::max<int64_t>(1, o.footprint_mb > 0 ? (o.footprint_mb << 20) / mat_bytes : 1);
  const auto base = random_matrix(t, o.rows, o.cols, 1);
  std::vector<std::vector<uint8_t>> store(static_cast<size_t>(copies), base);
  std::vector<cpu::WeightMatrix> mats;
  for (auto& bytes : store) {
    cpu::WeightMatrix w{t, o.rows, o.cols, bytes.data(), rb, cpu::WeightLayout::kRowMajor};
    mats.push_back(o.plain ? w : cpu::pack_weights(w, bytes.data()));
  }
  std::vector<float> x(static_cast<size_t>(o.tokens * o.cols));
  std::mt19937 rng(2);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (auto& v : x) v = normal(rng);
  std::vector<float> y(static_cast<size_t>(o.tokens * o.rows));
  cpu::ThreadPool pool(o.threads);
  // warm-up: one pass over every copy
  for (const auto& w : mats) cpu::matmul(w, x.data(), o.cols, o.tokens, y.data(), o.rows, pool);
  std::vector<double> times, cpu_times;
  size_t next = 0;
  if (o.passes > 0) {
    const int calls = std::max<int>(o.per_pass, static_cast<int>(copies));
    for (int pass = 0; pass < o.passes; ++pass) {
      const double c0 = cpu_seconds();
      const auto t0 = Clock::now();
      for (int c = 0; c < calls; ++c) {
        cpu::matmul(mats[next], x.data(), o.cols, o.tokens, y.data(), o.rows, pool);
        next = (next + 1) % mats.size();
      }
      times.push_back(seconds(t0, Clock::now()) / calls);
      cpu_times.push_back((cpu_seconds() - c0) / calls / o.threads);
    }
  } else {
    const int calls = std::max<int>(o.reps, static_cast<int>(copies));
    for (int rep = 0; rep < calls; ++rep) {
      const auto& w = mats[next];
      next = (next + 1) % mats.size();
      const double c0 = cpu_seconds();
      const auto t0 = Clock::now();
      cpu::matmul(w, x.data(), o.cols, o.tokens, y.data(), o.rows, pool);
      times.push_back(seconds(t0, Clock::now()));
      cpu_times.push_back((cpu_seconds() - c0) / o.threads);
    }
  }
  std::sort(cpu_times.begin(), cpu_times.end());
  std::sort(times.begin(), times.end());
  const double best = times.front(), median = times[times.size() / 2];
  const double flop = 2.0 * o.rows * o.cols * o.tokens;
  std::printf(
      "{\"bench\": \"matmul\", \"impl\": \"kiln\", \"type\": \"%s\", \"rows\": %lld, \"cols\": "
      "%lld, "
      "\"tokens\": %lld, \"threads\": %d, \"isa\": \"%s\", \"layout\": \"%s\", \"footprint_mb\": "
      "%lld, \"best_s\": %.9f, \"median_s\": %.9f, \"best_gbs\": %.2f, \"best_gflops\": %.2f, "
      "\"best_cpu_s\": %.9f, \"cpu_gflops\": %.2f, \"y0\": %g}\n",
      o.type.c_str(), static_cast<long long>(o.rows), static_cast<long long>(o.cols),
      static_cast<long long>(o.tokens), o.threads,
      std::string(quant::kernel_isa_name(quant::active_kernel_isa())).c_str(),
      o.plain ? "plain" : "packed", static_cast<long long>(copies * mat_bytes >> 20), best, median,
      mat_bytes / best / 1e9, flop / best / 1e9, cpu_times.front(), flop / cpu_times.front() / 1e9,
      static_cast<double>(y[0]));
  return 0;
}
