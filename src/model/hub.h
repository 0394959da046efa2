// Hugging Face Hub client: fetches what a model needs into the cache layout
// that the `huggingface_hub` Python library uses, so either tool reuses what
// the other downloaded:
//
//   <cache>/models--<org>--<name>/blobs/<etag>            file contents
//   <cache>/models--<org>--<name>/snapshots/<commit>/<f>  relative symlinks to blobs
//   <cache>/models--<org>--<name>/refs/<revision>         commit hash of a branch/tag
//
// Only the files a model needs are fetched: config/tokenizer/template files
// plus the safetensors weights (one file or the shards of the index), or one
// GGUF file. Downloads resume from `<blob>.incomplete`, are checked against
// the size and (for LFS files) the SHA-256 the Hub reports, and retry when a
// connection drops. Blocking; call it from a startup or CLI thread.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "util/result.h"

namespace kiln::model::hub {

enum class ProgressStyle { kAuto, kBar, kLines, kNone };  // kAuto: bar when stderr is a TTY

struct HubOptions {
  std::string endpoint = "https://huggingface.co";  // HF_ENDPOINT
  std::string token;  // HF_TOKEN, HUGGING_FACE_HUB_TOKEN, HF_API_TOKEN or $HF_HOME/token
  std::filesystem::path cache_dir;  // HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, $HF_HOME/hub
  std::string revision = "main";    // branch, tag, commit or refs/pr/N
  bool offline = false;             // HF_HUB_OFFLINE=1: the cache only, no network
  std::string gguf_file;            // fetch this GGUF file of the repo instead of safetensors
  ProgressStyle progress = ProgressStyle::kAuto;
  int max_retries = 5;  // per file, after a dropped connection
  long connect_timeout_s = 10;
  // Where progress lines and notices go (default: stderr).
  std::function<void(std::string_view)> log;
};

// Options as huggingface_hub reads them from the environment (HF_ENDPOINT,
// tokens, HF_HOME / HF_HUB_CACHE / HUGGINGFACE_HUB_CACHE, HF_HUB_OFFLINE).
HubOptions options_from_env();

// True when `s` has the shape of a Hub repo id ("name" or "org/name").
bool is_repo_id(std::string_view s);

// Makes `repo_id` available in the cache and returns what load_model() takes:
// the snapshot directory, or the GGUF file's path when the model is a GGUF file
// (options.gguf_file, or a repo whose only weights are one .gguf file).
util::Result<std::filesystem::path> download(const std::string& repo_id, const HubOptions& options);

// --model-id: an existing local file or directory as is, else a Hub repo id
// resolved with download().
util::Result<std::filesystem::path> resolve_model(const std::string& model_id,
                                                  const HubOptions& options);

}  // namespace kiln::model::hub
