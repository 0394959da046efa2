// Which instruction set the CPU kernels use. Every op has a plain C++ scalar
// reference (the truth the tests compare against) and a vectorised version
// compiled from one Highway source for AVX2 and AVX-512. The best path the CPU
// supports is chosen once at start-up; KILN_CPU_ISA=scalar|avx2|avx512 (or
// set_active_isa() in tests and benchmarks) pins a lower one so every path can
// be exercised on one machine.
//
// Results are bit-identical for a given ISA; different ISAs agree only within
// rounding (their reduction trees differ). So the active ISA must not change
// while a KV cache holds values computed under another one.
#pragma once

#include <string_view>

namespace kiln::backend::cpu {

enum class Isa { kScalar, kAvx2, kAvx512 };

std::string_view isa_name(Isa isa);
bool isa_supported(Isa isa);  // by this CPU and this build
Isa best_isa();

// The ISA the dispatched ops use now: best_isa(), or KILN_CPU_ISA when that
// names a supported one. Not thread-safe to change while ops run.
Isa active_isa();
void set_active_isa(Isa isa);  // isa must be supported

}  // namespace kiln::backend::cpu
