// Shared by the tokenizer tests: the six reference tokenizers, loaded once per
// test binary (gemma3's tokenizer.json is 33 MB).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "test_paths.h"
#include "tokenizer/tokenizer.h"

namespace kiln::tokenizer::test {

inline const std::vector<std::string> kReferenceNames = {"llama2", "llama3",      "qwen3",
                                                         "gemma3", "deepseek_v3", "gptoss"};

inline std::filesystem::path cache_dir() { return KILN_TOKENIZER_CACHE_DIR; }

// tokenizer.json of a reference tokenizer: the fetched copy, or for llama2 the
// one committed under tests/data/tokenizer/.
inline std::filesystem::path reference_json(const std::string& name) {
  const auto fetched = cache_dir() / name / "tokenizer.json";
  if (std::filesystem::exists(fetched)) return fetched;
  if (name == "llama2") return ::kiln::test::data_dir() / "tokenizer" / "llama2.tokenizer.json";
  return fetched;
}

// Loaded tokenizer or nullptr (with the reason in *why).
inline const Tokenizer* reference_tokenizer(const std::string& name, std::string* why) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second.get();
  const auto path = reference_json(name);
  if (!std::filesystem::exists(path)) {
    *why = path.string() + " is missing: run scripts/fetch_tokenizers.sh";
    return nullptr;
  }
  auto t = Tokenizer::load(path);
  if (!t.ok()) {
    *why = t.message();
    return nullptr;
  }
  return (cache[name] = std::make_unique<Tokenizer>(std::move(t.value()))).get();
}

}  // namespace kiln::tokenizer::test

// Skips when the tokenizer file is missing; fails when it does not load.
#define KILN_REFERENCE_TOKENIZER(var, name)                                           \
  std::string var##_why;                                                              \
  const ::kiln::tokenizer::Tokenizer* var =                                           \
      ::kiln::tokenizer::test::reference_tokenizer(name, &var##_why);                 \
  if (!var) {                                                                         \
    if (var##_why.find("is missing") != std::string::npos) GTEST_SKIP() << var##_why; \
    FAIL() << var##_why;                                                              \
  }
