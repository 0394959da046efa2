#include "api/json_util.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <random>

namespace kiln::api {

namespace {
// One generator per thread: the I/O threads draw ids and seeds concurrently.
std::mt19937_64& rng() {
  thread_local std::mt19937_64 gen{[] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }()};
  return gen;
}
}  // namespace

std::string dump(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json json_float(float value) {
  if (!std::isfinite(value)) return nullptr;
  // to_chars(float) gives the shortest representation that round-trips the
  // float; reading it back as a double lets nlohmann print those digits.
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf - 1, value);
  if (ec != std::errc()) return static_cast<double>(value);
  *end = '\0';
  return std::strtod(buf, nullptr);
}

std::string random_hex(size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n, '0');
  for (auto& c : out) c = kDigits[rng()() & 15];
  return out;
}

std::string random_alnum(size_t n) {
  static constexpr char kChars[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::string out(n, '0');
  for (auto& c : out) c = kChars[rng()() % 62];
  return out;
}

uint64_t random_seed() { return rng()(); }

void append_sse(std::string& out, std::string_view payload) {
  out.append("data: ").append(payload).append("\n\n");
}

}  // namespace kiln::api
