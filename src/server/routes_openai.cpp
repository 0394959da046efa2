// OpenAI routes (/v1/chat/completions, /v1/completions), /chat_tokenize and
// SageMaker's /invocations (contract §2.3-2.6, §3.5-3.6).
#include <chrono>

#include "api/info.h"
#include "api/parse.h"
#include "server/routes.h"

namespace kiln::server {

namespace {

api::OpenAiIdentity identity(const char* prefix, const std::optional<std::string>& model,
                             const api::ApiConfig& config) {
  api::OpenAiIdentity id;
  id.id = prefix + api::random_hex(24);
  id.created = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  id.model = api::response_model(model, config);
  id.system_fingerprint = config.system_fingerprint();
  return id;
}

template <typename F>
Outcome with_json(const Request& request, ServerContext& ctx, F handle) {
  auto body = api::parse_json(request.body);
  if (!body.ok()) return error_reply(body.error());
  return handle(request, ctx, body.value());
}

Outcome chat(const Request& r, ServerContext& ctx) { return with_json(r, ctx, handle_chat_json); }
Outcome completions(const Request& r, ServerContext& ctx) {
  return with_json(r, ctx, handle_completion_json);
}

Outcome chat_tokenize(const Request& request, ServerContext& ctx) {
  return with_json(request, ctx, [](const Request&, ServerContext& c, const api::Json& body) {
    auto parsed = api::parse_chat(body, c.config);
    if (!parsed.ok()) return Outcome(error_reply(parsed.error()));
    auto out = api::chat_tokenize_response(parsed.value(), c.model);
    if (!out.ok()) return Outcome(error_reply(out.error()));
    return Outcome(json_reply(std::move(out.value())));
  });
}

Outcome invocations(const Request& request, ServerContext& ctx) {
  return with_json(request, ctx, [](const Request& r, ServerContext& c, const api::Json& body) {
    switch (api::classify_invocation(body).value_or(api::InvocationKind(-1))) {
      case api::InvocationKind::kCompat:
        return handle_compat_json(r, c, body);
      case api::InvocationKind::kChat:
        return handle_chat_json(r, c, body);
      case api::InvocationKind::kCompletion:
        return handle_completion_json(r, c, body);
    }
    return Outcome(error_reply(api::ApiError::deserialize(
        "expected a generate (`inputs`), chat (`messages`) or completions (`prompt`) body")));
  });
}

}  // namespace

Outcome handle_chat_json(const Request& request, ServerContext& ctx, const api::Json& body) {
  auto parsed = api::parse_chat(body, ctx.config);
  if (!parsed.ok()) return error_reply(parsed.error());
  const api::ChatRequest& chat = parsed.value();
  if (!ctx.model) return error_reply(api::ApiError::of(api::ErrorKind::kModelNotLoaded));
  auto prompt = ctx.model->apply_chat_template(chat);
  if (!prompt.ok()) return error_reply(prompt.error());
  api::GenerationRequest generation = api::chat_to_generation(chat, prompt->text);
  if (prompt->grammar) generation.parameters.grammar = prompt->grammar;
  return submit_generation(
      request, ctx, {generation}, [&](Job& job, const std::vector<api::ValidRequest>&) {
        api::ChatRenderOptions options;
        options.identity = identity("chatcmpl-", chat.model, ctx.config);
        options.logprobs = chat.logprobs;
        options.include_usage = chat.stream && chat.include_usage;
        if (prompt->parse_tool_calls)
          options.tool_parser = ctx.model->tool_call_parser(chat, prompt.value());
        // OpenAI `n`: one engine request whose n choices share the prompt's KV blocks.
        options.n = chat.n;
        for (int32_t k = 1; k < chat.n && prompt->parse_tool_calls; ++k)
          options.more_tool_parsers.push_back(ctx.model->tool_call_parser(chat, prompt.value()));
        if (chat.stream) {
          job.renderer = api::make_chat_stream(std::move(options));
        } else {
          job.collector = api::make_chat_collector(std::move(options));
        }
      });
}

Outcome handle_completion_json(const Request& request, ServerContext& ctx, const api::Json& body) {
  auto parsed = api::parse_completion(body, ctx.config);
  if (!parsed.ok()) return error_reply(parsed.error());
  const api::CompletionRequest& req = parsed.value();
  std::vector<api::GenerationRequest> generation;
  for (size_t i = 0; i < req.prompts.size(); ++i) {
    generation.push_back(api::completion_to_generation(req, i));
  }
  return submit_generation(request, ctx, generation,
                           [&](Job& job, const std::vector<api::ValidRequest>&) {
                             api::CompletionRenderOptions options;
                             options.identity = identity("cmpl-", req.model, ctx.config);
                             options.prompts = req.prompts;
                             options.n = req.n;
                             options.best_of = req.best_of;
                             options.logprobs = req.logprobs;
                             options.echo = req.echo;
                             if (req.stream) {
                               job.renderer = api::make_completion_stream(std::move(options));
                             } else {
                               job.collector = api::make_completion_collector(std::move(options));
                             }
                           });
}

void add_openai_routes(std::vector<Route>& routes) {
  routes.push_back({"POST", "/v1/chat/completions", chat, false, /*needs_key=*/true,
                    /*counted=*/true});
  routes.push_back({"POST", "/v1/completions", completions, false, true, true});
  // Behind the key here, open in TGI (DEV-15).
  routes.push_back({"POST", "/chat_tokenize", chat_tokenize, false, true, true});
  routes.push_back({"POST", "/invocations", invocations, false, true, true});
}

}  // namespace kiln::server
