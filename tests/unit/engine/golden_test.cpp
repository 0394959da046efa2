// The engine against independent references: llama.cpp's greedy runs of the
// real stories260K model (../shared/data/goldens/logits/stories260K, all run
// at once through the engine), stop strings and text on that model, and a
// grammar constraint whose output a regex must accept.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "engine_test_util.h"
#include "sampling/grammar/compile.h"

namespace kiln::engine {
namespace {

using test::collect;
using test::greedy_request;

constexpr char kStories[] = "data/goldens/models/stories260K.gguf";
constexpr char kGoldens[] = "data/goldens/logits/stories260K";

class StoriesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kiln::test::shared_dir() / kStories)) return;
    m_ = test::load_model(kiln::test::shared_dir() / kStories);
    auto e = create_engine(m_.model, m_.tokenizer, {.max_batch_total_tokens = 2048});
    ASSERT_TRUE(e.ok()) << e.message();
    engine_ = std::move(e).value();
  }

  static nlohmann::json read(const std::string& file) {
    std::ifstream in(kiln::test::shared_dir() / kGoldens / file);
    return nlohmann::json::parse(in);
  }

  test::TestModel m_;
  std::shared_ptr<Engine> engine_;
};

TEST_F(StoriesTest, ConcurrentGreedyRunsMatchLlamaCpp) {
  KILN_REQUIRE_SHARED(kStories);
  const auto manifest = read("manifest.json");
  const auto story = read("tokenizer_and_story.json")["once_upon_a_time"];
  struct Case {
    std::vector<int32_t> prompt, want;
  };
  std::vector<Case> cases;
  for (const auto& p : manifest["prompts"])
    cases.push_back(
        {p["prompt_ids"].get<std::vector<int32_t>>(), p["greedy_ids"].get<std::vector<int32_t>>()});
  cases.push_back({story["prompt_ids"].get<std::vector<int32_t>>(),
                   story["greedy_ids_64"].get<std::vector<int32_t>>()});
  std::vector<std::shared_ptr<EventStream>> streams;
  for (const auto& c : cases)
    streams.push_back(
        engine_->submit(greedy_request(c.prompt, static_cast<int32_t>(c.want.size()))));
  for (size_t i = 0; i < cases.size(); ++i) {
    auto got = collect(*streams[i]);
    ASSERT_TRUE(got.complete()) << i;
    EXPECT_EQ(got.choices[0].ids, cases[i].want) << "prompt " << i;
  }
}

TEST_F(StoriesTest, TextAndStopStringsOnTheReferenceStory) {
  KILN_REQUIRE_SHARED(kStories);
  const auto story = read("tokenizer_and_story.json")["once_upon_a_time"];
  const auto prompt = story["prompt_ids"].get<std::vector<int32_t>>();
  const std::string want = story["greedy_text_64"];  // ", there was a little girl named Lily. ..."

  auto whole = collect(*engine_->submit(greedy_request(prompt, 64)));
  ASSERT_TRUE(whole.complete());
  EXPECT_EQ(whole.choices[0].finished->text, want);
  EXPECT_EQ(whole.choices[0].streamed, want);

  // A stop string that spans tokens ("girl named" is " girl" + " named").
  for (bool keep : {true, false}) {
    auto r = greedy_request(prompt, 64);
    r.stop.stop = {"girl named"};
    r.stop.keep_stop_in_text = keep;
    auto got = collect(*engine_->submit(r));
    ASSERT_TRUE(got.complete());
    const auto& f = *got.choices[0].finished;
    const std::string head = want.substr(0, want.find("girl named"));
    EXPECT_EQ(f.text, keep ? head + "girl named" : head);
    EXPECT_EQ(got.choices[0].streamed, f.text);
    EXPECT_EQ(f.reason, FinishReason::kStopSequence);
    EXPECT_TRUE(got.choices[0].tokens.back().last);
  }

  // EOS ends it when not ignored: "</s>" (id 2) is the stories EOS; with
  // logit_bias forcing it, the first token is EOS and its text is not shown.
  auto r = greedy_request(prompt, 10);
  r.stop.ignore_eos = false;
  r.sampling.logit_bias = {{2, 100.0f}};
  auto eos = collect(*engine_->submit(r));
  ASSERT_TRUE(eos.complete());
  EXPECT_EQ(eos.choices[0].ids, std::vector<int32_t>{2});
  EXPECT_EQ(eos.choices[0].finished->reason, FinishReason::kEosToken);
  EXPECT_EQ(eos.choices[0].finished->generated_tokens, 1);
  EXPECT_EQ(eos.choices[0].finished->text, "");
}

TEST_F(StoriesTest, TopTokensAndLogprobsComeWithEveryToken) {
  KILN_REQUIRE_SHARED(kStories);
  const auto story = read("tokenizer_and_story.json")["once_upon_a_time"];
  auto r = greedy_request(story["prompt_ids"].get<std::vector<int32_t>>(), 8);
  r.logprobs.top_n = 3;
  auto got = collect(*engine_->submit(r));
  ASSERT_TRUE(got.complete());
  for (const TokenEvent& t : got.choices[0].tokens) {
    ASSERT_EQ(t.top.size(), 3u);
    // Greedy: the chosen token is the most likely one.
    EXPECT_EQ(t.top[0].id, t.id);
    EXPECT_EQ(t.top[0].logprob, t.logprob);
    EXPECT_GE(t.top[0].logprob, t.top[1].logprob);
    EXPECT_GE(t.top[1].logprob, t.top[2].logprob);
    EXPECT_LT(t.logprob, 0.0f);
    EXPECT_EQ(t.top[0].text, m_.tokenizer->decode(std::vector<int32_t>{t.id}, false));
  }
}

TEST_F(StoriesTest, GrammarConstrainedOutputMatchesItsRegexAndEndsWithEos) {
  KILN_REQUIRE_SHARED(kStories);
  std::vector<std::string> bytes(static_cast<size_t>(m_.model->n_vocab()));
  for (int32_t id = 0; id < m_.model->n_vocab(); ++id)
    if (!m_.tokenizer->is_special(id))
      bytes[static_cast<size_t>(id)] = m_.tokenizer->token_bytes(id);
  auto vocab = sampling::grammar::Vocabulary::create(bytes, m_.description->special.eos_ids);
  ASSERT_TRUE(vocab.ok()) << vocab.message();
  const std::string pattern = "(cat|dog)( (cat|dog)){1,3}\\.";
  auto constraint = sampling::grammar::compile_regex(pattern, *vocab);
  ASSERT_TRUE(constraint.ok()) << constraint.message();

  const auto story = read("tokenizer_and_story.json")["once_upon_a_time"];
  std::vector<std::shared_ptr<EventStream>> streams;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    auto r = test::sampled_request(story["prompt_ids"].get<std::vector<int32_t>>(), 40, seed);
    r.stop.ignore_eos = false;
    r.constraint = *constraint;
    r.n = seed == 4 ? 2 : 1;  // each choice has its own matcher
    streams.push_back(engine_->submit(r));
  }
  for (size_t i = 0; i < streams.size(); ++i) {
    auto got = collect(*streams[i], i == 3 ? 2 : 1);
    ASSERT_TRUE(got.complete()) << (got.failed ? got.failed->message : "");
    for (const auto& c : got.choices) {
      EXPECT_TRUE(std::regex_match(c.finished->text, std::regex(pattern))) << c.finished->text;
      EXPECT_EQ(c.finished->reason, FinishReason::kEosToken) << c.finished->text;
    }
  }
}

}  // namespace
}  // namespace kiln::engine
