// 16-lane vector backends for the panel kernels (kernels_x86.inc): lane r is
// row r of a 16-row panel. V512<vnni> is one zmm; VAvx2 is two ymm.
//
// Included ONLY by the kernel translation units, each compiled with its own
// -m flags; everything here is in an anonymous namespace so no inline
// function compiled for AVX-512 can be merged into code for a smaller CPU.
//
// Integer dot steps are exact: dot_u8 adds u[4i..4i+3] . x[4i..4i+3] (u
// unsigned bytes < 128, x signed bytes in [-127, 127]) to lane i; without VNNI
// it goes through maddubs (pair sums <= 2 * 127 * 127, no saturation) and
// madd with ones. dot_s8 does the same for signed weights: with VNNI it
// computes (w + 128) . x, so callers subtract kS8Bias * sum(x).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace kiln::backend::quant {
namespace {

inline int32_t load_i32(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

#if defined(__AVX512F__) && defined(__AVX512BW__)
template <bool kVnni>
struct V512 {
  using I = __m512i;
  using F = __m512;
  static constexpr int kS8Bias = kVnni ? 128 : 0;
  // dpbusd accumulates in place (latency ~5 per step), so kernels split sums
  // over several registers; maddubs+madd chains only through the add.
  static constexpr bool kChainedDot = kVnni;
  // The VNNI variant targets Ice Lake-class CPUs (VNNI, VBMI, BITALG): it may
  // use vpshufbitqmb to gather bits.
  static constexpr bool kBitShuffle = kVnni;

  static I zero() { return _mm512_setzero_si512(); }
  // Moves the bits of every byte left by n (right for n < 0, |n| < 8). Only
  // the bits that stay inside their byte are defined: callers mask the
  // others away. The VNNI variant uses vpmultishiftqb (VBMI, port 5) so the
  // shifts do not compete with vpdpbusd for port 0; the others shift 16-bit
  // lanes.
  static I byte_shift(I a, int n) {
#if defined(__AVX512VBMI__)
    if constexpr (kVnni) {
      static constexpr auto kCtl = [] {
        struct Table {
          int64_t v[16];
        } t{};
        for (int i = 0; i < 16; ++i) t.v[i] = multishift_ctl(i - 8);
        return t;
      }();
      return _mm512_multishift_epi64_epi8(_mm512_set1_epi64(kCtl.v[n + 8]), a);
    }
#endif
    if (n >= 0) return _mm512_sll_epi16(a, _mm_cvtsi32_si128(n));
    return _mm512_srl_epi16(a, _mm_cvtsi32_si128(-n));
  }
  // byte b of each qword takes the 8 bits starting at bit 8b - n (mod 64)
  static constexpr int64_t multishift_ctl(int n) {
    uint64_t c = 0;
    for (int b = 0; b < 8; ++b) c |= static_cast<uint64_t>((8 * b - n) & 63) << (8 * b);
    return static_cast<int64_t>(c);
  }
  static I srl32n(I a, int n) { return _mm512_srl_epi32(a, _mm_cvtsi32_si128(n)); }
  static F fzero() { return _mm512_setzero_ps(); }
  static I load(const uint8_t* p) { return _mm512_loadu_si512(p); }
  static I bcast32(const void* p) { return _mm512_set1_epi32(load_i32(p)); }
  static I set1(int32_t v) { return _mm512_set1_epi32(v); }
  static I set1_64(int64_t v) { return _mm512_set1_epi64(v); }
  // Dwords a, b, c, d repeated (lanes 0..3, 4..7, ...).
  static I rep4(int32_t a, int32_t b, int32_t c, int32_t d) {
    return _mm512_set4_epi32(d, c, b, a);
  }
  static I set1_8(int v) { return _mm512_set1_epi8(static_cast<char>(v)); }
  static I and_(I a, I b) { return _mm512_and_si512(a, b); }
  static I or_(I a, I b) { return _mm512_or_si512(a, b); }
  template <int n>
  static I srl16(I a) {
    return _mm512_srli_epi16(a, n);
  }
  template <int n>
  static I sll16(I a) {
    return _mm512_slli_epi16(a, n);
  }
  template <int n>
  static I srl32(I a) {
    return _mm512_srli_epi32(a, n);
  }
  template <int n>
  static I sll32(I a) {
    return _mm512_slli_epi32(a, n);
  }
  template <int n>
  static I sra32(I a) {
    return _mm512_srai_epi32(a, n);
  }
  static I add(I a, I b) { return _mm512_add_epi32(a, b); }
  static I sub(I a, I b) { return _mm512_sub_epi32(a, b); }
  static I mullo(I a, I b) { return _mm512_mullo_epi32(a, b); }
  static I madd16(I a, I b) { return _mm512_madd_epi16(a, b); }
  static I shuffle8(I a, I idx) { return _mm512_shuffle_epi8(a, idx); }
#if defined(__AVX512BITALG__)
  // u + 0x10 in every byte whose bit, picked from its qword of bits by the
  // index in ctl, is set.
  static I add_0x10_where_bit(I u, I bits, I ctl) {
    return _mm512_mask_add_epi8(u, _mm512_bitshuffle_epi64_mask(bits, ctl), u, set1_8(0x10));
  }
#endif
  // 0x10 in every byte of a where (a & pattern) != 0.
  static I bits_to_0x10(I a, I pattern) {
    return _mm512_maskz_mov_epi8(_mm512_test_epi8_mask(a, pattern), set1_8(0x10));
  }
  static I dot_u8(I acc, I u, I x) {
    if constexpr (kVnni) {
      return _mm512_dpbusd_epi32(acc, u, x);
    } else {
      return add(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(u, x), _mm512_set1_epi16(1)));
    }
  }
  static I dot_s8(I acc, I w, I x) {
    if constexpr (kVnni) {
      return _mm512_dpbusd_epi32(acc, _mm512_xor_si512(w, set1_8(0x80)), x);
    } else {
      const __mmask64 neg = _mm512_movepi8_mask(w);
      const I sx = _mm512_mask_sub_epi8(x, neg, _mm512_setzero_si512(), x);
      return add(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(_mm512_abs_epi8(w), sx),
                                        _mm512_set1_epi16(1)));
    }
  }
  static I zext8(const uint8_t* p) {
    return _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static I sext8(const uint8_t* p) {
    return _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static F cvt(I a) { return _mm512_cvtepi32_ps(a); }
  static F fset1(float v) { return _mm512_set1_ps(v); }
  static F load_f32(const uint8_t* p) { return _mm512_loadu_ps(p); }
  static F load_f16(const uint8_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static F load_bf16(const uint8_t* p) {
    const I w = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
  }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F fmadd(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static F fnmadd(F a, F b, F c) { return _mm512_fnmadd_ps(a, b, c); }
  // For the activation quantizers.
  static constexpr bool kTreeReduce = true;
  // Transposed reductions: lane i of tree16(v) reduces the 16 lanes of
  // v[kTreeOrder[i]] (kTreeOrder is a 4x4 transpose, its own inverse), so
  // feeding v[i] = block kTreeOrder[i] puts block i's result in lane i.
  static constexpr int kTreeOrder[16] = {0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15};
  template <class Op>
  static F tree16(const F* v, Op op) {
    F u[8], w[4], z[2];
    for (int k = 0; k < 8; ++k)
      u[k] = op(_mm512_shuffle_f32x4(v[2 * k], v[2 * k + 1], 0x44),
                _mm512_shuffle_f32x4(v[2 * k], v[2 * k + 1], 0xEE));
    for (int k = 0; k < 4; ++k)
      w[k] = op(_mm512_shuffle_f32x4(u[2 * k], u[2 * k + 1], 0x88),
                _mm512_shuffle_f32x4(u[2 * k], u[2 * k + 1], 0xDD));
    for (int k = 0; k < 2; ++k)
      z[k] = op(_mm512_shuffle_ps(w[2 * k], w[2 * k + 1], 0x44),
                _mm512_shuffle_ps(w[2 * k], w[2 * k + 1], 0xEE));
    return op(_mm512_shuffle_ps(z[0], z[1], 0x88), _mm512_shuffle_ps(z[0], z[1], 0xDD));
  }
  static F tree_max16(const F* v) {
    return tree16(v, [](F a, F b) { return _mm512_max_ps(a, b); });
  }
  static I tree_add16(const I* v) {
    F f[16];
    for (int i = 0; i < 16; ++i) f[i] = _mm512_castsi512_ps(v[i]);
    return _mm512_castps_si512(tree16(f, [](F a, F b) {
      return _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(a), _mm512_castps_si512(b)));
    }));
  }
  static F div(F a, F b) { return _mm512_div_ps(a, b); }
  static F round_half(F a) {  // to the nearest half and back (round half to even)
    return _mm512_cvtph_ps(_mm512_cvtps_ph(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
  static F select_below(F a, float limit, F if_below, F otherwise) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, _mm512_set1_ps(limit), _CMP_LT_OQ), otherwise,
                                if_below);
  }
  static F lane(F a, int i) { return _mm512_permutexvar_ps(_mm512_set1_epi32(i), a); }
  static void store_f(float* p, F a) { _mm512_storeu_ps(p, a); }
  static void store_i(int32_t* p, I a) { _mm512_storeu_si512(p, a); }
  // Index of the first lane equal to m in |a|, or -1.
  static int first_abs_equal(F a, float m) {
    const __mmask16 k = _mm512_cmp_ps_mask(_mm512_abs_ps(a), _mm512_set1_ps(m), _CMP_EQ_OQ);
    return k == 0 ? -1 : __builtin_ctz(k);
  }
  static F loadu(const float* p) { return _mm512_loadu_ps(p); }
  static F fabs(F a) { return _mm512_abs_ps(a); }
  static F fmax(F a, F b) { return _mm512_max_ps(a, b); }
  static float hmax(F a) { return _mm512_reduce_max_ps(a); }
  static I cvt_round(F a) { return _mm512_cvtps_epi32(a); }
  static I min32(I a, I b) { return _mm512_min_epi32(a, b); }
  static int32_t hsum(I a) { return _mm512_reduce_add_epi32(a); }
  static void store_i8(int8_t* p, I a) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm512_cvtepi32_epi8(a));
  }
  static F load_y(const float* p, int n) {
    if (n == 16) return _mm512_loadu_ps(p);
    return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p);
  }
  static void store(float* p, F v, int n) {
    if (n == 16) {
      _mm512_storeu_ps(p, v);
    } else {
      _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1), v);
    }
  }
};
#endif

#if defined(__AVX2__)
struct VAvx2 {
  struct I {
    __m256i a, b;  // lanes 0-7, 8-15
  };
  struct F {
    __m256 a, b;
  };
  static constexpr int kS8Bias = 0;
  static constexpr bool kChainedDot = false;
  static constexpr bool kBitShuffle = false;

  static I mk(__m256i v) { return {v, v}; }
  // See V512::byte_shift: bits that leave their byte are undefined.
  static I byte_shift(I x, int n) {
    if (n >= 0) {
      const __m128i c = _mm_cvtsi32_si128(n);
      return {_mm256_sll_epi16(x.a, c), _mm256_sll_epi16(x.b, c)};
    }
    const __m128i c = _mm_cvtsi32_si128(-n);
    return {_mm256_srl_epi16(x.a, c), _mm256_srl_epi16(x.b, c)};
  }
  static I srl32n(I x, int n) {
    const __m128i c = _mm_cvtsi32_si128(n);
    return {_mm256_srl_epi32(x.a, c), _mm256_srl_epi32(x.b, c)};
  }
  static I zero() { return mk(_mm256_setzero_si256()); }
  static F fzero() { return {_mm256_setzero_ps(), _mm256_setzero_ps()}; }
  static I load(const uint8_t* p) {
    return {_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)),
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32))};
  }
  static I bcast32(const void* p) { return mk(_mm256_set1_epi32(load_i32(p))); }
  static I set1(int32_t v) { return mk(_mm256_set1_epi32(v)); }
  static I rep4(int32_t a, int32_t b, int32_t c, int32_t d) {
    return mk(_mm256_setr_epi32(a, b, c, d, a, b, c, d));
  }
  static I set1_8(int v) { return mk(_mm256_set1_epi8(static_cast<char>(v))); }
  static I and_(I x, I y) { return {_mm256_and_si256(x.a, y.a), _mm256_and_si256(x.b, y.b)}; }
  static I or_(I x, I y) { return {_mm256_or_si256(x.a, y.a), _mm256_or_si256(x.b, y.b)}; }
  template <int n>
  static I srl16(I x) {
    return {_mm256_srli_epi16(x.a, n), _mm256_srli_epi16(x.b, n)};
  }
  template <int n>
  static I sll16(I x) {
    return {_mm256_slli_epi16(x.a, n), _mm256_slli_epi16(x.b, n)};
  }
  template <int n>
  static I srl32(I x) {
    return {_mm256_srli_epi32(x.a, n), _mm256_srli_epi32(x.b, n)};
  }
  template <int n>
  static I sll32(I x) {
    return {_mm256_slli_epi32(x.a, n), _mm256_slli_epi32(x.b, n)};
  }
  template <int n>
  static I sra32(I x) {
    return {_mm256_srai_epi32(x.a, n), _mm256_srai_epi32(x.b, n)};
  }
  static I add(I x, I y) { return {_mm256_add_epi32(x.a, y.a), _mm256_add_epi32(x.b, y.b)}; }
  static I sub(I x, I y) { return {_mm256_sub_epi32(x.a, y.a), _mm256_sub_epi32(x.b, y.b)}; }
  static I mullo(I x, I y) { return {_mm256_mullo_epi32(x.a, y.a), _mm256_mullo_epi32(x.b, y.b)}; }
  static I madd16(I x, I y) { return {_mm256_madd_epi16(x.a, y.a), _mm256_madd_epi16(x.b, y.b)}; }
  static I shuffle8(I x, I idx) {
    return {_mm256_shuffle_epi8(x.a, idx.a), _mm256_shuffle_epi8(x.b, idx.b)};
  }
  static I bits_to_0x10(I x, I pattern) {
    const __m256i t = _mm256_set1_epi8(0x10);
    return {_mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(x.a, pattern.a), pattern.a), t),
            _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(x.b, pattern.b), pattern.b), t)};
  }
  static __m256i dot1(__m256i acc, __m256i u, __m256i x) {
    return _mm256_add_epi32(acc,
                            _mm256_madd_epi16(_mm256_maddubs_epi16(u, x), _mm256_set1_epi16(1)));
  }
  static I dot_u8(I acc, I u, I x) { return {dot1(acc.a, u.a, x.a), dot1(acc.b, u.b, x.b)}; }
  static I dot_s8(I acc, I w, I x) {
    return {dot1(acc.a, _mm256_abs_epi8(w.a), _mm256_sign_epi8(x.a, w.a)),
            dot1(acc.b, _mm256_abs_epi8(w.b), _mm256_sign_epi8(x.b, w.b))};
  }
  static I zext8(const uint8_t* p) {
    return {_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))),
            _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + 8)))};
  }
  static I sext8(const uint8_t* p) {
    return {_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))),
            _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + 8)))};
  }
  static F cvt(I x) { return {_mm256_cvtepi32_ps(x.a), _mm256_cvtepi32_ps(x.b)}; }
  static F fset1(float v) { return {_mm256_set1_ps(v), _mm256_set1_ps(v)}; }
  static F load_f32(const uint8_t* p) {
    return {_mm256_loadu_ps(reinterpret_cast<const float*>(p)),
            _mm256_loadu_ps(reinterpret_cast<const float*>(p + 32))};
  }
  static F load_f16(const uint8_t* p) {
    return {_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))),
            _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16)))};
  }
  static F load_bf16(const uint8_t* p) {
    const __m256i a = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    const __m256i b =
        _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16)));
    return {_mm256_castsi256_ps(_mm256_slli_epi32(a, 16)),
            _mm256_castsi256_ps(_mm256_slli_epi32(b, 16))};
  }
  static F mul(F x, F y) { return {_mm256_mul_ps(x.a, y.a), _mm256_mul_ps(x.b, y.b)}; }
  static F fmadd(F x, F y, F z) {
    return {_mm256_fmadd_ps(x.a, y.a, z.a), _mm256_fmadd_ps(x.b, y.b, z.b)};
  }
  static F fnmadd(F x, F y, F z) {
    return {_mm256_fnmadd_ps(x.a, y.a, z.a), _mm256_fnmadd_ps(x.b, y.b, z.b)};
  }
  static constexpr bool kTreeReduce = false;
  static F loadu(const float* p) { return {_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)}; }
  static F fabs(F x) {
    const __m256 m = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    return {_mm256_and_ps(x.a, m), _mm256_and_ps(x.b, m)};
  }
  static F fmax(F x, F y) { return {_mm256_max_ps(x.a, y.a), _mm256_max_ps(x.b, y.b)}; }
  static float hmax(F x) {
    const __m256 m = _mm256_max_ps(x.a, x.b);
    __m128 r = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    r = _mm_max_ps(r, _mm_movehl_ps(r, r));
    r = _mm_max_ss(r, _mm_movehdup_ps(r));
    return _mm_cvtss_f32(r);
  }
  static I cvt_round(F x) { return {_mm256_cvtps_epi32(x.a), _mm256_cvtps_epi32(x.b)}; }
  static I min32(I x, I y) { return {_mm256_min_epi32(x.a, y.a), _mm256_min_epi32(x.b, y.b)}; }
  static int32_t hsum(I x) {
    const __m256i s = _mm256_add_epi32(x.a, x.b);
    __m128i r = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    r = _mm_add_epi32(r, _mm_shuffle_epi32(r, 0x4E));
    r = _mm_add_epi32(r, _mm_shuffle_epi32(r, 0xB1));
    return _mm_cvtsi128_si32(r);
  }
  static void store_i8(int8_t* p, I x) {
    const __m256i w = _mm256_permute4x64_epi64(_mm256_packs_epi32(x.a, x.b), 0xD8);
    const __m128i b = _mm_packs_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), b);
  }
  static F load_y(const float* p, int n) {
    if (n == 16) return {_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)};
    alignas(32) float tmp[16] = {};
    std::memcpy(tmp, p, static_cast<size_t>(n) * 4);
    return {_mm256_load_ps(tmp), _mm256_load_ps(tmp + 8)};
  }
  static void store(float* p, F v, int n) {
    if (n == 16) {
      _mm256_storeu_ps(p, v.a);
      _mm256_storeu_ps(p + 8, v.b);
    } else {
      alignas(32) float tmp[16];
      _mm256_store_ps(tmp, v.a);
      _mm256_store_ps(tmp + 8, v.b);
      std::memcpy(p, tmp, static_cast<size_t>(n) * 4);
    }
  }
};
#endif

}  // namespace
}  // namespace kiln::backend::quant
