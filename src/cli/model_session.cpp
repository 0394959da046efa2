#include "cli/model_session.h"

#include <algorithm>
#include <charconv>

namespace kiln::cli {

util::Result<std::vector<int32_t>> parse_token_list(const std::string& text) {
  std::vector<int32_t> ids;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    int32_t id = 0;
    auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), id);
    if (item.empty() || ec != std::errc() || ptr != item.data() + item.size() || id < 0)
      return util::make_error("--tokens: '" + item + "' is not a token id");
    ids.push_back(id);
    start = end + 1;
  }
  return ids;
}

ModelSession::~ModelSession() { seq_.reset(); }  // blocks before their cache

util::Result<std::unique_ptr<ModelSession>> ModelSession::open(const std::filesystem::path& path,
                                                               const SessionOptions& options) {
  auto desc = model::load_model(path);
  if (!desc) return util::make_error(desc.message());
  std::unique_ptr<ModelSession> s(new ModelSession());
  s->options_ = options;
  s->description_ = std::make_shared<const model::ModelDescription>(std::move(desc).value());
  model::ModelOptions mo;
  mo.n_threads = options.n_threads;
  mo.n_ctx = options.n_ctx;
  mo.gelu_f16_table = options.gelu_f16_table;
  auto m = model::Model::create(s->description_, mo);
  if (!m) return util::make_error(m.message());
  s->model_ = std::move(m).value();
  constexpr int32_t kBlock = 16;
  const int64_t n_blocks = (s->model_->n_ctx() + kBlock - 1) / kBlock;
  auto kv = model::KvCache::create(s->model_->kv_cache_options(n_blocks, kBlock));
  if (!kv) return util::make_error(kv.message());
  s->kv_ = std::move(kv).value();
  s->seq_ = std::make_unique<model::KvSequence>(*s->kv_);
  return s;
}

util::Result<model::Logits> ModelSession::append(const std::vector<int32_t>& ids, bool all_logits) {
  model::Logits out;
  out.n_vocab = model_->n_vocab();
  const int64_t n = static_cast<int64_t>(ids.size());
  for (int64_t begin = 0; begin < n; begin += options_.max_batch) {
    const int64_t end = std::min(n, begin + options_.max_batch);
    const int64_t start = seq_->n_positions();
    if (start + (end - begin) > model_->n_ctx())
      return util::make_error("the sequence would have " + std::to_string(start + n - begin) +
                              " tokens, more than the context length " +
                              std::to_string(model_->n_ctx()));
    if (!seq_->reserve(start + (end - begin))) return util::make_error("KV cache is full");
    model::Batch batch;
    batch.seqs = {seq_.get()};
    for (int64_t i = begin; i < end; ++i)
      batch.tokens.push_back(
          {.id = ids[i], .seq = 0, .pos = start + (i - begin), .logits = all_logits || i + 1 == n});
    auto r = model_->forward(batch, *kv_);
    if (!r) return util::make_error(r.message());
    for (size_t row = 0; row < r->n_rows(); ++row)
      out.token_index.push_back(static_cast<int32_t>(begin + r->token_index[row]));
    out.data.insert(out.data.end(), r->data.begin(), r->data.end());
  }
  return out;
}

}  // namespace kiln::cli
