// /v1/completions with several choices per prompt (`n`, `best_of`), legacy
// `logprobs` and `echo`, compared byte for byte with hand-written bodies
// (shapes from OpenAI's legacy completions API, docs/api-fields.md).
#include <gtest/gtest.h>

#include "api/fakes.h"
#include "api/render.h"

namespace kiln::api {
namespace {

using engine::FinishReason;
using test::fin;
using test::tok;

engine::TokenEvent tok_of(int32_t choice, engine::TokenEvent t) {
  t.choice = choice;
  return t;
}
engine::FinishedEvent fin_of(int32_t choice, engine::FinishedEvent f) {
  f.choice = choice;
  return f;
}

CompletionRenderOptions options(std::vector<std::string> prompts, int32_t n, int32_t best_of) {
  CompletionRenderOptions o;
  o.identity = OpenAiIdentity{"cmpl-x", 1736400000, "m", "3.3.7-native"};
  o.prompts = std::move(prompts);
  o.n = n;
  o.best_of = best_of;
  return o;
}

const char* kHead =
    "{\"object\":\"text_completion\",\"id\":\"cmpl-x\",\"created\":1736400000,\"model\":\"m\","
    "\"system_fingerprint\":\"3.3.7-native\",";

TEST(RenderCompletionChoices, BestOfKeepsTheHighestMeanLogprobAndCountsEveryToken) {
  auto c = make_completion_collector(options({"P"}, 1, 2));
  c->on_event(0, tok_of(0, tok(1, " a", -2.0f)));
  c->on_event(0, tok_of(1, tok(2, " b", -0.5f)));
  c->on_event(0, tok_of(1, tok(3, " c", -0.5f, false, true)));
  c->on_event(0, fin_of(1, fin(FinishReason::kLength, 3, 2, " b c")));
  EXPECT_FALSE(c->done());
  c->on_event(0, tok_of(0, tok(4, "", -1.0f, true, true)));
  c->on_event(0, fin_of(0, fin(FinishReason::kEosToken, 3, 2, " a")));
  ASSERT_TRUE(c->done());
  EXPECT_EQ(c->body().value(),
            std::string(kHead) +
                "\"choices\":[{\"index\":0,\"text\":\" b "
                "c\",\"logprobs\":null,\"finish_reason\":\"length\"}],"
                "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4,\"total_tokens\":7}}");
}

TEST(RenderCompletionChoices, LegacyLogprobsAndEcho) {
  auto o = options({"Hi", "Yo"}, 1, 1);
  o.logprobs = 1;
  o.echo = true;
  auto c = make_completion_collector(std::move(o));
  auto t = tok(5, " x", -0.25f);
  t.top = {{5, "x", -0.25f, false}};
  c->on_event(1, t);
  c->on_event(1, tok(6, "!", -0.5f, false, true));
  c->on_event(1, fin(FinishReason::kLength, 2, 2, " x!"));
  c->on_event(0, tok(7, "", -0.125f, true, true));
  c->on_event(0, fin(FinishReason::kEosToken, 2, 1, ""));
  ASSERT_TRUE(c->done());
  EXPECT_EQ(c->body().value(),
            std::string(kHead) +
                "\"choices\":[{\"index\":0,\"text\":\"Hi\",\"logprobs\":{\"tokens\":[\"\"],"
                "\"token_logprobs\":[-0.125],\"top_logprobs\":[{}],\"text_offset\":[2]},"
                "\"finish_reason\":\"stop\"},"
                "{\"index\":1,\"text\":\"Yo x!\",\"logprobs\":{\"tokens\":[\" x\",\"!\"],"
                "\"token_logprobs\":[-0.25,-0.5],\"top_logprobs\":[{\"x\":-0.25},{}],"
                "\"text_offset\":[2,4]},\"finish_reason\":\"length\"}],"
                "\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":3,\"total_tokens\":7}}");
}

TEST(RenderCompletionChoices, StreamIndexesPromptTimesNPlusChoice) {
  auto r = make_completion_stream(options({"A", "B"}, 2, 2));
  std::string out;
  r->start(out);
  EXPECT_EQ(out, "");
  r->on_event(1, tok_of(1, tok(1, " q", -1.0f, false, true)), out);
  r->on_event(1, fin_of(1, fin(FinishReason::kLength, 2, 1, " q")), out);
  EXPECT_EQ(out, "data: " + std::string(kHead) +
                     "\"choices\":[{\"index\":3,\"text\":\" "
                     "q\",\"logprobs\":null,\"finish_reason\":\"length\"}],"
                     "\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":1,\"total_tokens\":1}}"
                     "\n\n");
  for (int32_t k : {0, 1}) {
    if (k == 0) r->on_event(1, fin_of(0, fin(FinishReason::kLength, 2, 1, "")), out);
    r->on_event(0, fin_of(k, fin(FinishReason::kLength, 2, 1, "")), out);
  }
  EXPECT_TRUE(r->done());
  EXPECT_TRUE(out.ends_with("data: [DONE]\n\n"));
}

}  // namespace
}  // namespace kiln::api
