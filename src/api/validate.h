// Validation: GenerationRequest (types.h) -> ValidRequest, the only way to
// build the engine's request (contract §2.2 order, §7.2 token budget). A
// failure is a typed ApiError whose text names the field, limit and value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "api/config.h"
#include "api/errors.h"
#include "api/model_services.h"
#include "api/types.h"
#include "engine/request.h"

namespace kiln::api {

// A request that passed every check, with what rendering needs to know.
struct ValidRequest {
  engine::GenerationRequest engine;
  std::string inputs;          // for return_full_text
  int32_t input_length = 0;    // prompt tokens after truncation
  int32_t max_new_tokens = 0;  // effective cap (§7.2)
  int32_t best_of = 1;
  bool sampled = false;  // details.seed is null unless sampling
  uint64_t seed = 0;
  bool details = false;
  bool decoder_input_details = false;
  bool return_full_text = false;
  int32_t top_n_tokens = 0;
  bool stream = false;
};

struct ValidateOptions {
  std::string request_id;
  engine::Clock::time_point received{};
};

class Validator {
 public:
  // `model` may be null (served without a model): requests that pass the
  // parameter checks then fail with kModelNotLoaded.
  Validator(const ApiConfig& config, const ModelServices* model) : config_(config), model_(model) {}

  // Before admission (§2.2): best_of limits and the streaming-only checks.
  std::optional<ApiError> check_before_admission(const GenerationRequest& request) const;
  // Admission slots the request takes (best_of; §7.1).
  static int32_t slots(const GenerationRequest& request);

  // After admission: parameters, tokenization, budget, grammar.
  ApiResult<ValidRequest> validate(const GenerationRequest& request,
                                   const ValidateOptions& options) const;

  // The parameter checks alone (no tokenizer needed); validate() runs them first.
  std::optional<ApiError> check_parameters(const GenerationRequest& request) const;

 private:
  const ApiConfig& config_;
  const ModelServices* model_;
};

// Sampling is on iff do_sample or any warper is active (§2.2).
bool uses_sampling(const GenerateParameters& p);

}  // namespace kiln::api
