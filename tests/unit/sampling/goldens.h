// Loads tests/data/sampling/goldens.json, written by
// scripts/make_sampling_goldens.py from transformers, torch and numpy.
#pragma once

#include <fstream>
#include <limits>
#include <vector>

#include <nlohmann/json.hpp>

#include "sampling/params.h"
#include "test_paths.h"

namespace kiln::sampling::test {

inline const nlohmann::json& goldens() {
  static const nlohmann::json data = [] {
    std::ifstream in(kiln::test::data_dir() / "sampling" / "goldens.json");
    return nlohmann::json::parse(in);
  }();
  return data;
}

// JSON null stands for -inf (a token the reference removed).
inline std::vector<float> floats(const nlohmann::json& a) {
  std::vector<float> out;
  for (const auto& v : a) {
    out.push_back(v.is_null() ? -std::numeric_limits<float>::infinity() : v.get<float>());
  }
  return out;
}

inline std::vector<int32_t> ints(const nlohmann::json& a) {
  std::vector<int32_t> out;
  for (const auto& v : a) out.push_back(v.get<int32_t>());
  return out;
}

// SamplingParams from a case's "params" object (sampling switched on).
inline SamplingParams params_from(const nlohmann::json& j) {
  SamplingParams p;
  p.do_sample = true;
  p.temperature = j.value("temperature", 1.0f);
  p.top_k = j.value("top_k", 0);
  p.top_p = j.value("top_p", 1.0f);
  p.typical_p = j.value("typical_p", 1.0f);
  p.min_p = j.value("min_p", 0.0f);
  p.repetition_penalty = j.value("repetition_penalty", 1.0f);
  p.frequency_penalty = j.value("frequency_penalty", 0.0f);
  p.presence_penalty = j.value("presence_penalty", 0.0f);
  p.frequency_penalty_mode = j.value("mode", "openai") == "tgi" ? FrequencyPenaltyMode::kTgi
                                                                : FrequencyPenaltyMode::kOpenAI;
  if (j.contains("logit_bias")) {
    for (const auto& b : j["logit_bias"])
      p.logit_bias.emplace_back(b[0].get<int32_t>(), b[1].get<float>());
  }
  return p;
}

}  // namespace kiln::sampling::test
