// The scheduling policy without a model: steps are simulated by marking the
// scheduled positions computed and appending a token when a sequence's
// pending tokens are done.
#include "engine/scheduler.h"

#include <gtest/gtest.h>

#include "test_paths.h"

namespace kiln::engine {
namespace {

constexpr int32_t kBlock = 4;

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto tok = tokenizer::Tokenizer::load(kiln::test::data_dir() / "models/hf-tiny-llama");
    ASSERT_TRUE(tok.ok()) << tok.message();
    tokenizer_ = std::make_unique<tokenizer::Tokenizer>(std::move(tok).value());
  }

  void make_pool(int64_t n_blocks) {
    cache_ = std::move(KvCache::create({.n_layers = 1,
                                        .n_kv_heads = 1,
                                        .head_dim_k = 2,
                                        .head_dim_v = 2,
                                        .block_size = kBlock,
                                        .n_blocks = n_blocks})
                           .value());
    blocks_ = std::make_unique<BlockManager>(*cache_, false);
  }

  Sequence* add(int prompt_tokens) {
    auto r = std::make_unique<ActiveRequest>();
    r->id = requests_.size();
    r->request.prompt.assign(static_cast<size_t>(prompt_tokens), 7);
    r->request.stop.max_new_tokens = 1000;
    r->choices.push_back(
        std::make_unique<Sequence>(*r, 0, *tokenizer_, std::span<const int32_t>()));
    r->n_unfinished = 1;
    r->forked = true;
    Sequence* seq = r->choices[0].get();
    requests_.push_back(std::move(r));
    return seq;
  }

  // Marks the plan computed, as a forward pass would, and samples token 9
  // for every sequence whose pending tokens are done.
  static void run(const StepPlan& plan) {
    for (const auto& w : plan.work) {
      w.seq->kv().set_n_positions(w.seq->n_computed() + w.n_tokens);
      std::string emit;
      if (w.seq->n_pending() == 0) (void)w.seq->append(9, emit);
    }
  }

  static int64_t tokens_of(const StepPlan& plan, const Sequence* seq) {
    for (const auto& w : plan.work)
      if (w.seq == seq) return w.n_tokens;
    return 0;
  }

  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
  std::vector<std::unique_ptr<ActiveRequest>> requests_;  // after the cache: destroyed first
  std::unique_ptr<KvCache> cache_;
  std::unique_ptr<BlockManager> blocks_;

 public:
  void TearDown() override {
    requests_.clear();
    blocks_.reset();
  }
};

TEST_F(SchedulerTest, ALongPromptIsPrefilledInChunksOfTheBudget) {
  make_pool(64);
  Scheduler s({.max_batch_prefill_tokens = 64, .prefill_chunk_tokens = 16});
  Sequence* a = add(150);
  s.enqueue(a);
  std::vector<int64_t> chunks;
  for (int i = 0; i < 4; ++i) {
    const StepPlan plan = s.schedule(*blocks_);
    chunks.push_back(tokens_of(plan, a));
    run(plan);
  }
  EXPECT_EQ(chunks, (std::vector<int64_t>{64, 64, 22, 1}));
  EXPECT_EQ(a->n_generated(), 2);
}

TEST_F(SchedulerTest, RunningStreamsKeepTheirPaceWhileAPromptIsPrefilled) {
  make_pool(64);
  Scheduler s({.max_batch_prefill_tokens = 64, .prefill_chunk_tokens = 16});
  Sequence* a = add(10);
  s.enqueue(a);
  run(s.schedule(*blocks_));  // a prefilled, decoding from now on
  Sequence* b = add(40);
  s.enqueue(b);
  std::vector<int64_t> b_chunks;
  for (int i = 0; i < 4; ++i) {
    const StepPlan plan = s.schedule(*blocks_);
    EXPECT_EQ(tokens_of(plan, a), 1) << "step " << i;
    b_chunks.push_back(tokens_of(plan, b));
    run(plan);
  }
  EXPECT_EQ(b_chunks, (std::vector<int64_t>{16, 16, 8, 1}));
}

TEST_F(SchedulerTest, AdmissionIsFirstComeFirstServed) {
  make_pool(8);  // 32 positions
  Scheduler s({});
  Sequence* a = add(18);  // 5 blocks once it has sampled
  s.enqueue(a);
  run(s.schedule(*blocks_));
  Sequence* b = add(12);  // 3 blocks: does not fit next to a with a spare block for a
  Sequence* c = add(2);   // 1 block: would fit, but must not overtake b
  s.enqueue(b);
  s.enqueue(c);
  const StepPlan plan = s.schedule(*blocks_);
  EXPECT_EQ(tokens_of(plan, a), 1);
  EXPECT_EQ(tokens_of(plan, b), 0);
  EXPECT_EQ(tokens_of(plan, c), 0);
  EXPECT_EQ(s.n_waiting(), 2u);
}

TEST_F(SchedulerTest, TheNewestRunningSequenceIsPreempted) {
  make_pool(8);  // 32 positions
  Scheduler s({});
  Sequence* a = add(7);
  Sequence* b = add(7);
  Sequence* c = add(3);
  for (Sequence* x : {a, b, c}) {
    s.enqueue(x);
    run(s.schedule(*blocks_));
  }
  ASSERT_EQ(s.n_running(), 3u);  // 3 + 2 + 1 blocks, two free
  // Decode until someone needs a block that is not there.
  StepPlan plan;
  for (int i = 0; i < 8 && plan.preempted.empty(); ++i) {
    plan = s.schedule(*blocks_);
    run(plan);
  }
  ASSERT_EQ(plan.preempted.size(), 1u);
  EXPECT_EQ(plan.preempted[0], c);
  EXPECT_FALSE(c->has_kv());
  EXPECT_EQ(s.n_waiting(), 1u);
  EXPECT_EQ(s.n_preemptions(), 1);
  // Its tokens survive: the recompute covers prompt and generated ones.
  EXPECT_GT(c->n_pending(), 3);
}

}  // namespace
}  // namespace kiln::engine
