// Encode throughput of one tokenizer, one thread: every document of a JSON
// Lines corpus ({"text": ...} per line) is encoded without special tokens;
// the time is this thread's CPU time for a whole pass (the machine is
// shared), best of --passes. Prints one JSON object:
//   {"bytes": B, "tokens": T, "seconds": S, "mb_per_s": B / S / 1e6}
// Run by bench/tokenizer/compare.py beside Python `tokenizers`.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace {

double thread_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  std::string tokenizer_path, corpus_path;
  int passes = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--tokenizer")) tokenizer_path = argv[i + 1];
    if (!std::strcmp(argv[i], "--corpus")) corpus_path = argv[i + 1];
    if (!std::strcmp(argv[i], "--passes")) passes = std::atoi(argv[i + 1]);
  }
  if (tokenizer_path.empty() || corpus_path.empty()) {
    std::fprintf(stderr,
                 "usage: kiln_tokenizer_bench --tokenizer PATH --corpus FILE.jsonl [--passes N]\n");
    return 2;
  }
  auto tok = kiln::tokenizer::Tokenizer::load(tokenizer_path);
  if (!tok.ok()) {
    std::fprintf(stderr, "%s\n", tok.message().c_str());
    return 1;
  }
  std::vector<std::string> docs;
  std::ifstream in(corpus_path);
  std::string line;
  size_t bytes = 0;
  while (std::getline(in, line)) {
    docs.push_back(nlohmann::json::parse(line)["text"].get<std::string>());
    bytes += docs.back().size();
  }
  double best = 1e30;
  size_t tokens = 0;
  for (int p = 0; p < passes; ++p) {
    tokens = 0;
    const double t0 = thread_seconds();
    for (const auto& d : docs) tokens += tok->encode(d, false).size();
    best = std::min(best, thread_seconds() - t0);
  }
  std::printf("{\"bytes\": %zu, \"tokens\": %zu, \"seconds\": %.6f, \"mb_per_s\": %.3f}\n", bytes,
              tokens, best, double(bytes) / best / 1e6);
  return 0;
}
