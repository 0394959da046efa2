// config.json text -> hyper-parameters of a ModelDescription: never crashes,
// whatever the JSON holds (wrong types, nulls, huge numbers, deep nesting).
#include <cstddef>
#include <cstdint>
#include <string>

#include "model/loaders.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kiln::model;
  bool too_deep = false;
  nlohmann::json::parser_callback_t cb = [&](int depth, nlohmann::json::parse_event_t,
                                             nlohmann::json&) {
    if (depth > 64) too_deep = true;
    return !too_deep;
  };
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto j = nlohmann::json::parse(text, cb, /*allow_exceptions=*/false);
  if (too_deep || j.is_discarded() || !j.is_object()) return 0;
  ModelDescription m;
  (void)detail::read_hf_config(j, "config.json", m);
  return 0;
}
