// AVX-512 panel kernels for Ice Lake-class CPUs: one vpdpbusd (VNNI) per
// 4-element dot step, vpshufbitqmb (BITALG) for Q5 high bits. Compiled with
// -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mavx512vbmi
// -mavx512bitalg. (A CPU with VNNI but without BITALG, e.g. Cascade Lake,
// runs the kernels_avx512.cpp variant.)
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "backend/cpu/quant/kernel_types.h"
#include "backend/cpu/quant/simd_x86.h"
// clang-format off
#include "backend/cpu/quant/kernels_x86.inc"
// clang-format on

namespace kiln::backend::quant {

IsaKernels avx512vnni_kernels() {
  using Set = KernelSet<V512<true>, 2, 2, 4, 4, 6>;
  return IsaKernels{&Set::get, &quantize_act<V512<true>>};
}

}  // namespace kiln::backend::quant
