// Element types of tensors, numbered as GGML/GGUF number them, with their
// block layout. One table (dtype.cpp) is read by the GGUF loader (to size and
// bounds-check tensors, including types Kiln cannot compute) and by the
// kernels (to pick an implementation).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace kiln::backend {

enum class DType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  kTQ1_0 = 34,
  kTQ2_0 = 35,
  kMXFP4 = 39,
};

struct DTypeTraits {
  std::string_view name;   // GGML's name, e.g. "Q4_K"
  int64_t block_size = 1;  // elements per block
  int64_t type_size = 0;   // bytes per block
};

// Traits of a GGML type id, or nullopt for an id this table does not know.
std::optional<DTypeTraits> dtype_traits(uint32_t id);
const DTypeTraits& traits(DType type);  // type must be a known enumerator

// Bytes of a row of n elements; n must be a multiple of the block size.
inline int64_t row_bytes(DType type, int64_t n) {
  const auto& t = traits(type);
  return n / t.block_size * t.type_size;
}

}  // namespace kiln::backend
