#include "backend/cpu/cpu_isa.h"

#include <cstdlib>
#include <cstring>

#include "backend/cpu/kernels.h"

namespace kiln::backend::cpu {
namespace {

Isa initial_isa() {
  const char* env = std::getenv("KILN_CPU_ISA");
  if (env != nullptr) {
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512})
      if (isa_name(isa) == env && isa_supported(isa)) return isa;
  }
  return best_isa();
}

Isa& active() {
  static Isa isa = initial_isa();
  return isa;
}

}  // namespace

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar:
      return "scalar";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvx512:
      return "avx512";
  }
  return "?";
}

bool isa_supported(Isa isa) { return isa == Isa::kScalar || simd_kernels(isa) != nullptr; }

Isa best_isa() {
  if (isa_supported(Isa::kAvx512)) return Isa::kAvx512;
  if (isa_supported(Isa::kAvx2)) return Isa::kAvx2;
  return Isa::kScalar;
}

Isa active_isa() { return active(); }

void set_active_isa(Isa isa) {
  if (!isa_supported(isa)) std::abort();  // callers check isa_supported() first
  active() = isa;
}

}  // namespace kiln::backend::cpu
