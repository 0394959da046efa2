// The format table and the choice of kernel variant.
#include "backend/cpu/quant/format.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "backend/cpu/quant/act.h"
#include "backend/cpu/quant/blocks.h"
#include "backend/cpu/quant/reference.h"

namespace kiln::backend::quant {

#if defined(KILN_QUANT_X86)
IsaKernels avx2_kernels();
IsaKernels avx512_kernels();
IsaKernels avx512vnni_kernels();
#endif

namespace {

using S = Segment;

// One row per format: block size, bytes, activations, GGML's vec_dot type,
// scalar dequantize and dot, and the segments the panel layout interleaves
// (halves in units of 2, scale bytes one by one, quants 4 bytes at a time).
const std::array kFormats = {
    Format{DType::kF32,
           1,
           4,
           ActKind::kF32,
           DType::kF32,
           ref::dequantize_f32,
           ref::dot_f32,
           {S{0, 4, 4}},
           1},
    Format{DType::kF16,
           1,
           2,
           ActKind::kF32,
           DType::kF16,
           ref::dequantize_f16,
           ref::dot_f16,
           {S{0, 2, 2}},
           1},
    Format{DType::kBF16,
           1,
           2,
           ActKind::kF32,
           DType::kBF16,
           ref::dequantize_bf16,
           ref::dot_bf16,
           {S{0, 2, 2}},
           1},
    Format{DType::kQ4_0,
           kQK,
           sizeof(BlockQ4_0),
           ActKind::kQ8_0,
           DType::kQ8_0,
           ref::dequantize_q4_0,
           ref::dot_q4_0,
           {S{0, 2, 2}, S{2, 16, 4}},
           2},
    Format{DType::kQ4_1,
           kQK,
           sizeof(BlockQ4_1),
           ActKind::kQ8_0,
           DType::kQ8_1,
           ref::dequantize_q4_1,
           ref::dot_q4_1,
           {S{0, 2, 2}, S{2, 2, 2}, S{4, 16, 4}},
           3},
    Format{DType::kQ5_0,
           kQK,
           sizeof(BlockQ5_0),
           ActKind::kQ8_0,
           DType::kQ8_0,
           ref::dequantize_q5_0,
           ref::dot_q5_0,
           {S{0, 2, 2}, S{2, 4, 4}, S{6, 16, 4}},
           3},
    Format{DType::kQ5_1,
           kQK,
           sizeof(BlockQ5_1),
           ActKind::kQ8_0,
           DType::kQ8_1,
           ref::dequantize_q5_1,
           ref::dot_q5_1,
           {S{0, 2, 2}, S{2, 2, 2}, S{4, 4, 4}, S{8, 16, 4}},
           4},
    Format{DType::kQ8_0,
           kQK,
           sizeof(BlockQ8_0),
           ActKind::kQ8_0,
           DType::kQ8_0,
           ref::dequantize_q8_0,
           ref::dot_q8_0,
           {S{0, 2, 2}, S{2, 32, 4}},
           2},
    Format{DType::kQ2_K,
           kQK_K,
           sizeof(BlockQ2_K),
           ActKind::kQ8_K,
           DType::kQ8_K,
           ref::dequantize_q2_K,
           ref::dot_q2_K,
           {S{0, 16, 1}, S{16, 64, 4}, S{80, 2, 2}, S{82, 2, 2}},
           4},
    Format{DType::kQ3_K,
           kQK_K,
           sizeof(BlockQ3_K),
           ActKind::kQ8_K,
           DType::kQ8_K,
           ref::dequantize_q3_K,
           ref::dot_q3_K,
           {S{0, 32, 4}, S{32, 64, 4}, S{96, 12, 1}, S{108, 2, 2}},
           4},
    Format{DType::kQ4_K,
           kQK_K,
           sizeof(BlockQ4_K),
           ActKind::kQ8_K,
           DType::kQ8_K,
           ref::dequantize_q4_K,
           ref::dot_q4_K,
           {S{0, 2, 2}, S{2, 2, 2}, S{4, 12, 1}, S{16, 128, 4}},
           4},
    Format{DType::kQ5_K,
           kQK_K,
           sizeof(BlockQ5_K),
           ActKind::kQ8_K,
           DType::kQ8_K,
           ref::dequantize_q5_K,
           ref::dot_q5_K,
           {S{0, 2, 2}, S{2, 2, 2}, S{4, 12, 1}, S{16, 32, 4}, S{48, 128, 4}},
           5},
    Format{DType::kQ6_K,
           kQK_K,
           sizeof(BlockQ6_K),
           ActKind::kQ8_K,
           DType::kQ8_K,
           ref::dequantize_q6_K,
           ref::dot_q6_K,
           {S{0, 128, 4}, S{128, 64, 4}, S{192, 16, 1}, S{208, 2, 2}},
           4},
};

// Activations only: no matmul, but dequantization (tests, tools).
const Format kQ8_KFormat{DType::kQ8_K,  kQK_K,          sizeof(BlockQ8_K),
                         ActKind::kF32, DType::kQ8_K,   ref::dequantize_q8_K,
                         nullptr,       {S{0, 292, 4}}, 1};

bool cpu_has(KernelIsa isa) {
#if defined(KILN_QUANT_X86)
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") &&
                      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                      __builtin_cpu_supports("avx512dq");
  switch (isa) {
    case KernelIsa::kScalar:
      return true;
    case KernelIsa::kAvx2:
      return avx2;
    case KernelIsa::kAvx512:
      return avx512;
    case KernelIsa::kAvx512Vnni:  // Ice Lake class
      return avx512 && __builtin_cpu_supports("avx512vnni") &&
             __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512bitalg");
  }
  return false;
#else
  return isa == KernelIsa::kScalar;
#endif
}

// Each table is built on first use, only for a variant the CPU supports (the
// getters are compiled for their instruction set).
const IsaKernels* isa_table(KernelIsa isa) {
  if (!kernel_isa_supported(isa)) return nullptr;
#if defined(KILN_QUANT_X86)
  switch (isa) {
    case KernelIsa::kAvx2: {
      static const IsaKernels t = avx2_kernels();
      return &t;
    }
    case KernelIsa::kAvx512: {
      static const IsaKernels t = avx512_kernels();
      return &t;
    }
    case KernelIsa::kAvx512Vnni: {
      static const IsaKernels t = avx512vnni_kernels();
      return &t;
    }
    case KernelIsa::kScalar:
      return nullptr;
  }
#endif
  return nullptr;
}

std::optional<KernelIsa>& pinned() {
  static std::optional<KernelIsa> isa;
  return isa;
}

}  // namespace

const Format* find_format(DType dtype) {
  for (const auto& f : kFormats)
    if (f.dtype == dtype) return &f;
  return nullptr;
}

const Format* find_dequant_format(DType dtype) {
  if (dtype == DType::kQ8_K) return &kQ8_KFormat;
  return find_format(dtype);
}

const SimdKernels* simd_kernels(DType dtype, KernelIsa isa) {
  const IsaKernels* t = isa_table(isa);
  return t == nullptr ? nullptr : t->kernels(static_cast<uint32_t>(dtype));
}

QuantizeActFn act_quantizer(KernelIsa isa) {
  const IsaKernels* t = isa_table(isa);
  return t == nullptr ? &quantize_act_ref : t->quantize_act;
}

}  // namespace kiln::backend::quant

namespace kiln::backend::quant {

bool kernel_isa_supported(KernelIsa isa) {
  static const std::array<bool, kNumKernelIsas> have = [] {
    std::array<bool, kNumKernelIsas> h{};
    for (int i = 0; i < kNumKernelIsas; ++i) h[i] = cpu_has(static_cast<KernelIsa>(i));
    return h;
  }();
  return have[static_cast<int>(isa)];
}

// KILN_CPU_ISA=scalar|avx2|avx512 caps the variant (the names the other CPU
// kernels read, cpu_isa.h); avx512 uses VNNI when the CPU has it unless
// KILN_CPU_VNNI=0.
KernelIsa default_kernel_isa() {
  KernelIsa cap = KernelIsa::kAvx512Vnni;
  if (const char* env = std::getenv("KILN_CPU_ISA")) {
    if (std::strcmp(env, "scalar") == 0) cap = KernelIsa::kScalar;
    if (std::strcmp(env, "avx2") == 0) cap = KernelIsa::kAvx2;
  }
  if (const char* env = std::getenv("KILN_CPU_VNNI"); env != nullptr && std::strcmp(env, "0") == 0)
    cap = std::min(cap, KernelIsa::kAvx512);
  KernelIsa isa = cap;
  while (!kernel_isa_supported(isa)) isa = static_cast<KernelIsa>(static_cast<int>(isa) - 1);
  return isa;
}

KernelIsa active_kernel_isa() {
  if (pinned()) return *pinned();
  static const KernelIsa isa = default_kernel_isa();
  return isa;
}

void pin_kernel_isa(std::optional<KernelIsa> isa) {
  if (isa && !kernel_isa_supported(*isa)) std::abort();  // callers check support first
  pinned() = isa;
}

std::string_view kernel_isa_name(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::kScalar:
      return "scalar";
    case KernelIsa::kAvx2:
      return "avx2";
    case KernelIsa::kAvx512:
      return "avx512";
    case KernelIsa::kAvx512Vnni:
      return "avx512vnni";
  }
  return "?";
}

}  // namespace kiln::backend::quant
