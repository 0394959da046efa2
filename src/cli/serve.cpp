// `kiln serve`: the composition root of the HTTP server. Parses TGI's
// launcher flags, loads the model (serving_model.h), resolves the limits
// (contract §9) against the model's context and the KV memory, starts the
// engine and serves. serving_services.h adapts the model side to what api/
// needs.
//
// --no-model (a Kiln extension for testing the HTTP layer) serves without a
// model: /health, /info, /v1/models, /metrics and the OpenAPI document
// answer, generation and tokenize routes answer 503 `Model is not loaded`.
#include <sys/resource.h>
#include <CLI/CLI.hpp>
#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <thread>

#include "api/limits.h"
#include "cli/commands.h"
#include "cli/serve_flags.h"
#include "cli/serving_services.h"
#include "engine/create.h"
#include "server/request_log.h"
#include "server/server.h"
#include "util/log.h"

namespace kiln::cli {

namespace {

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// One descriptor per connection: lift the soft limit to the hard one so a
// thousand keep-alive clients do not exhaust a default of 1024.
void raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

api::LauncherLimits launcher_limits(const ServeFlags& f, int64_t model_context) {
  api::LauncherLimits l;
  l.max_input_tokens = f.max_input_tokens;
  l.max_input_length = f.max_input_length;
  l.max_total_tokens = f.max_total_tokens;
  l.max_batch_prefill_tokens = f.max_batch_prefill_tokens;
  l.max_batch_total_tokens = f.max_batch_total_tokens;
  l.max_position_embeddings = model_context;
  return l;
}

void set_limits(api::ApiConfig& c, const api::ResolvedLimits& limits) {
  c.max_input_tokens = limits.max_input_tokens;
  c.max_total_tokens = limits.max_total_tokens;
  c.max_batch_prefill_tokens = limits.max_batch_prefill_tokens;
  c.max_batch_total_tokens = limits.max_batch_total_tokens;
}

struct Prepared {
  server::ServerOptions options;
  server::ServerDeps deps;
  std::vector<std::string> warnings;
};

util::Result<Prepared> prepare(const ServeFlags& f) {
  Prepared p;
  auto& w = p.warnings;
  for (const auto& name : f.later_given)
    w.push_back(name + " is accepted but not implemented yet; ignored");
  if (f.trust_remote_code)
    w.push_back("--trust-remote-code: Kiln never executes code from a model repository");
  if (!f.quantize.empty()) {
    w.push_back("--quantize " + f.quantize +
                " is ignored: Kiln runs the quantization stored in the model file");
  }
  if (!f.kv_cache_dtype.empty()) w.push_back("--kv-cache-dtype is not implemented yet; ignored");
  if (f.cuda_memory_fraction || !f.cuda_graphs.empty()) {
    w.push_back("--cuda-memory-fraction/--cuda-graphs have no effect: Kiln runs on the CPU");
  }
  if (f.sharded == "true" || f.num_shard.value_or(1) > 1) {
    return util::make_error(
        "--sharded/--num-shard: sharding needs at least 2 devices; Kiln runs on one CPU device");
  }

  // Flag conflicts fail before the model loads; the limits are resolved
  // again against the model's context and the KV pool (start_model).
  const int64_t context = f.no_model ? 0 : f.max_batch_total_tokens.value_or(int64_t{1} << 30);
  auto limits = api::resolve_limits(launcher_limits(f, context));
  if (!limits.ok()) return limits.error();
  if (!f.dtype.empty())
    w.push_back("--dtype " + f.dtype + " is ignored: Kiln computes with the model's stored types");

  auto& c = p.deps.config;
  c.model_id = f.model_id;
  c.served_model_name = f.served_model_name;
  c.max_concurrent_requests = f.max_concurrent_requests;
  c.max_best_of = f.max_best_of;
  c.max_stop_sequences = f.max_stop_sequences;
  c.max_top_n_tokens = f.max_top_n_tokens;
  set_limits(c, limits.value());
  c.max_client_batch_size = f.max_client_batch_size;
  c.validation_workers = f.validation_workers;
  c.max_waiting_tokens = f.max_waiting_tokens;
  c.waiting_served_ratio = f.waiting_served_ratio;
  c.max_batch_size = f.max_batch_size;
  c.disable_grammar_support = f.disable_grammar_support;
  c.enable_prefill_logprobs = f.enable_prefill_logprobs;

  auto& o = p.options;
  boost::system::error_code ec;
  boost::asio::ip::make_address(f.hostname, ec);
  if (ec) {
    // Docker sets HOSTNAME to the container name: never abort on it (§9).
    w.push_back("--hostname/HOSTNAME '" + f.hostname +
                "' is not an IP address; listening on 0.0.0.0");
    o.hostname = "0.0.0.0";
  } else {
    o.hostname = f.hostname;
  }
  o.port = static_cast<uint16_t>(f.port);
  o.prometheus_port = f.prometheus_port;
  o.api_key = f.api_key;
  o.cors_allow_origin = f.cors_allow_origin;
  o.payload_limit = static_cast<size_t>(f.payload_limit);
  o.graceful_timeout = std::chrono::seconds(f.graceful_termination_timeout);
  o.idle_timeout = std::chrono::seconds(f.keep_alive_timeout);
  o.json_logs = f.json_output;
  o.handle_signals = true;
  o.compute_type = env_or("COMPUTE_TYPE", "gpu+optimized");
  // Two I/O threads once there are cores to spare for them beside the engine.
  o.io_threads = std::thread::hardware_concurrency() >= 8 ? 2 : 1;
  return p;
}

using Log = std::function<void(bool warning, const std::string& line)>;

// Loads the model and starts the engine. The default context is the model's
// own (max position embeddings) capped by what the KV pool holds; the pool
// is --max-batch-total-tokens positions, else what the engine's memory
// budget holds (engine::resolve_kv_tokens).
util::Status start_model(const ServeFlags& f, Prepared& p, const Log& log) {
  ServingModelOptions mo;
  mo.model_id = f.model_id;
  mo.revision = f.revision;
  mo.hub_cache = f.huggingface_hub_cache;
  mo.chat_template = f.chat_template;
  mo.tokenizer_config_path = f.tokenizer_config_path;
  mo.log = log;
  auto loaded = load_serving_model(mo);
  if (!loaded) return loaded.error();

  model::ModelOptions options;
  // A context longer than the model's own needs RoPE scaling the model has
  // to accept; Model::create says so when it does not.
  if (f.max_total_tokens && *f.max_total_tokens > loaded->description->hparams.n_ctx_train)
    options.n_ctx = *f.max_total_tokens;
  auto created = model::Model::create(loaded->description, options);
  if (!created) return created.error();
  std::shared_ptr<model::Model> model = std::move(created).value();

  engine::EngineOptions eo;
  eo.max_batch_total_tokens = f.max_batch_total_tokens.value_or(0);
  const int64_t kv_tokens = engine::resolve_kv_tokens(*model, eo);
  auto launcher = launcher_limits(f, std::min<int64_t>(model->n_ctx(), kv_tokens));
  launcher.max_batch_total_tokens = f.max_batch_total_tokens.value_or(kv_tokens);
  auto limits = api::resolve_limits(launcher);
  if (!limits) return limits.error();
  eo.max_batch_total_tokens = kv_tokens;
  eo.max_batch_prefill_tokens = limits->max_batch_prefill_tokens;
  eo.max_batch_size = f.max_batch_size.value_or(0);
  auto engine = engine::create_engine(model, loaded->tokenizer, eo);
  if (!engine) return engine.error();
  log(false, "KV cache: " + std::to_string(kv_tokens) + " positions (" +
                 std::to_string(kv_tokens * engine::kv_bytes_per_token(*model) >> 20) +
                 " MiB); max_total_tokens " + std::to_string(limits->max_total_tokens) +
                 ", max_input_tokens " + std::to_string(limits->max_input_tokens) +
                 ", max_batch_prefill_tokens " + std::to_string(limits->max_batch_prefill_tokens));

  auto& c = p.deps.config;
  set_limits(c, limits.value());
  const auto& facts = loaded->facts;
  c.model_sha = facts.sha;
  c.model_pipeline_tag = facts.pipeline_tag;
  c.model_dtype = facts.dtype;
  c.model_device_type = facts.device_type;
  c.vision = facts.vision;
  ServicesOptions so;
  so.disable_grammar_support = f.disable_grammar_support;
  p.deps.model = std::make_shared<ServingServices>(std::move(loaded).value(), so);
  p.deps.engine = std::move(engine).value();
  return util::Status::Ok();
}

int run_serve(const ServeFlags& flags) {
  util::init_logging({.json = flags.json_output, .level = env_or("LOG_LEVEL", "info")});
  const bool json = flags.json_output;
  auto prepared = prepare(flags);
  if (!prepared.ok()) {
    server::log_text(spdlog::level::err, "kiln serve: " + prepared.message(), json);
    return 2;
  }
  for (const auto& w : prepared->warnings) server::log_text(spdlog::level::warn, w, json);
  if (flags.no_model) {
    server::log_text(spdlog::level::warn,
                     "--no-model: serving without a model (generation and tokenize routes "
                     "answer 503)",
                     json);
  } else {
    auto log = [json](bool warning, const std::string& line) {
      server::log_text(warning ? spdlog::level::warn : spdlog::level::info, line, json);
    };
    if (auto st = start_model(flags, *prepared, log); !st.ok()) {
      server::log_text(spdlog::level::err, "kiln serve: " + st.message(), json);
      return 1;
    }
  }
  raise_fd_limit();

  server::Server srv(std::move(prepared->options), std::move(prepared->deps));
  if (auto s = srv.start(); !s.ok()) {
    server::log_text(spdlog::level::err, "kiln serve: " + s.message(), json);
    return 1;
  }
  std::string where = "listening on " + flags.hostname + ":" + std::to_string(srv.port());
  if (srv.prometheus_port()) where += ", metrics on port " + std::to_string(srv.prometheus_port());
  server::log_text(spdlog::level::info, where, json);
  srv.run();
  server::log_text(spdlog::level::info, "shutdown complete", json);
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "serve",
      "Serve a model over HTTP: TGI routes (/generate, /generate_stream, ...) and OpenAI /v1");
  auto flags = std::make_shared<ServeFlags>();
  add_serve_flags(*cmd, *flags);
  cmd->footer(
      "Every flag can also be set through the environment variable shown (the flag wins).\n"
      "Also read: LOG_LEVEL (info), COMPUTE_TYPE (x-compute-type header), HF_TOKEN, "
      "HF_HUB_OFFLINE.");
  cmd->callback([flags] {
    int rc = run_serve(*flags);
    if (rc != 0) std::exit(rc);
  });
}

}  // namespace kiln::cli
