// Serving benchmark at the engine boundary: C closed-loop clients, each
// submitting its next request as soon as the last one finished, against one
// engine::Engine (no HTTP). Per concurrency level it prints one JSON line:
// aggregate generated tokens/s (all tokens over the wall time of the level),
// time to first token and inter-token latency percentiles, and the engine's
// step counters. bench/serving/compare.py runs it beside llama_cpp.server.
//
// Prompts are real text tokenized by the model's tokenizer, each made
// distinct from its first token ("Request 17: ...") so the prefix cache has
// nothing to share; generation ignores EOS so every request yields exactly
// --gen tokens; greedy decoding.
//
//   kiln_serving_bench --model M.gguf [--concurrency 1,4,16,64] [--prompt 128]
//                      [--gen 64] [--requests-per-client 2] [--threads 0]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>

#include "engine/create.h"
#include "model/forward.h"
#include "tokenizer/tokenizer.h"

namespace {

using namespace kiln;
using Clock = std::chrono::steady_clock;

constexpr char kText[] =
    "The river town woke slowly. Fishermen pulled their boats onto the gravel, the baker "
    "opened his shutters, and a dog chased gulls along the quay until the tide turned. "
    "Nobody noticed the stranger who stepped off the morning ferry with a violin case and a "
    "map folded so many times that its creases had worn through. She asked the ferryman "
    "where the old lighthouse keeper lived, and he pointed up the hill without a word. ";

struct Args {
  std::string model;
  std::vector<int> concurrency = {1, 4, 16, 64};
  int prompt = 128;
  int gen = 64;
  int requests_per_client = 2;
  int threads = 0;
  int64_t kv_tokens = 0;
};

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * (v.size() - 1) + 0.5));
  return v[i];
}

std::vector<int32_t> make_prompt(const tokenizer::Tokenizer& tok, int index, int length) {
  std::string text = "Request " + std::to_string(index) + ": ";
  while (static_cast<int>(tok.encode(text, true).size()) < length) text += kText;
  auto ids = tok.encode(text, true);
  ids.resize(static_cast<size_t>(length));
  return ids;
}

struct Level {
  double seconds = 0;
  int64_t tokens = 0;
  std::vector<double> ttft, itl;  // seconds
};

Level run_level(engine::Engine& engine, const tokenizer::Tokenizer& tok, const Args& a,
                int clients) {
  Level level;
  std::mutex mu;
  std::atomic<int> next{0};
  const int total = clients * a.requests_per_client;
  // Prompts built before the clock starts.
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < total; ++i) prompts.push_back(make_prompt(tok, 1000 * clients + i, a.prompt));
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      for (int i = next++; i < total; i = next++) {
        engine::GenerationRequest r;
        r.prompt = prompts[static_cast<size_t>(i)];
        r.stop.max_new_tokens = a.gen;
        r.stop.ignore_eos = true;
        r.validated = Clock::now();
        auto stream = engine.submit(std::move(r));
        const auto sent = Clock::now();
        auto last = sent;
        std::vector<double> gaps;
        double first = -1;
        int64_t n = 0;
        for (bool done = false; !done;) {
          engine::Event e = stream->wait_pop();
          const auto now = Clock::now();
          if (std::holds_alternative<engine::TokenEvent>(e)) {
            const double dt = std::chrono::duration<double>(now - last).count();
            if (first < 0) {
              first = std::chrono::duration<double>(now - sent).count();
            } else {
              gaps.push_back(dt);
            }
            last = now;
            ++n;
          } else {
            if (auto* f = std::get_if<engine::FailedEvent>(&e))
              std::fprintf(stderr, "request failed: %s\n", f->message.c_str());
            done = true;
          }
        }
        std::lock_guard lock(mu);
        level.tokens += n;
        if (first >= 0) level.ttft.push_back(first);
        level.itl.insert(level.itl.end(), gaps.begin(), gaps.end());
      }
    });
  }
  for (auto& t : threads) t.join();
  level.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return level;
}

std::vector<int> parse_list(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(std::atoi(item.c_str()));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--model") a.model = v;
    else if (k == "--concurrency") a.concurrency = parse_list(v);
    else if (k == "--prompt") a.prompt = std::atoi(v.c_str());
    else if (k == "--gen") a.gen = std::atoi(v.c_str());
    else if (k == "--requests-per-client") a.requests_per_client = std::atoi(v.c_str());
    else if (k == "--threads") a.threads = std::atoi(v.c_str());
    else if (k == "--kv-tokens") a.kv_tokens = std::atoll(v.c_str());
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (a.model.empty()) {
    std::fprintf(stderr, "usage: kiln_serving_bench --model M.gguf [options]\n");
    return 2;
  }
  auto desc = model::load_model(a.model);
  if (!desc.ok()) {
    std::fprintf(stderr, "%s\n", desc.message().c_str());
    return 1;
  }
  auto description = std::make_shared<model::ModelDescription>(std::move(desc).value());
  auto tok = tokenizer::Tokenizer::from_gguf(*description->gguf);
  if (!tok.ok()) {
    std::fprintf(stderr, "%s\n", tok.message().c_str());
    return 1;
  }
  auto tokenizer = std::make_shared<tokenizer::Tokenizer>(std::move(tok).value());
  model::ModelOptions mo;
  mo.n_threads = a.threads;
  mo.n_ctx = std::max<int64_t>(a.prompt + a.gen + 16, 512);
  auto m = model::Model::create(description, mo);
  if (!m.ok()) {
    std::fprintf(stderr, "%s\n", m.message().c_str());
    return 1;
  }
  std::shared_ptr<model::Model> model = std::move(m).value();
  const int max_c = *std::max_element(a.concurrency.begin(), a.concurrency.end());
  engine::EngineOptions eo;
  eo.max_batch_total_tokens =
      a.kv_tokens > 0 ? a.kv_tokens : static_cast<int64_t>(max_c) * (a.prompt + a.gen + 16);
  auto created = engine::create_engine(model, tokenizer, eo);
  if (!created.ok()) {
    std::fprintf(stderr, "%s\n", created.message().c_str());
    return 1;
  }
  auto engine = std::move(created).value();
  Args warmup = a;  // one short request: pages, caches, thread pool
  warmup.gen = 4;
  warmup.requests_per_client = 1;
  run_level(*engine, *tokenizer, warmup, 1);
  for (int c : a.concurrency) {
    const auto before = engine->stats();
    const double cpu0 = cpu_seconds();
    const Level l = run_level(*engine, *tokenizer, a, c);
    const double cpu = cpu_seconds() - cpu0;
    const auto after = engine->stats();
    std::printf(
        "{\"server\": \"kiln-engine\", \"concurrency\": %d, \"requests\": %zu, "
        "\"prompt_tokens\": %d, \"gen_tokens\": %lld, \"seconds\": %.3f, \"cpu_seconds\": %.3f, "
        "\"tokens_per_s\": %.2f, \"ttft_p50_ms\": %.1f, \"ttft_p99_ms\": %.1f, "
        "\"itl_p50_ms\": %.1f, \"itl_p99_ms\": %.1f, \"steps\": %lld, \"preemptions\": %lld}\n",
        c, l.ttft.size(), a.prompt, static_cast<long long>(l.tokens), l.seconds, cpu,
        static_cast<double>(l.tokens) / l.seconds, 1e3 * percentile(l.ttft, 50),
        1e3 * percentile(l.ttft, 99), 1e3 * percentile(l.itl, 50), 1e3 * percentile(l.itl, 99),
        static_cast<long long>(after.steps - before.steps),
        static_cast<long long>(after.preemptions - before.preemptions));
    std::fflush(stdout);
  }
  return 0;
}
