// The one table of weight formats the matrix kernels know: for each type its
// block size and bytes, how activations are quantized for it, the scalar
// dequantization and dot product (the test oracle), the panel layout the SIMD
// kernels read (pack.h), and the SIMD panel kernels per instruction set.
//
// Dot products are defined so that every path computes the SAME float: the
// part of a block's dot product that is a sum of integer products is computed
// exactly in int32 (any order gives the same integer), and the float steps
// that combine blocks are a fixed sequence of fmaf per output, block after
// block. So scalar, AVX2 and AVX-512 results are bit-identical, and a token's
// result never depends on which other tokens share the batch.
//
// Per-format float steps, for one weight row and one token (dx = activation
// block scale, S = exact integer sums, acc starts at 0):
//   Q8_0, Q4_0, Q5_0, Q3_K, Q6_K:  acc = fmaf(dw * dx, float(S), acc)
//   Q4_1, Q5_1:  acc = fmaf(dw * dx, float(S), acc); acc = fmaf(mw * dx, float(sum x), acc)
//   Q2_K, Q4_K, Q5_K:  acc = fmaf(d * dx, float(S1), acc); acc = fmaf(-(dmin * dx), float(S2), acc)
//   F32, F16, BF16 (activations stay float):  acc = fmaf(w[k], x[k], acc) for k = 0, 1, ...
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "backend/cpu/dtype.h"
#include "backend/cpu/quant/kernel_types.h"

namespace kiln::backend::quant {

// One token's quantized activations (views into a row laid out per act.h).
struct ActRow {
  const float* f = nullptr;  // kF32
  const int8_t* qs = nullptr;
  const float* d = nullptr;
  const int32_t* sum = nullptr;     // kQ8_0
  const int16_t* bsum16 = nullptr;  // kQ8_K
  const int16_t* bsum32 = nullptr;  // kQ8_K
};

// A run of bytes inside a block that the panel layout interleaves across the
// 16 rows of a panel in units of `unit` bytes (pack.h). A block's segments
// are listed in order and cover it.
struct Segment {
  uint16_t offset;
  uint16_t bytes;
  uint16_t unit;
};

inline constexpr int kMaxSegments = 5;

// kAvx512: F, BW, VL, DQ (Skylake-X). kAvx512Vnni: plus VNNI, VBMI and BITALG
// (Ice Lake and later, Zen 4).
enum class KernelIsa : uint8_t { kScalar, kAvx2, kAvx512, kAvx512Vnni };
inline constexpr int kNumKernelIsas = 4;

struct Format {
  DType dtype;
  int block_size;   // elements per block
  int block_bytes;  // bytes per block
  ActKind act;
  DType ggml_vec_dot_type;  // what GGML quantizes activations to (documentation)
  // out[0..n) = the values of n elements (n a multiple of block_size).
  void (*dequantize)(const void* blocks, float* out, int64_t n);
  // The canonical dot product of one row of n elements with one token.
  float (*dot)(const void* row, const ActRow& act, int64_t n);
  Segment segments[kMaxSegments];
  int n_segments;
};

// The format of dtype, or nullptr when the kernels cannot compute it.
const Format* find_format(DType dtype);
// Also knows Q8_K (activation blocks: dequantize only, no dot).
const Format* find_dequant_format(DType dtype);

// The kernel variant matmul uses: the best this CPU and build support, capped
// by KILN_CPU_ISA=scalar|avx2|avx512 (the names cpu_isa.h reads), where
// avx512 means "with VNNI when the CPU has it, unless KILN_CPU_VNNI=0". All
// variants give bit-identical results (see the top of this file), so
// switching is safe at any time between matmul calls.
KernelIsa active_kernel_isa();
bool kernel_isa_supported(KernelIsa isa);  // by this CPU and this build
// Tests and benchmarks: pin a supported variant; nullopt returns to the default.
void pin_kernel_isa(std::optional<KernelIsa> isa);
std::string_view kernel_isa_name(KernelIsa isa);

// Kernels of dtype for isa, or nullptr (always for kScalar, whose
// implementation is the reference; and for variants this build lacks).
const SimdKernels* simd_kernels(DType dtype, KernelIsa isa);

// The activation quantizer of isa (the reference for kScalar).
QuantizeActFn act_quantizer(KernelIsa isa);

}  // namespace kiln::backend::quant
