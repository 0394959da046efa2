// Shared pieces of the engine tests: loading a tiny model, collecting a
// stream's events, and the solo reference the engine is checked against.
//
// The reference generates one request alone, straight through
// Model::forward (the whole prompt in one chunk, then one token per step, a
// private KV cache, no scheduler, block manager or prefix cache) with the
// sampling library's Sampler and StopChecker. The engine must produce
// exactly its tokens whatever the batching, chunking, preemption or cache
// hits around it.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "engine/create.h"
#include "model/forward.h"
#include "sampling/sampler.h"
#include "sampling/stop.h"
#include "test_paths.h"
#include "tokenizer/tokenizer.h"

namespace kiln::engine::test {

struct TestModel {
  std::shared_ptr<const model::ModelDescription> description;
  std::shared_ptr<model::Model> model;      // for the engine
  std::unique_ptr<model::Model> reference;  // a second instance for the solo reference
  std::shared_ptr<const tokenizer::Tokenizer> tokenizer;
};

// tests/data/models/<name> (HF directories), tests/data/models/gguf/<name>,
// or ../shared/data/goldens/models/<name>.
inline std::optional<std::filesystem::path> find_model(const std::string& file) {
  for (auto dir : {kiln::test::data_dir() / "models", kiln::test::data_dir() / "models/gguf",
                   kiln::test::shared_dir() / "data/goldens/models"}) {
    if (std::filesystem::exists(dir / file)) return dir / file;
  }
  return std::nullopt;
}

inline TestModel load_model(const std::filesystem::path& path, int64_t n_ctx = 0) {
  TestModel t;
  auto desc = model::load_model(path);
  EXPECT_TRUE(desc.ok()) << desc.message();
  t.description = std::make_shared<model::ModelDescription>(std::move(desc).value());
  model::ModelOptions options;
  options.n_ctx = n_ctx;
  options.n_threads = 1;
  t.model = std::move(model::Model::create(t.description, options).value());
  options.n_threads = 1;
  t.reference = std::move(model::Model::create(t.description, options).value());
  auto tok = t.description->gguf ? tokenizer::Tokenizer::from_gguf(*t.description->gguf)
                                 : tokenizer::Tokenizer::load(path);
  EXPECT_TRUE(tok.ok()) << tok.message();
  t.tokenizer = std::make_shared<tokenizer::Tokenizer>(std::move(tok).value());
  return t;
}

struct Output {
  std::vector<int32_t> ids;
  std::string streamed;  // TokenEvent texts, concatenated
  std::vector<TokenEvent> tokens;
  std::optional<FinishedEvent> finished;
};

struct Collected {
  std::vector<Output> choices;
  std::optional<FailedEvent> failed;
  bool complete() const {
    if (failed) return false;
    for (const auto& c : choices)
      if (!c.finished) return false;
    return true;
  }
};

// Blocks until the stream ends: a FinishedEvent for each of n choices, or a
// FailedEvent.
inline Collected collect(EventStream& stream, int n = 1) {
  Collected c;
  c.choices.resize(static_cast<size_t>(n));
  int finished = 0;
  while (finished < n) {
    Event e = stream.wait_pop();
    if (auto* t = std::get_if<TokenEvent>(&e)) {
      auto& o = c.choices.at(static_cast<size_t>(t->choice));
      o.ids.push_back(t->id);
      o.streamed += t->text;
      o.tokens.push_back(std::move(*t));
    } else if (auto* f = std::get_if<FinishedEvent>(&e)) {
      c.choices.at(static_cast<size_t>(f->choice)).finished = std::move(*f);
      ++finished;
    } else {
      c.failed = std::get<FailedEvent>(e);
      break;
    }
  }
  return c;
}

struct Reference {
  std::vector<int32_t> ids;
  sampling::StopReason reason = sampling::StopReason::kNone;
};

// The solo reference of `request` (its choice 0; see the top comment).
inline Reference reference_generate(model::Model& m, const GenerationRequest& request,
                                    std::span<const int32_t> eos_ids) {
  const int64_t n_prompt = static_cast<int64_t>(request.prompt.size());
  int32_t cap = request.stop.max_new_tokens;
  if (cap <= 0 || cap > m.n_ctx() - n_prompt) cap = static_cast<int32_t>(m.n_ctx() - n_prompt);
  const int64_t n_blocks = (n_prompt + cap + 15) / 16;
  auto kv = std::move(model::KvCache::create(m.kv_cache_options(n_blocks, 16)).value());
  Reference ref;
  {
    model::KvSequence seq(*kv);
    EXPECT_TRUE(seq.reserve(n_prompt + cap));
    sampling::SamplingState state(
        {.sampling = request.sampling, .logprobs = request.logprobs, .prompt = request.prompt});
    sampling::StopParams stop_params = request.stop;
    stop_params.max_new_tokens = cap;
    stop_params.stop.clear();  // token-level reference: stop strings are checked on text
    sampling::StopChecker stop(stop_params, eos_ids);
    sampling::Sampler sampler;
    std::vector<int32_t> feed = request.prompt;
    int64_t pos = 0;
    while (true) {
      model::Batch batch;
      batch.seqs = {&seq};
      for (size_t i = 0; i < feed.size(); ++i)
        batch.tokens.push_back({.id = feed[i],
                                .seq = 0,
                                .pos = pos + static_cast<int64_t>(i),
                                .logits = i + 1 == feed.size()});
      auto logits = m.forward(batch, *kv);
      EXPECT_TRUE(logits.ok()) << logits.message();
      if (!logits.ok()) break;
      pos += static_cast<int64_t>(feed.size());
      std::span<float> row(logits->data.data(), static_cast<size_t>(logits->n_vocab));
      sampling::SampleInput in{&state, row};
      sampling::SampleOutput out;
      sampler.sample(std::span(&in, 1), std::span(&out, 1));
      ref.ids.push_back(out.token);
      std::string emit;
      ref.reason = stop.update(out.token, "", emit);
      if (ref.reason != sampling::StopReason::kNone) break;
      feed = {out.token};
    }
  }
  return ref;
}

// Random prompt ids in [3, n_vocab) (skips the stories vocabulary's
// <unk>, <s>, </s>).
inline std::vector<int32_t> random_prompt(std::mt19937& rng, int64_t n_vocab, int length) {
  std::uniform_int_distribution<int32_t> id(3, static_cast<int32_t>(n_vocab - 1));
  std::vector<int32_t> ids(static_cast<size_t>(length));
  for (auto& x : ids) x = id(rng);
  return ids;
}

inline GenerationRequest greedy_request(std::vector<int32_t> prompt, int32_t max_new_tokens) {
  GenerationRequest r;
  r.prompt = std::move(prompt);
  r.stop.max_new_tokens = max_new_tokens;
  r.stop.ignore_eos = true;
  r.sampling.seed = 1;
  return r;
}

inline GenerationRequest sampled_request(std::vector<int32_t> prompt, int32_t max_new_tokens,
                                         uint64_t seed) {
  GenerationRequest r = greedy_request(std::move(prompt), max_new_tokens);
  r.sampling.do_sample = true;
  r.sampling.temperature = 0.9f;
  r.sampling.top_p = 0.95f;
  r.sampling.seed = seed;
  return r;
}

}  // namespace kiln::engine::test
