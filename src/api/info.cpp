#include "api/info.h"

#include <algorithm>

#include "api/json_util.h"

namespace kiln::api {

namespace {
Json optional_string(const std::optional<std::string>& s) { return s ? Json(*s) : Json(nullptr); }

Json model_entry(const ApiConfig& config) {
  Json m = Json::object();
  m["id"] = config.public_model_name();
  m["object"] = "model";
  m["created"] = 0;
  m["owned_by"] = config.public_model_name();
  return m;
}
}  // namespace

std::string render_info(const ApiConfig& c) {
  Json info = Json::object();
  info["model_id"] = c.model_id;
  info["model_sha"] = optional_string(c.model_sha);
  info["model_pipeline_tag"] = optional_string(c.model_pipeline_tag);
  info["max_concurrent_requests"] = c.max_concurrent_requests;
  info["max_best_of"] = c.max_best_of;
  info["max_stop_sequences"] = c.max_stop_sequences;
  info["max_input_tokens"] = c.max_input_tokens;
  info["max_total_tokens"] = c.max_total_tokens;
  info["validation_workers"] = c.validation_workers;
  info["max_client_batch_size"] = c.max_client_batch_size;
  info["router"] = "text-generation-router";
  info["version"] = kTgiVersion;
  info["sha"] = optional_string(c.build_sha);
  info["docker_label"] = optional_string(c.docker_label);
  // Legacy TGI 2.0 fields (§8.1, SHOULD).
  info["model_dtype"] = c.model_dtype.empty() ? Json(nullptr) : Json(c.model_dtype);
  info["model_device_type"] = c.model_device_type;
  info["max_batch_total_tokens"] =
      c.max_batch_total_tokens ? Json(*c.max_batch_total_tokens) : Json(nullptr);
  info["max_waiting_tokens"] = c.max_waiting_tokens;
  info["max_batch_size"] = c.max_batch_size ? Json(*c.max_batch_size) : Json(nullptr);
  info["waiting_served_ratio"] = c.waiting_served_ratio;
  return dump(info);
}

std::string render_models(const ApiConfig& config) {
  Json list = Json::object();
  list["object"] = "list";
  list["data"] = Json::array({model_entry(config)});
  return dump(list);
}

ApiResult<std::string> render_model(const ApiConfig& config, std::string_view id) {
  if (id != config.public_model_name() && id != config.model_id) {
    return ApiError{ErrorKind::kModelNotFound, "Model " + std::string(id) + " not found"};
  }
  return dump(model_entry(config));
}

namespace {
Json tokens_json(std::string_view input, const std::vector<TokenSpan>& tokens) {
  Json out = Json::array();
  for (const auto& t : tokens) {
    // Offsets come from the tokenizer; clamp rather than trust them.
    size_t start = std::min<size_t>(t.start, input.size());
    size_t stop = std::clamp<size_t>(t.stop, start, input.size());
    Json j = Json::object();
    j["id"] = t.id;
    j["text"] = std::string(input.substr(start, stop - start));
    j["start"] = t.start;
    j["stop"] = t.stop;
    out.push_back(std::move(j));
  }
  return out;
}
}  // namespace

std::string render_tokens(std::string_view input, const std::vector<TokenSpan>& tokens) {
  return dump(tokens_json(input, tokens));
}

ApiResult<std::string> tokenize_response(const GenerationRequest& request,
                                         const ModelServices* model) {
  if (!model) return ApiError::of(ErrorKind::kModelNotLoaded);
  auto tokens = model->tokenize(request.inputs, /*add_special_tokens=*/true);
  if (!tokens.ok()) return ApiError::validation("tokenization failed: " + tokens.message());
  return render_tokens(request.inputs, *tokens);
}

ApiResult<std::string> chat_tokenize_response(const ChatRequest& request,
                                              const ModelServices* model) {
  if (!model) return ApiError::of(ErrorKind::kModelNotLoaded);
  auto prompt = model->apply_chat_template(request);
  if (!prompt.ok()) return prompt.error();
  auto tokens = model->tokenize(prompt->text, /*add_special_tokens=*/false);
  if (!tokens.ok()) return ApiError::validation("tokenization failed: " + tokens.message());
  Json out = Json::object();
  out["tokenize_response"] = tokens_json(prompt->text, *tokens);
  out["templated_text"] = prompt->text;
  return dump(out);
}

}  // namespace kiln::api
