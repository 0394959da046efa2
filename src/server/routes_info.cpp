// Routes that generate nothing and need no API key: /health (and its aliases
// GET / and /ping), /info, /metrics, /v1/models[/{id}], the OpenAPI document.
#include "api/info.h"
#include "server/routes.h"

namespace kiln::server {

namespace {

// Served without an engine, the process is up but cannot generate; /health
// still answers 200 so `make run` can be probed, and generation routes say
// 503 (documented in the report and the serve --help text).
Outcome health(const Request&, ServerContext& ctx) {
  if (ctx.engine && !ctx.engine->healthy()) {
    return error_reply(api::ApiError::of(api::ErrorKind::kUnhealthy));
  }
  Reply r;
  r.content_type.clear();
  return r;
}

Outcome info(const Request&, ServerContext& ctx) {
  return json_reply(api::render_info(ctx.config));
}

Outcome metrics(const Request&, ServerContext& ctx) {
  if (ctx.engine) ctx.metrics.set_engine_stats(ctx.engine->stats());
  Reply r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = ctx.metrics.render();
  return r;
}

Outcome models(const Request&, ServerContext& ctx) {
  return json_reply(api::render_models(ctx.config));
}

// OpenAI SDKs percent-encode the id ("google%2Fgemma-3-270m"); a malformed
// escape is kept as written (it then matches no model: 404).
std::string percent_decode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

Outcome model(const Request& request, ServerContext& ctx) {
  constexpr std::string_view kPrefix = "/v1/models/";
  auto body = api::render_model(ctx.config, percent_decode(request.path.substr(kPrefix.size())));
  return body.ok() ? Outcome(json_reply(std::move(body.value())))
                   : Outcome(error_reply(body.error()));
}

Outcome openapi(const Request&, ServerContext&) { return json_reply(api::openapi_document()); }

}  // namespace

void add_info_routes(std::vector<Route>& routes) {
  routes.push_back({"GET", "/health", health});
  routes.push_back({"GET", "/", health});
  routes.push_back({"GET", "/ping", health});
  routes.push_back({"GET", "/info", info});
  routes.push_back({"GET", "/metrics", metrics});
  routes.push_back({"GET", "/v1/models", models});
  routes.push_back({"GET", "/v1/models/", model, /*prefix=*/true});
  routes.push_back({"GET", "/api-doc/openapi.json", openapi});
}

}  // namespace kiln::server
