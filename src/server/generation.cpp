// The shared path of every generation route: the §2.2 order of checks around
// admission, then submission to the engine.
#include "api/errors.h"
#include "server/routes.h"

namespace kiln::server {

Reply error_reply(const api::ApiError& error) {
  Reply r;
  r.status = api::http_status(error.kind);
  if (api::has_body(error.kind)) {
    r.body = api::render_tgi_error(error);
  } else {
    r.content_type.clear();
  }
  r.error = error;
  return r;
}

Reply json_reply(std::string body) {
  Reply r;
  r.body = std::move(body);
  return r;
}

Outcome submit_generation(const Request& request, ServerContext& ctx,
                          const std::vector<api::GenerationRequest>& generation,
                          const RenderFactory& render) {
  // best_of limits and streaming-only checks come before admission (§2.2).
  int32_t slots = 0;
  for (const auto& g : generation) {
    if (auto e = ctx.validator.check_before_admission(g)) return error_reply(*e);
    slots += api::Validator::slots(g);
  }
  auto admitted = ctx.admission.try_acquire(slots);
  if (!admitted) return error_reply(api::ApiError::of(api::ErrorKind::kOverloaded));

  std::vector<api::ValidRequest> valid;
  valid.reserve(generation.size());
  for (size_t i = 0; i < generation.size(); ++i) {
    api::ValidateOptions options;
    options.request_id =
        generation.size() == 1 ? request.request_id : request.request_id + "-" + std::to_string(i);
    options.received = request.received;
    auto v = ctx.validator.validate(generation[i], options);
    if (!v.ok()) return error_reply(v.error());
    valid.push_back(std::move(v.value()));
  }
  if (!ctx.engine) return error_reply(api::ApiError::of(api::ErrorKind::kModelNotLoaded));

  Job job;
  job.slots = std::move(*admitted);
  job.validated = engine::Clock::now();
  for (const auto& g : generation) {
    // Characters, not bytes: count every byte that does not continue a UTF-8 sequence.
    for (unsigned char c : g.inputs) job.input_chars += (c & 0xC0) != 0x80;
  }
  for (const auto& v : valid) job.max_new_tokens += v.max_new_tokens;
  render(job, valid);
  for (auto& v : valid) job.streams.push_back(ctx.engine->submit(std::move(v.engine)));
  return job;
}

}  // namespace kiln::server
