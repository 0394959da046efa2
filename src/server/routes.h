// What route handlers see and return (internal to server/). A handler is a
// plain function: parse, validate, submit, and return either a complete
// Reply or a Job (a generation the session runs to its end).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "api/errors.h"
#include "api/model_services.h"
#include "api/render.h"
#include "api/validate.h"
#include "engine/engine.h"
#include "server/admission.h"
#include "server/metrics.h"
#include "server/server.h"

namespace kiln::server {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string_view method;
  std::string_view path;  // without the query string
  std::string_view body;
  std::string request_id;
  engine::Clock::time_point received{};
};

struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  Headers headers;
  std::optional<api::ApiError> error;  // for the log and the failure metric
};

struct Job {
  std::vector<std::shared_ptr<engine::EventStream>> streams;  // one per prompt
  std::unique_ptr<api::ResponseCollector> collector;          // non-streaming
  std::unique_ptr<api::StreamRenderer> renderer;              // streaming
  Admission::Slots slots;                                     // held until the last byte is sent
  size_t input_chars = 0;                                     // x-compute-characters
  int32_t max_new_tokens = 0;                                 // summed effective caps, for metrics
  engine::Clock::time_point validated{};
};

using Outcome = std::variant<Reply, Job>;

struct ServerContext {
  const ServerOptions& options;
  const api::ApiConfig& config;
  const api::ModelServices* model;  // null: served without a model
  engine::Engine* engine;           // null: served without an engine
  api::Validator validator;
  Metrics& metrics;
  Admission& admission;
};

using Handler = Outcome (*)(const Request&, ServerContext&);

struct Route {
  const char* method;
  const char* path;  // exact, or a prefix when `prefix`
  Handler handler;
  bool prefix = false;
  bool needs_key = false;  // protected by --api-key (§1 Auth column)
  bool counted = false;    // counts in tgi_request_count (§8.3)
};

Reply error_reply(const api::ApiError& error);
Reply json_reply(std::string body);

// Checks, admits, validates and submits generation requests (one per
// prompt), then lets `render` build the job's renderer from the validated
// requests before their engine requests are moved into the engine.
using RenderFactory = std::function<void(Job& job, const std::vector<api::ValidRequest>& valid)>;
Outcome submit_generation(const Request& request, ServerContext& ctx,
                          const std::vector<api::GenerationRequest>& generation,
                          const RenderFactory& render);

void add_info_routes(std::vector<Route>& routes);    // routes_info.cpp
void add_tgi_routes(std::vector<Route>& routes);     // routes_tgi.cpp
void add_openai_routes(std::vector<Route>& routes);  // routes_openai.cpp

// POST / and /invocations dispatch into these with an already parsed body.
Outcome handle_compat_json(const Request& request, ServerContext& ctx, const api::Json& body);
Outcome handle_chat_json(const Request& request, ServerContext& ctx, const api::Json& body);
Outcome handle_completion_json(const Request& request, ServerContext& ctx, const api::Json& body);

}  // namespace kiln::server
