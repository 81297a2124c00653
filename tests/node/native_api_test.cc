// The native routes of PROTOCOL.md section 2 on a real node serving the tiny model.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <nlohmann/json.hpp>

#include "engine/utf8_stream.h"
#include "node_test_support.h"

namespace llamanet::node {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class NativeApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { node_ = new TestNode(); }
  static void TearDownTestSuite() {
    delete node_;
    node_ = nullptr;
  }
  static httplib::Client& client() { return node_->client(); }
  static TestNode* node_;
};
TestNode* NativeApiTest::node_ = nullptr;

json Body(const httplib::Result& r) { return json::parse(r->body); }

// The JSON of an SSE body's `data:` events.
std::vector<json> SseEvents(const std::string& body) {
  std::vector<json> out;
  for (const std::string& data : SseData(body)) out.push_back(json::parse(data));
  return out;
}

TEST_F(NativeApiTest, GenerateAnswersWithTheDocumentedFields) {
  auto r = client().Post("/generate", R"({"prompt":"Hello","max_tokens":12,"temperature":0})", "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json j = Body(r);
  EXPECT_TRUE(j["text"].is_string());
  EXPECT_LE(j["tokens_generated"].get<int>(), 12);
  EXPECT_GE(j["tokens_generated"].get<int>(), 1);
  EXPECT_TRUE(j["generation_time"].is_number());
  EXPECT_EQ(j["node_id"], "test-node");
  EXPECT_FALSE(r->get_header_value("X-Request-Id").empty());
}

TEST_F(NativeApiTest, StreamSendsEventsThatAddUpToTheWholeText) {
  const std::string body = R"({"prompt":"Hello","max_tokens":16,"temperature":0})";
  auto whole = client().Post("/generate", body, "application/json");
  ASSERT_TRUE(whole);
  auto r = client().Post("/generate/stream", body, "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
  std::vector<json> events = SseEvents(r->body);
  ASSERT_FALSE(events.empty());
  std::string text;
  for (const json& e : events) {
    for (const char* f : {"text", "accumulated_text", "tokens_generated", "generation_time", "finished", "node_id"}) {
      EXPECT_TRUE(e.contains(f)) << f;
    }
    text += e["text"].get<std::string>();
    EXPECT_EQ(e["accumulated_text"], text);
    EXPECT_TRUE(engine::IsValidUtf8(e["text"].get<std::string>()));
  }
  EXPECT_TRUE(events.back()["finished"].get<bool>());
  for (size_t i = 0; i + 1 < events.size(); ++i) EXPECT_FALSE(events[i]["finished"].get<bool>());
  EXPECT_EQ(text, Body(whole)["text"]);
}

// llama.cpp's extensions: the output follows a GBNF grammar or a JSON schema.
TEST_F(NativeApiTest, GrammarAndJsonSchemaConstrainTheText) {
  auto r = client().Post("/generate", R"({"prompt":"Answer:","max_tokens":40,"temperature":1,"seed":3,)"
                                      R"("grammar":"root ::= (\"yes\" | \"no\") \", surely\""})",
                         "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  std::string text = Body(r)["text"];
  EXPECT_TRUE(text == "yes, surely" || text == "no, surely") << text;

  auto s = client().Post("/generate/stream", R"({"prompt":"Data:","max_tokens":120,"temperature":1,"seed":4,)"
                                             R"("json_schema":{"type":"object","properties":{"ok":{"type":"boolean"},)"
                                             R"("n":{"type":"integer","minimum":0,"maximum":9}},"required":["ok","n"]}})",
                         "application/json");
  ASSERT_TRUE(s);
  ASSERT_EQ(s->status, 200) << s->body;
  std::string streamed;
  for (const json& ev : SseEvents(s->body)) {
    if (ev.contains("text") && ev["text"].is_string()) streamed += ev["text"].get<std::string>();
  }
  json value = json::parse(streamed, nullptr, false);
  ASSERT_TRUE(value.is_object()) << streamed;
  EXPECT_TRUE(value["ok"].is_boolean());
  EXPECT_TRUE(value["n"].is_number_integer());
}

TEST_F(NativeApiTest, StatusInfoHealthHaveTheirFields) {
  auto status = client().Get("/status");
  ASSERT_TRUE(status);
  json s = Body(status);
  for (const char* f : {"uptime", "tps", "load", "total_tokens", "model"}) EXPECT_TRUE(s.contains(f)) << f;
  EXPECT_EQ(s["model"], "tiny-f16");
  EXPECT_GE(s["load"].get<double>(), 0.0);
  EXPECT_LE(s["load"].get<double>(), 1.0);

  json i = Body(client().Get("/info"));
  for (const char* f : {"node_id", "model", "model_path", "system", "dht_port", "openai_compatible", "endpoints"}) {
    EXPECT_TRUE(i.contains(f)) << f;
  }
  EXPECT_TRUE(i["system"].contains("cpu"));
  EXPECT_GT(i["system"]["ram"]["total"].get<uint64_t>(), 0u);
  EXPECT_TRUE(i["system"].contains("gpu"));
  EXPECT_TRUE(i["system"].contains("platform"));
  EXPECT_EQ(i["openai_compatible"], true);

  json h = Body(client().Get("/health"));
  for (const char* f : {"healthy", "running", "last_heartbeat", "time_since_last_heartbeat", "heartbeat_interval",
                        "llm_loaded", "dht_running", "timestamp", "openai_compatible"}) {
    EXPECT_TRUE(h.contains(f)) << f;
  }
  EXPECT_EQ(h["healthy"], true);
  EXPECT_EQ(h["llm_loaded"], true);
}

TEST_F(NativeApiTest, BadRequestsGetTheDocumentedErrors) {
  struct Case {
    std::string body;
    int status;
    std::string detail_has;
  };
  std::string long_prompt;
  for (int i = 0; i < 400; ++i) long_prompt += " word";
  const std::vector<Case> cases = {
      {"not json", 422, "not valid JSON"},
      {"[1,2]", 422, "JSON object"},
      {"{}", 422, "'prompt' is required"},
      {R"({"prompt":42})", 422, "'prompt' must be a string"},
      {R"({"prompt":""})", 400, "must not be empty"},
      {R"({"prompt":"x","max_tokens":"ten"})", 422, "'max_tokens' must be an integer"},
      {R"({"prompt":"x","max_tokens":0})", 400, "'max_tokens'"},
      {R"({"prompt":"x","max_tokens":100000})", 400, "'max_tokens'"},
      {R"({"prompt":"x","temperature":5})", 400, "'temperature'"},
      {R"({"prompt":"x","top_p":0})", 400, "'top_p'"},
      {R"({"prompt":"x","stop":[1]})", 422, "'stop'"},
      {R"({"prompt":"x","stop":"ab"})", 200, ""},
      {R"({"prompt":")" + long_prompt + R"("})", 400, "context"},
      {R"({"prompt":"x","grammar":"root ::= ("})", 400, "grammar"},
      {R"({"prompt":"x","grammar":5})", 422, "'grammar' must be a string"},
      {R"({"prompt":"x","json_schema":"object"})", 422, "'json_schema' must be a JSON schema object"},
      {R"({"prompt":"x","grammar":"root ::= \"a\"","json_schema":{}})", 400, "cannot be used together"},
  };
  for (const Case& c : cases) {
    auto r = client().Post("/generate", c.body, "application/json");
    ASSERT_TRUE(r) << c.body;
    EXPECT_EQ(r->status, c.status) << c.body << " -> " << r->body;
    if (c.status != 200) {
      json j = Body(r);
      ASSERT_TRUE(j["detail"].is_string()) << r->body;
      EXPECT_NE(j["detail"].get<std::string>().find(c.detail_has), std::string::npos) << r->body;
    }
  }
  // Still serving after all of that.
  auto ok = client().Post("/generate", R"({"prompt":"fine","max_tokens":3})", "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(NativeApiTest, OversizedBodyAndUnknownRouteAnswerInJson) {
  std::string huge(5 << 20, 'a');
  auto big = client().Post("/generate", huge, "application/json");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  EXPECT_TRUE(Body(big)["detail"].is_string());

  auto missing = client().Get("/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_TRUE(Body(missing)["detail"].is_string());
}

TEST(NativeApiQueueTest, FullQueueIs503WithRetryAfter) {
  TestNode node({}, /*slots=*/1, /*max_queue=*/0, /*n_ctx=*/4096);
  // Hold the only slot with a long stream on another connection, then let it go.
  httplib::Client holder("127.0.0.1", node.port());
  std::promise<void> started;
  std::atomic<bool> signalled{false}, release{false};
  auto holding = std::async(std::launch::async, [&] {
    return PostStreaming(holder, "/generate/stream", R"({"prompt":"hold","max_tokens":4000,"temperature":0})",
                         [&](const char*, size_t) {
                           if (!signalled.exchange(true)) started.set_value();
                           return !release.load();
                         });
  });
  const bool holds = started.get_future().wait_for(30s) == std::future_status::ready;
  auto r = node.client().Post("/generate", R"({"prompt":"x","max_tokens":2})", "application/json");
  release = true;
  ASSERT_TRUE(holds) << "the stream holding the slot sent nothing within 30 s";
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->get_header_value("Retry-After"), "1");
  EXPECT_TRUE(Body(r)["detail"].is_string());
  EXPECT_EQ(holding.wait_for(30s), std::future_status::ready) << "the released stream did not end within 30 s";
}

TEST(NativeApiQueueTest, ClientThatDisconnectsMidStreamFreesItsSlot) {
  TestNode node({}, /*slots=*/1, /*max_queue=*/0, /*n_ctx=*/4096);
  {
    httplib::Client quitter("127.0.0.1", node.port());
    int chunks = 0;
    // Returning false from the receiver closes the connection after the first events.
    int status = PostStreaming(quitter, "/generate/stream", R"({"prompt":"bye","max_tokens":4000,"temperature":0})",
                               [&](const char*, size_t) { return ++chunks < 2; });
    EXPECT_EQ(status, 0);
  }
  // The slot comes free within a few decode steps; the next request is served.
  int status = 0;
  const bool served = testing::WaitUntil(
      [&] {
        auto r = node.client().Post("/generate", R"({"prompt":"next","max_tokens":2})", "application/json");
        status = r ? r->status : 0;
        return status == 200;
      },
      5s, 20ms);
  EXPECT_TRUE(served) << "the slot of the stream that left was not free within 5 s: last status " << status;
}

TEST(NativeApiQueueTest, ClientThatLeavesANonStreamingRequestCancelsIt) {
  TestNode node({}, /*slots=*/1, /*max_queue=*/0, /*n_ctx=*/4096);
  auto status = [&] { return Body(node.client().Get("/status")); };
  {
    // Greedy "bye" runs all 4000 tokens on the tiny model (about 10 s here): only a
    // cancellation frees the slot sooner. The client gives up after half a second.
    httplib::Client quitter("127.0.0.1", node.port());
    quitter.set_read_timeout(0, 500000);
    auto r = quitter.Post("/generate", R"({"prompt":"bye","max_tokens":4000,"temperature":0})", "application/json");
    EXPECT_FALSE(r);
  }
  json s;
  const bool freed = testing::WaitUntil(
      [&] {
        s = status();
        return s["slots_busy"] == 0;
      },
      3s, 20ms);
  EXPECT_TRUE(freed) << "the generation went on 3 s after its client left: " << s.dump();
  EXPECT_LT(s["total_tokens"].get<int64_t>(), 4000);
}

TEST(NativeApiAuthTest, ApiKeyGuardsGenerationButNotHealth) {
  NodeConfig config;
  config.api_key = "sekret";
  TestNode node(config);
  auto denied = node.client().Post("/generate", R"({"prompt":"x","max_tokens":2})", "application/json");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 401);
  EXPECT_TRUE(Body(denied)["detail"].is_string());
  auto health = node.client().Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  httplib::Headers auth = {{"Authorization", "Bearer sekret"}};
  auto allowed = node.client().Post("/generate", auth, R"({"prompt":"x","max_tokens":2})", "application/json");
  ASSERT_TRUE(allowed);
  EXPECT_EQ(allowed->status, 200);
}

TEST(NodeBindTest, ATakenPortIsAnError) {
  TestNode first;
  NodeConfig config;
  config.model_path = LLAMANET_TINY_MODEL;
  config.host = "127.0.0.1";
  config.port = first.port();
  config.dht_port = 0;
  config.key_file = ::testing::TempDir() + "/bind-test.key";
  Result<std::unique_ptr<Node>> second = Node::Create(config);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(second.status().message().find("already in use"), std::string::npos);
}

}  // namespace
}  // namespace llamanet::node
