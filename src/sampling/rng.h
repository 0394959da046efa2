// The per-request random generator. Every sampled step of a sequence draws
// exactly one 64-bit value from its own generator, so a request's tokens depend
// only on its seed and choice index, never on other traffic or on the CPU.
//
// Generator: Philox4x64-10 (Salmon et al., "Parallel random numbers: as easy
// as 1, 2, 3", SC'11), counter-based: key = (seed, stream), the 256-bit counter
// starts at 0 and each block yields four 64-bit outputs, used in order. Choice
// k > 0 of a request (OpenAI n, TGI best_of) samples with its own seed,
// choice_seed(seed, k), reported with it: a request sent again with that seed
// reproduces the choice as its choice 0. A uniform double takes the top 53 bits: u = (x >> 11) *
// 2^-53, in [0, 1). Tests check it against the Random123 known-answer vector and numpy's Philox
// (whose first block is our counter 1).
#pragma once

#include <array>
#include <cstdint>

namespace kiln::sampling {

class Rng {
 public:
  explicit Rng(uint64_t seed, uint64_t stream = 0);

  uint64_t next();   // next raw 64-bit output
  double uniform();  // [0, 1) with 53 random bits

  // One Philox4x64-10 block (exposed for the known-answer tests).
  static std::array<uint64_t, 4> block(std::array<uint64_t, 4> counter,
                                       std::array<uint64_t, 2> key);

 private:
  std::array<uint64_t, 2> key_;
  std::array<uint64_t, 4> counter_{};
  std::array<uint64_t, 4> buffer_{};
  int used_ = 4;  // outputs of buffer_ already returned
};

// The seed of choice k of a request seeded `seed` (choice 0 keeps `seed`):
// SplitMix64 of seed + k * golden ratio, so choices are independent streams.
uint64_t choice_seed(uint64_t seed, uint32_t choice);

}  // namespace kiln::sampling
