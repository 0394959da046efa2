// Rendering engine events into both API families' bodies and SSE streams,
// compared byte for byte with hand-written expectations taken from the
// contract's examples (§3.1-3.8, §4.1, §4.4, §6.3).
#include <gtest/gtest.h>

#include <cmath>

#include "api/fakes.h"
#include "api/json_util.h"
#include "api/render.h"

namespace kiln::api {
namespace {

using engine::Event;
using engine::FinishReason;
using test::fin;
using test::tok;

std::string stream_all(StreamRenderer& r, const std::vector<Event>& events, size_t source = 0) {
  std::string out;
  r.start(out);
  for (const auto& e : events) r.on_event(source, e, out);
  return out;
}

// The JSON objects of an SSE body ("data: {...}" events; "[DONE]" left out).
std::vector<Json> sse_json(const std::string& out) {
  std::vector<Json> chunks;
  for (size_t at = out.find("data: "); at != std::string::npos; at = out.find("data: ", at)) {
    at += 6;
    const size_t end = out.find("\n\n", at);
    const std::string data = out.substr(at, end - at);
    if (data != "[DONE]") chunks.push_back(Json::parse(data));
  }
  return chunks;
}

ValidRequest valid(bool details = false, bool sampled = false) {
  ValidRequest v;
  v.inputs = "My name is";
  v.details = details;
  v.sampled = sampled;
  return v;
}

TEST(JsonFloat, ShortestRoundTripAndNanIsNull) {
  EXPECT_EQ(dump(json_float(-0.52f)), "-0.52");
  EXPECT_EQ(dump(json_float(-0.1f)), "-0.1");
  EXPECT_EQ(dump(json_float(0.3f)), "0.3");
  EXPECT_EQ(dump(json_float(-1.2f)), "-1.2");
  EXPECT_EQ(dump(json_float(1.0f)), "1.0");
  EXPECT_EQ(dump(json_float(NAN)), "null");
  EXPECT_EQ(dump(json_float(-INFINITY)), "null");
}

TEST(RenderTgi, StreamEventsMatchContractExample) {
  auto r = make_generate_stream(valid(/*details=*/true, /*sampled=*/true));
  std::string out = stream_all(*r, {
                                       tok(3, " the", -0.52f),
                                       tok(2, "</s>", -0.1f, /*special=*/true, /*last=*/true),
                                       fin(FinishReason::kEosToken, 12, 2, "full text", 7),
                                   });
  EXPECT_EQ(
      out,
      "data: {\"index\":1,\"token\":{\"id\":3,\"text\":\" "
      "the\",\"logprob\":-0.52,\"special\":false},"
      "\"generated_text\":null,\"details\":null}\n\n"
      "data: {\"index\":2,\"token\":{\"id\":2,\"text\":\"</s>\",\"logprob\":-0.1,\"special\":true},"
      "\"generated_text\":\"full text\",\"details\":{\"finish_reason\":\"eos_token\","
      "\"generated_tokens\":2,\"seed\":7,\"input_length\":12}}\n\n");
  EXPECT_TRUE(r->done());
  EXPECT_EQ(r->summary().prompt_tokens, 12);
  EXPECT_EQ(r->summary().generated_tokens, 2);
}

TEST(RenderTgi, StreamWithoutDetailsFullTextAndTopTokens) {
  ValidRequest v = valid();
  v.return_full_text = true;
  auto r = make_generate_stream(v);
  auto t = tok(5, " Bob", -0.25f, false, true);
  t.top = {{5, " Bob", -0.25f, false}, {6, " Al", -2.5f, false}};
  std::string out = stream_all(*r, {t, fin(FinishReason::kLength, 3, 1, " Bob")});
  EXPECT_EQ(out,
            "data: {\"index\":1,\"token\":{\"id\":5,\"text\":\" "
            "Bob\",\"logprob\":-0.25,\"special\":false},"
            "\"top_tokens\":[{\"id\":5,\"text\":\" Bob\",\"logprob\":-0.25,\"special\":false},"
            "{\"id\":6,\"text\":\" Al\",\"logprob\":-2.5,\"special\":false}],"
            "\"generated_text\":\"My name is Bob\",\"details\":null}\n\n");
}

TEST(RenderTgi, MidStreamErrorMatchesContractExample) {
  auto r = make_generate_stream(valid());
  std::string out;
  for (int i = 0; i < 4; ++i) r->on_event(0, tok(8, "x", -1.0f), out);
  out.clear();
  r->on_event(0, tok(9, " a", -1.2f), out);
  engine::FailedEvent failed{engine::FailureKind::kGeneration, "CUDA out of memory"};
  r->on_event(0, failed, out);
  EXPECT_EQ(
      out,
      "data: {\"index\":5,\"token\":{\"id\":9,\"text\":\" a\",\"logprob\":-1.2,\"special\":false},"
      "\"generated_text\":null,\"details\":null}\n\n"
      "data: {\"error\":\"Request failed during generation: CUDA out of memory\","
      "\"error_type\":\"generation\"}\n\n");
  EXPECT_TRUE(r->done());
  EXPECT_TRUE(r->close_after_error());
  // Nothing after the end; no [DONE] on native streams.
  r->on_event(0, tok(1, "late", 0), out);
  EXPECT_EQ(out.find("[DONE]"), std::string::npos);
  EXPECT_EQ(out.find("late"), std::string::npos);
}

TEST(RenderTgi, FinishWithoutFinalTokenIsIncompleteStream) {
  auto r = make_generate_stream(valid());
  std::string out = stream_all(*r, {tok(1, "a", -1.0f), fin(FinishReason::kLength, 1, 1, "a")});
  EXPECT_EQ(
      out,
      "data: {\"index\":1,\"token\":{\"id\":1,\"text\":\"a\",\"logprob\":-1.0,\"special\":false},"
      "\"generated_text\":null,\"details\":null}\n\n"
      "data: {\"error\":\"Incomplete generation "
      "stream\",\"error_type\":\"incomplete_generation_stream\"}\n\n");
}

TEST(RenderTgi, GenerateBodyWithDetails) {
  ValidRequest v = valid(/*details=*/true);
  v.top_n_tokens = 1;
  auto c = make_generate_collector(v, /*compat_array=*/false);
  auto t1 = tok(15043, " Hello", -0.31f);
  t1.top = {{15043, " Hello", -0.31f, false}};
  auto t2 = tok(2, "</s>", -0.05f, true, true);
  t2.top = {{2, "</s>", -0.05f, true}};
  auto f = fin(FinishReason::kEosToken, 4, 2, " Hello");
  f.prefill = {{1, "<s>", NAN}, {3, "My", -5.5f}};
  for (const Event& e : std::vector<Event>{t1, t2, f}) c->on_event(0, e);
  ASSERT_TRUE(c->done());
  auto body = c->body();
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(
      body.value(),
      "{\"generated_text\":\" Hello\",\"details\":{\"finish_reason\":\"eos_token\","
      "\"generated_tokens\":2,\"seed\":null,"
      "\"prefill\":[{\"id\":1,\"text\":\"<s>\",\"logprob\":null},{\"id\":3,\"text\":\"My\","
      "\"logprob\":-5.5}],"
      "\"tokens\":[{\"id\":15043,\"text\":\" Hello\",\"logprob\":-0.31,\"special\":false},"
      "{\"id\":2,\"text\":\"</s>\",\"logprob\":-0.05,\"special\":true}],"
      "\"top_tokens\":[[{\"id\":15043,\"text\":\" Hello\",\"logprob\":-0.31,\"special\":false}],"
      "[{\"id\":2,\"text\":\"</s>\",\"logprob\":-0.05,\"special\":true}]]}}");
}

TEST(RenderTgi, GenerateBodyWithoutDetailsAndCompatArray) {
  auto c = make_generate_collector(valid(), /*compat_array=*/true);
  c->on_event(0, tok(1, " Bob", -1.0f, false, true));
  c->on_event(0, fin(FinishReason::kStopSequence, 3, 1, " Bob"));
  EXPECT_EQ(c->body().value(), "[{\"generated_text\":\" Bob\"}]");
}

TEST(RenderTgi, BestOfPicksHighestMeanLogprob) {
  ValidRequest v = valid(/*details=*/true, /*sampled=*/true);
  v.best_of = 2;
  auto c = make_generate_collector(v, false);
  auto a = tok(1, "a", -2.0f, false, true);
  auto b = tok(2, "b", -0.5f, false, true);
  b.choice = 1;
  auto fa = fin(FinishReason::kLength, 3, 1, "a", 11);
  auto fb = fin(FinishReason::kLength, 3, 1, "b", 22);
  fb.choice = 1;
  for (const Event& e : std::vector<Event>{a, b, fa}) c->on_event(0, e);
  EXPECT_FALSE(c->done());
  c->on_event(0, fb);
  ASSERT_TRUE(c->done());
  EXPECT_EQ(
      c->body().value(),
      "{\"generated_text\":\"b\",\"details\":{\"finish_reason\":\"length\",\"generated_tokens\":1,"
      "\"seed\":22,\"prefill\":[],\"tokens\":[{\"id\":2,\"text\":\"b\",\"logprob\":-0.5,"
      "\"special\":false}],"
      "\"best_of_sequences\":[{\"generated_text\":\"a\",\"finish_reason\":\"length\","
      "\"generated_tokens\":1,\"seed\":11,\"prefill\":[],"
      "\"tokens\":[{\"id\":1,\"text\":\"a\",\"logprob\":-2.0,\"special\":false}]}]}}");
  EXPECT_EQ(c->summary().generated_tokens, 2);
}

TEST(RenderTgi, FailedNonStreamIsTheMappedError) {
  auto c = make_generate_collector(valid(), false);
  c->on_event(0, engine::FailedEvent{engine::FailureKind::kIncomplete, ""});
  ASSERT_TRUE(c->done());
  auto b = c->body();
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().kind, ErrorKind::kIncomplete);
  EXPECT_EQ(http_status(b.error().kind), 500);
  EXPECT_EQ(render_tgi_error(b.error()),
            "{\"error\":\"Incomplete generation\",\"error_type\":\"incomplete_generation\"}");
}

OpenAiIdentity identity(const char* id, const char* model) {
  return OpenAiIdentity{id, 1736400000, model, "3.3.7-native"};
}

TEST(RenderChat, NonStreamMatchesContractExample) {
  ChatRenderOptions o;
  o.identity = identity("chatcmpl-9f0c", "meta-llama/Llama-3.1-8B-Instruct");
  auto c = make_chat_collector(std::move(o));
  c->on_event(0, tok(1, "Hello", -0.1f));
  c->on_event(0, tok(2, "!", -0.2f));
  c->on_event(0, tok(3, "<|eot_id|>", -0.01f, true, true));
  c->on_event(0, fin(FinishReason::kEosToken, 12, 3, "Hello!"));
  EXPECT_EQ(
      c->body().value(),
      "{\"object\":\"chat.completion\",\"id\":\"chatcmpl-9f0c\",\"created\":1736400000,"
      "\"model\":\"meta-llama/Llama-3.1-8B-Instruct\",\"system_fingerprint\":\"3.3.7-native\","
      "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hello!\"},"
      "\"logprobs\":null,\"finish_reason\":\"stop\"}],"
      "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15}}");
}

TEST(RenderChat, StreamMatchesContractTranscript) {
  ChatRenderOptions o;
  o.identity = identity("chatcmpl-1", "tgi-model");
  o.include_usage = true;
  auto r = make_chat_stream(std::move(o));
  std::string out =
      stream_all(*r, {
                         tok(1, "", -0.5f),  // text held back by the engine: no empty chunk
                         tok(2, "Hello", -0.1f),
                         tok(3, "!", -0.2f, false, true),
                         fin(FinishReason::kStopSequence, 9, 3, "Hello!"),
                     });
  const std::string head =
      "{\"object\":\"chat.completion.chunk\",\"id\":\"chatcmpl-1\",\"created\":1736400000,"
      "\"model\":\"tgi-model\",\"system_fingerprint\":\"3.3.7-native\",";
  EXPECT_EQ(out,
            "data: " + head +
                "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
                "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"
                "data: " +
                head +
                "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"},\"logprobs\":null,"
                "\"finish_reason\":null}],\"usage\":null}\n\n"
                "data: " +
                head +
                "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"!\"},\"logprobs\":null,"
                "\"finish_reason\":\"stop\"}],\"usage\":null}\n\n"
                "data: " +
                head +
                "\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":3,\"total_"
                "tokens\":12}}\n\n"
                "data: [DONE]\n\n");
}

// Text the engine held back (a possible stop-sequence start, bytes of an
// unfinished character) is released on the last event, which may be the
// special EOS: it still belongs to the content, and the logprobs of tokens
// whose text had no chunk of their own come with the next chunk, so the
// stream lists every token once, like the non-streamed response.
TEST(RenderChat, TextReleasedOnTheEosEventIsContent) {
  ChatRenderOptions o;
  o.identity = identity("chatcmpl-3", "m");
  o.logprobs = true;
  auto r = make_chat_stream(std::move(o));
  std::string out = stream_all(*r, {
                                       tok(1, "{", -0.5f),
                                       tok(2, "", -0.25f),  // held back
                                       tok(3, "}", -0.125f, /*special=*/true, /*last=*/true),
                                       fin(FinishReason::kEosToken, 2, 3, "{}"),
                                   });
  const auto chunks = sse_json(out);
  ASSERT_EQ(chunks.size(), 3u) << out;  // role, "{", finish with "}"
  EXPECT_EQ(chunks[1]["choices"][0]["delta"]["content"], "{");
  EXPECT_EQ(chunks[1]["choices"][0]["logprobs"]["content"].size(), 1u);
  const auto& last = chunks[2]["choices"][0];
  EXPECT_EQ(last["delta"]["content"], "}");
  EXPECT_EQ(last["finish_reason"], "stop");
  ASSERT_EQ(last["logprobs"]["content"].size(), 2u);
  EXPECT_EQ(last["logprobs"]["content"][0]["logprob"], -0.25);
  EXPECT_EQ(last["logprobs"]["content"][1]["logprob"], -0.125);
}

TEST(RenderChat, StreamWithoutUsageEndsWithFinishAndDone) {
  ChatRenderOptions o;
  o.identity = identity("chatcmpl-2", "m");
  auto r = make_chat_stream(std::move(o));
  std::string out = stream_all(*r, {
                                       tok(1, "Hi", -0.1f),
                                       // The engine's decoder skips a special
                                       // token's own text: EOS carries "".
                                       tok(2, "", -0.01f, /*special=*/true, /*last=*/true),
                                       fin(FinishReason::kLength, 2, 2, "Hi"),
                                   });
  const std::string head =
      "{\"object\":\"chat.completion.chunk\",\"id\":\"chatcmpl-2\",\"created\":1736400000,"
      "\"model\":\"m\",\"system_fingerprint\":\"3.3.7-native\",";
  // The special EOS contributes no content: the finish chunk has an empty delta.
  EXPECT_EQ(
      out,
      "data: " + head +
          "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
          "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"
          "data: " +
          head +
          "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"logprobs\":null,"
          "\"finish_reason\":null}],\"usage\":null}\n\n"
          "data: " +
          head +
          "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"length\"}],"
          "\"usage\":null}\n\n"
          "data: [DONE]\n\n");
}

TEST(RenderChat, MidStreamErrorCarriesTypeAndStatusThenDone) {
  ChatRenderOptions o;
  o.identity = identity("chatcmpl-3", "m");
  auto r = make_chat_stream(std::move(o));
  std::string out;
  r->on_event(0, engine::FailedEvent{engine::FailureKind::kGeneration, "boom"}, out);
  EXPECT_EQ(out,
            "data: {\"error\":{\"message\":\"Request failed during generation: boom\","
            "\"type\":\"generation\",\"http_status_code\":424}}\n\n"
            "data: [DONE]\n\n");
  EXPECT_FALSE(r->close_after_error());
}

TEST(RenderChat, Logprobs) {
  ChatRenderOptions o;
  o.identity = identity("chatcmpl-4", "m");
  o.logprobs = true;
  auto c = make_chat_collector(std::move(o));
  auto t = tok(7, "Hi", -0.25f, false, true);
  t.top = {{7, "Hi", -0.25f, false}, {8, "Yo", -1.5f, false}};
  c->on_event(0, t);
  c->on_event(0, fin(FinishReason::kLength, 1, 1, "Hi"));
  EXPECT_EQ(Json::parse(c->body().value())["choices"][0]["logprobs"],
            Json::parse(R"({"content":[{"token":"Hi","logprob":-0.25,"bytes":[72,105],
                "top_logprobs":[{"token":"Hi","logprob":-0.25,"bytes":[72,105]},
                                {"token":"Yo","logprob":-1.5,"bytes":[89,111]}]}],"refusal":null})"));

  ChatRenderOptions s;
  s.identity = identity("chatcmpl-5", "m");
  s.logprobs = true;
  auto r = make_chat_stream(std::move(s));
  std::string out;
  r->on_event(0, tok(7, "Hi", -0.25f), out);
  EXPECT_NE(
      out.find("\"logprobs\":{\"content\":[{\"token\":\"Hi\",\"logprob\":-0.25,\"bytes\":[72,105],"
               "\"top_logprobs\":[]}],\"refusal\":null}"),
      std::string::npos)
      << out;
}

TEST(RenderChat, ToolCallNonStream) {
  ChatRenderOptions o;
  o.identity = identity("chatcmpl-6", "m");
  o.tool_parser = std::make_unique<test::FakeModelServices::ToolParser>();
  auto c = make_chat_collector(std::move(o));
  std::string text = "<tool_call>get_weather {\"location\":\"Paris\"}</tool_call>";
  c->on_event(0, tok(1, text, -0.1f, false, true));
  c->on_event(0, fin(FinishReason::kEosToken, 10, 5, text));
  EXPECT_EQ(c->body().value(),
            "{\"object\":\"chat.completion\",\"id\":\"chatcmpl-6\",\"created\":1736400000,"
            "\"model\":\"m\","
            "\"system_fingerprint\":\"3.3.7-native\",\"choices\":[{\"index\":0,\"message\":{"
            "\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_test1\","
            "\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
            "\"arguments\":\"{\\\"location\\\":\\\"Paris\\\"}\"}}]},\"logprobs\":null,"
            "\"finish_reason\":\"tool_calls\"}],"
            "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5,\"total_tokens\":15}}");
}

TEST(RenderChat, ToolCallStreamIdentityOnceThenFinish) {
  ChatRenderOptions o;
  o.identity = identity("chatcmpl-7", "m");
  o.tool_parser = std::make_unique<test::FakeModelServices::ToolParser>();
  auto r = make_chat_stream(std::move(o));
  std::string text = "<tool_call>f {\"a\":1}</tool_call>";
  std::string out =
      stream_all(*r, {tok(1, text, -0.1f, false, true), fin(FinishReason::kEosToken, 3, 1, text)});
  const std::string head =
      "{\"object\":\"chat.completion.chunk\",\"id\":\"chatcmpl-7\",\"created\":1736400000,"
      "\"model\":\"m\",\"system_fingerprint\":\"3.3.7-native\",";
  EXPECT_EQ(out,
            "data: " + head +
                "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,"
                "\"tool_calls\":[{\"index\":0,\"id\":\"call_test1\",\"type\":\"function\","
                "\"function\":{\"name\":\"f\",\"arguments\":\"\"}}]},\"logprobs\":null,"
                "\"finish_reason\":null}],\"usage\":null}\n\n"
                "data: " +
                head +
                "\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{"
                "\"arguments\":\"{\\\"a\\\":1}\"}}]},\"logprobs\":null,\"finish_reason\":null}],"
                "\"usage\":null}\n\n"
                "data: " +
                head +
                "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"tool_"
                "calls\"}],"
                "\"usage\":null}\n\n"
                "data: [DONE]\n\n");
}

TEST(RenderChat, UnparsableToolOutputIs422NonStream) {
  ChatRenderOptions o;
  o.identity = identity("chatcmpl-8", "m");
  o.tool_parser = std::make_unique<test::FakeModelServices::ToolParser>();
  auto c = make_chat_collector(std::move(o));
  c->on_event(0, fin(FinishReason::kLength, 3, 1, "<tool_call>f {"));
  auto b = c->body();
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().kind, ErrorKind::kTool);
  EXPECT_EQ(b.error().message, "Tool error: Failed to parse generated text: <tool_call>f {");
}

TEST(RenderCompletion, NonStreamSumsUsageOverPrompts) {
  auto c = make_completion_collector(identity("cmpl-1", "m"), 2);
  c->on_event(1, fin(FinishReason::kLength, 3, 16, " two"));
  EXPECT_FALSE(c->done());
  c->on_event(0, fin(FinishReason::kEosToken, 2, 5, " one"));
  ASSERT_TRUE(c->done());
  EXPECT_EQ(
      c->body().value(),
      "{\"object\":\"text_completion\",\"id\":\"cmpl-1\",\"created\":1736400000,\"model\":\"m\","
      "\"system_fingerprint\":\"3.3.7-native\",\"choices\":["
      "{\"index\":0,\"text\":\" one\",\"logprobs\":null,\"finish_reason\":\"stop\"},"
      "{\"index\":1,\"text\":\" two\",\"logprobs\":null,\"finish_reason\":\"length\"}],"
      "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":21,\"total_tokens\":26}}");
}

TEST(RenderCompletion, StreamInterleavesPromptsAndEndsWithDone) {
  auto r = make_completion_stream(identity("cmpl-2", "m"), 2);
  std::string out;
  r->on_event(0, tok(1, " a", -1.0f), out);
  r->on_event(1, tok(2, " b", -1.0f, false, true), out);
  r->on_event(1, fin(FinishReason::kStopSequence, 4, 1, " b"), out);
  EXPECT_FALSE(r->done());
  r->on_event(0, tok(3, "", -1.0f, true, true), out);
  r->on_event(0, fin(FinishReason::kEosToken, 2, 2, " a"), out);
  EXPECT_TRUE(r->done());
  const std::string head =
      "{\"object\":\"text_completion\",\"id\":\"cmpl-2\",\"created\":1736400000,\"model\":\"m\","
      "\"system_fingerprint\":\"3.3.7-native\",";
  EXPECT_EQ(
      out,
      "data: " + head +
          "\"choices\":[{\"index\":0,\"text\":\" a\",\"logprobs\":null,\"finish_reason\":null}],"
          "\"usage\":null}\n\n"
          "data: " +
          head +
          "\"choices\":[{\"index\":1,\"text\":\" "
          "b\",\"logprobs\":null,\"finish_reason\":\"stop\"}],"
          "\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":1,\"total_tokens\":5}}\n\n"
          "data: " +
          head +
          "\"choices\":[{\"index\":0,\"text\":\"\",\"logprobs\":null,\"finish_reason\":\"stop\"}],"
          "\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":2,\"total_tokens\":4}}\n\n"
          "data: [DONE]\n\n");
}

TEST(RenderErrors, StatusAndTypeTable) {
  struct Row {
    ErrorKind kind;
    int status;
    const char* type;
  } rows[] = {
      {ErrorKind::kMalformedJson, 400, "validation"},
      {ErrorKind::kUnauthorized, 401, "authentication"},
      {ErrorKind::kNotFound, 404, "not_found"},
      {ErrorKind::kMethodNotAllowed, 405, "method_not_allowed"},
      {ErrorKind::kPayloadTooLarge, 413, "validation"},
      {ErrorKind::kUnsupportedMediaType, 415, "validation"},
      {ErrorKind::kHeaderTooLarge, 431, "validation"},
      {ErrorKind::kValidation, 422, "validation"},
      {ErrorKind::kTemplate, 422, "template_error"},
      {ErrorKind::kMissingTemplateVariable, 422, "missing_template_variable"},
      {ErrorKind::kTool, 422, "tool_error"},
      {ErrorKind::kOverloaded, 429, "overloaded"},
      {ErrorKind::kGeneration, 424, "generation"},
      {ErrorKind::kIncomplete, 500, "incomplete_generation"},
      {ErrorKind::kIncompleteStream, 500, "incomplete_generation_stream"},
      {ErrorKind::kStreamSerialization, 500, "stream_serialization_error"},
      {ErrorKind::kUnhealthy, 503, "healthcheck"},
      {ErrorKind::kModelNotLoaded, 503, "unhealthy"},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(http_status(r.kind), r.status) << r.type;
    EXPECT_EQ(error_type(r.kind), r.type);
  }
  EXPECT_EQ(render_tgi_error(ApiError::of(ErrorKind::kOverloaded)),
            "{\"error\":\"Model is overloaded\",\"error_type\":\"overloaded\"}");
  EXPECT_EQ(render_tgi_error(ApiError::of(ErrorKind::kUnhealthy)),
            "{\"error\":\"unhealthy\",\"error_type\":\"healthcheck\"}");
  EXPECT_EQ(ApiError::missing_variable("x").message, "Missing template vatiable: x");
  EXPECT_EQ(failure_label(ErrorKind::kTemplate), "template");
  EXPECT_EQ(failure_label(ErrorKind::kUnauthorized), "");  // 401 is not a failure (§4.5)
}

// OpenAI `n` (the engine runs n choices of one prompt; events carry their
// choice index): one choice object per index, the prompt counted once.
engine::TokenEvent tok_of(int32_t choice, engine::TokenEvent t) {
  t.choice = choice;
  return t;
}
engine::FinishedEvent fin_of(int32_t choice, engine::FinishedEvent f) {
  f.choice = choice;
  return f;
}

TEST(RenderChat, SeveralChoicesNonStream) {
  ChatRenderOptions o;
  o.identity = identity("chatcmpl-n", "m");
  o.n = 2;
  auto c = make_chat_collector(std::move(o));
  // Interleaved as the engine emits them; choice 1 finishes first.
  c->on_event(0, tok_of(0, tok(1, "Hi", -0.1f)));
  c->on_event(0, tok_of(1, tok(2, "Yo", -0.3f, false, true)));
  c->on_event(0, fin_of(1, fin(FinishReason::kLength, 7, 1, "Yo")));
  EXPECT_FALSE(c->done());
  c->on_event(0, tok_of(0, tok(3, "!", -0.2f, false, true)));
  c->on_event(0, fin_of(0, fin(FinishReason::kStopSequence, 7, 2, "Hi!")));
  ASSERT_TRUE(c->done());
  EXPECT_EQ(c->body().value(),
            "{\"object\":\"chat.completion\",\"id\":\"chatcmpl-n\",\"created\":1736400000,"
            "\"model\":\"m\",\"system_fingerprint\":\"3.3.7-native\",\"choices\":["
            "{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hi!\"},"
            "\"logprobs\":null,\"finish_reason\":\"stop\"},"
            "{\"index\":1,\"message\":{\"role\":\"assistant\",\"content\":\"Yo\"},"
            "\"logprobs\":null,\"finish_reason\":\"length\"}],"
            "\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3,\"total_tokens\":10}}");
  EXPECT_EQ(c->summary().prompt_tokens, 7);
  EXPECT_EQ(c->summary().generated_tokens, 3);
}

TEST(RenderChat, SeveralChoicesStreamEndsAfterTheLastChoice) {
  ChatRenderOptions o;
  o.identity = identity("chatcmpl-s", "m");
  o.n = 2;
  o.include_usage = true;
  auto r = make_chat_stream(std::move(o));
  std::string out = stream_all(*r, {
                                       tok_of(1, tok(5, "B", -0.1f)),
                                       tok_of(0, tok(6, "A", -0.1f, false, true)),
                                       fin_of(0, fin(FinishReason::kLength, 4, 1, "A")),
                                   });
  EXPECT_FALSE(r->done());
  r->on_event(0, tok_of(1, tok(7, "b", -0.1f, false, true)), out);
  r->on_event(0, fin_of(1, fin(FinishReason::kLength, 4, 2, "Bb")), out);
  EXPECT_TRUE(r->done());
  const std::string head =
      "data: {\"object\":\"chat.completion.chunk\",\"id\":\"chatcmpl-s\",\"created\":1736400000,"
      "\"model\":\"m\",\"system_fingerprint\":\"3.3.7-native\",";
  const auto chunk = [&](int k, const std::string& delta, const std::string& reason) {
    return head + "\"choices\":[{\"index\":" + std::to_string(k) + ",\"delta\":" + delta +
           ",\"logprobs\":null,\"finish_reason\":" + reason + "}],\"usage\":null}\n\n";
  };
  EXPECT_EQ(out, chunk(0, "{\"role\":\"assistant\",\"content\":\"\"}", "null") +
                     chunk(1, "{\"role\":\"assistant\",\"content\":\"\"}", "null") +
                     chunk(1, "{\"content\":\"B\"}", "null") +
                     chunk(0, "{\"content\":\"A\"}", "\"length\"") +
                     chunk(1, "{\"content\":\"b\"}", "\"length\"") + head +
                     "\"choices\":[],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":3,"
                     "\"total_tokens\":7}}\n\n"
                     "data: [DONE]\n\n");
}

}  // namespace
}  // namespace kiln::api
