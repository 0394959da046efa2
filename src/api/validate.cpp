#include "api/validate.h"

#include <algorithm>

#include "api/json_util.h"

namespace kiln::api {

namespace {

std::string str(int64_t v) { return std::to_string(v); }

// The 1024-token chunk TGI checks the budget against (§7.2).
constexpr int64_t kBudgetChunk = 1024;

}  // namespace

bool uses_sampling(const GenerateParameters& p) {
  return p.do_sample || (p.temperature && *p.temperature != 1.0) || (p.top_k && *p.top_k != 0) ||
         (p.top_p && *p.top_p < 1.0) || (p.typical_p && *p.typical_p < 1.0);
}

int32_t Validator::slots(const GenerationRequest& request) {
  return std::max(static_cast<int32_t>(request.parameters.best_of.value_or(1)), request.n);
}

std::optional<ApiError> Validator::check_before_admission(const GenerationRequest& request) const {
  const auto& p = request.parameters;
  const int64_t best_of = p.best_of.value_or(1);
  if (config_.max_best_of == 1 && best_of != 1) {
    return ApiError::validation("`best_of` != 1 is not allowed for this endpoint");
  }
  if (best_of < 1 || best_of > config_.max_best_of) {
    return ApiError::validation("`best_of` must be > 0 and <= " + str(config_.max_best_of) +
                                ". Given: " + str(best_of));
  }
  if (request.stream && best_of != 1) {
    return ApiError::validation("`best_of` != 1 is not supported when streaming tokens");
  }
  if (request.stream && p.decoder_input_details) {
    return ApiError::validation(
        "`decoder_input_details` == true is not supported when streaming tokens");
  }
  return std::nullopt;
}

std::optional<ApiError> Validator::check_parameters(const GenerationRequest& request) const {
  const auto& p = request.parameters;
  const int64_t best_of = p.best_of.value_or(1);
  const bool sampling = uses_sampling(p);
  if (best_of > 1 && !sampling) {
    return ApiError::validation("you must use sampling when `best_of` is > 1");
  }
  if (p.temperature && *p.temperature <= 0.0) {
    return ApiError::validation("`temperature` must be strictly positive");
  }
  if (p.repetition_penalty && *p.repetition_penalty <= 0.0) {
    return ApiError::validation("`repetition_penalty` must be strictly positive");
  }
  if (p.frequency_penalty && (*p.frequency_penalty < -2.0 || *p.frequency_penalty > 2.0)) {
    return ApiError::validation("`frequency_penalty` must be >= -2.0 and <= 2.0");
  }
  if (p.presence_penalty && (*p.presence_penalty < -2.0 || *p.presence_penalty > 2.0)) {
    return ApiError::validation("`presence_penalty` must be >= -2.0 and <= 2.0");
  }
  // DEV-5: 1.0 is accepted as "off"; the message keeps TGI's wording.
  if (p.top_p && (*p.top_p <= 0.0 || *p.top_p > 1.0)) {
    return ApiError::validation("`top_p` must be > 0.0 and < 1.0");
  }
  if (p.typical_p && (*p.typical_p <= 0.0 || *p.typical_p > 1.0)) {
    return ApiError::validation("`typical_p` must be > 0.0 and < 1.0");
  }
  if (p.top_k && *p.top_k <= 0) return ApiError::validation("`top_k` must be strictly positive");
  if (p.min_p && (*p.min_p < 0.0 || *p.min_p > 1.0)) {
    return ApiError::validation("`min_p` must be >= 0.0 and <= 1.0");
  }
  if (p.max_new_tokens && *p.max_new_tokens == 0) {
    return ApiError::validation("`max_new_tokens` must be strictly positive");
  }
  if (p.stop.size() > static_cast<size_t>(config_.max_stop_sequences)) {
    return ApiError::validation("`stop` supports up to " + str(config_.max_stop_sequences) +
                                " stop sequences. Given: " + str(p.stop.size()));
  }
  if (best_of > 1 && p.seed) {
    return ApiError::validation("`seed` must not be set when `best_of` > 1");
  }
  const int64_t top_n = p.top_n_tokens.value_or(0);
  if (top_n > config_.max_top_n_tokens) {
    return ApiError::validation("`top_n_tokens` must be >= 0 and <= " +
                                str(config_.max_top_n_tokens) + ". Given: " + str(top_n));
  }
  if (request.inputs.empty()) return ApiError::validation("`inputs` cannot be empty");
  if (p.truncate && (*p.truncate == 0 || *p.truncate > config_.max_input_tokens)) {
    return ApiError::validation("`truncate` must be strictly positive and less than " +
                                str(config_.max_input_tokens) + ". Given: " + str(*p.truncate));
  }
  return std::nullopt;
}

ApiResult<ValidRequest> Validator::validate(const GenerationRequest& request,
                                            const ValidateOptions& options) const {
  if (auto e = check_parameters(request)) return *e;
  if (!model_) return ApiError::of(ErrorKind::kModelNotLoaded);
  const auto& p = request.parameters;

  auto tokens = model_->tokenize(request.inputs, request.add_special_tokens);
  if (!tokens.ok()) return ApiError::validation("tokenization failed: " + tokens.message());
  std::vector<int32_t> ids;
  ids.reserve(tokens->size());
  for (const auto& t : *tokens) ids.push_back(t.id);
  if (p.truncate && ids.size() > static_cast<size_t>(*p.truncate)) {
    // Left truncation: keep the last `truncate` tokens (§7.3).
    ids.erase(ids.begin(), ids.end() - *p.truncate);
  }
  const int64_t input_length = static_cast<int64_t>(ids.size());
  if (p.max_new_tokens) {
    const int64_t chunk = std::min<int64_t>(*p.max_new_tokens, kBudgetChunk);
    if (input_length + chunk > config_.max_total_tokens) {
      return ApiError::validation("`inputs` tokens + `max_new_tokens` must be <= " +
                                  str(config_.max_total_tokens) + ". Given: " + str(input_length) +
                                  " `inputs` tokens and " + str(chunk) + " `max_new_tokens`");
    }
  }
  if (input_length > config_.max_input_tokens) {
    return ApiError::validation("`inputs` must have less than " + str(config_.max_input_tokens) +
                                " tokens. Given: " + str(input_length));
  }

  ValidRequest v;
  auto& e = v.engine;
  if (p.grammar) {
    if (config_.disable_grammar_support) return ApiError::validation("grammar is not supported");
    if (p.grammar->type == GrammarSpec::Type::kJsonSchema && p.grammar->require_properties &&
        !p.grammar->value.contains("properties")) {
      return ApiError::validation("grammar is not valid: Grammar must have a 'properties' field");
    }
    auto constraint = model_->compile_grammar(*p.grammar);
    if (!constraint.ok()) return constraint.error();
    e.constraint = std::move(constraint.value());
  }

  const int64_t context_left = config_.max_total_tokens - input_length;
  v.max_new_tokens = static_cast<int32_t>(
      p.max_new_tokens ? std::min<int64_t>(*p.max_new_tokens, context_left) : context_left);
  v.inputs = request.inputs;
  v.input_length = static_cast<int32_t>(input_length);
  v.best_of = static_cast<int32_t>(p.best_of.value_or(1));
  v.sampled = uses_sampling(p);
  v.seed = p.seed ? *p.seed : random_seed();
  v.details = p.details;
  v.decoder_input_details = p.decoder_input_details;
  v.return_full_text = p.return_full_text.value_or(false);
  v.top_n_tokens = static_cast<int32_t>(p.top_n_tokens.value_or(0));
  v.stream = request.stream;

  e.id = options.request_id;
  e.prompt = std::move(ids);
  e.n = std::max(v.best_of, request.n);
  e.received = options.received;
  auto& s = e.sampling;
  s.do_sample = v.sampled;
  s.temperature = static_cast<float>(p.temperature.value_or(1.0));
  s.top_k = static_cast<int32_t>(p.top_k.value_or(0));
  s.top_p = static_cast<float>(p.top_p.value_or(1.0));
  s.typical_p = static_cast<float>(p.typical_p.value_or(1.0));
  s.min_p = static_cast<float>(p.min_p.value_or(0.0));
  s.repetition_penalty = static_cast<float>(p.repetition_penalty.value_or(1.0));
  s.frequency_penalty = static_cast<float>(p.frequency_penalty.value_or(0.0));
  s.presence_penalty = static_cast<float>(p.presence_penalty.value_or(0.0));
  s.frequency_penalty_mode = request.openai ? sampling::FrequencyPenaltyMode::kOpenAI
                                            : sampling::FrequencyPenaltyMode::kTgi;
  s.seed = v.seed;
  e.stop.max_new_tokens = v.max_new_tokens;
  e.stop.stop = p.stop;
  e.stop.keep_stop_in_text = request.keep_stop_in_text;
  e.logprobs.top_n = v.top_n_tokens;
  e.logprobs.prefill = p.decoder_input_details && config_.enable_prefill_logprobs;
  // best_of picks its winner by mean logprob, so it always needs them.
  e.logprobs.tokens = request.token_logprobs || v.best_of > 1;
  e.validated = engine::Clock::now();
  return v;
}

}  // namespace kiln::api
