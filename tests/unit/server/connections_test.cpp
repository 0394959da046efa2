// Connection-level behaviour: auth, CORS, limits, request ids, admission,
// clients that vanish, many idle connections, SSE keep-alive comments,
// mid-stream failures and graceful shutdown.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <chrono>
#include <thread>

#include "api/json_util.h"
#include "test_server.h"

namespace kiln::test {
namespace {

using namespace std::chrono_literals;
using api::Json;

const std::string kGen = R"({"inputs":"Hello","parameters":{}})";

// Waits up to `limit` for `cond`.
template <typename F>
bool eventually(F cond, std::chrono::milliseconds limit = 5s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return cond();
}

// A script that streams one token every `every` for `n` tokens.
FakeEngine::Script slow_script(int n, std::chrono::milliseconds every) {
  return [n, every](const engine::GenerationRequest&) {
    std::vector<FakeEngine::Step> steps;
    for (int i = 0; i < n; ++i) steps.emplace_back(tok(7, " x", -1.0f, false, i == n - 1), every);
    steps.emplace_back(fin(engine::FinishReason::kLength, 2, n, "x"));
    return steps;
  };
}

TEST(ServerAuth, ApiKeyOnGenerationRoutesOnly) {
  auto o = TestServer::defaults();
  o.server.api_key = "s3cret";
  TestServer s(o);
  auto none = request(s.port, "POST", "/generate", kGen);
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.body, "{\"error\":\"Unauthorized\",\"error_type\":\"authentication\"}");
  auto wrong = request(s.port, "POST", "/generate", kGen,
                       {{"content-type", "application/json"}, {"authorization", "Bearer s3cre"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(request(s.port, "POST", "/generate", kGen, {{"authorization", "Bearer S3CRET"}}).status,
            401);
  EXPECT_EQ(request(s.port, "POST", "/generate", kGen, {{"authorization", "s3cret"}}).status, 401);
  EXPECT_EQ(request(s.port, "POST", "/generate", kGen, {{"authorization", "Bearer s3cret"}}).status,
            200);
  EXPECT_EQ(request(s.port, "POST", "/generate", kGen, {{"authorization", "bearer s3cret"}}).status,
            200);
  for (const char* route : {"/v1/chat/completions", "/v1/completions", "/tokenize",
                            "/chat_tokenize", "/generate_stream", "/", "/invocations"}) {
    EXPECT_EQ(request(s.port, "POST", route, "{}").status, 401) << route;
  }
  for (const char* route : {"/health", "/info", "/metrics", "/v1/models"}) {
    EXPECT_EQ(request(s.port, "GET", route).status, 200) << route;
  }
  // 401 does not count as a failed request (§4.5).
  EXPECT_NE(
      request(s.port, "GET", "/metrics").body.find("tgi_request_failure{err=\"validation\"} 0"),
      std::string::npos);
}

TEST(ServerCors, PreflightNeedsNoKeyAndAllowsAuthorization) {
  auto o = TestServer::defaults();
  o.server.api_key = "k";
  TestServer s(o);
  auto pre = request(s.port, "OPTIONS", "/v1/chat/completions", "",
                     {{"origin", "https://app.example"},
                      {"access-control-request-method", "POST"},
                      {"access-control-request-headers", "authorization, content-type"}});
  EXPECT_EQ(pre.status, 200);
  EXPECT_EQ(pre.header("access-control-allow-origin"), "*");
  EXPECT_EQ(pre.header("access-control-allow-methods"), "GET, POST");
  EXPECT_EQ(pre.header("access-control-allow-headers"), "content-type, authorization");
  EXPECT_EQ(request(s.port, "GET", "/info", "", {{"origin", "https://x"}})
                .header("access-control-allow-origin"),
            "*");
}

TEST(ServerCors, RestrictedOrigins) {
  auto o = TestServer::defaults();
  o.server.cors_allow_origin = {"https://good.example"};
  TestServer s(o);
  auto good = request(s.port, "GET", "/info", "", {{"origin", "https://good.example"}});
  EXPECT_EQ(good.header("access-control-allow-origin"), "https://good.example");
  auto bad = request(s.port, "GET", "/info", "", {{"origin", "https://evil.example"}});
  EXPECT_EQ(bad.header("access-control-allow-origin"), "");
  auto pre =
      request(s.port, "OPTIONS", "/generate", "",
              {{"origin", "https://evil.example"}, {"access-control-request-method", "POST"}});
  EXPECT_EQ(pre.header("access-control-allow-origin"), "");
}

TEST(ServerLimits, PayloadOverLimitIs413AndServerKeepsServing) {
  auto o = TestServer::defaults();
  o.server.payload_limit = 1000;
  TestServer s(o);
  std::string big = R"({"inputs":")" + std::string(2000, 'a') + R"("})";
  auto r = request(s.port, "POST", "/generate", big);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.body,
            "{\"error\":\"Failed to buffer the request body: length limit "
            "exceeded\",\"error_type\":\"validation\"}");
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_EQ(request(s.port, "POST", "/generate", kGen).status, 200);
}

TEST(ServerLimits, HugeHeaderIs431OrCloseAndServerKeepsServing) {
  TestServer s;
  auto socket = connect(s.port);
  std::string req =
      "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(1 << 20, 'a') + "\r\n\r\n";
  boost::system::error_code ec;
  net::write(socket, net::buffer(req), ec);  // may fail midway once the server closes
  std::string reply = read_until(socket, "\r\n\r\n");
  if (!reply.empty()) {
    EXPECT_EQ(reply.rfind("HTTP/1.1 431", 0), 0u) << reply.substr(0, 100);
  }
  EXPECT_EQ(request(s.port, "GET", "/health").status, 200);
}

TEST(ServerRequestId, EchoedOrGenerated) {
  TestServer s;
  EXPECT_EQ(
      request(s.port, "GET", "/health", "", {{"x-request-id", "abc-123"}}).header("x-request-id"),
      "abc-123");
  auto gen = request(s.port, "GET", "/health").header("x-request-id");
  EXPECT_EQ(gen.size(), 32u);
  EXPECT_EQ(
      request(s.port, "POST", "/generate", kGen, {{"x-request-id", "r1"}}).header("x-request-id"),
      "r1");
  EXPECT_EQ(s.engine->requests().back().id, "r1");
}

TEST(ServerConnections, KeepAliveServesManyRequestsOnOneConnection) {
  TestServer s;
  auto socket = connect(s.port);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(exchange(socket, "GET", "/health").status, 200);
    EXPECT_EQ(exchange(socket, "POST", "/generate", kGen).status, 200);
    EXPECT_EQ(exchange(socket, "POST", "/generate_stream", kGen).status, 200);
    EXPECT_EQ(exchange(socket, "POST", "/generate", "{").status, 400);
  }
}

TEST(ServerAdmission, OverloadedIs429) {
  auto o = TestServer::defaults();
  o.config.max_concurrent_requests = 1;
  o.script = slow_script(3, 100ms);
  TestServer s(o);
  auto busy = connect(s.port);
  http::request<http::string_body> req{http::verb::post, "/generate_stream", 11};
  req.set(http::field::host, "x");
  req.body() = kGen;
  req.prepare_payload();
  http::write(busy, req);
  read_until(busy, "data: ");  // the slot is taken while this stream runs
  auto r = request(s.port, "POST", "/generate", kGen);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.body, "{\"error\":\"Model is overloaded\",\"error_type\":\"overloaded\"}");
  // /tokenize takes no slot.
  EXPECT_EQ(request(s.port, "POST", "/tokenize", kGen).status, 200);
  read_until(busy, "\"generated_text\":\"x\"");
  EXPECT_TRUE(eventually([&] { return request(s.port, "POST", "/generate", kGen).status == 200; }));
}

TEST(ServerDisconnect, MidStreamCancelsTheEngineRequest) {
  auto o = TestServer::defaults();
  o.script = slow_script(1000, 20ms);
  TestServer s(o);
  {
    auto socket = connect(s.port);
    http::request<http::string_body> req{http::verb::post, "/generate_stream", 11};
    req.set(http::field::host, "x");
    req.body() = kGen;
    req.prepare_payload();
    http::write(socket, req);
    read_until(socket, "data: ");
  }  // closed
  ASSERT_TRUE(eventually([&] { return s.engine->streams().size() == 1; }));
  EXPECT_TRUE(eventually([&] { return s.engine->streams()[0]->cancelled(); }));
  EXPECT_TRUE(eventually([&] {
    return request(s.port, "GET", "/metrics").body.find("tgi_request_failure{err=\"dropped\"} 1") !=
           std::string::npos;
  }));
  EXPECT_EQ(request(s.port, "GET", "/health").status, 200);
}

TEST(ServerDisconnect, WhileWaitingForNonStreamResultCancels) {
  auto o = TestServer::defaults();
  o.script = slow_script(1000, 20ms);
  TestServer s(o);
  {
    auto socket = connect(s.port);
    http::request<http::string_body> req{http::verb::post, "/generate", 11};
    req.set(http::field::host, "x");
    req.body() = kGen;
    req.prepare_payload();
    http::write(socket, req);
    ASSERT_TRUE(eventually([&] { return s.engine->streams().size() == 1; }));
  }
  EXPECT_TRUE(eventually([&] { return s.engine->streams()[0]->cancelled(); }));
  EXPECT_EQ(request(s.port, "GET", "/health").status, 200);
}

TEST(ServerDisconnect, MidRequestBodyKeepsServerHealthy) {
  TestServer s;
  {
    auto socket = connect(s.port);
    std::string partial =
        "POST /generate HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"inputs\":";
    net::write(socket, net::buffer(partial));
  }
  {
    auto socket = connect(s.port);
    std::string partial = "POST /generate HTTP/1.1\r\nHost: x\r\nConte";
    net::write(socket, net::buffer(partial));
  }
  EXPECT_EQ(request(s.port, "POST", "/generate", kGen).status, 200);
  EXPECT_TRUE(s.engine->requests().size() == 1);
}

TEST(ServerConnections, ThousandIdleKeepAliveConnections) {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < 2200 && rl.rlim_max >= 2200) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < 2200) GTEST_SKIP() << "needs 2200 file descriptors, have " << rl.rlim_cur;
  auto o = TestServer::defaults();
  o.server.idle_timeout = 1500ms;
  TestServer s(o);
  std::vector<tcp::socket> idle;
  for (int i = 0; i < 1000; ++i) {
    idle.push_back(connect(s.port));
    if (i % 100 == 0) {
      EXPECT_EQ(exchange(idle.back(), "GET", "/health").status, 200);
    }
  }
  // Others are still served while the thousand sit idle.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(request(s.port, "POST", "/generate", kGen).status, 200);
  // The idle timeout closes them: a read sees end of file.
  std::this_thread::sleep_for(2500ms);
  int closed = 0;
  for (auto& sock : idle) {
    sock.non_blocking(true);
    char c;
    boost::system::error_code ec;
    sock.read_some(net::buffer(&c, 1), ec);
    if (ec == net::error::eof || ec == net::error::connection_reset) ++closed;
  }
  EXPECT_EQ(closed, 1000);
  EXPECT_EQ(request(s.port, "GET", "/health").status, 200);
}

TEST(ServerStreams, KeepAliveCommentOnQuietStreams) {
  auto o = TestServer::defaults();
  o.server.sse_keepalive = 50ms;
  o.script = slow_script(2, 200ms);
  TestServer s(o);
  auto r = request(s.port, "POST", "/generate_stream", kGen);
  EXPECT_EQ(r.body.rfind(":\n\n", 0), 0u) << r.body;  // a comment before the first event
  EXPECT_NE(r.body.find("\"generated_text\":\"x\""), std::string::npos);
}

TEST(ServerStreams, EngineFailureMidStreamIsAnErrorEvent) {
  auto o = TestServer::defaults();
  o.script = [](const engine::GenerationRequest&) {
    std::vector<FakeEngine::Step> steps;
    steps.emplace_back(tok(9, " a", -1.2f));
    steps.emplace_back(engine::FailedEvent{engine::FailureKind::kGeneration, "out of memory"},
                       10ms);
    return steps;
  };
  TestServer s(o);
  auto socket = connect(s.port);
  auto native = exchange(socket, "POST", "/generate_stream", kGen);
  EXPECT_EQ(
      native.body,
      "data: {\"index\":1,\"token\":{\"id\":9,\"text\":\" a\",\"logprob\":-1.2,\"special\":false},"
      "\"generated_text\":null,\"details\":null}\n\n"
      "data: {\"error\":\"Request failed during generation: out of "
      "memory\",\"error_type\":\"generation\"}\n\n");
  // Native streams close the connection after an in-band error (§4.1).
  char c;
  boost::system::error_code ec;
  socket.read_some(net::buffer(&c, 1), ec);
  EXPECT_EQ(ec, net::error::eof);
  auto chat = request(s.port, "POST", "/v1/chat/completions",
                      R"({"messages":[{"role":"user","content":"x"}],"stream":true})");
  EXPECT_NE(chat.body.find(
                "data: {\"error\":{\"message\":\"Request failed during generation: out of memory\","
                "\"type\":\"generation\",\"http_status_code\":424}}\n\ndata: [DONE]\n\n"),
            std::string::npos)
      << chat.body;
  auto plain = request(s.port, "POST", "/generate", kGen);
  EXPECT_EQ(plain.status, 424);
  EXPECT_EQ(plain.body,
            "{\"error\":\"Request failed during generation: out of "
            "memory\",\"error_type\":\"generation\"}");
}

TEST(ServerShutdown, RunningStreamFinishesWithinGrace) {
  auto o = TestServer::defaults();
  o.script = slow_script(5, 50ms);
  TestServer s(o);
  auto socket = connect(s.port);
  http::request<http::string_body> req{http::verb::post, "/generate_stream", 11};
  req.set(http::field::host, "x");
  req.body() = kGen;
  req.prepare_payload();
  http::write(socket, req);
  read_until(socket, "data: ");
  auto idle = connect(s.port);  // an idle keep-alive connection is closed at once
  std::thread stopper([&] { s.stop(); });
  std::string rest = read_until(socket, "\"generated_text\":\"x\"");
  EXPECT_NE(rest.find("\"generated_text\":\"x\""), std::string::npos);
  stopper.join();
  boost::system::error_code ec;
  tcp::socket late(idle.get_executor());
  late.connect({net::ip::make_address("127.0.0.1"), s.port}, ec);
  EXPECT_TRUE(ec) << "still accepting after shutdown";
}

TEST(ServerShutdown, PastTheDeadlineStreamsEndWithAnError) {
  auto o = TestServer::defaults();
  o.server.graceful_timeout = 100ms;
  o.script = slow_script(1000, 20ms);
  TestServer s(o);
  auto socket = connect(s.port);
  http::request<http::string_body> req{http::verb::post, "/v1/chat/completions", 11};
  req.set(http::field::host, "x");
  req.body() = R"({"messages":[{"role":"user","content":"x"}],"stream":true})";
  req.prepare_payload();
  http::write(socket, req);
  read_until(socket, "data: ");
  s.stop();
  std::string rest = read_until(socket, "[DONE]");
  EXPECT_NE(
      rest.find("\"message\":\"Request failed during generation: the server is shutting down\""),
      std::string::npos)
      << rest;
  EXPECT_NE(rest.find("data: [DONE]"), std::string::npos);
  EXPECT_TRUE(s.engine->streams()[0]->cancelled());
}

}  // namespace
}  // namespace kiln::test
