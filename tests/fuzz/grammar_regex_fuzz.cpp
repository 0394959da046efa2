// libFuzzer target: the regex compiler and the matcher on its output.
#include <string>

#include "grammar_fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string pattern(reinterpret_cast<const char*>(data), size);
  auto c = kiln::sampling::grammar::compile_regex(pattern, kiln::fuzz::fuzz_vocab(), kiln::fuzz::fuzz_options());
  if (c.ok()) kiln::fuzz::walk(*c, data, size);
  return 0;
}
