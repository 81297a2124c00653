#include "client/openai_wire.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace llamanet::client {
namespace {

using nlohmann::json;

TEST(OpenAiWireTest, CompletionBody) {
  GenerateRequest r{"Once", {}};
  r.params.stop = {"\n"};
  r.params.seed = 7;
  Call c = MakeCall(r, "llamanet", false);
  EXPECT_EQ(c.kind, CallKind::kCompletion);
  EXPECT_STREQ(c.path(), "/v1/completions");
  json j = json::parse(c.body);
  EXPECT_EQ(j["prompt"], "Once");
  EXPECT_EQ(j["max_tokens"], 100);
  EXPECT_DOUBLE_EQ(j["temperature"].get<double>(), 0.7);
  EXPECT_EQ(j["stop"], json::array({"\n"}));
  EXPECT_EQ(j["seed"], 7);
  EXPECT_EQ(j["stream"], false);
  EXPECT_FALSE(j.contains("model"));  // any model: the node's own
  EXPECT_FALSE(j.contains("stream_options"));
}

TEST(OpenAiWireTest, ChatStreamBody) {
  ChatRequest r{{{"system", "Be brief."}, {"user", "Hi"}}, {}};
  Call c = MakeCall(r, "tiny", true);
  EXPECT_STREQ(c.path(), "/v1/chat/completions");
  json j = json::parse(c.body);
  EXPECT_EQ(j["model"], "tiny");
  EXPECT_EQ(j["messages"][1]["content"], "Hi");
  EXPECT_EQ(j["stream"], true);
  EXPECT_EQ(j["stream_options"]["include_usage"], true);
}

TEST(OpenAiWireTest, ChecksRequests) {
  EXPECT_TRUE(CheckRequest(GenerateRequest{"x", {}}).ok());
  EXPECT_EQ(CheckRequest(GenerateRequest{"", {}}).code(), Status::Code::kInvalidArgument);
  SamplingParams bad;
  bad.max_tokens = 0;
  EXPECT_NE(CheckRequest(GenerateRequest{"x", bad}).message().find("max_tokens"), std::string::npos);
  bad = {};
  bad.temperature = 3;
  EXPECT_FALSE(CheckRequest(GenerateRequest{"x", bad}).ok());
  bad = {};
  bad.top_p = 0;
  EXPECT_FALSE(CheckRequest(GenerateRequest{"x", bad}).ok());
  bad = {};
  bad.stop = {"a", "b", "c", "d", "e"};
  EXPECT_FALSE(CheckRequest(GenerateRequest{"x", bad}).ok());
  EXPECT_FALSE(CheckRequest(ChatRequest{}).ok());
  EXPECT_FALSE(CheckRequest(ChatRequest{{{"robot", "x"}}, {}}).ok());
  EXPECT_TRUE(CheckRequest(ChatRequest{{{"user", "x"}}, {}}).ok());
}

TEST(OpenAiWireTest, ParsesAnswers) {
  auto c = ParseAnswer(CallKind::kCompletion, R"({"id":"cmpl-1","object":"text_completion","model":"tiny",
      "choices":[{"text":" there","index":0,"finish_reason":"length","logprobs":null}],
      "usage":{"prompt_tokens":2,"completion_tokens":3,"total_tokens":5}})");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->text, " there");
  EXPECT_EQ(c->finish_reason, "length");
  EXPECT_EQ(c->model, "tiny");
  EXPECT_EQ(c->id, "cmpl-1");
  EXPECT_EQ(c->usage.total_tokens, 5);
  auto chat = ParseAnswer(CallKind::kChat, R"({"id":"chatcmpl-1","model":"tiny",
      "choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"finish_reason":"stop"}]})");
  ASSERT_TRUE(chat.ok());
  EXPECT_EQ(chat->text, "Hello");
  EXPECT_EQ(chat->usage.total_tokens, 0);
  EXPECT_EQ(ParseAnswer(CallKind::kChat, "{\"choices\":[]}").status().code(), Status::Code::kMalformed);
  EXPECT_EQ(ParseAnswer(CallKind::kChat, "<html>").status().code(), Status::Code::kMalformed);
}

TEST(OpenAiWireTest, AssemblesAChatStream) {
  StreamAssembler a(CallKind::kChat);
  const char* events[] = {
      R"({"id":"c1","model":"tiny","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null})",
      R"({"id":"c1","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}],"usage":null})",
      R"({"id":"c1","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}],"usage":null})",
      R"({"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"length"}],"usage":null})",
      R"({"id":"c1","choices":[],"usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}})",
  };
  std::string pieces;
  for (const char* e : events) {
    auto piece = a.OnEvent(e);
    ASSERT_TRUE(piece.ok()) << piece.status().ToString();
    pieces += *piece + "|";
  }
  EXPECT_EQ(pieces, "|Hel|lo|||");
  EXPECT_FALSE(a.done());
  ASSERT_TRUE(a.OnEvent("[DONE]").ok());
  EXPECT_TRUE(a.done());
  EXPECT_EQ(a.completion().text, "Hello");
  EXPECT_EQ(a.completion().finish_reason, "length");
  EXPECT_EQ(a.completion().id, "c1");
  EXPECT_EQ(a.completion().model, "tiny");
  EXPECT_EQ(a.completion().usage.total_tokens, 6);
}

TEST(OpenAiWireTest, AssemblesACompletionStreamAndRefusesBadEvents) {
  StreamAssembler a(CallKind::kCompletion);
  EXPECT_EQ(*a.OnEvent(R"({"choices":[{"index":0,"text":"ab","finish_reason":null}]})"), "ab");
  EXPECT_EQ(a.OnEvent("not json").status().code(), Status::Code::kMalformed);
  EXPECT_EQ(a.OnEvent(R"({"object":"x"})").status().code(), Status::Code::kMalformed);
  auto err = a.OnEvent(R"({"error":{"message":"engine failed","type":"server_error"}})");
  EXPECT_EQ(err.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(err.status().message().find("engine failed"), std::string::npos);
}

TEST(OpenAiWireTest, MapsHttpErrors) {
  EXPECT_EQ(StatusFromHttp(400, R"({"error":{"message":"bad max_tokens"}})").message(), "HTTP 400: bad max_tokens");
  EXPECT_EQ(StatusFromHttp(422, R"({"detail":"prompt missing"})").message(), "HTTP 422: prompt missing");
  EXPECT_EQ(StatusFromHttp(400, "").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(StatusFromHttp(401, "").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(StatusFromHttp(404, "").code(), Status::Code::kNotFound);
  EXPECT_EQ(StatusFromHttp(413, "").code(), Status::Code::kTooLarge);
  EXPECT_EQ(StatusFromHttp(429, "").code(), Status::Code::kUnavailable);
  EXPECT_EQ(StatusFromHttp(503, "busy").message(), "HTTP 503: busy");
  EXPECT_EQ(StatusFromHttp(500, "").code(), Status::Code::kUnavailable);
  // Not an answer a node gives: the node's fault, so another node is tried.
  EXPECT_EQ(StatusFromHttp(302, "").code(), Status::Code::kMalformed);
  EXPECT_EQ(StatusFromHttp(600, "").code(), Status::Code::kMalformed);
}

}  // namespace
}  // namespace llamanet::client
