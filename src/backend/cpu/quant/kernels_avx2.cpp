// AVX2 + FMA + F16C panel kernels (this file is compiled with -mavx2 -mfma
// -mf16c; see CMakeLists.txt). Tiles: decode 2 panels x 1 token, batches
// 1 panel x 2 tokens (16 ymm registers: a 16-lane vector is two of them).
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "backend/cpu/quant/kernel_types.h"
#include "backend/cpu/quant/simd_x86.h"
// clang-format off
#include "backend/cpu/quant/kernels_x86.inc"
// clang-format on

namespace kiln::backend::quant {

IsaKernels avx2_kernels() {
  using Set = KernelSet<VAvx2, 2, 1, 2, 2, 2>;
  return IsaKernels{&Set::get, &quantize_act<VAvx2>};
}

}  // namespace kiln::backend::quant
