// safetensors bytes -> SafetensorsFile: never crashes; every accepted tensor
// lies inside the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kiln::model;
  const auto bytes = std::as_bytes(std::span(data, size));
  auto file = safetensors::SafetensorsFile::parse(bytes, "fuzz.safetensors");
  if (!file) return 0;
  for (const auto& t : (*file)->tensors()) {
    if (t.data < bytes.data() || t.data + t.n_bytes > bytes.data() + bytes.size()) std::abort();
  }
  return 0;
}
