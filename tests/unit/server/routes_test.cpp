// The server's routes end to end in-process: info routes, generation through
// the fake engine for both API families, errors and their status codes.
#include <gtest/gtest.h>

#include "api/json_util.h"
#include "test_server.h"

namespace kiln::test {
namespace {

using api::Json;

TEST(ServerInfo, HealthInfoModelsMetricsOpenApi) {
  TestServer s;
  auto health = request(s.port, "GET", "/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "");
  EXPECT_EQ(request(s.port, "GET", "/").status, 200);
  EXPECT_EQ(request(s.port, "GET", "/ping").status, 200);

  auto info = request(s.port, "GET", "/info");
  EXPECT_EQ(info.status, 200);
  EXPECT_EQ(info.header("content-type"), "application/json");
  EXPECT_EQ(Json::parse(info.body)["model_id"], "fake/model");
  EXPECT_EQ(Json::parse(info.body)["router"], "text-generation-router");

  EXPECT_EQ(
      request(s.port, "GET", "/v1/models").body,
      "{\"object\":\"list\",\"data\":[{\"id\":\"fake/model\",\"object\":\"model\",\"created\":0,"
      "\"owned_by\":\"fake/model\"}]}");
  // Model ids contain '/': the whole rest of the path is the id.
  EXPECT_EQ(request(s.port, "GET", "/v1/models/fake/model").status, 200);
  auto missing = request(s.port, "GET", "/v1/models/other");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, "{\"error\":\"Model other not found\",\"error_type\":\"not_found\"}");

  auto metrics = request(s.port, "GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.header("content-type").rfind("text/plain", 0), 0u);
  EXPECT_NE(metrics.body.find("\ntgi_request_count 0\n"), std::string::npos) << metrics.body;

  auto doc = request(s.port, "GET", "/api-doc/openapi.json");
  EXPECT_EQ(doc.status, 200);
  EXPECT_TRUE(Json::parse(doc.body)["paths"].contains("/generate"));
}

TEST(ServerInfo, UnhealthyEngineIs503) {
  TestServer s;
  s.engine->healthy_ = false;
  auto h = request(s.port, "GET", "/health");
  EXPECT_EQ(h.status, 503);
  EXPECT_EQ(h.body, "{\"error\":\"unhealthy\",\"error_type\":\"healthcheck\"}");
}

TEST(ServerRoutes, UnknownRouteAndWrongMethod) {
  TestServer s;
  auto nf = request(s.port, "GET", "/nope");
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(nf.body, "");
  auto na = request(s.port, "GET", "/generate");
  EXPECT_EQ(na.status, 405);
  EXPECT_EQ(na.body, "");
  EXPECT_EQ(request(s.port, "DELETE", "/v1/chat/completions").status, 405);
  EXPECT_EQ(request(s.port, "POST", "/health", "{}").status, 405);
}

TEST(ServerRoutes, GenerateReturnsBodyAndComputeHeaders) {
  TestServer s;
  auto r = request(s.port, "POST", "/generate",
                   R"({"inputs":"Hello world","parameters":{"details":true,"max_new_tokens":5}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body,
            "{\"generated_text\":\"Hello world\",\"details\":{\"finish_reason\":\"eos_token\","
            "\"generated_tokens\":2,\"seed\":null,\"prefill\":[],\"tokens\":["
            "{\"id\":15043,\"text\":\"Hello\",\"logprob\":-0.5,\"special\":false},"
            "{\"id\":3186,\"text\":\" world\",\"logprob\":-0.25,\"special\":false}]}}");
  EXPECT_EQ(r.header("x-compute-type"), "gpu+optimized");
  EXPECT_EQ(r.header("x-compute-characters"), "11");
  EXPECT_EQ(r.header("x-prompt-tokens"), "3");
  EXPECT_EQ(r.header("x-generated-tokens"), "2");
  for (const char* h : {"x-compute-time", "x-total-time", "x-validation-time", "x-queue-time",
                        "x-inference-time", "x-time-per-token"}) {
    EXPECT_FALSE(r.header(h).empty()) << h;
  }
  // The engine got the validated request.
  auto reqs = s.engine->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].prompt, (std::vector<int32_t>{1, 15043, 3186}));
  EXPECT_EQ(reqs[0].stop.max_new_tokens, 5);
  EXPECT_FALSE(reqs[0].sampling.do_sample);
}

TEST(ServerRoutes, GenerateStreamIsSseByteForByte) {
  TestServer s;
  auto r = request(s.port, "POST", "/generate_stream", R"({"inputs":"Hi","parameters":{}})");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/event-stream");
  EXPECT_EQ(r.header("cache-control"), "no-cache");
  EXPECT_EQ(r.header("x-accel-buffering"), "no");
  EXPECT_EQ(r.header("x-compute-type"), "gpu+optimized");
  EXPECT_EQ(r.header("x-compute-characters"), "2");
  EXPECT_EQ(r.header("transfer-encoding"), "chunked");
  EXPECT_EQ(
      r.body,
      "data: "
      "{\"index\":1,\"token\":{\"id\":15043,\"text\":\"Hello\",\"logprob\":-0.5,\"special\":false},"
      "\"generated_text\":null,\"details\":null}\n\n"
      "data: {\"index\":2,\"token\":{\"id\":3186,\"text\":\" "
      "world\",\"logprob\":-0.25,\"special\":false},"
      "\"generated_text\":\"Hello world\",\"details\":null}\n\n");
}

TEST(ServerRoutes, CompatRouteArrayOrStream) {
  TestServer s;
  auto r =
      request(s.port, "POST", "/", R"({"inputs":"Hi","parameters":{"return_full_text":false}})");
  EXPECT_EQ(r.body, "[{\"generated_text\":\"Hello world\"}]");
  auto full = request(s.port, "POST", "/", R"({"inputs":"Hi "})");  // text-generation default
  EXPECT_EQ(full.body, "[{\"generated_text\":\"Hi Hello world\"}]");
  auto st = request(s.port, "POST", "/", R"({"inputs":"Hi","stream":true,"parameters":{}})");
  EXPECT_EQ(st.header("content-type"), "text/event-stream");
  EXPECT_EQ(st.body.find("[DONE]"), std::string::npos);
}

TEST(ServerRoutes, ChatCompletionBothForms) {
  TestServer s;
  auto r = request(s.port, "POST", "/v1/chat/completions",
                   R"({"model":"tgi","messages":[{"role":"user","content":"Hi"}],"max_tokens":5})");
  ASSERT_EQ(r.status, 200) << r.body;
  Json j = Json::parse(r.body);
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
  EXPECT_EQ(j["model"], "fake/model");
  EXPECT_EQ(j["choices"][0]["message"],
            Json::parse(R"({"role":"assistant","content":"Hello world"})"));
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(j["usage"],
            Json::parse(R"({"prompt_tokens":1,"completion_tokens":2,"total_tokens":3})"));
  // Chat prompts are tokenized without BOS: the template emits it.
  EXPECT_EQ(s.engine->requests()[0].prompt.size(), 1u);
  EXPECT_FALSE(s.engine->requests()[0].stop.keep_stop_in_text);

  auto st = request(s.port, "POST", "/v1/chat/completions",
                    R"({"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}],"stream":true,
                        "stream_options":{"include_usage":true}})");
  ASSERT_EQ(st.status, 200);
  EXPECT_EQ(st.header("content-type"), "text/event-stream");
  std::vector<std::string> events;
  for (size_t pos = 0; (pos = st.body.find("data: ", pos)) != std::string::npos;) {
    auto end = st.body.find("\n\n", pos);
    events.push_back(st.body.substr(pos + 6, end - pos - 6));
    pos = end;
  }
  ASSERT_EQ(events.size(), 5u) << st.body;
  EXPECT_EQ(Json::parse(events[0])["choices"][0]["delta"],
            Json::parse(R"({"role":"assistant","content":""})"));
  EXPECT_EQ(Json::parse(events[1])["choices"][0]["delta"], Json::parse(R"({"content":"Hello"})"));
  EXPECT_EQ(Json::parse(events[2])["choices"][0]["delta"], Json::parse(R"({"content":" world"})"));
  EXPECT_EQ(Json::parse(events[2])["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(Json::parse(events[3])["choices"], Json::array());
  EXPECT_EQ(Json::parse(events[3])["model"], "gpt-4o");
  EXPECT_EQ(events[4], "[DONE]");
}

TEST(ServerRoutes, CompletionsWithTwoPrompts) {
  TestServer s;
  auto r = request(s.port, "POST", "/v1/completions", R"({"model":"m","prompt":["a","b c"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  Json j = Json::parse(r.body);
  EXPECT_EQ(j["object"], "text_completion");
  ASSERT_EQ(j["choices"].size(), 2u);
  EXPECT_EQ(j["choices"][1]["index"], 1);
  EXPECT_EQ(j["usage"]["prompt_tokens"], 2 + 3);
  EXPECT_EQ(j["usage"]["completion_tokens"], 4);
  EXPECT_EQ(s.engine->requests().size(), 2u);
  EXPECT_EQ(r.header("x-generated-tokens"), "4");  // summed over prompts

  auto st = request(s.port, "POST", "/v1/completions", R"({"prompt":["a","b"],"stream":true})");
  EXPECT_EQ(st.body.substr(st.body.size() - 14), "data: [DONE]\n\n");
}

TEST(ServerRoutes, InvocationsDispatch) {
  TestServer s;
  // As POST /: return_full_text defaults to true for an unknown pipeline tag.
  EXPECT_EQ(request(s.port, "POST", "/invocations", R"({"inputs":"x","parameters":{}})").body,
            "[{\"generated_text\":\"xHello world\"}]");
  EXPECT_EQ(Json::parse(request(s.port, "POST", "/invocations",
                                R"({"messages":[{"role":"user","content":"x"}]})")
                            .body)["object"],
            "chat.completion");
  EXPECT_EQ(
      Json::parse(request(s.port, "POST", "/invocations", R"({"prompt":"x"})").body)["object"],
      "text_completion");
  EXPECT_EQ(request(s.port, "POST", "/invocations", R"({"x":1})").status, 422);
}

TEST(ServerRoutes, TokenizeAndChatTokenize) {
  TestServer s;
  EXPECT_EQ(request(s.port, "POST", "/tokenize", R"({"inputs":"Hello world"})").body,
            "[{\"id\":1,\"text\":\"\",\"start\":0,\"stop\":0},"
            "{\"id\":15043,\"text\":\"Hello\",\"start\":0,\"stop\":5},"
            "{\"id\":3186,\"text\":\"world\",\"start\":6,\"stop\":11}]");
  auto ct =
      request(s.port, "POST", "/chat_tokenize", R"({"messages":[{"role":"user","content":"Hi"}]})");
  EXPECT_EQ(Json::parse(ct.body)["templated_text"], "<|user|>Hi\n<|assistant|>");
}

TEST(ServerErrors, BadInputGetsTheContractError) {
  TestServer s;
  auto malformed = request(s.port, "POST", "/generate", R"({"inputs":)");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(Json::parse(malformed.body)["error_type"], "validation");
  auto wrong_type =
      request(s.port, "POST", "/generate", R"({"inputs":"x","parameters":{"top_k":"3"}})");
  EXPECT_EQ(wrong_type.status, 422);
  EXPECT_EQ(
      wrong_type.body,
      "{\"error\":\"Failed to deserialize the JSON body into the target type: parameters.top_k: "
      "invalid type: string \\\"3\\\", expected i32\",\"error_type\":\"validation\"}");
  auto missing = request(s.port, "POST", "/v1/chat/completions", R"({"model":"x"})");
  EXPECT_EQ(missing.status, 422);
  auto temp = request(s.port, "POST", "/v1/chat/completions",
                      R"({"messages":[{"role":"user","content":"x"}],"temperature":-1})");
  EXPECT_EQ(temp.status, 422);
  EXPECT_EQ(temp.body,
            "{\"error\":\"Input validation error: `temperature` must be strictly positive\","
            "\"error_type\":\"validation\"}");
  auto top_p = request(s.port, "POST", "/v1/completions", R"({"prompt":"x","top_p":1.5})");
  EXPECT_EQ(top_p.status, 422);
  EXPECT_EQ(request(s.port, "POST", "/v1/chat/completions",
                    R"({"messages":[{"role":"user","content":"x"}],"max_tokens":0})")
                .status,
            422);
  EXPECT_EQ(request(s.port, "POST", "/v1/chat/completions",
                    R"({"messages":[{"role":"user","content":"x"}],"top_p":0})")
                .status,
            422);
  std::string stops = "[";
  for (int i = 0; i < 100; ++i) stops += std::string(i ? "," : "") + "\"s\"";
  EXPECT_EQ(request(s.port, "POST", "/v1/chat/completions",
                    R"({"messages":[{"role":"user","content":"x"}],"stop":)" + stops + "]}")
                .status,
            422);
  EXPECT_EQ(request(s.port, "POST", "/generate",
                    R"({"inputs":"x","parameters":{"best_of":3,"do_sample":true}})")
                .status,
            422);
  // Unknown fields are accepted and ignored.
  EXPECT_EQ(request(s.port, "POST", "/v1/chat/completions",
                    R"({"messages":[{"role":"user","content":"x"}],"frobnicate":{"a":[1]},
                        "reasoning_effort":"low","modalities":["text"]})")
                .status,
            200);
  auto tmpl = request(s.port, "POST", "/v1/chat/completions",
                      R"({"messages":[{"role":"user","content":"RAISE"}]})");
  EXPECT_EQ(tmpl.status, 422);
  EXPECT_EQ(Json::parse(tmpl.body)["error_type"], "template_error");
  // The server keeps serving after all of that.
  EXPECT_EQ(request(s.port, "GET", "/health").status, 200);
  auto metrics = request(s.port, "GET", "/metrics").body;
  EXPECT_NE(metrics.find("tgi_request_failure{err=\"template\"} 1"), std::string::npos) << metrics;
}

TEST(ServerErrors, ContentTypeRule) {
  TestServer s;
  const std::string body = R"({"inputs":"x","parameters":{}})";
  EXPECT_EQ(request(s.port, "POST", "/generate", body, {}).status, 200);  // missing: tolerated
  EXPECT_EQ(request(s.port, "POST", "/generate", body,
                    {{"content-type", "application/json; charset=utf-8"}})
                .status,
            200);
  EXPECT_EQ(request(s.port, "POST", "/generate", body,
                    {{"content-type", "application/x-www-form-urlencoded"}})
                .status,
            200);  // curl -d
  auto plain = request(s.port, "POST", "/generate", body, {{"content-type", "text/plain"}});
  EXPECT_EQ(plain.status, 415);
  EXPECT_EQ(plain.body,
            "{\"error\":\"Expected request with `Content-Type: "
            "application/json`\",\"error_type\":\"validation\"}");
}

TEST(ServerNoModel, InfoRoutesAnswerGenerationIs503) {
  auto o = TestServer::defaults();
  o.with_model = false;
  o.with_engine = false;
  TestServer s(o);
  EXPECT_EQ(request(s.port, "GET", "/health").status, 200);
  EXPECT_EQ(request(s.port, "GET", "/info").status, 200);
  const std::string not_loaded =
      "{\"error\":\"Model is not loaded: this server was started without a model engine, so "
      "generation and tokenization are unavailable\",\"error_type\":\"unhealthy\"}";
  for (auto [route, body] : std::vector<std::pair<std::string, std::string>>{
           {"/generate", R"({"inputs":"x"})"},
           {"/generate_stream", R"({"inputs":"x"})"},
           {"/tokenize", R"({"inputs":"x"})"},
           {"/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}]})"},
           {"/v1/completions", R"({"prompt":"x"})"},
           {"/chat_tokenize", R"({"messages":[{"role":"user","content":"x"}]})"}}) {
    auto r = request(s.port, "POST", route, body);
    EXPECT_EQ(r.status, 503) << route;
    EXPECT_EQ(r.body, not_loaded) << route;
  }
  // Parameter checks still answer 422 first.
  EXPECT_EQ(request(s.port, "POST", "/generate", R"({"inputs":"x","parameters":{"temperature":0}})")
                .status,
            422);
}

}  // namespace
}  // namespace kiln::test
