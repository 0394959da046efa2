// What `kiln generate` and `kiln eval-logits` share: a model loaded for one
// sequence on this thread, and token-list parsing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "model/forward.h"
#include "util/result.h"

namespace kiln::cli {

// Parses "1,2,3" (spaces allowed); fails naming the bad item.
util::Result<std::vector<int32_t>> parse_token_list(const std::string& text);

struct SessionOptions {
  int n_threads = 0;
  int64_t n_ctx = 0;        // 0: the model's own
  int64_t max_batch = 512;  // tokens per forward call while prefilling
  bool gelu_f16_table = false;
};

// A model with a KV cache sized for one sequence of n_ctx positions.
class ModelSession {
 public:
  static util::Result<std::unique_ptr<ModelSession>> open(const std::filesystem::path& path,
                                                          const SessionOptions& options);
  ~ModelSession();

  model::Model& model() { return *model_; }
  std::shared_ptr<const model::ModelDescription> description() const { return description_; }
  int64_t n_positions() const { return seq_->n_positions(); }

  // Appends ids to the sequence in chunks of max_batch tokens. Returns the
  // logits of every appended position (all_logits) or of the last one.
  util::Result<model::Logits> append(const std::vector<int32_t>& ids, bool all_logits);

 private:
  ModelSession() = default;
  SessionOptions options_;
  std::shared_ptr<const model::ModelDescription> description_;
  std::unique_ptr<model::Model> model_;
  std::unique_ptr<model::KvCache> kv_;
  std::unique_ptr<model::KvSequence> seq_;
};

}  // namespace kiln::cli
