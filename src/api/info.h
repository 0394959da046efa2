// Bodies of the routes that generate nothing: /info, /v1/models, /tokenize,
// /chat_tokenize and the OpenAPI document (contract §3.7, §8.1).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/config.h"
#include "api/errors.h"
#include "api/model_services.h"
#include "api/types.h"

namespace kiln::api {

std::string render_info(const ApiConfig& config);
std::string render_models(const ApiConfig& config);
// GET /v1/models/{id}: the single entry, or 404 when `id` is not served.
ApiResult<std::string> render_model(const ApiConfig& config, std::string_view id);

// [{"id","text","start","stop"}]: text is the input's bytes [start, stop).
std::string render_tokens(std::string_view input, const std::vector<TokenSpan>& tokens);

// POST /tokenize (special tokens added; parameters ignored). `model` may be
// null: kModelNotLoaded.
ApiResult<std::string> tokenize_response(const GenerationRequest& request,
                                         const ModelServices* model);
// POST /chat_tokenize: template, then tokenize without special tokens.
ApiResult<std::string> chat_tokenize_response(const ChatRequest& request,
                                              const ModelServices* model);

// GET /api-doc/openapi.json.
const std::string& openapi_document();

}  // namespace kiln::api
