// The engine end to end on hf-tiny-llama (random weights, hidden 64, 512-token
// vocabulary, run with a 1024-position context): outputs under concurrency, chunking, preemption,
// prefix caching and forks equal the solo reference (engine_test_util.h);
// cancellation and retirement give every block back.
#include <gtest/gtest.h>

#include <chrono>
#include <numeric>
#include <random>
#include <thread>

#include "engine_test_util.h"
#include "sampling/rng.h"

namespace kiln::engine {
namespace {

using test::collect;
using test::greedy_request;
using test::random_prompt;
using test::reference_generate;
using test::sampled_request;

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto path = test::find_model("hf-tiny-llama");
    ASSERT_TRUE(path.has_value());
    m_ = test::load_model(*path, /*n_ctx=*/1024);
  }

  std::shared_ptr<Engine> make(const EngineOptions& options) {
    auto e = create_engine(m_.model, m_.tokenizer, options);
    EXPECT_TRUE(e.ok()) << e.message();
    return e.ok() ? std::move(e).value() : nullptr;
  }

  // Choice k of r is the solo run of r with choice k's seed (what its
  // FinishedEvent reports, so a client can reproduce it).
  test::Reference reference(const GenerationRequest& r, int32_t choice = 0) {
    GenerationRequest solo = r;
    solo.n = 1;
    solo.sampling.seed = sampling::choice_seed(r.sampling.seed, static_cast<uint32_t>(choice));
    return reference_generate(*m_.reference, solo, m_.description->special.eos_ids);
  }

  // Waits (bounded) until the engine has retired every request.
  static EngineStats settle(Engine& e) {
    EngineStats s = e.stats();
    for (int i = 0; i < 2000 && s.requests_in_flight > 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      s = e.stats();
    }
    return s;
  }

  int64_t n_vocab() const { return m_.model->n_vocab(); }

  test::TestModel m_;
};

TEST_F(EngineTest, SixtyFourConcurrentGreedyRequestsGiveTheirSoloOutputs) {
  // Small prefill budgets force chunked prompts mixed with decode steps.
  auto engine = make({.max_batch_total_tokens = 16384,
                      .max_batch_prefill_tokens = 96,
                      .prefill_chunk_tokens = 24});
  std::mt19937 rng(42);
  std::vector<GenerationRequest> requests;
  for (int i = 0; i < 64; ++i) {
    auto prompt = random_prompt(rng, n_vocab(), 1 + static_cast<int>(rng() % 90));
    requests.push_back(greedy_request(std::move(prompt), 4 + static_cast<int32_t>(rng() % 28)));
  }
  std::vector<std::shared_ptr<EventStream>> streams;
  for (const auto& r : requests) streams.push_back(engine->submit(r));
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto got = collect(*streams[i]);
    ASSERT_TRUE(got.complete()) << i << ": " << (got.failed ? got.failed->message : "");
    const auto want = reference(requests[i]);
    EXPECT_EQ(got.choices[0].ids, want.ids) << "request " << i;
    const FinishedEvent& f = *got.choices[0].finished;
    EXPECT_EQ(f.reason, FinishReason::kLength);
    EXPECT_EQ(f.generated_tokens, requests[i].stop.max_new_tokens);
    EXPECT_EQ(f.prompt_tokens, static_cast<int32_t>(requests[i].prompt.size()));
    EXPECT_FALSE(f.sampled);
    EXPECT_EQ(f.text, got.choices[0].streamed);
    EXPECT_TRUE(got.choices[0].tokens.back().last);
    for (size_t k = 0; k + 1 < got.choices[0].tokens.size(); ++k)
      EXPECT_FALSE(got.choices[0].tokens[k].last);
  }
  const EngineStats s = settle(*engine);
  EXPECT_EQ(s.kv_blocks_used, 0);
  EXPECT_EQ(s.requests_in_flight, 0);
}

TEST_F(EngineTest, SeededSamplingIsTheSameAloneAndUnderLoad) {
  auto engine = make({.max_batch_total_tokens = 8192, .prefill_chunk_tokens = 32});
  std::mt19937 rng(7);
  std::vector<GenerationRequest> sampled;
  for (int i = 0; i < 12; ++i)
    sampled.push_back(sampled_request(random_prompt(rng, n_vocab(), 5 + i * 3), 24, 1000 + i));
  // Alone, one after another.
  std::vector<std::vector<int32_t>> alone;
  for (const auto& r : sampled) {
    auto got = collect(*engine->submit(r));
    ASSERT_TRUE(got.complete());
    EXPECT_TRUE(got.choices[0].finished->sampled);
    EXPECT_EQ(got.choices[0].finished->seed, r.sampling.seed);
    alone.push_back(got.choices[0].ids);
    EXPECT_EQ(alone.back(), reference(r).ids);
  }
  // Interleaved with greedy traffic.
  std::vector<std::shared_ptr<EventStream>> noise, streams;
  for (int i = 0; i < 20; ++i)
    noise.push_back(engine->submit(greedy_request(random_prompt(rng, n_vocab(), 40), 30)));
  for (const auto& r : sampled) streams.push_back(engine->submit(r));
  for (size_t i = 0; i < sampled.size(); ++i) {
    auto got = collect(*streams[i]);
    ASSERT_TRUE(got.complete());
    EXPECT_EQ(got.choices[0].ids, alone[i]) << i;
  }
  for (auto& s : noise) EXPECT_TRUE(collect(*s).complete());
  // Different seeds differ (12 sequences of 24 tokens from 509 ids).
  EXPECT_NE(alone[0], alone[1]);
}

TEST_F(EngineTest, SameSeedUnderConcurrentLoadIncludingSeveralChoices) {
  // The same seeded request four times at once, and a 3-choice request,
  // in the middle of other sampled and greedy traffic: every copy gives the
  // solo reference, choice k its own stream k.
  auto engine = make({.max_batch_total_tokens = 8192, .prefill_chunk_tokens = 24});
  std::mt19937 rng(29);
  const auto seeded = sampled_request(random_prompt(rng, n_vocab(), 37), 20, 777);
  auto multi = sampled_request(random_prompt(rng, n_vocab(), 41), 16, 778);
  multi.n = 3;
  std::vector<std::shared_ptr<EventStream>> noise, copies;
  for (int i = 0; i < 24; ++i) {
    auto prompt = random_prompt(rng, n_vocab(), 10 + i);
    noise.push_back(
        engine->submit(i % 2 ? greedy_request(prompt, 25) : sampled_request(prompt, 25, 5000 + i)));
    if (i % 6 == 0) copies.push_back(engine->submit(seeded));
  }
  auto multi_stream = engine->submit(multi);
  const auto want = reference(seeded).ids;
  for (auto& c : copies) {
    auto got = collect(*c);
    ASSERT_TRUE(got.complete());
    EXPECT_EQ(got.choices[0].ids, want);
    EXPECT_EQ(got.choices[0].finished->seed, 777u);
  }
  auto got = collect(*multi_stream, 3);
  ASSERT_TRUE(got.complete());
  for (int k = 0; k < 3; ++k) EXPECT_EQ(got.choices[k].ids, reference(multi, k).ids) << k;
  for (auto& n : noise) EXPECT_TRUE(collect(*n).complete());
  const EngineStats s = settle(*engine);
  EXPECT_EQ(s.kv_blocks_used, 0);
  // Step timings: every step is counted once, as prefill or decode.
  EXPECT_EQ(s.prefill_steps.step.count + s.decode_steps.step.count, s.steps);
  EXPECT_EQ(s.prefill_steps.forward.count + s.decode_steps.forward.count, s.steps);
  EXPECT_GT(s.prefill_steps.step.count, 0);
  EXPECT_GT(s.decode_steps.step.count, 0);
  EXPECT_EQ(s.prefill_steps.failures + s.decode_steps.failures, 0);
  EXPECT_EQ(s.prefill_steps.detokenize.count + s.decode_steps.detokenize.count, s.steps);
  EXPECT_EQ(s.prefill_steps.filter.count + s.decode_steps.filter.count, s.steps);
  // Each of the 29 requests is scheduled for the first time once.
  EXPECT_EQ(s.next_size.sum, 29.0);
  EXPECT_EQ(std::accumulate(s.next_size.counts.begin(), s.next_size.counts.end(), int64_t{0}),
            s.next_size.count);
}

// A special token's own text travels beside the generated text: the EOS
// event adds nothing to the text, and carries "</s>" (the tokenizer's string
// for id 2) for the native routes to show, as TGI does.
TEST_F(EngineTest, EosEventCarriesItsOwnTextApart) {
  auto engine = make({.max_batch_total_tokens = 4096});
  std::mt19937 rng(37);
  auto r = greedy_request(random_prompt(rng, n_vocab(), 12), 5);
  r.stop.ignore_eos = false;
  r.sampling.logit_bias = {{2, 100.0f}};  // EOS first
  auto got = collect(*engine->submit(r));
  ASSERT_TRUE(got.complete());
  EXPECT_EQ(got.choices[0].ids, std::vector<int32_t>{2});
  EXPECT_EQ(got.choices[0].streamed, "");
  EXPECT_EQ(got.choices[0].finished->reason, FinishReason::kEosToken);
  ASSERT_EQ(got.choices[0].tokens.size(), 1u);
  EXPECT_TRUE(got.choices[0].tokens[0].special);
  EXPECT_EQ(got.choices[0].tokens[0].special_text, "</s>");
}

TEST_F(EngineTest, RequestJoiningARunningBatchCountsAsConcat) {
  auto engine = make({.max_batch_total_tokens = 4096});
  std::mt19937 rng(31);
  // The first runs until cancelled (1000 tokens would take far longer than
  // the second request needs), so the second always joins it.
  auto first = engine->submit(greedy_request(random_prompt(rng, n_vocab(), 20), 1000));
  ASSERT_TRUE(std::holds_alternative<TokenEvent>(first->wait_pop()));  // it is running
  auto second = engine->submit(greedy_request(random_prompt(rng, n_vocab(), 20), 5));
  EXPECT_TRUE(collect(*second).complete());
  first->cancel();
  const EngineStats s = settle(*engine);
  EXPECT_EQ(s.requests_in_flight, 0);
  EXPECT_EQ(s.next_size.count, 2);  // two steps each started one request
  EXPECT_EQ(s.next_size.counts[0], 2);
  EXPECT_EQ(s.concat, 1);  // the second joined the first
  EXPECT_EQ(s.prefill_steps.concat.count, 1);
  EXPECT_EQ(s.decode_steps.concat.count, 0);
}

TEST_F(EngineTest, CancelledAndAbandonedRequestsFreeTheirBlocks) {
  auto engine = make({.max_batch_total_tokens = 4096, .prefix_caching = false});
  std::mt19937 rng(3);
  std::vector<std::shared_ptr<EventStream>> streams;
  for (int i = 0; i < 6; ++i)
    streams.push_back(engine->submit(greedy_request(random_prompt(rng, n_vocab(), 30), 400)));
  // Request 0: cancel after a few tokens.
  for (int seen = 0; seen < 3;) {
    if (std::holds_alternative<TokenEvent>(streams[0]->wait_pop())) ++seen;
  }
  streams[0]->cancel();
  // Request 1: the consumer just goes away.
  streams[1].reset();
  auto cancelled = collect(*streams[0]);
  ASSERT_TRUE(cancelled.failed.has_value());
  EXPECT_EQ(cancelled.failed->kind, FailureKind::kIncomplete);
  // Cancel the rest too, so the test stays short, and check the pool.
  for (size_t i = 2; i < streams.size(); ++i) streams[i]->cancel();
  for (size_t i = 2; i < streams.size(); ++i) EXPECT_TRUE(collect(*streams[i]).failed.has_value());
  const EngineStats s = settle(*engine);
  EXPECT_EQ(s.requests_in_flight, 0);
  EXPECT_EQ(s.kv_blocks_used, 0);
  EXPECT_EQ(s.kv_blocks_free, s.kv_blocks_total);
  // The engine still serves.
  auto r = greedy_request(random_prompt(rng, n_vocab(), 12), 6);
  auto got = collect(*engine->submit(r));
  ASSERT_TRUE(got.complete());
  EXPECT_EQ(got.choices[0].ids, reference(r).ids);
}

TEST_F(EngineTest, PreemptionInATinyPoolStillGivesSoloOutputs) {
  // 7 blocks of 16 = 112 positions; each request needs up to 80 alone.
  auto engine = make({.max_batch_total_tokens = 112, .prefill_chunk_tokens = 16});
  std::mt19937 rng(5);
  std::vector<GenerationRequest> requests;
  for (int i = 0; i < 10; ++i)
    requests.push_back(greedy_request(random_prompt(rng, n_vocab(), 10 + 3 * i), 50));
  requests.push_back(sampled_request(random_prompt(rng, n_vocab(), 20), 50, 99));
  // Two choices forked from one prompt: preempting one must not disturb the
  // prompt blocks the other still shares.
  requests.push_back(sampled_request(random_prompt(rng, n_vocab(), 36), 40, 98));
  requests.back().n = 2;
  std::vector<std::shared_ptr<EventStream>> streams;
  for (const auto& r : requests) streams.push_back(engine->submit(r));
  for (size_t i = 0; i < requests.size(); ++i) {
    auto got = collect(*streams[i], requests[i].n);
    ASSERT_TRUE(got.complete()) << i;
    for (int32_t k = 0; k < requests[i].n; ++k)
      EXPECT_EQ(got.choices[k].ids, reference(requests[i], k).ids) << "request " << i << "." << k;
  }
  const EngineStats s = settle(*engine);
  EXPECT_GT(s.preemptions, 0);
  EXPECT_EQ(s.kv_blocks_used, 0);
}

TEST_F(EngineTest, SecondRequestWithTheSameLongPrefixHitsThePrefixCache) {
  auto engine = make({.max_batch_total_tokens = 4096});
  std::mt19937 rng(11);
  const auto system = random_prompt(rng, n_vocab(), 500);
  auto first = system, second = system;
  for (int32_t id : random_prompt(rng, n_vocab(), 9)) first.push_back(id);
  for (int32_t id : random_prompt(rng, n_vocab(), 13)) second.push_back(id);
  const auto r1 = greedy_request(first, 12), r2 = greedy_request(second, 12);

  auto got1 = collect(*engine->submit(r1));
  const EngineStats s1 = settle(*engine);
  auto got2 = collect(*engine->submit(r2));
  const EngineStats s2 = settle(*engine);
  ASSERT_TRUE(got1.complete() && got2.complete());
  EXPECT_EQ(got1.choices[0].ids, reference(r1).ids);
  EXPECT_EQ(got2.choices[0].ids, reference(r2).ids);
  // The first computed its whole prompt; the second only what follows the
  // 31 full blocks (496 positions) of the shared 500-token prefix.
  EXPECT_EQ(s1.prefill_tokens, static_cast<int64_t>(first.size()));
  EXPECT_EQ(s2.prefill_tokens - s1.prefill_tokens, static_cast<int64_t>(second.size()) - 496);
  EXPECT_EQ(s2.prefix_cache_hits - s1.prefix_cache_hits, 31);
  EXPECT_EQ(s2.kv_blocks_used, 0);
}

TEST_F(EngineTest, ChoicesShareThePromptAndEachHasItsOwnSeed) {
  auto engine = make({.max_batch_total_tokens = 4096, .prefix_caching = false});
  std::mt19937 rng(13);
  auto r = sampled_request(random_prompt(rng, n_vocab(), 100), 20, 4242);
  r.n = 4;
  auto got = collect(*engine->submit(r), 4);
  ASSERT_TRUE(got.complete());
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(got.choices[k].ids, reference(r, k).ids) << "choice " << k;
    EXPECT_EQ(got.choices[k].finished->choice, k);
  }
  EXPECT_NE(got.choices[0].ids, got.choices[1].ids);
  EXPECT_NE(got.choices[2].ids, got.choices[3].ids);
  // The prompt was computed once: choices 1-3 share its 6 full blocks and
  // recompute only the 4 positions of the partial block (100 = 6 * 16 + 4)
  // together with their first token.
  const EngineStats s = settle(*engine);
  EXPECT_EQ(s.prefill_tokens, 100 + 3 * (4 + 1));
  EXPECT_EQ(s.kv_blocks_used, 0);
  // Choice 0 keeps the request's seed; the others report their own, and the
  // request sent again with that seed gives the same tokens.
  for (int k = 0; k < 4; ++k) {
    const uint64_t seed = got.choices[k].finished->seed;
    EXPECT_EQ(seed == 4242u, k == 0) << k;
    GenerationRequest again = r;
    again.n = 1;
    again.sampling.seed = seed;
    EXPECT_EQ(collect(*engine->submit(again)).choices[0].ids, got.choices[k].ids) << k;
  }
}

TEST_F(EngineTest, PrefillLogprobsMatchTheRawLogitsOfTheWholePrompt) {
  auto engine = make({.max_batch_total_tokens = 4096, .prefill_chunk_tokens = 16});
  std::mt19937 rng(17);
  auto r = greedy_request(random_prompt(rng, n_vocab(), 150), 3);
  r.logprobs.prefill = true;
  // Reference: one forward over the whole prompt with every row.
  auto kv = std::move(model::KvCache::create(m_.reference->kv_cache_options(16, 16)).value());
  std::vector<float> want(r.prompt.size());
  {
    model::KvSequence seq(*kv);
    ASSERT_TRUE(seq.reserve(static_cast<int64_t>(r.prompt.size())));
    model::Batch batch;
    batch.seqs = {&seq};
    for (size_t i = 0; i < r.prompt.size(); ++i)
      batch.tokens.push_back(
          {.id = r.prompt[i], .seq = 0, .pos = static_cast<int64_t>(i), .logits = true});
    auto logits = m_.reference->forward(batch, *kv);
    ASSERT_TRUE(logits.ok());
    for (size_t i = 1; i < r.prompt.size(); ++i)
      want[i] = sampling::raw_logprob(logits->row(i - 1), r.prompt[i]);
  }
  // Twice: the second run must not skip rows because of the prefix cache.
  for (int run = 0; run < 2; ++run) {
    auto got = collect(*engine->submit(r));
    ASSERT_TRUE(got.complete());
    const auto& prefill = got.choices[0].finished->prefill;
    ASSERT_EQ(prefill.size(), r.prompt.size());
    EXPECT_TRUE(std::isnan(prefill[0].logprob));
    for (size_t i = 0; i < prefill.size(); ++i) {
      EXPECT_EQ(prefill[i].id, r.prompt[i]);
      if (i > 0) {
        EXPECT_EQ(prefill[i].logprob, want[i]) << "run " << run << " token " << i;
      }
    }
    EXPECT_EQ(got.choices[0].ids, reference(r).ids);
  }
}

TEST_F(EngineTest, RequestsThatCanNeverRunFailValidationAndTheEngineGoesOn) {
  auto engine = make({.max_batch_total_tokens = 256});
  std::mt19937 rng(19);
  const auto check = [&](GenerationRequest r, const char* what) {
    auto got = collect(*engine->submit(std::move(r)));
    ASSERT_TRUE(got.failed.has_value()) << what;
    EXPECT_EQ(got.failed->kind, FailureKind::kValidation) << what;
    EXPECT_FALSE(got.failed->message.empty());
  };
  check(greedy_request({}, 4), "empty prompt");
  check(greedy_request({1, 2, static_cast<int32_t>(n_vocab())}, 4), "id outside the vocabulary");
  check(greedy_request(random_prompt(rng, n_vocab(), 1024), 4), "prompt fills the context");
  check(greedy_request(random_prompt(rng, n_vocab(), 200), 100), "larger than the pool");
  auto ok = greedy_request(random_prompt(rng, n_vocab(), 200), 50);
  auto got = collect(*engine->submit(ok));
  ASSERT_TRUE(got.complete());
  EXPECT_EQ(got.choices[0].ids, reference(ok).ids);
  EXPECT_TRUE(engine->healthy());
}

TEST_F(EngineTest, ShutdownEndsRunningRequestsAndRefusesNewOnes) {
  auto engine = make({.max_batch_total_tokens = 4096});
  std::mt19937 rng(23);
  std::vector<std::shared_ptr<EventStream>> streams;
  for (int i = 0; i < 4; ++i)
    streams.push_back(engine->submit(greedy_request(random_prompt(rng, n_vocab(), 20), 900)));
  streams[0]->wait_pop();  // running
  engine->shutdown();
  for (auto& s : streams) {
    auto got = collect(*s);
    ASSERT_TRUE(got.failed.has_value());
    EXPECT_EQ(got.failed->kind, FailureKind::kGeneration);
  }
  auto late = collect(*engine->submit(greedy_request({5, 6, 7}, 4)));
  ASSERT_TRUE(late.failed.has_value());
  EXPECT_FALSE(engine->healthy());
}

}  // namespace
}  // namespace kiln::engine
