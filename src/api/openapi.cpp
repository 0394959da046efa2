// The OpenAPI 3 document served at /api-doc/openapi.json: the routes of the
// contract (§1) with their main schemas. Written by hand from the contract;
// the unit tests check that every served route is listed.
#include "api/config.h"
#include "api/info.h"
#include "api/json_util.h"

namespace kiln::api {

namespace {

constexpr const char* kDocument = R"json({
"openapi": "3.0.3",
"info": {"title": "Kiln", "description": "Text generation server compatible with Hugging Face TGI and the OpenAI API", "license": {"name": "Apache 2.0"}, "version": "VERSION"},
"paths": {
  "/generate": {"post": {"summary": "Generate tokens", "tags": ["Text Generation Inference"], "operationId": "generate",
    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GenerateRequest"}}}},
    "responses": {"200": {"description": "Generated text", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GenerateResponse"}}}},
      "422": {"$ref": "#/components/responses/Error"}, "424": {"$ref": "#/components/responses/Error"}, "429": {"$ref": "#/components/responses/Error"}, "500": {"$ref": "#/components/responses/Error"}}}},
  "/generate_stream": {"post": {"summary": "Generate a stream of token using Server-Sent Events", "tags": ["Text Generation Inference"], "operationId": "generate_stream",
    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GenerateRequest"}}}},
    "responses": {"200": {"description": "Generated text", "content": {"text/event-stream": {"schema": {"$ref": "#/components/schemas/StreamResponse"}}}},
      "422": {"$ref": "#/components/responses/Error"}, "429": {"$ref": "#/components/responses/Error"}}}},
  "/": {"post": {"summary": "Generate tokens if `stream == false` or a stream of token if `stream == true`", "tags": ["Text Generation Inference"], "operationId": "compat_generate",
    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CompatGenerateRequest"}}}},
    "responses": {"200": {"description": "Generated text", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/GenerateResponse"}}}, "text/event-stream": {"schema": {"$ref": "#/components/schemas/StreamResponse"}}}},
      "422": {"$ref": "#/components/responses/Error"}, "429": {"$ref": "#/components/responses/Error"}}},
    "get": {"summary": "Health check (alias of /health)", "tags": ["Text Generation Inference"], "operationId": "health_root", "responses": {"200": {"description": "Everything is working fine"}, "503": {"$ref": "#/components/responses/Error"}}}},
  "/v1/chat/completions": {"post": {"summary": "Generate tokens (OpenAI Chat Completions)", "tags": ["Text Generation Inference"], "operationId": "chat_completions",
    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatRequest"}}}},
    "responses": {"200": {"description": "Generated chat completion", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatCompletion"}}, "text/event-stream": {"schema": {"$ref": "#/components/schemas/ChatCompletionChunk"}}}},
      "422": {"$ref": "#/components/responses/Error"}, "424": {"$ref": "#/components/responses/Error"}, "429": {"$ref": "#/components/responses/Error"}}}},
  "/v1/completions": {"post": {"summary": "Generate tokens (OpenAI Completions)", "tags": ["Text Generation Inference"], "operationId": "completions",
    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CompletionRequest"}}}},
    "responses": {"200": {"description": "Generated completion", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Completion"}}, "text/event-stream": {"schema": {"$ref": "#/components/schemas/Completion"}}}},
      "422": {"$ref": "#/components/responses/Error"}, "429": {"$ref": "#/components/responses/Error"}}}},
  "/tokenize": {"post": {"summary": "Tokenize inputs", "tags": ["Text Generation Inference"], "operationId": "tokenize",
    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GenerateRequest"}}}},
    "responses": {"200": {"description": "Tokenized ids", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/SimpleToken"}}}}}, "503": {"$ref": "#/components/responses/Error"}}}},
  "/chat_tokenize": {"post": {"summary": "Template and tokenize a chat request", "tags": ["Text Generation Inference"], "operationId": "chat_tokenize",
    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatRequest"}}}},
    "responses": {"200": {"description": "Templated and tokenized chat", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatTokenizeResponse"}}}}, "422": {"$ref": "#/components/responses/Error"}}}},
  "/invocations": {"post": {"summary": "SageMaker: compat generate, chat or completions by body shape", "tags": ["Text Generation Inference"], "operationId": "invocations",
    "requestBody": {"required": true, "content": {"application/json": {"schema": {"oneOf": [{"$ref": "#/components/schemas/CompatGenerateRequest"}, {"$ref": "#/components/schemas/ChatRequest"}, {"$ref": "#/components/schemas/CompletionRequest"}]}}}},
    "responses": {"200": {"description": "As the matched route"}, "422": {"$ref": "#/components/responses/Error"}}}},
  "/info": {"get": {"summary": "Text Generation Inference endpoint info", "tags": ["Text Generation Inference"], "operationId": "get_model_info",
    "responses": {"200": {"description": "Served model info", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Info"}}}}}}},
  "/health": {"get": {"summary": "Health check method", "tags": ["Text Generation Inference"], "operationId": "health",
    "responses": {"200": {"description": "Everything is working fine"}, "503": {"$ref": "#/components/responses/Error"}}}},
  "/ping": {"get": {"summary": "Health check (SageMaker)", "tags": ["Text Generation Inference"], "operationId": "ping",
    "responses": {"200": {"description": "Everything is working fine"}, "503": {"$ref": "#/components/responses/Error"}}}},
  "/metrics": {"get": {"summary": "Prometheus metrics scrape endpoint", "tags": ["Text Generation Inference"], "operationId": "metrics",
    "responses": {"200": {"description": "Prometheus Metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
  "/v1/models": {"get": {"summary": "Get model info (OpenAI)", "tags": ["Text Generation Inference"], "operationId": "openai_get_model_info",
    "responses": {"200": {"description": "Served model info", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ModelsInfo"}}}}}}},
  "/v1/models/{model_id}": {"get": {"summary": "Retrieve one model (OpenAI)", "tags": ["Text Generation Inference"], "operationId": "openai_retrieve_model",
    "parameters": [{"name": "model_id", "in": "path", "required": true, "schema": {"type": "string"}}],
    "responses": {"200": {"description": "The served model", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ModelInfo"}}}}, "404": {"$ref": "#/components/responses/Error"}}}},
  "/api-doc/openapi.json": {"get": {"summary": "This document", "tags": ["Text Generation Inference"], "operationId": "openapi", "responses": {"200": {"description": "OpenAPI 3 document"}}}}
},
"components": {
  "responses": {"Error": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}},
  "schemas": {
    "ErrorResponse": {"type": "object", "required": ["error", "error_type"], "properties": {"error": {"type": "string"}, "error_type": {"type": "string"}}},
    "GenerateParameters": {"type": "object", "properties": {
      "best_of": {"type": "integer", "nullable": true, "minimum": 0, "exclusiveMinimum": true, "default": 1},
      "temperature": {"type": "number", "nullable": true, "exclusiveMinimum": true, "minimum": 0},
      "repetition_penalty": {"type": "number", "nullable": true, "exclusiveMinimum": true, "minimum": 0},
      "frequency_penalty": {"type": "number", "nullable": true, "minimum": -2, "maximum": 2},
      "top_k": {"type": "integer", "nullable": true, "exclusiveMinimum": true, "minimum": 0},
      "top_p": {"type": "number", "nullable": true, "exclusiveMinimum": true, "minimum": 0, "maximum": 1},
      "typical_p": {"type": "number", "nullable": true, "exclusiveMinimum": true, "minimum": 0, "maximum": 1},
      "do_sample": {"type": "boolean", "default": false},
      "max_new_tokens": {"type": "integer", "nullable": true, "minimum": 1},
      "return_full_text": {"type": "boolean", "nullable": true},
      "stop": {"type": "array", "items": {"type": "string"}},
      "truncate": {"type": "integer", "nullable": true, "minimum": 1},
      "watermark": {"type": "boolean", "default": false},
      "details": {"type": "boolean", "default": false},
      "decoder_input_details": {"type": "boolean", "default": false},
      "seed": {"type": "integer", "format": "int64", "nullable": true, "minimum": 0},
      "top_n_tokens": {"type": "integer", "nullable": true, "minimum": 0},
      "grammar": {"type": "object", "nullable": true, "required": ["type", "value"], "properties": {"type": {"type": "string", "enum": ["json", "json_object", "json_schema", "regex"]}, "value": {}}},
      "adapter_id": {"type": "string", "nullable": true}}},
    "GenerateRequest": {"type": "object", "required": ["inputs"], "properties": {"inputs": {"type": "string"}, "parameters": {"$ref": "#/components/schemas/GenerateParameters"}}},
    "CompatGenerateRequest": {"type": "object", "required": ["inputs"], "properties": {"inputs": {"type": "string"}, "parameters": {"$ref": "#/components/schemas/GenerateParameters"}, "stream": {"type": "boolean", "default": false}}},
    "Token": {"type": "object", "required": ["id", "text", "logprob", "special"], "properties": {"id": {"type": "integer"}, "text": {"type": "string"}, "logprob": {"type": "number", "nullable": true}, "special": {"type": "boolean"}}},
    "PrefillToken": {"type": "object", "required": ["id", "text", "logprob"], "properties": {"id": {"type": "integer"}, "text": {"type": "string"}, "logprob": {"type": "number", "nullable": true}}},
    "FinishReason": {"type": "string", "enum": ["length", "eos_token", "stop_sequence"]},
    "Details": {"type": "object", "required": ["finish_reason", "generated_tokens", "prefill", "tokens"], "properties": {
      "finish_reason": {"$ref": "#/components/schemas/FinishReason"}, "generated_tokens": {"type": "integer"}, "seed": {"type": "integer", "nullable": true},
      "prefill": {"type": "array", "items": {"$ref": "#/components/schemas/PrefillToken"}}, "tokens": {"type": "array", "items": {"$ref": "#/components/schemas/Token"}},
      "top_tokens": {"type": "array", "items": {"type": "array", "items": {"$ref": "#/components/schemas/Token"}}},
      "best_of_sequences": {"type": "array", "nullable": true, "items": {"type": "object"}}}},
    "GenerateResponse": {"type": "object", "required": ["generated_text"], "properties": {"generated_text": {"type": "string"}, "details": {"$ref": "#/components/schemas/Details"}}},
    "StreamDetails": {"type": "object", "required": ["finish_reason", "generated_tokens", "input_length"], "properties": {"finish_reason": {"$ref": "#/components/schemas/FinishReason"}, "generated_tokens": {"type": "integer"}, "seed": {"type": "integer", "nullable": true}, "input_length": {"type": "integer"}}},
    "StreamResponse": {"type": "object", "required": ["index", "token"], "properties": {"index": {"type": "integer"}, "token": {"$ref": "#/components/schemas/Token"}, "top_tokens": {"type": "array", "items": {"$ref": "#/components/schemas/Token"}}, "generated_text": {"type": "string", "nullable": true}, "details": {"allOf": [{"$ref": "#/components/schemas/StreamDetails"}], "nullable": true}}},
    "Message": {"type": "object", "required": ["role"], "properties": {"role": {"type": "string"}, "content": {"nullable": true, "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "object"}}]}, "name": {"type": "string"}, "tool_calls": {"type": "array", "items": {"type": "object"}}, "tool_call_id": {"type": "string"}}},
    "ChatRequest": {"type": "object", "required": ["messages"], "properties": {
      "model": {"type": "string"}, "messages": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}},
      "max_tokens": {"type": "integer", "nullable": true, "minimum": 1}, "max_completion_tokens": {"type": "integer", "nullable": true, "minimum": 1},
      "temperature": {"type": "number", "nullable": true, "minimum": 0}, "top_p": {"type": "number", "nullable": true}, "frequency_penalty": {"type": "number", "nullable": true}, "presence_penalty": {"type": "number", "nullable": true},
      "stop": {"nullable": true, "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}, "seed": {"type": "integer", "nullable": true},
      "stream": {"type": "boolean"}, "stream_options": {"type": "object", "nullable": true, "properties": {"include_usage": {"type": "boolean"}}},
      "logprobs": {"type": "boolean"}, "top_logprobs": {"type": "integer", "nullable": true}, "n": {"type": "integer", "nullable": true},
      "tools": {"type": "array", "nullable": true, "items": {"type": "object"}}, "tool_choice": {"nullable": true, "oneOf": [{"type": "string"}, {"type": "object"}]},
      "response_format": {"type": "object", "nullable": true}, "tool_prompt": {"type": "string", "nullable": true}}},
    "ChatCompletion": {"type": "object", "required": ["object", "id", "created", "model", "system_fingerprint", "choices", "usage"], "properties": {"object": {"type": "string"}, "id": {"type": "string"}, "created": {"type": "integer"}, "model": {"type": "string"}, "system_fingerprint": {"type": "string"}, "choices": {"type": "array", "items": {"type": "object"}}, "usage": {"$ref": "#/components/schemas/Usage"}}},
    "ChatCompletionChunk": {"type": "object", "required": ["object", "id", "created", "model", "system_fingerprint", "choices"], "properties": {"object": {"type": "string"}, "id": {"type": "string"}, "created": {"type": "integer"}, "model": {"type": "string"}, "system_fingerprint": {"type": "string"}, "choices": {"type": "array", "items": {"type": "object"}}, "usage": {"allOf": [{"$ref": "#/components/schemas/Usage"}], "nullable": true}}},
    "CompletionRequest": {"type": "object", "required": ["prompt"], "properties": {"model": {"type": "string"}, "prompt": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}, "max_tokens": {"type": "integer", "nullable": true}, "temperature": {"type": "number", "nullable": true}, "top_p": {"type": "number", "nullable": true}, "seed": {"type": "integer", "nullable": true}, "stop": {"nullable": true, "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}, "stream": {"type": "boolean"}, "frequency_penalty": {"type": "number", "nullable": true}, "repetition_penalty": {"type": "number", "nullable": true}, "suffix": {"type": "string", "nullable": true}}},
    "Completion": {"type": "object", "required": ["object", "id", "created", "model", "system_fingerprint", "choices"], "properties": {"object": {"type": "string"}, "id": {"type": "string"}, "created": {"type": "integer"}, "model": {"type": "string"}, "system_fingerprint": {"type": "string"}, "choices": {"type": "array", "items": {"type": "object"}}, "usage": {"allOf": [{"$ref": "#/components/schemas/Usage"}], "nullable": true}}},
    "Usage": {"type": "object", "required": ["prompt_tokens", "completion_tokens", "total_tokens"], "properties": {"prompt_tokens": {"type": "integer"}, "completion_tokens": {"type": "integer"}, "total_tokens": {"type": "integer"}}},
    "SimpleToken": {"type": "object", "required": ["id", "text", "start", "stop"], "properties": {"id": {"type": "integer"}, "text": {"type": "string"}, "start": {"type": "integer"}, "stop": {"type": "integer"}}},
    "ChatTokenizeResponse": {"type": "object", "required": ["tokenize_response", "templated_text"], "properties": {"tokenize_response": {"type": "array", "items": {"$ref": "#/components/schemas/SimpleToken"}}, "templated_text": {"type": "string"}}},
    "Info": {"type": "object", "required": ["model_id", "max_concurrent_requests", "max_best_of", "max_stop_sequences", "max_input_tokens", "max_total_tokens", "validation_workers", "max_client_batch_size", "router", "version"], "properties": {
      "model_id": {"type": "string"}, "model_sha": {"type": "string", "nullable": true}, "model_pipeline_tag": {"type": "string", "nullable": true},
      "max_concurrent_requests": {"type": "integer"}, "max_best_of": {"type": "integer"}, "max_stop_sequences": {"type": "integer"}, "max_input_tokens": {"type": "integer"}, "max_total_tokens": {"type": "integer"},
      "validation_workers": {"type": "integer"}, "max_client_batch_size": {"type": "integer"}, "router": {"type": "string"}, "version": {"type": "string"}, "sha": {"type": "string", "nullable": true}, "docker_label": {"type": "string", "nullable": true}}},
    "ModelInfo": {"type": "object", "required": ["id", "object", "created", "owned_by"], "properties": {"id": {"type": "string"}, "object": {"type": "string"}, "created": {"type": "integer"}, "owned_by": {"type": "string"}}},
    "ModelsInfo": {"type": "object", "required": ["object", "data"], "properties": {"object": {"type": "string"}, "data": {"type": "array", "items": {"$ref": "#/components/schemas/ModelInfo"}}}}
  }
}
})json";

}  // namespace

const std::string& openapi_document() {
  static const std::string doc = [] {
    Json d = Json::parse(kDocument);
    d["info"]["version"] = kTgiVersion;
    return dump(d);
  }();
  return doc;
}

}  // namespace kiln::api
