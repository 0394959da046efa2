#include "sampling/vec_math.h"

#include <cstring>
#include <limits>

// The kernels are templates over the native vector width W (4 floats for the
// x86-64 baseline SSE2, 8 for AVX2, 16 for AVX-512) and are instantiated once
// per ISA inside functions with a target attribute; dispatch happens once per
// call. A logical block is always kLanes floats split into kLanes / W native
// vectors, so lane j of a block holds the same elements, and every sum the
// same partial sums, whatever W is: the ISA changes the speed, never a result.

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
KILN_INLINE typename Types<W>::F splat(float x) {
  return typename Types<W>::F{} + x;
}

template <int W>
KILN_INLINE typename Types<W>::F select(typename Types<W>::I mask, typename Types<W>::F a,
                                        typename Types<W>::F b) {
  using F = typename Types<W>::F;
  using I = typename Types<W>::I;
  return (F)(((I)a & mask) | ((I)b & ~mask));
}

template <int W>
KILN_INLINE bool any(typename Types<W>::I mask) {
  int32_t acc = 0;
  for (int j = 0; j < W; ++j) acc |= mask[j];
  return acc != 0;
}

template <int W>
KILN_INLINE typename Types<W>::Block load(const float* p) {
  typename Types<W>::Block r;
  std::memcpy(&r, p, sizeof(r));
  return r;
}

// The next `count` (< kLanes) elements, padded with `fill`.
template <int W>
KILN_INLINE typename Types<W>::Block load_tail(const float* p, size_t count, float fill) {
  float buf[kLanes];
  for (size_t j = 0; j < kLanes; ++j) buf[j] = j < count ? p[j] : fill;
  return load<W>(buf);
}

template <int W>
KILN_INLINE void store(float* p, const typename Types<W>::Block& x, size_t count = kLanes) {
  std::memcpy(p, &x, count * sizeof(float));
}

template <int W>
KILN_INLINE float lane(const typename Types<W>::Block& x, size_t j) {
  return x.v[j / W][j % W];
}

// exp of each lane; NaN and x < kExpLow give 0, x > 0 is treated as 0.
template <int W>
KILN_INLINE typename Types<W>::F exp_vec(typename Types<W>::F x) {
  using F = typename Types<W>::F;
  using I = typename Types<W>::I;
  const F zero = {};
  const I in_range = x >= splat<W>(kExpLow);
  const F xc = select<W>(in_range, select<W>(x < zero, x, zero), splat<W>(kExpLow));
  const F n = (xc * kLog2e + kRoundMagic) - kRoundMagic;
  const F r = (xc - n * kLn2Hi) - n * kLn2Lo;  // |r| <= ln2/2
  // Taylor series of e^r to degree 7: truncation error < 2e-9 on |r| <= 0.347.
  F p = splat<W>(1.0f / 5040.0f);
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  // 2^n through the exponent field; n is in [-126, 0] here.
  const I bits = (__builtin_convertvector(n, I) + 127) << 23;
  return select<W>(in_range, p * (F)bits, zero);
}

// ---- the kernels, one instantiation per ISA ----

template <int W>
KILN_INLINE float max_value_t(const float* x, size_t n) {
  typename Types<W>::Block acc;
  for (auto& a : acc.v) a = splat<W>(-kInf);
  auto step = [&](const typename Types<W>::Block& b) {
    for (size_t k = 0; k < Types<W>::kParts; ++k) {
      acc.v[k] = select<W>(b.v[k] > acc.v[k], b.v[k], acc.v[k]);  // NaN never compares greater
    }
  };
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) step(load<W>(x + i));
  if (i < n) step(load_tail<W>(x + i, n - i, -kInf));
  float m = lane<W>(acc, 0);
  for (size_t j = 1; j < kLanes; ++j) m = lane<W>(acc, j) > m ? lane<W>(acc, j) : m;
  return m;
}

template <int W>
KILN_INLINE size_t find_first_t(const float* x, size_t n, float value) {
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const auto b = load<W>(x + i);
    typename Types<W>::I m = {};
    for (size_t k = 0; k < Types<W>::kParts; ++k) m |= b.v[k] == value;
    if (any<W>(m)) break;
  }
  for (; i < n; ++i) {
    if (x[i] == value) return i;
  }
  return n;
}

template <int W>
KILN_INLINE size_t find_at_least_t(const float* x, size_t n, size_t from, float scale, float offset,
                                   float threshold) {
  size_t i = from;
  for (; i < n && i % kLanes != 0; ++i) {
    if (x[i] * scale - offset >= threshold) return i;
  }
  for (; i + kLanes <= n; i += kLanes) {
    const auto b = load<W>(x + i);
    typename Types<W>::I m = {};
    for (size_t k = 0; k < Types<W>::kParts; ++k) m |= (b.v[k] * scale - offset) >= threshold;
    if (any<W>(m)) break;
  }
  for (; i < n; ++i) {
    if (x[i] * scale - offset >= threshold) return i;
  }
  return n;
}

template <int W, bool kStore>
KILN_INLINE double sum_exp_t(const float* x, size_t n, float offset, float scale, float* out) {
  using Block = typename Types<W>::Block;
  auto exp_block = [&](const Block& b) {
    Block e;
    for (size_t k = 0; k < Types<W>::kParts; ++k) e.v[k] = exp_vec<W>((b.v[k] - offset) * scale);
    return e;
  };
  double total[kLanes] = {};
  size_t i = 0;
  while (i < n) {
    Block acc = {};
    const size_t block_end = i + kBlock < n ? i + kBlock : n;
    for (; i + kLanes <= block_end; i += kLanes) {
      const Block e = exp_block(load<W>(x + i));
      if constexpr (kStore) store<W>(out + i, e);
      for (size_t k = 0; k < Types<W>::kParts; ++k) acc.v[k] += e.v[k];
    }
    if (i < block_end) {  // only in the last block
      const size_t count = block_end - i;
      const Block e = exp_block(load_tail<W>(x + i, count, -kInf));
      if constexpr (kStore) store<W>(out + i, e, count);
      for (size_t k = 0; k < Types<W>::kParts; ++k) acc.v[k] += e.v[k];
      i = block_end;
    }
    for (size_t j = 0; j < kLanes; ++j) total[j] += lane<W>(acc, j);
  }
  double s = 0.0;
  for (size_t j = 0; j < kLanes; ++j) s += total[j];
  return s;
}

template <int W>
KILN_INLINE size_t find_cumulative_t(const float* w, size_t n, double target) {
  double cumulative = 0.0;
  for (size_t i = 0; i < n; i += kBlock) {
    const size_t end = i + kBlock < n ? i + kBlock : n;
    typename Types<W>::Block acc = {};
    auto add = [&](const typename Types<W>::Block& b) {
      for (size_t k = 0; k < Types<W>::kParts; ++k) acc.v[k] += b.v[k];
    };
    size_t k = i;
    for (; k + kLanes <= end; k += kLanes) add(load<W>(w + k));
    if (k < end) add(load_tail<W>(w + k, end - k, 0.0f));
    double block = 0.0;
    for (size_t j = 0; j < kLanes; ++j) block += lane<W>(acc, j);
    if (cumulative + block > target) {
      // The crossing is in this block (unless rounding says otherwise, in
      // which case the walk goes on with the block's own sum).
      double running = cumulative;
      for (size_t j = i; j < end; ++j) {
        running += w[j];
        if (running > target) return j;
      }
    }
    cumulative += block;
  }
  return n;
}

// One table of entry points per ISA.
struct Kernels {
  float (*max_value)(const float*, size_t);
  size_t (*find_first)(const float*, size_t, float);
  size_t (*find_at_least)(const float*, size_t, size_t, float, float, float);
  double (*sum_exp)(const float*, size_t, float, float);
  double (*sum_exp_store)(const float*, size_t, float, float, float*);
  size_t (*find_cumulative)(const float*, size_t, double);
};

#define KILN_SAMPLING_KERNELS(NAME, W, TARGET)                                                     \
  namespace NAME {                                                                                 \
  TARGET float max_value(const float* x, size_t n) { return max_value_t<W>(x, n); }                \
  TARGET size_t find_first(const float* x, size_t n, float v) { return find_first_t<W>(x, n, v); } \
  TARGET size_t find_at_least(const float* x, size_t n, size_t from, float s, float o, float t) {  \
    return find_at_least_t<W>(x, n, from, s, o, t);                                                \
  }                                                                                                \
  TARGET double sum_exp(const float* x, size_t n, float o, float s) {                              \
    return sum_exp_t<W, false>(x, n, o, s, nullptr);                                               \
  }                                                                                                \
  TARGET double sum_exp_store(const float* x, size_t n, float o, float s, float* out) {            \
    return sum_exp_t<W, true>(x, n, o, s, out);                                                    \
  }                                                                                                \
  TARGET size_t find_cumulative(const float* w, size_t n, double t) {                              \
    return find_cumulative_t<W>(w, n, t);                                                          \
  }                                                                                                \
  constexpr Kernels kTable = {max_value, find_first,    find_at_least,                             \
                              sum_exp,   sum_exp_store, find_cumulative};                          \
  }

KILN_SAMPLING_KERNELS(baseline, 4, )
#if defined(__x86_64__)
KILN_SAMPLING_KERNELS(avx2, 8, __attribute__((target("avx2"))))
KILN_SAMPLING_KERNELS(avx512, 16, __attribute__((target("avx512f"))))
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
  if (__builtin_cpu_supports("avx512f")) return Isa::kAvx512;
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
  return exp_vec<4>(splat<4>(x))[0];
}

float max_value(const float* x, size_t n) { return g_kernels->max_value(x, n); }

size_t find_first(const float* x, size_t n, float value) {
  return g_kernels->find_first(x, n, value);
}

size_t find_at_least(const float* x, size_t n, size_t from, float scale, float offset,
                     float threshold) {
  return g_kernels->find_at_least(x, n, from, scale, offset, threshold);
}

double sum_exp(const float* x, size_t n, float offset, float scale, float* out) {
  return out ? g_kernels->sum_exp_store(x, n, offset, scale, out)
             : g_kernels->sum_exp(x, n, offset, scale);
}

size_t find_cumulative(const float* w, size_t n, double target) {
  return g_kernels->find_cumulative(w, n, target);
}

}  // namespace kiln::sampling::detail
