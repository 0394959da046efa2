// `kiln serve`: the composition root of the HTTP server. Parses TGI's
// launcher flags, resolves the limits (contract §9), and wires the model
// services and the engine into the server.
//
// Until model loading and the engine land, the server runs without them:
// /health, /info, /v1/models, /metrics and the OpenAPI document answer, and
// generation and tokenize routes answer 503 `Model is not loaded: ...`.
// Wiring them later: build an api::ModelServices adapter over the tokenizer,
// chat template and model facts, and an engine::Engine, and put both into
// ServerDeps (see make_deps below).
#include <sys/resource.h>
#include <CLI/CLI.hpp>
#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>

#include "api/limits.h"
#include "cli/commands.h"
#include "cli/serve_flags.h"
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

  api::LauncherLimits launcher;
  launcher.max_input_tokens = f.max_input_tokens;
  launcher.max_input_length = f.max_input_length;
  launcher.max_total_tokens = f.max_total_tokens;
  launcher.max_batch_prefill_tokens = f.max_batch_prefill_tokens;
  launcher.max_batch_total_tokens = f.max_batch_total_tokens;
  auto limits = api::resolve_limits(launcher);
  if (!limits.ok()) return limits.error();

  auto& c = p.deps.config;
  c.model_id = f.model_id;
  c.served_model_name = f.served_model_name;
  c.max_concurrent_requests = f.max_concurrent_requests;
  c.max_best_of = f.max_best_of;
  c.max_stop_sequences = f.max_stop_sequences;
  c.max_top_n_tokens = f.max_top_n_tokens;
  c.max_input_tokens = limits->max_input_tokens;
  c.max_total_tokens = limits->max_total_tokens;
  c.max_batch_prefill_tokens = limits->max_batch_prefill_tokens;
  c.max_batch_total_tokens = limits->max_batch_total_tokens;
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

int run_serve(const ServeFlags& flags) {
  util::init_logging({.json = flags.json_output, .level = env_or("LOG_LEVEL", "info")});
  const bool json = flags.json_output;
  auto prepared = prepare(flags);
  if (!prepared.ok()) {
    server::log_text(spdlog::level::err, "kiln serve: " + prepared.message(), json);
    return 2;
  }
  for (const auto& w : prepared->warnings) server::log_text(spdlog::level::warn, w, json);
  server::log_text(spdlog::level::warn,
                   "model loading is not wired into `kiln serve` yet: serving without a model "
                   "(generation and tokenize routes answer 503)",
                   json);
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
