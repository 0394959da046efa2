// Native TGI routes: /generate, /generate_stream, POST / and /tokenize
// (contract §2.1, §3.1-3.4, §3.7).
#include "api/info.h"
#include "api/parse.h"
#include "server/routes.h"

namespace kiln::server {

namespace {

Outcome generate_native(const Request& request, ServerContext& ctx, const api::Json& body,
                        api::NativeRoute route) {
  auto parsed = api::parse_generate(body, route, ctx.config);
  if (!parsed.ok()) return error_reply(parsed.error());
  const bool compat_array = route == api::NativeRoute::kCompat;
  return submit_generation(request, ctx, {parsed.value()},
                           [compat_array](Job& job, const std::vector<api::ValidRequest>& v) {
                             if (v[0].stream) {
                               job.renderer = api::make_generate_stream(v[0]);
                             } else {
                               job.collector = api::make_generate_collector(v[0], compat_array);
                             }
                           });
}

Outcome with_json(const Request& request, ServerContext& ctx, api::NativeRoute route) {
  auto body = api::parse_json(request.body);
  if (!body.ok()) return error_reply(body.error());
  return generate_native(request, ctx, body.value(), route);
}

Outcome generate(const Request& r, ServerContext& ctx) {
  return with_json(r, ctx, api::NativeRoute::kGenerate);
}
Outcome generate_stream(const Request& r, ServerContext& ctx) {
  return with_json(r, ctx, api::NativeRoute::kGenerateStream);
}
Outcome compat(const Request& r, ServerContext& ctx) {
  return with_json(r, ctx, api::NativeRoute::kCompat);
}

Outcome tokenize(const Request& request, ServerContext& ctx) {
  auto body = api::parse_json(request.body);
  if (!body.ok()) return error_reply(body.error());
  auto parsed = api::parse_generate(body.value(), api::NativeRoute::kTokenize, ctx.config);
  if (!parsed.ok()) return error_reply(parsed.error());
  auto tokens = api::tokenize_response(parsed.value(), ctx.model);
  if (!tokens.ok()) return error_reply(tokens.error());
  return json_reply(std::move(tokens.value()));
}

}  // namespace

Outcome handle_compat_json(const Request& request, ServerContext& ctx, const api::Json& body) {
  return generate_native(request, ctx, body, api::NativeRoute::kCompat);
}

void add_tgi_routes(std::vector<Route>& routes) {
  routes.push_back({"POST", "/generate", generate, false, /*needs_key=*/true, /*counted=*/true});
  routes.push_back({"POST", "/generate_stream", generate_stream, false, true, true});
  routes.push_back({"POST", "/", compat, false, true, true});
  routes.push_back({"POST", "/tokenize", tokenize, false, true, false});
}

}  // namespace kiln::server
