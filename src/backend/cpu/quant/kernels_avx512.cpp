// AVX-512 (F, BW, VL, DQ) panel kernels without VNNI: the dot steps use
// maddubs + madd. Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq
// (and NOT -mavx512vnni, so the compiler cannot emit VNNI here).
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "backend/cpu/quant/kernel_types.h"
#include "backend/cpu/quant/simd_x86.h"
// clang-format off
#include "backend/cpu/quant/kernels_x86.inc"
// clang-format on

namespace kiln::backend::quant {

IsaKernels avx512_kernels() {
  using Set = KernelSet<V512<false>, 2, 2, 4, 4, 6>;
  return IsaKernels{&Set::get, &quantize_act<V512<false>>};
}

}  // namespace kiln::backend::quant
