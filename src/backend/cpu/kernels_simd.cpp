// Vectorised kernels, written once with Highway and compiled for AVX2 and
// AVX-512 (HWY_TARGETS is set for this file in CMakeLists.txt). Each kernel
// keeps a fixed number of accumulators and handles the tail with one masked
// vector, so its reduction order depends only on n and the ISA.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backend/cpu/kernels_simd.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include <cmath>

#include "hwy/contrib/math/math-inl.h"
#include "hwy/highway.h"

#include "backend/cpu/kernels.h"

HWY_BEFORE_NAMESPACE();
namespace kiln::backend::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using D = hn::ScalableTag<float>;
using V = hn::Vec<D>;

// Exp's valid range ends at +104 and e^88.7 already overflows a float; the
// clamp keeps silu finite for gate values below -88 (where it is ~0 anyway).
constexpr float kExpClamp = 88.0f;
constexpr float kGeluBeta = 0.7978845608028654f;  // sqrt(2/pi)
constexpr float kGeluKappa = 0.044715f;

float Dot(const float* a, const float* b, int64_t n) {
  const D d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  V s0 = hn::Zero(d), s1 = hn::Zero(d), s2 = hn::Zero(d), s3 = hn::Zero(d);
  int64_t i = 0;
  for (; i + 4 * N <= n; i += 4 * N) {
    s0 = hn::MulAdd(hn::LoadU(d, a + i), hn::LoadU(d, b + i), s0);
    s1 = hn::MulAdd(hn::LoadU(d, a + i + N), hn::LoadU(d, b + i + N), s1);
    s2 = hn::MulAdd(hn::LoadU(d, a + i + 2 * N), hn::LoadU(d, b + i + 2 * N), s2);
    s3 = hn::MulAdd(hn::LoadU(d, a + i + 3 * N), hn::LoadU(d, b + i + 3 * N), s3);
  }
  for (; i + N <= n; i += N) s0 = hn::MulAdd(hn::LoadU(d, a + i), hn::LoadU(d, b + i), s0);
  if (i < n) {
    const auto m = hn::FirstN(d, static_cast<size_t>(n - i));
    s1 = hn::MulAdd(hn::MaskedLoad(m, d, a + i), hn::MaskedLoad(m, d, b + i), s1);
  }
  s0 = hn::Add(hn::Add(s0, s1), hn::Add(s2, s3));
  return hn::GetLane(hn::SumOfLanes(d, s0));
}

// Tag for a whole vector, where Load() needs no mask.
struct Whole {};

HWY_INLINE V Load(Whole, const float* p) { return hn::LoadU(D(), p); }
template <class M>
HWY_INLINE V Load(M m, const float* p) {
  return hn::MaskedLoad(m, D(), p);
}

// Stores f(Whole{} or tail mask, i) -> V for every vector of [0, n) into y.
template <class F>
HWY_INLINE void Map(float* y, int64_t n, const F& f) {
  const D d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  int64_t i = 0;
  for (; i + N <= n; i += N) hn::StoreU(f(Whole{}, i), d, y + i);
  if (i < n) {
    const auto m = hn::FirstN(d, static_cast<size_t>(n - i));
    hn::BlendedStore(f(m, i), m, d, y + i);
  }
}

// Zero for the lanes outside the tail mask; whole vectors pass unchanged.
HWY_INLINE V KeepLanes(Whole, V v) { return v; }
template <class M>
HWY_INLINE V KeepLanes(M m, V v) {
  return hn::IfThenElseZero(m, v);
}

void Axpy(float a, const float* x, float* y, int64_t n) {
  const D d;
  const V va = hn::Set(d, a);
  Map(y, n, [&](auto m, int64_t i) { return hn::MulAdd(va, Load(m, x + i), Load(m, y + i)); });
}

void AddTo(const float* x, float* y, int64_t n) {
  Map(y, n, [&](auto m, int64_t i) { return hn::Add(Load(m, x + i), Load(m, y + i)); });
}

void Scale(float* x, float s, int64_t n) {
  const D d;
  const V vs = hn::Set(d, s);
  Map(x, n, [&](auto m, int64_t i) { return hn::Mul(Load(m, x + i), vs); });
}

void RmsNorm(const float* x, const float* w, float* y, int64_t n, float eps) {
  const D d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  V s0 = hn::Zero(d), s1 = hn::Zero(d);
  int64_t i = 0;
  for (; i + 2 * N <= n; i += 2 * N) {
    const V a = hn::LoadU(d, x + i), b = hn::LoadU(d, x + i + N);
    s0 = hn::MulAdd(a, a, s0);
    s1 = hn::MulAdd(b, b, s1);
  }
  for (; i < n; i += N) {
    const auto m = hn::FirstN(d, static_cast<size_t>(n - i));
    const V a = hn::MaskedLoad(m, d, x + i);
    s0 = hn::MulAdd(a, a, s0);
  }
  const float sum = hn::GetLane(hn::SumOfLanes(d, hn::Add(s0, s1)));
  const float inv = 1.0f / std::sqrt(sum / static_cast<float>(n) + eps);
  const V vinv = hn::Set(d, inv);
  if (w == nullptr) {
    Map(y, n, [&](auto m, int64_t j) { return hn::Mul(Load(m, x + j), vinv); });
  } else {
    Map(y, n,
        [&](auto m, int64_t j) { return hn::Mul(hn::Mul(Load(m, x + j), vinv), Load(m, w + j)); });
  }
}

void Softmax(float* x, int64_t n) {
  const D d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  const V neg_inf = hn::Set(d, -HUGE_VALF);
  V vmax = neg_inf;
  for (int64_t i = 0; i < n; i += N) {
    const auto m = hn::FirstN(d, static_cast<size_t>(n - i));
    vmax = hn::Max(vmax, hn::IfThenElse(m, hn::MaskedLoad(m, d, x + i), neg_inf));
  }
  vmax = hn::MaxOfLanes(d, vmax);
  V vsum = hn::Zero(d);
  Map(x, n, [&](auto m, int64_t i) {
    const V e = KeepLanes(m, hn::Exp(d, hn::Sub(Load(m, x + i), vmax)));
    vsum = hn::Add(vsum, e);
    return e;
  });
  const float sum = hn::GetLane(hn::SumOfLanes(d, vsum));
  Scale(x, 1.0f / sum, n);
}

void SiluMul(const float* g, const float* u, float* y, int64_t n) {
  const D d;
  const V one = hn::Set(d, 1.0f);
  const V clamp = hn::Set(d, kExpClamp);
  Map(y, n, [&](auto m, int64_t i) {
    const V vg = Load(m, g + i);
    const V e = hn::Exp(d, hn::Min(hn::Neg(vg), clamp));
    return hn::Mul(hn::Div(vg, hn::Add(one, e)), Load(m, u + i));
  });
}

void GeluTanhMul(const float* g, const float* u, float* y, int64_t n) {
  const D d;
  const V half = hn::Set(d, 0.5f);
  const V one = hn::Set(d, 1.0f);
  const V beta = hn::Set(d, kGeluBeta);
  const V kappa = hn::Set(d, kGeluKappa);
  Map(y, n, [&](auto m, int64_t i) {
    const V x = Load(m, g + i);
    const V inner = hn::Mul(beta, hn::MulAdd(hn::Mul(kappa, x), hn::Mul(x, x), x));
    const V t = hn::Tanh(d, inner);
    return hn::Mul(hn::Mul(hn::Mul(half, x), hn::Add(one, t)), Load(m, u + i));
  });
}

void Softcap(float* x, float cap, int64_t n) {
  const D d;
  const V vcap = hn::Set(d, cap);
  const V inv = hn::Set(d, 1.0f / cap);
  Map(x, n,
      [&](auto m, int64_t i) { return hn::Mul(vcap, hn::Tanh(d, hn::Mul(Load(m, x + i), inv))); });
}

void RopeNormal(float* x, const float* cos, const float* sin, int64_t n) {
#if HWY_TARGET == HWY_SCALAR
  for (int64_t i = 0; i + 1 < n; i += 2) {
    const float a = x[i], b = x[i + 1];
    x[i] = a * cos[i] + b * sin[i];
    x[i + 1] = b * cos[i + 1] + a * sin[i + 1];
  }
#else
  // Lanes are even, so a vector never splits a pair and Reverse2 swaps
  // each value with its partner.
  const D d;
  Map(x, n, [&](auto m, int64_t i) {
    const V v = Load(m, x + i);
    return hn::MulAdd(hn::Reverse2(d, v), Load(m, sin + i), hn::Mul(v, Load(m, cos + i)));
  });
#endif
}

void RopeNeox(float* x, const float* cos, const float* sin, int64_t n) {
  const D d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  const int64_t h = n / 2;
  for (int64_t i = 0; i < h; i += N) {
    const auto m = hn::FirstN(d, static_cast<size_t>(h - i));
    const V a = hn::MaskedLoad(m, d, x + i);
    const V b = hn::MaskedLoad(m, d, x + i + h);
    const V ra = hn::MulAdd(b, Load(m, sin + i), hn::Mul(a, Load(m, cos + i)));
    const V rb = hn::MulAdd(a, Load(m, sin + i + h), hn::Mul(b, Load(m, cos + i + h)));
    hn::BlendedStore(ra, m, d, x + i);
    hn::BlendedStore(rb, m, d, x + i + h);
  }
}

[[maybe_unused]] const Kernels kTable = {
    Dot, Axpy, AddTo, Scale, RmsNorm, Softmax, SiluMul, GeluTanhMul, Softcap, RopeNormal, RopeNeox};

}  // namespace HWY_NAMESPACE
}  // namespace kiln::backend::cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace kiln::backend::cpu {

namespace {

const Kernels* detect(Isa isa) {
  const int64_t supported = hwy::SupportedTargets();
  switch (isa) {
    case Isa::kAvx512:
#if HWY_TARGETS & HWY_AVX3
      if (supported & HWY_AVX3) return &N_AVX3::kTable;
#endif
      return nullptr;
    case Isa::kAvx2:
#if HWY_TARGETS & HWY_AVX2
      if (supported & HWY_AVX2) return &N_AVX2::kTable;
#endif
      return nullptr;
    case Isa::kScalar:
      return nullptr;
  }
  return nullptr;
}

}  // namespace

const Kernels* simd_kernels(Isa isa) {
  // CPU detection (cpuid) costs microseconds: once per ISA, not per call.
  static const Kernels* const tables[] = {nullptr, detect(Isa::kAvx2), detect(Isa::kAvx512)};
  return tables[static_cast<int>(isa)];
}

}  // namespace kiln::backend::cpu
#endif  // HWY_ONCE
