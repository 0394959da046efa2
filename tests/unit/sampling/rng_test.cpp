#include "sampling/rng.h"

#include <gtest/gtest.h>

#include <set>

#include "goldens.h"

namespace kiln::sampling {
namespace {

TEST(SamplingRngTest, PhiloxMatchesRandom123KnownAnswer) {
  const auto& kat = test::goldens()["rng"]["random123_kat"];
  const auto out = Rng::block({0, 0, 0, 0}, {0, 0});
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(out[i], kat["block"][i].get<uint64_t>()) << i;
}

TEST(SamplingRngTest, StreamMatchesNumpyPhilox) {
  for (const auto& c : test::goldens()["rng"]["numpy"]) {
    Rng rng(c["seed"].get<uint64_t>(), c["stream"].get<uint64_t>());
    for (const auto& expected : c["outputs"]) {
      EXPECT_EQ(rng.next(), expected.get<uint64_t>()) << c.dump();
    }
  }
}

TEST(SamplingRngTest, UniformUsesTop53Bits) {
  Rng a(7), b(7);
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.next();
    const double u = b.uniform();
    EXPECT_EQ(u, static_cast<double>(x >> 11) / 9007199254740992.0);
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
  }
}

TEST(SamplingRngTest, SeedsAndStreamsGiveDifferentSequences) {
  std::set<uint64_t> firsts;
  for (uint64_t seed : {0ull, 1ull, 2ull, 42ull}) {
    for (uint64_t stream : {0ull, 1ull, 2ull}) firsts.insert(Rng(seed, stream).next());
  }
  EXPECT_EQ(firsts.size(), 12u);
}

}  // namespace
}  // namespace kiln::sampling
