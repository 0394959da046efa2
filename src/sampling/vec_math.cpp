#include "sampling/vec_math.h"

#include <cstring>
#include <limits>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// The kernels (vec_math_kernels.inc) are compiled once per native vector
// width W (4 floats for the x86-64 baseline SSE2, 8 for AVX2, 16 for AVX-512)
// with that ISA's target attribute; a table picked at start-up dispatches. A logical block is
// always kLanes floats split into kLanes / W native vectors, so lane j of a block holds the same
// elements, and every sum the same partial sums, whatever W is: the ISA changes the speed, never a
// result.

#if defined(__GNUC__) && !defined(__clang__)
// Wide vectors only ever pass between always-inlined helpers, so GCC's note
// that their calling convention differs without AVX does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

#define KILN_INLINE inline __attribute__((always_inline))

namespace kiln::sampling::detail {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
// Below this e^x is under the smallest normal float (e^-87.34 = 2^-126).
constexpr float kExpLow = -87.3f;
constexpr float kLog2e = 1.44269504088896341f;
// ln 2 split so that n * kLn2Hi is exact for |n| < 2^8 (Cody-Waite).
constexpr float kLn2Hi = 0.693145751953125f;
constexpr float kLn2Lo = 1.42860682030941723212e-6f;
// Adding then subtracting 1.5 * 2^23 rounds a float to the nearest integer.
constexpr float kRoundMagic = 12582912.0f;
// Sums fold their float lanes into double every kBlock elements (16 float
// additions per lane: relative error below 2^-20 before the fold).
constexpr size_t kBlock = 256;
// Element count per "any lane set?" test in the search loops.
constexpr size_t kGroup = 4 * kLanes;

// Explicit specialisations: GCC drops vector_size on a dependent size.
template <int W>
struct Types;
#define KILN_VECTOR_TYPES(W)                                           \
  template <>                                                          \
  struct Types<W> {                                                    \
    typedef float F __attribute__((vector_size(W * sizeof(float))));   \
    typedef int32_t I __attribute__((vector_size(W * sizeof(float)))); \
    static constexpr size_t kParts = kLanes / W;                       \
    struct Block {                                                     \
      F v[kParts];                                                     \
    };                                                                 \
  };
KILN_VECTOR_TYPES(4)
KILN_VECTOR_TYPES(8)
KILN_VECTOR_TYPES(16)
#undef KILN_VECTOR_TYPES

template <int W>
uint32_t generic_bits(typename Types<W>::I mask) {
  uint32_t bits = 0;
  for (int j = 0; j < W; ++j) bits |= static_cast<uint32_t>(mask[j] & 1) << j;
  return bits;
}

// One table of entry points per ISA.
struct Kernels {
  float (*max_value)(const float*, size_t);
  size_t (*find_first)(const float*, size_t, float);
  size_t (*find_at_least)(const float*, size_t, size_t, float, float, float);
  size_t (*collect_at_least)(const float*, size_t, float, float, float, int32_t*);
  double (*sum_exp)(const float*, size_t, float, float);
  double (*sum_exp_store)(const float*, size_t, float, float, float*);
  size_t (*find_cumulative)(const float*, size_t, double);
};

namespace baseline {
constexpr int W = 4;
#define KILN_TARGET
#if defined(__x86_64__)
#define KILN_BITS(m) static_cast<uint32_t>(_mm_movemask_ps((__m128)(m)))
#else
#define KILN_BITS(m) generic_bits<W>(m)
#endif
#include "sampling/vec_math_kernels.inc"
#undef KILN_TARGET
#undef KILN_BITS
}  // namespace baseline

#if defined(__x86_64__)
namespace avx2 {
constexpr int W = 8;
#define KILN_TARGET __attribute__((target("avx2")))
#define KILN_BITS(m) static_cast<uint32_t>(_mm256_movemask_ps((__m256)(m)))
#include "sampling/vec_math_kernels.inc"
#undef KILN_TARGET
#undef KILN_BITS
}  // namespace avx2

namespace avx512 {
constexpr int W = 16;
// DQ/BW/VL keep compare results in vector registers (Skylake-X and later).
#define KILN_TARGET __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw")))
#define KILN_BITS(m) static_cast<uint32_t>(_mm512_test_epi32_mask((__m512i)(m), (__m512i)(m)))
#include "sampling/vec_math_kernels.inc"
#undef KILN_TARGET
#undef KILN_BITS
}  // namespace avx512
#endif

const Kernels* table_for(Isa isa) {
#if defined(__x86_64__)
  if (isa == Isa::kAvx512) return &avx512::kTable;
  if (isa == Isa::kAvx2) return &avx2::kTable;
#endif
  (void)isa;
  return &baseline::kTable;
}

Isa best_isa() {
#if defined(__x86_64__)
  __builtin_cpu_init();  // may run before libgcc's own constructor
  // The compares need AVX-512DQ/BW/VL to stay in vector registers (Skylake-X
  // and later have all four).
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw")) {
    return Isa::kAvx512;
  }
  if (__builtin_cpu_supports("avx2")) return Isa::kAvx2;
#endif
  return Isa::kBaseline;
}

// Chosen once; tests may pin another supported ISA with set_isa().
const Kernels* g_kernels = table_for(best_isa());

}  // namespace

bool isa_supported(Isa isa) { return static_cast<int>(isa) <= static_cast<int>(best_isa()); }

void set_isa(Isa isa) { g_kernels = table_for(isa_supported(isa) ? isa : best_isa()); }

float exp_nonpositive(float x) {
  if (x != x) return x;
  return baseline::exp_vec(baseline::splat(x))[0];
}

float max_value(const float* x, size_t n) { return g_kernels->max_value(x, n); }

size_t find_first(const float* x, size_t n, float value) {
  return g_kernels->find_first(x, n, value);
}

size_t find_at_least(const float* x, size_t n, size_t from, float scale, float offset,
                     float threshold) {
  return g_kernels->find_at_least(x, n, from, scale, offset, threshold);
}

size_t collect_at_least(const float* x, size_t n, float scale, float offset, float threshold,
                        int32_t* ids) {
  return g_kernels->collect_at_least(x, n, scale, offset, threshold, ids);
}

double sum_exp(const float* x, size_t n, float offset, float scale, float* out) {
  return out ? g_kernels->sum_exp_store(x, n, offset, scale, out)
             : g_kernels->sum_exp(x, n, offset, scale);
}

size_t find_cumulative(const float* w, size_t n, double target) {
  return g_kernels->find_cumulative(w, n, target);
}

}  // namespace kiln::sampling::detail
