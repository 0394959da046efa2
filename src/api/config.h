// What the api layer knows about the server it runs in: the model's identity
// for /info and `model` echoes, and the limits resolved at startup from the
// launcher flags (contract §9). Built once by cli/serve.cpp; read-only after.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace kiln::api {

// TGI API level Kiln emulates (/info `version`, system_fingerprint).
inline constexpr const char* kTgiVersion = "3.3.7";

struct ApiConfig {
  // Identity.
  std::string model_id;           // --model-id as given (hub id or path)
  std::string served_model_name;  // --served-model-name, else model_id
  std::optional<std::string> model_sha;
  std::optional<std::string> model_pipeline_tag;
  std::string model_dtype;  // "" until a model is loaded
  std::string model_device_type = "cpu";
  std::optional<std::string> build_sha;
  std::optional<std::string> docker_label;
  bool vision = false;  // the model accepts image parts

  // Limits (resolved values, not the raw flags).
  int32_t max_concurrent_requests = 128;
  int32_t max_best_of = 2;
  int32_t max_stop_sequences = 4;
  int32_t max_top_n_tokens = 5;
  int32_t max_input_tokens = 4095;
  int32_t max_total_tokens = 4096;
  int32_t max_client_batch_size = 4;
  int32_t validation_workers = 2;
  int32_t max_batch_prefill_tokens = 4096;
  std::optional<int64_t> max_batch_total_tokens;
  int32_t max_waiting_tokens = 20;
  double waiting_served_ratio = 0.3;
  std::optional<int32_t> max_batch_size;
  bool disable_grammar_support = false;
  bool enable_prefill_logprobs = false;

  // `<version>-<docker_label>` or `<version>-native` (§3.5).
  std::string system_fingerprint() const {
    return std::string(kTgiVersion) + "-" + (docker_label ? *docker_label : "native");
  }
  // The `model` value of /v1 responses when the request names none or "tgi".
  const std::string& public_model_name() const {
    return served_model_name.empty() ? model_id : served_model_name;
  }
};

}  // namespace kiln::api
