// Fuzzes src/sampling with raw bytes. First byte even: stop matching. The
// rest is "stops \x01 text"; stops are split at \x00 (at most 4), the text is
// fed in pseudo-random chunks of 1-7 bytes. Checks that the
// streamed result equals the one-shot result, that emitted text is a prefix
// of the input, and that a removed stop string never shows up in it.
// First byte odd: the bytes are a logits row (floats, any bit pattern) and
// sampling parameters; the chosen token must be a valid id or -1.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "sampling/sampler.h"
#include "sampling/stop.h"

namespace {

using kiln::sampling::StopMatcher;

void check(bool ok) {
  if (!ok) std::abort();
}

void fuzz_stop(std::string_view in, bool keep) {
  const size_t split = in.find('\x01');
  if (split == std::string_view::npos) return;
  std::vector<std::string> stops;
  std::string_view spec = in.substr(0, split);
  while (!spec.empty() && stops.size() < 4) {
    const size_t end = spec.find('\0');
    stops.emplace_back(spec.substr(0, end));
    spec = end == std::string_view::npos ? std::string_view() : spec.substr(end + 1);
  }
  const std::string_view text = in.substr(split + 1);

  StopMatcher whole(stops, keep);
  std::string once;
  if (!whole.feed(text, once)) whole.flush(once);

  StopMatcher streamed(stops, keep);
  std::string pieces;
  uint32_t lcg = static_cast<uint32_t>(in.size()) * 2654435761u;  // chunk lengths 1..7
  size_t pos = 0;
  while (pos < text.size() && !streamed.stopped()) {
    lcg = lcg * 1103515245u + 12345u;
    const size_t len = 1 + (lcg >> 16) % 7;
    streamed.feed(text.substr(pos, len), pieces);
    pos += len;
  }
  if (!streamed.stopped()) streamed.flush(pieces);

  check(pieces == once);
  check(whole.matched() == streamed.matched());
  check(text.substr(0, once.size()) == once);
  if (!whole.stopped()) check(once == text);
  if (whole.stopped() && !keep) {
    for (const auto& s : stops) {
      if (!s.empty()) check(once.find(s) == std::string::npos);
    }
  }
}

void fuzz_row(const uint8_t* data, size_t size) {
  if (size < 12) return;
  kiln::sampling::SamplingParams p;
  p.do_sample = data[0] & 2;
  p.temperature = (data[1] % 20) / 10.0f;  // includes 0: greedy
  p.top_k = data[2] % 8;
  p.top_p = (data[3] % 11) / 10.0f + 0.05f;
  p.typical_p = data[4] % 3 == 0 ? (data[4] % 10) / 10.0f + 0.05f : 1.0f;
  p.min_p = (data[5] % 5) / 10.0f;
  p.repetition_penalty = 1.0f + (data[6] % 4) / 4.0f;
  p.seed = data[7];
  const size_t n = (size - 8) / sizeof(float);
  std::vector<float> row(n);
  std::memcpy(row.data(), data + 8, n * sizeof(float));
  const std::vector<int32_t> prompt = {0, static_cast<int32_t>(n) + 5, -3};
  kiln::sampling::SamplingState state(
      {.sampling = p, .logprobs = {.top_n = data[6] % 4}, .prompt = prompt});
  kiln::sampling::Sampler sampler;
  kiln::sampling::SampleOutput out;
  for (int step = 0; step < 2; ++step) {
    std::vector<float> work = row;
    const kiln::sampling::SampleInput input{&state, work};
    sampler.sample(std::span(&input, 1), std::span(&out, 1));
    check(out.token >= -1 && out.token < static_cast<int32_t>(n));
    check(out.top.size() <= n);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] & 1) {
    fuzz_row(data + 1, size - 1);
  } else {
    fuzz_stop(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1), data[0] & 2);
  }
  return 0;
}
