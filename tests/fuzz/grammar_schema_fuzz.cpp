// libFuzzer target: the JSON Schema compiler and the matcher on its output.
// Any input must compile or fail with a message, within the budgets.
#include <string>

#include "grammar_fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string schema(reinterpret_cast<const char*>(data), size);
  auto c = kiln::sampling::grammar::compile_json_schema(schema, kiln::fuzz::fuzz_vocab(), kiln::fuzz::fuzz_options());
  if (c.ok()) kiln::fuzz::walk(*c, data, size);
  return 0;
}
