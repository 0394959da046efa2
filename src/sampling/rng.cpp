#include "sampling/rng.h"

#include <cstddef>

namespace kiln::sampling {
namespace {

// Multipliers and Weyl key increments of Philox4x64 (Salmon et al. 2011).
constexpr uint64_t kMul0 = 0xD2E7470EE14C6C93ULL;
constexpr uint64_t kMul1 = 0xCA5A826395121157ULL;
constexpr uint64_t kWeyl0 = 0x9E3779B97F4A7C15ULL;  // golden ratio
constexpr uint64_t kWeyl1 = 0xBB67AE8584CAA73BULL;  // sqrt(3) - 1
constexpr int kRounds = 10;

void mul_hi_lo(uint64_t a, uint64_t b, uint64_t& hi, uint64_t& lo) {
  const unsigned __int128 p = static_cast<unsigned __int128>(a) * b;
  hi = static_cast<uint64_t>(p >> 64);
  lo = static_cast<uint64_t>(p);
}

}  // namespace

Rng::Rng(uint64_t seed, uint64_t stream) : key_{seed, stream} {}

uint64_t choice_seed(uint64_t seed, uint32_t choice) {
  if (choice == 0) return seed;
  uint64_t z = seed + choice * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::array<uint64_t, 4> Rng::block(std::array<uint64_t, 4> c, std::array<uint64_t, 2> k) {
  for (int r = 0; r < kRounds; ++r) {
    uint64_t hi0, lo0, hi1, lo1;
    mul_hi_lo(kMul0, c[0], hi0, lo0);
    mul_hi_lo(kMul1, c[2], hi1, lo1);
    c = {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
    k[0] += kWeyl0;
    k[1] += kWeyl1;
  }
  return c;
}

uint64_t Rng::next() {
  if (used_ == 4) {
    buffer_ = block(counter_, key_);
    for (auto& word : counter_) {  // 256-bit increment
      if (++word != 0) break;
    }
    used_ = 0;
  }
  return buffer_[static_cast<size_t>(used_++)];
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

}  // namespace kiln::sampling
