// GGUF bytes -> GgufFile -> ModelDescription: must never crash, hang or
// allocate more than a small multiple of the input, whatever the header says.
#include <cstddef>
#include <cstdint>
#include <span>

#include "model/gguf.h"
#include "model/loaders.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kiln::model;
  auto file = gguf::GgufFile::parse(std::as_bytes(std::span(data, size)), "fuzz.gguf");
  if (!file) return 0;
  for (const auto& [key, value] : (*file)->metadata()) {
    (void)value.to_int();
    (void)value.to_float();
    (void)value.to_strings();
    (void)value.to_floats();
    (void)value.to_ints();
    if (value.size() > 0) (void)value.at(value.size() - 1);
  }
  auto model = detail::describe_gguf(std::move(file).value(), "fuzz.gguf");
  (void)model;
  return 0;
}
