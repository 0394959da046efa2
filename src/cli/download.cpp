// `kiln download MODEL_ID`: fetch a model from the Hugging Face Hub into the
// shared cache (the huggingface_hub layout) and print the local path that
// `kiln serve --model-id` and `kiln inspect` load.
//
//   kiln download Qwen/Qwen2.5-0.5B-Instruct
//   kiln download unsloth/gemma-3-270m-it-GGUF --gguf-file gemma-3-270m-it-Q4_K_M.gguf
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli/commands.h"
#include "model/hub.h"

namespace kiln::cli {
namespace {

struct DownloadOptions {
  std::string model_id;
  std::string revision = "main";
  std::string gguf_file;
  std::string cache_dir;
  bool offline = false;
  bool quiet = false;
};

int run_download(const DownloadOptions& o) {
  auto opts = model::hub::options_from_env();
  opts.revision = o.revision;
  opts.gguf_file = o.gguf_file;
  if (!o.cache_dir.empty()) opts.cache_dir = o.cache_dir;
  if (o.offline) opts.offline = true;
  if (o.quiet) opts.progress = model::hub::ProgressStyle::kNone;
  auto path = model::hub::download(o.model_id, opts);
  if (!path) {
    std::fprintf(stderr, "kiln download: %s\n", path.message().c_str());
    return 1;
  }
  std::printf("%s\n", path->string().c_str());
  return 0;
}

}  // namespace

void add_download_command(CLI::App& app) {
  auto o = std::make_shared<DownloadOptions>();
  auto* cmd = app.add_subcommand(
      "download", "Download a model from the Hugging Face Hub into the cache and print its path");
  cmd->add_option("model_id", o->model_id, "Hub model id, e.g. org/name")->required();
  cmd->add_option("--revision", o->revision, "branch, tag, commit or refs/pr/N")
      ->default_val("main")
      ->envname("REVISION");
  cmd->add_option("--gguf-file", o->gguf_file,
                  "fetch this .gguf file of the repo instead of safetensors weights");
  cmd->add_option("--huggingface-hub-cache,--cache-dir", o->cache_dir,
                  "cache directory (default: HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE or $HF_HOME/hub)");
  cmd->add_flag("--offline", o->offline, "use the cache only (same as HF_HUB_OFFLINE=1)");
  cmd->add_flag("--quiet,-q", o->quiet, "no progress output");
  cmd->callback([o] { std::exit(run_download(*o)); });
}

}  // namespace kiln::cli
