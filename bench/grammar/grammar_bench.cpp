// Constraint-engine benchmark; bench/grammar/compare.py runs it beside
// xgrammar on the same vocabulary, schema and token sequence.
//
//   kiln_grammar_bench --vocab V.bin --schema S.json --tokens T.txt [--passes N] [--json OUT]
//
// V.bin: u32 count, then per token u32 length + bytes (empty = special);
// T.txt: token ids separated by whitespace; the first line of T.txt may be
// "eos: a b" to name the EOS ids. Times are thread CPU time (the machine is
// shared; CPU time ignores preemption) and wall time.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sampling/grammar/compile.h"
#include "sampling/grammar/constraint.h"
#include "sampling/grammar/vocabulary.h"

namespace {

using kiln::sampling::Constraint;
using kiln::sampling::ConstraintMatcher;
namespace grammar = kiln::sampling::grammar;

double cpu_us() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}
double wall_us() {
  return std::chrono::duration<double, std::micro>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Stats {
  double mean = 0, median = 0, p90 = 0, max = 0;
};
Stats stats(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  for (double x : v) s.mean += x;
  s.mean /= double(v.size());
  s.median = v[v.size() / 2];
  s.p90 = v[std::min(v.size() - 1, v.size() * 9 / 10)];
  s.max = v.back();
  return s;
}
nlohmann::json to_json(const Stats& s) {
  return {{"mean_us", s.mean}, {"median_us", s.median}, {"p90_us", s.p90}, {"max_us", s.max}};
}

}  // namespace

int main(int argc, char** argv) {
  std::string vocab_path, schema_path, tokens_path, json_out;
  int passes = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--vocab")
      vocab_path = argv[i + 1];
    else if (a == "--schema")
      schema_path = argv[i + 1];
    else if (a == "--tokens")
      tokens_path = argv[i + 1];
    else if (a == "--passes")
      passes = std::max(1, std::atoi(argv[i + 1]));
    else if (a == "--json")
      json_out = argv[i + 1];
  }
  if (vocab_path.empty() || schema_path.empty() || tokens_path.empty()) {
    std::fprintf(
        stderr,
        "usage: %s --vocab V.bin --schema S.json --tokens T.txt [--passes N] [--json OUT]\n",
        argv[0]);
    return 2;
  }
  std::string raw = read_file(vocab_path);
  std::vector<std::string> tokens;
  size_t off = 0;
  auto u32 = [&]() {
    uint32_t v = 0;
    if (off + 4 <= raw.size()) std::memcpy(&v, raw.data() + off, 4);
    off += 4;
    return v;
  };
  uint32_t n = u32();
  tokens.reserve(n);
  for (uint32_t i = 0; i < n && off <= raw.size(); ++i) {
    uint32_t len = u32();
    tokens.push_back(raw.substr(off, len));
    off += len;
  }
  std::istringstream tin(read_file(tokens_path));
  std::vector<int32_t> eos, ids;
  std::string line;
  std::getline(tin, line);
  if (line.rfind("eos:", 0) == 0) {
    std::istringstream es(line.substr(4));
    for (int32_t e; es >> e;) eos.push_back(e);
  }
  for (int32_t id; tin >> id;) ids.push_back(id);

  nlohmann::json out;
  double t0 = cpu_us(), w0 = wall_us();
  auto vocab = grammar::Vocabulary::create(tokens, eos);
  if (!vocab.ok()) {
    std::fprintf(stderr, "vocabulary: %s\n", vocab.message().c_str());
    return 1;
  }
  out["vocab_size"] = (*vocab)->size();
  out["trie_nodes"] = (*vocab)->trie().size();
  out["vocab_build_ms"] = {{"cpu", (cpu_us() - t0) / 1e3}, {"wall", (wall_us() - w0) / 1e3}};

  const std::string schema = read_file(schema_path);
  t0 = cpu_us(), w0 = wall_us();
  auto constraint = grammar::compile_json_schema(schema, *vocab);
  if (!constraint.ok()) {
    std::fprintf(stderr, "compile: %s\n", constraint.message().c_str());
    return 1;
  }
  out["compile_ms"] = {{"cpu", (cpu_us() - t0) / 1e3}, {"wall", (wall_us() - w0) / 1e3}};
  out["positions"] = (*constraint)->num_positions();
  out["masks"] = (*constraint)->num_masks();
  out["cached_mask_bytes"] = (*constraint)->cached_mask_bytes();

  std::vector<uint64_t> mask(kiln::sampling::mask_words((*vocab)->size()));
  std::vector<double> first_pass, warm, advance_us;
  std::vector<int32_t> allowed_counts;
  for (int pass = 0; pass < passes; ++pass) {
    ConstraintMatcher m(*constraint);
    for (size_t step = 0; step <= ids.size(); ++step) {
      double c0 = cpu_us();
      m.fill_mask(mask);
      double dt = cpu_us() - c0;
      (pass == 0 ? first_pass : warm).push_back(dt);
      if (pass == 0) {
        int32_t count = 0;
        for (uint64_t w : mask) count += __builtin_popcountll(w);
        allowed_counts.push_back(count);
      }
      if (step == ids.size()) break;
      int32_t id = ids[step];
      if (!(mask[id >> 6] >> (id & 63) & 1)) {
        std::fprintf(stderr, "token %zu (id %d, '%s') is not allowed\n", step, id,
                     tokens[id].c_str());
        return 1;
      }
      c0 = cpu_us();
      bool ok = m.advance(id);
      if (pass == 0) advance_us.push_back(cpu_us() - c0);
      if (!ok) {
        std::fprintf(stderr, "advance failed at token %zu\n", step);
        return 1;
      }
    }
    if (!m.can_end()) {
      std::fprintf(stderr, "the token sequence does not complete the value\n");
      return 1;
    }
  }
  out["tokens"] = ids.size();
  out["mask_first_pass"] = to_json(stats(first_pass));
  out["mask_warm"] = to_json(stats(warm));
  out["advance"] = to_json(stats(advance_us));
  out["allowed_counts"] = allowed_counts;
  out["cached_mask_bytes_after"] = (*constraint)->cached_mask_bytes();

  // Sanity on the real vocabulary: random walks never meet an empty mask,
  // and the mask agrees with the byte-by-byte check on sampled tokens.
  {
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    auto next_rand = [&] {
      rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
      return rng;
    };
    int checked = 0, walks_ended = 0;
    for (int walk = 0; walk < 20; ++walk) {
      ConstraintMatcher m(*constraint);
      for (int step = 0; step < 400 && !m.finished(); ++step) {
        m.fill_mask(mask);
        std::vector<int32_t> allowed, closing;  // closing: tokens with '"', ']' or '}'
        for (int32_t id = 0; id < (*vocab)->size(); ++id)
          if (mask[id >> 6] >> (id & 63) & 1) {
            allowed.push_back(id);
            if (tokens[id].find_first_of("\"]}") != std::string::npos) closing.push_back(id);
          }
        if (allowed.empty()) {
          std::fprintf(stderr, "walk %d: empty mask at step %d\n", walk, step);
          return 1;
        }
        for (int k = 0; k < 50; ++k, ++checked) {
          int32_t id = int32_t(next_rand() % uint64_t((*vocab)->size()));
          if (m.allows(id) != bool(mask[id >> 6] >> (id & 63) & 1)) {
            std::fprintf(stderr, "walk %d step %d: mask and byte check disagree on %d\n", walk,
                         step, id);
            return 1;
          }
        }
        // Lean towards closing strings and containers so that walks finish.
        const auto& from = !closing.empty() && next_rand() % 2 ? closing : allowed;
        int32_t pick =
            m.can_end() && next_rand() % 4 == 0 ? eos.at(0) : from[next_rand() % from.size()];
        if (!m.advance(pick)) return 1;
      }
      walks_ended += m.finished();
    }
    out["walk_check"] = {{"walks", 20}, {"ended", walks_ended}, {"tokens_checked", checked}};
  }

  std::string text = out.dump(1);
  if (!json_out.empty()) std::ofstream(json_out) << text << "\n";
  auto f = [&](const char* k) { return out[k]["mean_us"].get<double>(); };
  std::printf(
      "vocab %d tokens (%zu trie nodes) built in %.0f ms; schema compiled in %.1f ms (%d "
      "positions)\n",
      (*vocab)->size(), (*vocab)->trie().size(), out["vocab_build_ms"]["cpu"].get<double>(),
      out["compile_ms"]["cpu"].get<double>(), (*constraint)->num_positions());
  std::printf(
      "mask per token: first pass %.1f us, warm %.1f us (median %.1f, p90 %.1f, max %.1f); "
      "advance %.1f us\n",
      f("mask_first_pass"), f("mask_warm"), out["mask_warm"]["median_us"].get<double>(),
      out["mask_warm"]["p90_us"].get<double>(), out["mask_warm"]["max_us"].get<double>(),
      f("advance"));
  std::printf(
      "random walks on the real vocabulary: no empty mask; %d of 20 ended within 400 tokens; %d "
      "mask bits checked against the byte path\n",
      out["walk_check"]["ended"].get<int>(), out["walk_check"]["tokens_checked"].get<int>());
  return 0;
}
