// `kiln inspect MODEL`: what a model is and what it needs. MODEL is a .gguf
// file, a Hugging Face directory or a Hub model id (fetched into the cache).
//
//   kiln inspect model.gguf --ctx 4096 --batch 8
//   kiln inspect Qwen/Qwen2.5-0.5B-Instruct --json
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli/commands.h"
#include "model/hub.h"
#include "model/model.h"
#include "model/summary.h"

namespace kiln::cli {
namespace {

struct InspectOptions {
  std::string model;
  std::string revision = "main";
  std::string gguf_file;
  int64_t ctx = 0;  // 0: the model's training context
  int64_t batch = 1;
  bool json = false;
};

std::string human_bytes(uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.2f %s", v, units[u]);
  return buf;
}

std::string human_count(int64_t n) {
  char buf[32];
  if (n >= 1'000'000'000)
    std::snprintf(buf, sizeof buf, "%.2fB", static_cast<double>(n) / 1e9);
  else if (n >= 1'000'000)
    std::snprintf(buf, sizeof buf, "%.1fM", static_cast<double>(n) / 1e6);
  else if (n >= 1'000)
    std::snprintf(buf, sizeof buf, "%.1fK", static_cast<double>(n) / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
  return buf;
}

std::string rope_scaling_name(model::RopeScalingType t) {
  switch (t) {
    case model::RopeScalingType::kNone:
      return "none";
    case model::RopeScalingType::kLinear:
      return "linear";
    case model::RopeScalingType::kDynamic:
      return "dynamic";
    case model::RopeScalingType::kYarn:
      return "yarn";
    case model::RopeScalingType::kLlama3:
      return "llama3";
    case model::RopeScalingType::kLongRope:
      return "longrope";
  }
  return "?";
}

int run_inspect(const InspectOptions& o) {
  auto hub_opts = model::hub::options_from_env();
  hub_opts.revision = o.revision;
  hub_opts.gguf_file = o.gguf_file;
  auto path = model::hub::resolve_model(o.model, hub_opts);
  if (!path) {
    std::fprintf(stderr, "kiln inspect: %s\n", path.message().c_str());
    return 1;
  }
  model::LoadOptions load;
  load.gguf_file = o.gguf_file;
  auto loaded = model::load_model(*path, load);
  if (!loaded) {
    std::fprintf(stderr, "kiln inspect: %s\n", loaded.message().c_str());
    return 1;
  }
  const model::ModelDescription& m = *loaded;
  const auto& hp = m.hparams;
  const auto s = model::summarize(m);
  const int64_t ctx = o.ctx > 0 ? o.ctx : hp.n_ctx_train;
  const int64_t batch = std::max<int64_t>(o.batch, 1);
  // What Kiln's paged cache holds, and for comparison llama.cpp's default
  // (f16, sliding-window layers keep only their window).
  const uint64_t kv = model::kv_cache_bytes(hp, model::engine_kv_sizes(ctx, batch));
  const uint64_t kv_llama_cpp = model::kv_cache_bytes(hp, {.n_ctx = ctx, .n_seq = batch});
  int64_t n_swa = 0;
  for (bool b : hp.layer_is_swa) n_swa += b ? 1 : 0;
  std::vector<std::string> templates;
  for (const auto& t : m.chat_templates) templates.push_back(t.name);

  if (o.json) {
    nlohmann::ordered_json j;
    j["path"] = m.path.string();
    j["format"] = m.format == model::Format::kGguf ? "gguf" : "safetensors";
    j["name"] = m.name;
    j["architecture"] = std::string(model::arch_name(m.arch));
    j["source_architecture"] = m.source_arch;
    j["parameters"] = s.n_params;
    j["weight_bytes"] = s.weight_bytes;
    auto& types = j["tensor_types"] = nlohmann::ordered_json::array();
    for (const auto& t : s.types)
      types.push_back({{"type", t.type},
                       {"tensors", t.n_tensors},
                       {"parameters", t.n_params},
                       {"bytes", t.n_bytes}});
    j["context_length"] = hp.n_ctx_train;
    j["n_layer"] = hp.n_layer;
    j["n_embd"] = hp.n_embd;
    j["n_head"] = hp.n_head;
    j["n_head_kv"] = hp.n_head_kv;
    j["head_dim"] = hp.head_dim;
    j["n_ff"] = hp.n_ff;
    j["n_vocab"] = hp.n_vocab;
    j["rope_theta"] = hp.rope_theta;
    j["rope_scaling"] = rope_scaling_name(hp.rope_scaling.type);
    j["sliding_window"] = hp.sliding_window;
    j["sliding_window_layers"] = n_swa;
    j["tokenizer"] = s.tokenizer;
    j["tokenizer_vocab"] = s.tokenizer_vocab;
    j["chat_template"] = !m.chat_templates.empty();
    j["chat_templates"] = templates;
    j["bos_token_id"] = m.special.bos ? nlohmann::ordered_json(*m.special.bos) : nullptr;
    j["eos_token_ids"] = m.special.eos_ids;
    j["kv_cache"] = {{"ctx", ctx},
                     {"batch", batch},
                     {"bytes_per_value", 4},
                     {"bytes", kv},
                     {"llama_cpp_f16_bytes", kv_llama_cpp}};
    j["memory_bytes"] = s.weight_bytes + kv;
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }

  std::printf("model:        %s\n", m.path.string().c_str());
  std::printf("name:         %s (%s, %s)\n", m.name.c_str(), m.source_arch.c_str(),
              m.format == model::Format::kGguf ? "GGUF" : "safetensors");
  std::printf(
      "architecture: %s, %lld layers, n_embd %lld, %lld heads / %lld KV heads, head_dim "
      "%lld, n_ff %lld\n",
      std::string(model::arch_name(m.arch)).c_str(), static_cast<long long>(hp.n_layer),
      static_cast<long long>(hp.n_embd), static_cast<long long>(hp.n_head),
      static_cast<long long>(hp.n_head_kv), static_cast<long long>(hp.head_dim),
      static_cast<long long>(hp.n_ff));
  std::printf("parameters:   %s (%lld)\n", human_count(s.n_params).c_str(),
              static_cast<long long>(s.n_params));
  std::printf("tensor types:");
  for (const auto& t : s.types)
    std::printf(" %s x%lld (%s)", t.type.c_str(), static_cast<long long>(t.n_tensors),
                human_bytes(t.n_bytes).c_str());
  std::printf("\n");
  std::printf("context:      %lld tokens (rope theta %g, scaling %s",
              static_cast<long long>(hp.n_ctx_train), hp.rope_theta,
              rope_scaling_name(hp.rope_scaling.type).c_str());
  if (hp.sliding_window > 0)
    std::printf("; sliding window %lld on %lld of %lld layers",
                static_cast<long long>(hp.sliding_window), static_cast<long long>(n_swa),
                static_cast<long long>(hp.n_layer));
  std::printf(")\n");
  std::printf("tokenizer:    %s, %lld tokens (embedding rows %lld)\n", s.tokenizer.c_str(),
              static_cast<long long>(s.tokenizer_vocab), static_cast<long long>(hp.n_vocab));
  std::string tmpl = templates.empty() ? "none" : "";
  for (size_t i = 0; i < templates.size(); ++i) tmpl += (i ? ", " : "") + templates[i];
  std::printf("templates:    %s\n", tmpl.c_str());
  std::printf("memory:       weights %s + KV cache %s (f32, ctx %lld x batch %lld) = %s\n",
              human_bytes(s.weight_bytes).c_str(), human_bytes(kv).c_str(),
              static_cast<long long>(ctx), static_cast<long long>(batch),
              human_bytes(s.weight_bytes + kv).c_str());
  std::printf("              (llama.cpp's f16 KV cache%s: %s)\n",
              n_swa > 0 ? ", sliding-window layers at their window" : "",
              human_bytes(kv_llama_cpp).c_str());
  return 0;
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  auto o = std::make_shared<InspectOptions>();
  auto* cmd = app.add_subcommand(
      "inspect",
      "Describe a model (GGUF file, Hugging Face directory or Hub id) and its memory needs");
  cmd->add_option("model", o->model, "GGUF file, model directory or Hub model id")->required();
  cmd->add_option("--ctx", o->ctx,
                  "context length per sequence for the KV estimate (default: the model's)");
  cmd->add_option("--batch", o->batch, "sequences held at once for the KV estimate")
      ->default_val(1);
  cmd->add_option("--revision", o->revision, "Hub revision (branch, tag or commit)")
      ->default_val("main");
  cmd->add_option("--gguf-file", o->gguf_file, "which .gguf file of a Hub repo or directory");
  cmd->add_flag("--json", o->json, "print one JSON object");
  cmd->callback([o] { std::exit(run_inspect(*o)); });
}

}  // namespace kiln::cli
