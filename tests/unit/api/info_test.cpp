// Bodies of /info, /v1/models, /tokenize, /chat_tokenize, the OpenAPI
// document, and the launcher limit checks (contract §3.7, §8.1, §9).
#include <gtest/gtest.h>

#include "api/fakes.h"
#include "api/info.h"
#include "api/limits.h"
#include "api/parse.h"

namespace kiln::api {
namespace {

TEST(Info, AllFieldsInTgiOrder) {
  ApiConfig c;
  c.model_id = "org/model";
  c.model_dtype = "bfloat16";
  c.max_batch_total_tokens = 16000;
  EXPECT_EQ(
      render_info(c),
      "{\"model_id\":\"org/model\",\"model_sha\":null,\"model_pipeline_tag\":null,"
      "\"max_concurrent_requests\":128,\"max_best_of\":2,\"max_stop_sequences\":4,"
      "\"max_input_tokens\":4095,\"max_total_tokens\":4096,\"validation_workers\":2,"
      "\"max_client_batch_size\":4,\"router\":\"text-generation-router\",\"version\":\"3.3.7\","
      "\"sha\":null,\"docker_label\":null,\"model_dtype\":\"bfloat16\",\"model_device_type\":"
      "\"cpu\","
      "\"max_batch_total_tokens\":16000,\"max_waiting_tokens\":20,\"max_batch_size\":null,"
      "\"waiting_served_ratio\":0.3}");
}

TEST(Models, ListAndRetrieve) {
  ApiConfig c;
  c.model_id = "org/model";
  EXPECT_EQ(
      render_models(c),
      "{\"object\":\"list\",\"data\":[{\"id\":\"org/model\",\"object\":\"model\",\"created\":0,"
      "\"owned_by\":\"org/model\"}]}");
  EXPECT_EQ(render_model(c, "org/model").value(),
            "{\"id\":\"org/model\",\"object\":\"model\",\"created\":0,\"owned_by\":\"org/model\"}");
  auto missing = render_model(c, "other/model");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(http_status(missing.error().kind), 404);
  EXPECT_EQ(render_tgi_error(missing.error()),
            "{\"error\":\"Model other/model not found\",\"error_type\":\"not_found\"}");
  c.served_model_name = "alias";
  EXPECT_EQ(render_models(c),
            "{\"object\":\"list\",\"data\":[{\"id\":\"alias\",\"object\":\"model\",\"created\":0,"
            "\"owned_by\":\"alias\"}]}");
}

TEST(Tokenize, OffsetsAndAddedTokens) {
  test::FakeModelServices model;
  GenerationRequest g;
  g.inputs = "Hello world";
  // BOS added by the tokenizer: empty text, offsets 0/0 (§3.7).
  EXPECT_EQ(tokenize_response(g, &model).value(),
            "[{\"id\":1,\"text\":\"\",\"start\":0,\"stop\":0},"
            "{\"id\":15043,\"text\":\"Hello\",\"start\":0,\"stop\":5},"
            "{\"id\":3186,\"text\":\"world\",\"start\":6,\"stop\":11}]");
  auto none = tokenize_response(g, nullptr);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(render_tgi_error(none.error()),
            "{\"error\":\"Model is not loaded: this server was started without a model engine, so "
            "generation and tokenization are unavailable\",\"error_type\":\"unhealthy\"}");
}

TEST(Tokenize, OutOfRangeOffsetsAreClamped) {
  EXPECT_EQ(render_tokens("ab", {{7, 1, 99, false}, {8, 50, 60, false}}),
            "[{\"id\":7,\"text\":\"b\",\"start\":1,\"stop\":99},{\"id\":8,\"text\":\"\",\"start\":"
            "50,\"stop\":60}]");
}

TEST(ChatTokenize, TemplateThenTokensWithoutSpecials) {
  test::FakeModelServices model;
  ApiConfig c;
  auto chat = parse_chat(Json::parse(R"({"messages":[{"role":"user","content":"Hello"}]})"), c);
  ASSERT_TRUE(chat.ok());
  EXPECT_EQ(chat_tokenize_response(chat.value(), &model).value(),
            "{\"tokenize_response\":[{\"id\":1027,\"text\":\"<|user|>Hello\\n<|assistant|>\","
            "\"start\":0,\"stop\":27}],\"templated_text\":\"<|user|>Hello\\n<|assistant|>\"}");
  model.has_template = false;
  auto e = chat_tokenize_response(chat.value(), &model);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(render_tgi_error(e.error()),
            "{\"error\":\"Template error: template not found\",\"error_type\":\"template_error\"}");
}

TEST(OpenApi, ListsEveryServedRoute) {
  Json doc = Json::parse(openapi_document());
  EXPECT_EQ(doc["openapi"], "3.0.3");
  EXPECT_EQ(doc["info"]["version"], "3.3.7");
  for (const char* path :
       {"/generate", "/generate_stream", "/", "/v1/chat/completions", "/v1/completions",
        "/tokenize", "/chat_tokenize", "/invocations", "/info", "/health", "/ping", "/metrics",
        "/v1/models", "/v1/models/{model_id}", "/api-doc/openapi.json"}) {
    EXPECT_TRUE(doc["paths"].contains(path)) << path;
  }
  // Every $ref points at a defined schema or response.
  std::function<void(const Json&)> check = [&](const Json& j) {
    if (j.is_object()) {
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (it.key() == "$ref") {
          std::string ref = it.value();
          ASSERT_EQ(ref.rfind("#/components/", 0), 0u) << ref;
          auto slash = ref.find('/', 13);
          std::string section = ref.substr(13, slash - 13), name = ref.substr(slash + 1);
          EXPECT_TRUE(doc["components"][section].contains(name)) << ref;
        } else {
          check(it.value());
        }
      }
    } else if (j.is_array()) {
      for (const auto& v : j) check(v);
    }
  };
  check(doc);
}

TEST(Limits, DefaultsAndDerivedValues) {
  auto r = resolve_limits({});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->max_total_tokens, 4096);
  EXPECT_EQ(r->max_input_tokens, 4095);
  EXPECT_EQ(r->max_batch_prefill_tokens, 4096);
  LauncherLimits model;
  model.max_position_embeddings = 32768;
  EXPECT_EQ(resolve_limits(model)->max_total_tokens, 32768);
  LauncherLimits only_input;
  only_input.max_input_tokens = 8000;
  EXPECT_EQ(resolve_limits(only_input)->max_total_tokens, 8001);
  LauncherLimits legacy;
  legacy.max_input_length = 100;
  legacy.max_total_tokens = 200;
  EXPECT_EQ(resolve_limits(legacy)->max_input_tokens, 100);
}

TEST(Limits, StartupChecksNameBothValues) {
  auto message = [](LauncherLimits l) {
    auto r = resolve_limits(l);
    return r.ok() ? std::string("ok") : r.message();
  };
  LauncherLimits a;
  a.max_input_tokens = 100;
  a.max_total_tokens = 100;
  EXPECT_EQ(message(a), "`max_input_tokens`(100) must be < `max_total_tokens`(100)");
  LauncherLimits b;
  b.max_total_tokens = 2000;
  b.max_batch_total_tokens = 1000;
  EXPECT_EQ(message(b), "`max_total_tokens`(2000) must be <= `max_batch_total_tokens`(1000)");
  LauncherLimits c;
  c.max_total_tokens = 500;
  c.max_batch_prefill_tokens = 2000;
  c.max_batch_total_tokens = 1000;
  EXPECT_EQ(message(c),
            "`max_batch_prefill_tokens`(2000) must be <= `max_batch_total_tokens`(1000)");
  LauncherLimits d;
  d.max_total_tokens = 500;
  d.max_batch_prefill_tokens = 100;
  d.chunked_prefill = false;
  EXPECT_EQ(message(d), "`max_batch_prefill_tokens`(100) must be >= `max_input_tokens`(499)");
  d.chunked_prefill = true;
  EXPECT_EQ(message(d), "ok");
  LauncherLimits e;
  e.max_input_tokens = 10;
  e.max_input_length = 10;
  EXPECT_EQ(message(e),
            "`max_input_tokens` and `max_input_length` are the same setting; give only one (got 10 "
            "and 10)");
}

}  // namespace
}  // namespace kiln::api
