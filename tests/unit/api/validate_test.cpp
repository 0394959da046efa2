// Validation (contract §2.2 messages and order, §7.2 token budget) and the
// engine request it builds.
#include <gtest/gtest.h>

#include "api/fakes.h"
#include "api/parse.h"
#include "api/validate.h"

namespace kiln::api {
namespace {

struct ValidateTest : ::testing::Test {
  ApiConfig config;
  test::FakeModelServices model;

  GenerationRequest req(const std::string& params, const std::string& inputs = "Hello world",
                        bool stream = false) {
    GenerationRequest g;
    auto body =
        Json::parse(R"({"inputs":)" + dump(Json(inputs)) + R"(,"parameters":)" + params + "}");
    auto r = parse_generate(body, NativeRoute::kGenerate, config);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    g = r.value();
    g.stream = stream;
    return g;
  }

  // The first error, before or after admission.
  std::string error(const std::string& params, const std::string& inputs = "Hello world",
                    bool stream = false) {
    Validator v(config, &model);
    auto g = req(params, inputs, stream);
    if (auto e = v.check_before_admission(g)) return e->message;
    auto r = v.validate(g, {});
    return r.ok() ? "ok" : r.error().message;
  }
};

TEST_F(ValidateTest, ParameterMessagesExactly) {
  struct Case {
    const char* params;
    const char* text;
  } cases[] = {
      {R"({"best_of":3,"do_sample":true})", "`best_of` must be > 0 and <= 2. Given: 3"},
      {R"({"best_of":0})", "`best_of` must be > 0 and <= 2. Given: 0"},
      {R"({"best_of":2})", "you must use sampling when `best_of` is > 1"},
      {R"({"temperature":0})", "`temperature` must be strictly positive"},
      {R"({"temperature":-0.5})", "`temperature` must be strictly positive"},
      {R"({"repetition_penalty":0})", "`repetition_penalty` must be strictly positive"},
      {R"({"frequency_penalty":2.5})", "`frequency_penalty` must be >= -2.0 and <= 2.0"},
      {R"({"top_p":0})", "`top_p` must be > 0.0 and < 1.0"},
      {R"({"top_p":1.5})", "`top_p` must be > 0.0 and < 1.0"},
      {R"({"typical_p":0})", "`typical_p` must be > 0.0 and < 1.0"},
      {R"({"top_k":0})", "`top_k` must be strictly positive"},
      {R"({"top_k":-3})", "`top_k` must be strictly positive"},
      {R"({"max_new_tokens":0})", "`max_new_tokens` must be strictly positive"},
      {R"({"stop":["a","b","c","d","e"]})", "`stop` supports up to 4 stop sequences. Given: 5"},
      {R"({"best_of":2,"do_sample":true,"seed":1})", "`seed` must not be set when `best_of` > 1"},
      {R"({"top_n_tokens":6})", "`top_n_tokens` must be >= 0 and <= 5. Given: 6"},
      {R"({"truncate":0})", "`truncate` must be strictly positive and less than 4095. Given: 0"},
      {R"({"truncate":5000})",
       "`truncate` must be strictly positive and less than 4095. Given: 5000"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(error(c.params), std::string("Input validation error: ") + c.text) << c.params;
  }
  std::string hundred = "[";
  for (int i = 0; i < 100; ++i)
    hundred += std::string(i ? "," : "") + "\"s" + std::to_string(i) + "\"";
  hundred += "]";
  EXPECT_EQ(error(R"({"stop":)" + hundred + "}"),
            "Input validation error: `stop` supports up to 4 stop sequences. Given: 100");
  EXPECT_EQ(error("{}", ""), "Input validation error: `inputs` cannot be empty");
}

TEST_F(ValidateTest, AcceptsOpenAiStyleOffValues) {
  EXPECT_EQ(error(R"({"top_p":1.0,"typical_p":1.0})"), "ok");  // DEV-5
  EXPECT_EQ(error(R"({"frequency_penalty":-2.0,"temperature":2.5})"), "ok");
}

TEST_F(ValidateTest, OrderDecidesWhichMessageWins) {
  // temperature is checked before top_p, top_p before top_k, stop count before top_n.
  EXPECT_EQ(error(R"({"temperature":-1,"top_p":5,"top_k":0})"),
            "Input validation error: `temperature` must be strictly positive");
  EXPECT_EQ(error(R"({"top_p":5,"top_k":0})"),
            "Input validation error: `top_p` must be > 0.0 and < 1.0");
  EXPECT_EQ(error(R"({"stop":["a","b","c","d","e"],"top_n_tokens":9})"),
            "Input validation error: `stop` supports up to 4 stop sequences. Given: 5");
  // best_of limits come before everything (they are checked before admission).
  EXPECT_EQ(error(R"({"best_of":9,"temperature":-1})"),
            "Input validation error: `best_of` must be > 0 and <= 2. Given: 9");
}

TEST_F(ValidateTest, StreamingOnlyChecks) {
  EXPECT_EQ(error(R"({"best_of":2,"do_sample":true})", "Hello", true),
            "Input validation error: `best_of` != 1 is not supported when streaming tokens");
  EXPECT_EQ(error(R"({"decoder_input_details":true})", "Hello", true),
            "Input validation error: `decoder_input_details` == true is not supported when "
            "streaming tokens");
  config.max_best_of = 1;
  EXPECT_EQ(error(R"({"best_of":2,"do_sample":true})"),
            "Input validation error: `best_of` != 1 is not allowed for this endpoint");
}

TEST_F(ValidateTest, TokenBudget) {
  config.max_total_tokens = 10;
  config.max_input_tokens = 6;
  // "Hello world the" = BOS + 3 tokens = 4 input tokens.
  EXPECT_EQ(error(R"({"max_new_tokens":7})", "Hello world the"),
            "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 10. Given: 4 "
            "`inputs` tokens and 7 `max_new_tokens`");
  EXPECT_EQ(error(R"({"max_new_tokens":6})", "Hello world the"), "ok");
  // Only min(max_new_tokens, 1024) counts: a huge value is capped, not refused.
  config.max_total_tokens = 4096;
  config.max_input_tokens = 4095;
  EXPECT_EQ(error(R"({"max_new_tokens":4000000000})", "Hello"), "ok");
  config.max_total_tokens = 1000;
  config.max_input_tokens = 999;
  EXPECT_EQ(error(R"({"max_new_tokens":4000000000})", "Hello"),
            "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 1000. Given: 2 "
            "`inputs` tokens and 1024 `max_new_tokens`");
  config.max_input_tokens = 3;
  EXPECT_EQ(error("{}", "a a a a"),
            "Input validation error: `inputs` must have less than 3 tokens. Given: 5");
  EXPECT_EQ(error("{}", "a a"), "ok");  // 3 == max: equal is allowed
}

TEST_F(ValidateTest, BuildsTheEngineRequest) {
  Validator v(config, &model);
  auto g = req(R"({"temperature":0.7,"top_k":5,"max_new_tokens":3,"stop":["x"],"seed":9,
                   "top_n_tokens":2,"details":true,"decoder_input_details":true,"truncate":2})",
               "Hello world the a");
  auto r = v.validate(g, {.request_id = "req-1"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& e = r->engine;
  EXPECT_EQ(e.id, "req-1");
  EXPECT_EQ(e.prompt, (std::vector<int32_t>{278, 263}));  // left truncation keeps the last 2
  EXPECT_EQ(r->input_length, 2);
  EXPECT_TRUE(e.sampling.do_sample);
  EXPECT_FLOAT_EQ(e.sampling.temperature, 0.7f);
  EXPECT_EQ(e.sampling.top_k, 5);
  EXPECT_EQ(e.sampling.seed, 9u);
  EXPECT_EQ(e.stop.max_new_tokens, 3);
  EXPECT_EQ(e.stop.stop, std::vector<std::string>{"x"});
  EXPECT_TRUE(e.stop.keep_stop_in_text);
  EXPECT_EQ(e.logprobs.top_n, 2);
  EXPECT_FALSE(e.logprobs.prefill);  // needs --enable-prefill-logprobs
  EXPECT_TRUE(e.logprobs.tokens);    // native tokens always carry their logprob
  EXPECT_EQ(e.sampling.frequency_penalty_mode, sampling::FrequencyPenaltyMode::kTgi);
  EXPECT_TRUE(r->sampled);
  EXPECT_TRUE(r->details);

  // Without max_new_tokens the cap is the rest of the context.
  auto r2 = v.validate(req("{}", "Hello world"), {});
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->max_new_tokens, 4096 - 3);
  EXPECT_FALSE(r2->sampled);  // greedy: no warper, do_sample false
}

TEST_F(ValidateTest, OpenAiRequestsUseOpenAiPenaltiesAndSkipUnusedLogprobs) {
  Validator v(config, &model);
  auto chat = parse_chat(Json::parse(R"({"messages":[{"role":"user","content":"x"}],
                                         "frequency_penalty":0.5,"presence_penalty":-1})"),
                         config);
  ASSERT_TRUE(chat.ok());
  auto r = v.validate(chat_to_generation(chat.value(), "Hello"), {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->engine.sampling.frequency_penalty_mode, sampling::FrequencyPenaltyMode::kOpenAI);
  EXPECT_FLOAT_EQ(r->engine.sampling.frequency_penalty, 0.5f);
  EXPECT_FLOAT_EQ(r->engine.sampling.presence_penalty, -1.0f);
  EXPECT_FALSE(r->engine.logprobs.tokens);
  EXPECT_FALSE(r->engine.stop.keep_stop_in_text);
  EXPECT_EQ(r->engine.prompt, (std::vector<int32_t>{15043}));  // no BOS on chat prompts
  EXPECT_EQ(v.validate(chat_to_generation(chat.value(), "Hello"), {})->engine.sampling.do_sample, true);
  chat->logprobs = true;
  EXPECT_TRUE(v.validate(chat_to_generation(chat.value(), "Hello"), {})->engine.logprobs.tokens);
  chat->presence_penalty = 2.5;
  EXPECT_EQ(v.validate(chat_to_generation(chat.value(), "Hello"), {}).error().message,
            "Input validation error: `presence_penalty` must be >= -2.0 and <= 2.0");
}

TEST_F(ValidateTest, SamplingDecision) {
  GenerateParameters p;
  EXPECT_FALSE(uses_sampling(p));
  p.temperature = 1.0;
  EXPECT_FALSE(uses_sampling(p));
  p.temperature = 0.9;
  EXPECT_TRUE(uses_sampling(p));
  p = {};
  p.top_p = 1.0;
  EXPECT_FALSE(uses_sampling(p));
  p.top_p = 0.9;
  EXPECT_TRUE(uses_sampling(p));
  p = {};
  p.top_k = 3;
  EXPECT_TRUE(uses_sampling(p));
  p = {};
  p.do_sample = true;
  EXPECT_TRUE(uses_sampling(p));
}

TEST_F(ValidateTest, GrammarChecks) {
  EXPECT_EQ(error(R"({"grammar":{"type":"json","value":{"type":"object"}}})"),
            "Input validation error: grammar is not valid: Grammar must have a 'properties' field");
  EXPECT_EQ(error(R"({"grammar":{"type":"json","value":{"properties":{}}}})"), "ok");
  model.grammar_supported = false;
  EXPECT_EQ(error(R"({"grammar":{"type":"regex","value":"a+"}})"),
            "Input validation error: grammar is not supported");
  model.grammar_supported = true;
  config.disable_grammar_support = true;
  EXPECT_EQ(error(R"({"grammar":{"type":"regex","value":"a+"}})"),
            "Input validation error: grammar is not supported");
}

TEST_F(ValidateTest, WithoutModelParameterErrorsStillWinThen503) {
  Validator v(config, nullptr);
  auto bad = v.validate(req(R"({"temperature":-1})"), {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(http_status(bad.error().kind), 422);
  auto good = v.validate(req("{}"), {});
  ASSERT_FALSE(good.ok());
  EXPECT_EQ(good.error().kind, ErrorKind::kModelNotLoaded);
  EXPECT_EQ(http_status(good.error().kind), 503);
}

TEST_F(ValidateTest, RandomSeedWhenNoneGiven) {
  Validator v(config, &model);
  auto a = v.validate(req(R"({"do_sample":true})"), {});
  auto b = v.validate(req(R"({"do_sample":true})"), {});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->engine.sampling.seed, b->engine.sampling.seed);  // 1 in 2^64 to fail
}

}  // namespace
}  // namespace kiln::api
