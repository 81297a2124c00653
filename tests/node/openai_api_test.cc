// The OpenAI-compatible routes of PROTOCOL.md section 2 on a real node serving the tiny model.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/utf8_stream.h"
#include "node_test_support.h"

namespace llamanet::node {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr int32_t kSlots = 2;
constexpr int32_t kQueue = 4;
constexpr int32_t kCtx = 256;

class OpenAiApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { node_ = new TestNode({}, kSlots, kQueue, kCtx); }
  static void TearDownTestSuite() {
    delete node_;
    node_ = nullptr;
  }
  static httplib::Client& client() { return node_->client(); }
  static TestNode* node_;

  static json PostOk(const std::string& path, const json& body) {
    auto r = client().Post(path, body.dump(), "application/json");
    EXPECT_TRUE(r);
    if (!r) return json();
    EXPECT_EQ(r->status, 200) << body.dump() << " -> " << r->body;
    return json::parse(r->body);
  }
};
TestNode* OpenAiApiTest::node_ = nullptr;

// A usage object's counts, less the prefix cache's share: a request repeated on one node finds
// its prompt cached the second time.
// Also checks OpenAI's whole usage shape.
json Counts(json usage) {
  EXPECT_TRUE(usage["prompt_tokens_details"]["cached_tokens"].is_number_integer()) << usage;
  EXPECT_EQ(usage["prompt_tokens_details"]["audio_tokens"], 0) << usage;
  for (const char* f : {"reasoning_tokens", "audio_tokens", "accepted_prediction_tokens", "rejected_prediction_tokens"}) {
    EXPECT_EQ(usage["completion_tokens_details"][f], 0) << f << ": " << usage;
  }
  usage.erase("prompt_tokens_details");
  usage.erase("completion_tokens_details");
  return usage;
}

// The JSON chunks of a finished OpenAI stream, checking that it ends with [DONE].
std::vector<json> Chunks(const std::string& body) {
  std::vector<std::string> data = SseData(body);
  EXPECT_FALSE(data.empty());
  if (data.empty()) return {};
  EXPECT_EQ(data.back(), "[DONE]");
  std::vector<json> out;
  for (size_t i = 0; i + 1 < data.size(); ++i) out.push_back(json::parse(data[i]));
  return out;
}

json Greedy(json body) {
  body["temperature"] = 0;
  return body;
}

TEST_F(OpenAiApiTest, ModelsListsTheLoadedModel) {
  auto r = client().Get("/v1/models");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("X-LlamaNet-Node"), "test-node");
  json j = json::parse(r->body);
  EXPECT_EQ(j["object"], "list");
  ASSERT_EQ(j["data"].size(), 1u);
  EXPECT_EQ(j["data"][0]["id"], "tiny-f16");
  EXPECT_EQ(j["data"][0]["object"], "model");
  EXPECT_EQ(j["data"][0]["owned_by"], "llamanet");
  EXPECT_TRUE(j["data"][0]["created"].is_number_integer());

  auto one = client().Get("/v1/models/tiny-f16");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->status, 200);
  EXPECT_EQ(json::parse(one->body)["id"], "tiny-f16");
  auto missing = client().Get("/v1/models/gpt-4");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(json::parse(missing->body)["error"]["code"], "model_not_found");
}

TEST_F(OpenAiApiTest, CompletionHasOpenAisFieldsAndRealTokenCounts) {
  auto r = client().Post("/v1/completions", R"({"prompt":"Hello there","max_tokens":5,"ignore_eos":true})",
                         "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("X-LlamaNet-Node"), "test-node");
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  json j = json::parse(r->body);
  EXPECT_EQ(j["id"].get<std::string>().rfind("cmpl-", 0), 0u);
  EXPECT_GT(j["id"].get<std::string>().size(), 12u);
  EXPECT_EQ(j["object"], "text_completion");
  EXPECT_TRUE(j["created"].is_number_integer());
  EXPECT_EQ(j["model"], "tiny-f16");
  ASSERT_EQ(j["choices"].size(), 1u);
  const json& c = j["choices"][0];
  EXPECT_TRUE(c["text"].is_string());
  EXPECT_EQ(c["index"], 0);
  EXPECT_TRUE(c["logprobs"].is_null());
  EXPECT_EQ(c["finish_reason"], "length");
  EXPECT_EQ(j["usage"]["completion_tokens"], 5);
  // The same tokenizer count as the native route, which reports the engine's own.
  json native = json::parse(
      client().Post("/generate", R"({"prompt":"Hello there","max_tokens":1})", "application/json")->body);
  EXPECT_EQ(j["usage"]["prompt_tokens"], native["prompt_tokens"]);
  EXPECT_EQ(j["usage"]["total_tokens"], j["usage"]["prompt_tokens"].get<int>() + 5);
}

TEST_F(OpenAiApiTest, CompletionDefaultsToSixteenTokensAndAcceptsModelNames) {
  for (const char* model : {"llamanet", "tiny-f16"}) {
    json j = PostOk("/v1/completions", {{"prompt", "Count"}, {"ignore_eos", true}, {"model", model}});
    EXPECT_EQ(j["usage"]["completion_tokens"], 16) << model;
    EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  }
}

TEST_F(OpenAiApiTest, PromptListTimesNGivesOneChoiceEachInOpenAisOrder) {
  json one_a = PostOk("/v1/completions", Greedy({{"prompt", "alpha"}, {"max_tokens", 3}, {"ignore_eos", true}}));
  json one_b = PostOk("/v1/completions", Greedy({{"prompt", "beta gamma"}, {"max_tokens", 3}, {"ignore_eos", true}}));
  json j = PostOk("/v1/completions",
                  Greedy({{"prompt", {"alpha", "beta gamma"}}, {"n", 2}, {"max_tokens", 3}, {"ignore_eos", true}}));
  ASSERT_EQ(j["choices"].size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(j["choices"][i]["index"], i);
  // index = prompt * n + j; greedy choices of one prompt agree with a lone request (F16 is
  // batch invariant).
  EXPECT_EQ(j["choices"][0]["text"], one_a["choices"][0]["text"]);
  EXPECT_EQ(j["choices"][1]["text"], one_a["choices"][0]["text"]);
  EXPECT_EQ(j["choices"][2]["text"], one_b["choices"][0]["text"]);
  EXPECT_EQ(j["choices"][3]["text"], one_b["choices"][0]["text"]);
  // A prompt counts once however many choices it has.
  EXPECT_EQ(j["usage"]["prompt_tokens"],
            one_a["usage"]["prompt_tokens"].get<int>() + one_b["usage"]["prompt_tokens"].get<int>());
  EXPECT_EQ(j["usage"]["completion_tokens"], 12);
}

TEST_F(OpenAiApiTest, EchoPutsThePromptFirst) {
  json plain = PostOk("/v1/completions", Greedy({{"prompt", "Echo me"}, {"max_tokens", 4}}));
  json echoed = PostOk("/v1/completions", Greedy({{"prompt", "Echo me"}, {"max_tokens", 4}, {"echo", true}}));
  EXPECT_EQ(echoed["choices"][0]["text"], "Echo me" + plain["choices"][0]["text"].get<std::string>());
  EXPECT_EQ(Counts(echoed["usage"]), Counts(plain["usage"]));
}

TEST_F(OpenAiApiTest, StopEndsTheTextBeforeTheMatch) {
  json free = PostOk("/v1/completions", Greedy({{"prompt", "Once upon"}, {"max_tokens", 24}, {"ignore_eos", true}}));
  std::string text = free["choices"][0]["text"];
  // A character that first appears after the start of the text.
  std::string stop;
  for (size_t i = 1; i < text.size() && stop.empty(); ++i) {
    char c = text[i];
    if (c > ' ' && c < 127 && text.find(c) == i) stop = std::string(1, c);
  }
  ASSERT_FALSE(stop.empty()) << "no usable stop character in '" << text << "'";
  for (json s : {json(stop), json({"\x01never", stop})}) {
    json j = PostOk("/v1/completions",
                    Greedy({{"prompt", "Once upon"}, {"max_tokens", 24}, {"ignore_eos", true}, {"stop", s}}));
    EXPECT_EQ(j["choices"][0]["text"], text.substr(0, text.find(stop))) << s.dump();
    EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  }
}

TEST_F(OpenAiApiTest, SeedMakesSamplingReproducible) {
  json body = {{"prompt", "Random"}, {"max_tokens", 12}, {"temperature", 1.5}, {"seed", 1234}, {"ignore_eos", true}};
  json a = PostOk("/v1/completions", body);
  json b = PostOk("/v1/completions", body);
  EXPECT_EQ(a["choices"][0]["text"], b["choices"][0]["text"]);
}

TEST_F(OpenAiApiTest, LogitBiasSteersSampling) {
  json base = Greedy({{"prompt", "Bias"}, {"max_tokens", 6}, {"ignore_eos", true}});
  json plain = PostOk("/v1/completions", base);
  // Forcing one token everywhere changes the greedy text; the same bias gives the same text.
  std::string forced_text;
  for (int token : {300, 301, 302}) {
    json biased = base;
    biased["logit_bias"] = {{std::to_string(token), 100}};
    json j = PostOk("/v1/completions", biased);
    std::string t = j["choices"][0]["text"];
    if (t != plain["choices"][0]["text"]) {
      forced_text = t;
      EXPECT_EQ(PostOk("/v1/completions", biased)["choices"][0]["text"], t);
      break;
    }
  }
  EXPECT_FALSE(forced_text.empty()) << "logit_bias changed nothing";
}

TEST_F(OpenAiApiTest, PenaltiesAreAcceptedAndChangeNothingAtZero) {
  json base = Greedy({{"prompt", "Penalty"}, {"max_tokens", 8}, {"ignore_eos", true}});
  json zero = base;
  zero["presence_penalty"] = 0;
  zero["frequency_penalty"] = 0;
  zero["user"] = "someone";
  EXPECT_EQ(PostOk("/v1/completions", zero)["choices"][0]["text"], PostOk("/v1/completions", base)["choices"][0]["text"]);
  json high = base;
  high["presence_penalty"] = 2;
  high["frequency_penalty"] = 2;
  EXPECT_EQ(PostOk("/v1/completions", high)["usage"]["completion_tokens"], 8);
}

TEST_F(OpenAiApiTest, ChatUsesTheTemplateAndAnswersAsTheAssistant) {
  json body = Greedy({{"messages", {{{"role", "developer"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", "Hi"}}}},
                      {"max_tokens", 6},
                      {"ignore_eos", true}});
  auto r = client().Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("X-LlamaNet-Node"), "test-node");
  json j = json::parse(r->body);
  EXPECT_EQ(j["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["model"], "tiny-f16");
  ASSERT_EQ(j["choices"].size(), 1u);
  EXPECT_EQ(j["choices"][0]["index"], 0);
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  EXPECT_TRUE(j["choices"][0]["message"]["content"].is_string());
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(j["usage"]["completion_tokens"], 6);
  // The template wraps the messages in more tokens than their bare text.
  json bare = PostOk("/v1/completions", {{"prompt", "Be brief.Hi"}, {"max_tokens", 1}});
  EXPECT_GT(j["usage"]["prompt_tokens"].get<int>(), bare["usage"]["prompt_tokens"].get<int>() + 4);

  // Content parts are joined; max_completion_tokens is max_tokens' newer name.
  json parts = body;
  parts["messages"][1]["content"] = {{{"type", "text"}, {"text", "H"}}, {{"type", "text"}, {"text", "i"}}};
  parts.erase("max_tokens");
  parts["max_completion_tokens"] = 6;
  json p = PostOk("/v1/chat/completions", parts);
  EXPECT_EQ(p["choices"][0]["message"]["content"], j["choices"][0]["message"]["content"]);
  EXPECT_EQ(Counts(p["usage"]), Counts(j["usage"]));
}

TEST_F(OpenAiApiTest, ChatRunsToTheContextsEndByDefault) {
  json j = PostOk("/v1/chat/completions", {{"messages", {{{"role", "user"}, {"content", "Go on"}}}}, {"ignore_eos", true}});
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  int total = j["usage"]["total_tokens"];
  EXPECT_LE(total, kCtx);
  EXPECT_GE(total, kCtx - 2);
}

TEST_F(OpenAiApiTest, StreamedCompletionAddsUpToTheWholeAnswer) {
  json body = Greedy({{"prompt", "Stream"}, {"max_tokens", 20}, {"ignore_eos", true}});
  json whole = PostOk("/v1/completions", body);
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  auto r = client().Post("/v1/completions", body.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
  EXPECT_EQ(r->get_header_value("X-LlamaNet-Node"), "test-node");
  std::vector<json> chunks = Chunks(r->body);
  ASSERT_GE(chunks.size(), 3u);
  std::string text;
  for (size_t i = 0; i + 1 < chunks.size(); ++i) {
    const json& c = chunks[i];
    EXPECT_EQ(c["object"], "text_completion");
    EXPECT_EQ(c["id"], chunks[0]["id"]);
    EXPECT_TRUE(c["usage"].is_null());
    ASSERT_EQ(c["choices"].size(), 1u);
    EXPECT_EQ(c["choices"][0]["index"], 0);
    text += c["choices"][0]["text"].get<std::string>();
    EXPECT_TRUE(engine::IsValidUtf8(c["choices"][0]["text"].get<std::string>()));
    bool last = i + 2 == chunks.size();
    EXPECT_EQ(c["choices"][0]["finish_reason"], last ? json("length") : json(nullptr)) << i;
  }
  EXPECT_EQ(text, whole["choices"][0]["text"]);
  EXPECT_TRUE(chunks.back()["choices"].empty());
  EXPECT_EQ(Counts(chunks.back()["usage"]), Counts(whole["usage"]));
  // The same prompt a second time: all of it but its last token was cached.
  EXPECT_EQ(chunks.back()["usage"]["prompt_tokens_details"]["cached_tokens"],
            whole["usage"]["prompt_tokens"].get<int>() - 1);
}

TEST_F(OpenAiApiTest, StreamedChatStartsWithTheRoleAndEndsWithFinishReason) {
  json body = Greedy({{"messages", {{{"role", "user"}, {"content", "Hello"}}}}, {"max_tokens", 12}, {"ignore_eos", true}});
  json whole = PostOk("/v1/chat/completions", body);
  body["stream"] = true;
  auto r = client().Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  std::vector<json> chunks = Chunks(r->body);
  ASSERT_GE(chunks.size(), 3u);
  EXPECT_EQ(chunks[0]["choices"][0]["delta"], json({{"role", "assistant"}, {"content", ""}}));
  std::string content;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const json& c = chunks[i];
    EXPECT_EQ(c["object"], "chat.completion.chunk");
    EXPECT_EQ(c["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
    EXPECT_FALSE(c.contains("usage"));
    EXPECT_EQ(c["choices"][0]["index"], 0);
    const json& delta = c["choices"][0]["delta"];
    if (i > 0) {
      EXPECT_FALSE(delta.contains("role"));
    }
    if (delta.contains("content")) content += delta["content"].get<std::string>();
  }
  EXPECT_EQ(chunks.back()["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(chunks.back()["choices"][0]["delta"], json::object());
  EXPECT_EQ(content, whole["choices"][0]["message"]["content"]);
}

TEST_F(OpenAiApiTest, StreamedChoicesInterleaveEachWithItsIndex) {
  json body = Greedy({{"prompt", {"one", "two three"}}, {"n", 2}, {"max_tokens", 8}, {"ignore_eos", true}});
  json whole = PostOk("/v1/completions", body);
  body["stream"] = true;
  body["echo"] = true;
  auto r = client().Post("/v1/completions", body.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  std::map<int, std::string> texts;
  std::map<int, int> finishes;
  for (const json& c : Chunks(r->body)) {
    ASSERT_EQ(c["choices"].size(), 1u);
    int index = c["choices"][0]["index"];
    texts[index] += c["choices"][0]["text"].get<std::string>();
    if (!c["choices"][0]["finish_reason"].is_null()) ++finishes[index];
  }
  ASSERT_EQ(texts.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    std::string prompt = i < 2 ? "one" : "two three";
    EXPECT_EQ(texts[i], prompt + whole["choices"][i]["text"].get<std::string>()) << i;
    EXPECT_EQ(finishes[i], 1) << i;
  }
}

TEST_F(OpenAiApiTest, StreamedTokensArriveAsTheyAreMade) {
  httplib::Client c("127.0.0.1", node_->port());
  std::vector<std::chrono::steady_clock::time_point> arrivals;
  int status = PostStreaming(c, "/v1/completions",
                             R"({"prompt":"Flush","max_tokens":200,"ignore_eos":true,"stream":true})",
                             [&](const char*, size_t) {
                               arrivals.push_back(std::chrono::steady_clock::now());
                               return true;
                             });
  EXPECT_EQ(status, 200);
  // Many separate writes, spread over the generation rather than one burst at its end.
  ASSERT_GE(arrivals.size(), 10u);
  auto spread = arrivals.back() - arrivals.front();
  auto first_half = arrivals[arrivals.size() / 2] - arrivals.front();
  EXPECT_GT(spread, std::chrono::milliseconds(5));
  EXPECT_GT(first_half, spread / 10);
}

struct ErrorCase {
  std::string name;
  std::string path;
  std::string body;
  int status;
  std::string type;
  std::string param;  // "" for null
  std::string code;   // "" for null
};

TEST_F(OpenAiApiTest, BadRequestsGetOpenAisErrorShapeAndTheNodeKeepsServing) {
  std::string long_prompt;
  for (int i = 0; i < 400; ++i) long_prompt += " word";
  const std::string C = "/v1/completions", CH = "/v1/chat/completions";
  const std::string kInvalid = "invalid_request_error";
  const std::vector<ErrorCase> cases = {
      {"body not JSON", C, "not json", 400, kInvalid, "", ""},
      {"body not an object", CH, "[1]", 400, kInvalid, "", ""},
      {"prompt of the wrong type", C, R"({"prompt":42})", 400, kInvalid, "prompt", ""},
      {"prompt of token ids", C, R"({"prompt":[1,2]})", 400, kInvalid, "prompt", ""},
      {"max_tokens of the wrong type", C, R"({"prompt":"x","max_tokens":"ten"})", 400, kInvalid, "max_tokens", ""},
      {"stream of the wrong type", C, R"({"prompt":"x","stream":"yes"})", 400, kInvalid, "stream", ""},
      {"stop of the wrong type", C, R"({"prompt":"x","stop":[1]})", 400, kInvalid, "stop", ""},
      {"messages of the wrong type", CH, R"({"messages":"hi"})", 400, kInvalid, "messages", ""},
      {"content of the wrong type", CH, R"({"messages":[{"role":"user","content":5}]})", 400, kInvalid,
       "messages.[0].content", ""},
      {"missing prompt", C, R"({"max_tokens":3})", 400, kInvalid, "prompt", ""},
      {"empty prompt", C, R"({"prompt":""})", 400, kInvalid, "prompt", ""},
      {"empty prompt list", C, R"({"prompt":[]})", 400, kInvalid, "prompt", ""},
      {"missing messages", CH, R"({"model":"llamanet"})", 400, kInvalid, "messages", ""},
      {"empty messages", CH, R"({"messages":[]})", 400, kInvalid, "messages", ""},
      {"unknown role", CH, R"({"messages":[{"role":"user","content":"a"},{"role":"wizard","content":"b"}]})", 400,
       kInvalid, "messages.[1].role", ""},
      {"image content", CH, R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]})", 400,
       kInvalid, "messages.[0].content", ""},
      {"max_tokens below 1", C, R"({"prompt":"x","max_tokens":0})", 400, kInvalid, "max_tokens", ""},
      {"max_tokens beyond the context", C, R"({"prompt":"x","max_tokens":100000})", 400, kInvalid, "max_tokens", ""},
      {"max_completion_tokens beyond the context", CH,
       R"({"messages":[{"role":"user","content":"a"}],"max_completion_tokens":100000})", 400, kInvalid,
       "max_completion_tokens", ""},
      {"temperature too high", C, R"({"prompt":"x","temperature":2.5})", 400, kInvalid, "temperature", ""},
      {"temperature negative", CH, R"({"messages":[{"role":"user","content":"a"}],"temperature":-1})", 400, kInvalid,
       "temperature", ""},
      {"top_p above 1", C, R"({"prompt":"x","top_p":1.5})", 400, kInvalid, "top_p", ""},
      {"top_p negative", C, R"({"prompt":"x","top_p":-0.1})", 400, kInvalid, "top_p", ""},
      {"penalty out of range", C, R"({"prompt":"x","presence_penalty":3})", 400, kInvalid, "presence_penalty", ""},
      {"n above the limit", C, R"({"prompt":"x","n":9})", 400, kInvalid, "n", ""},
      {"n x prompts above what the node holds", C, R"({"prompt":["a","b"],"n":4})", 400, kInvalid, "n", ""},
      {"logit_bias key not a token", C, R"({"prompt":"x","logit_bias":{"abc":1}})", 400, kInvalid, "logit_bias", ""},
      {"logit_bias value out of range", C, R"({"prompt":"x","logit_bias":{"5":101}})", 400, kInvalid, "logit_bias",
       ""},
      {"logprobs beyond 5 on completions", C, R"({"prompt":"x","logprobs":6})", 400, kInvalid, "logprobs", ""},
      {"top_logprobs without logprobs", CH, R"({"messages":[{"role":"user","content":"a"}],"top_logprobs":2})", 400,
       kInvalid, "top_logprobs", ""},
      {"top_logprobs beyond 20", CH,
       R"({"messages":[{"role":"user","content":"a"}],"logprobs":true,"top_logprobs":21})", 400, kInvalid,
       "top_logprobs", ""},
      {"an argument the node does not know", CH, R"({"messages":[{"role":"user","content":"a"}],"functions":[]})",
       400, kInvalid, "functions", ""},
      {"an argument completions do not take", C, R"({"prompt":"x","tools":[]})", 400, kInvalid, "tools", ""},
      {"an unknown field in a message", CH, R"({"messages":[{"role":"user","content":"a","mood":"x"}]})", 400,
       kInvalid, "messages.[0].mood", ""},
      {"an unknown stream option", C, R"({"prompt":"x","stream":true,"stream_options":{"x":1}})", 400, kInvalid,
       "stream_options.x", ""},
      {"response_format of an unknown type", CH,
       R"({"messages":[{"role":"user","content":"a"}],"response_format":{"type":"yaml"}})", 400, kInvalid,
       "response_format.type", ""},
      {"json_schema without a name", CH,
       R"({"messages":[{"role":"user","content":"a"}],"response_format":{"type":"json_schema","json_schema":{"schema":{}}}})",
       400, kInvalid, "response_format.json_schema.name", ""},
      {"a schema nested too deep", CH,
       R"({"messages":[{"role":"user","content":"a"}],"response_format":{"type":"json_schema","json_schema":{"name":"n","schema":)" +
           std::string(40, '[') + std::string(40, ']') + R"(}}})",
       400, kInvalid, "response_format.json_schema.schema", ""},
      {"a schema that is not an object", CH,
       R"({"messages":[{"role":"user","content":"a"}],"response_format":{"type":"json_schema","json_schema":{"name":"n","schema":3}}})",
       400, kInvalid, "response_format.json_schema.schema", ""},
      {"a schema no grammar can follow", CH,
       R"({"messages":[{"role":"user","content":"a"}],"response_format":{"type":"json_schema","json_schema":{"name":"n","schema":{"$ref":"#/nowhere"}}}})",
       400, kInvalid, "messages", ""},
      {"a grammar that does not parse", C, R"({"prompt":"x","grammar":"root ::= ("})", 400, kInvalid, "prompt", ""},
      {"grammar with response_format", C,
       R"({"prompt":"x","grammar":"root ::= \"a\"","response_format":{"type":"json_object"}})", 400, kInvalid,
       "response_format", ""},
      {"a tool that is not a function", CH,
       R"({"messages":[{"role":"user","content":"a"}],"tools":[{"type":"retrieval"}]})", 400, kInvalid,
       "tools.[0].type", ""},
      {"a tool with a bad name", CH,
       R"({"messages":[{"role":"user","content":"a"}],"tools":[{"type":"function","function":{"name":"a b"}}]})", 400,
       kInvalid, "tools.[0].function.name", ""},
      {"two tools of one name", CH,
       R"({"messages":[{"role":"user","content":"a"}],"tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"f"}}]})",
       400, kInvalid, "tools.[1].function.name", ""},
      {"tool_choice naming no tool", CH,
       R"({"messages":[{"role":"user","content":"a"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"g"}}})",
       400, kInvalid, "tool_choice", ""},
      {"tool_choice required without tools", CH,
       R"({"messages":[{"role":"user","content":"a"}],"tool_choice":"required"})", 400, kInvalid, "tool_choice", ""},
      {"tools with a grammar", CH,
       R"({"messages":[{"role":"user","content":"a"}],"grammar":"root ::= \"a\"","tools":[{"type":"function","function":{"name":"f"}}]})",
       400, kInvalid, "grammar", ""},
      {"a tool message without its call id", CH,
       R"({"messages":[{"role":"user","content":"a"},{"role":"tool","content":"r"}]})", 400, kInvalid,
       "messages.[1].tool_call_id", ""},
      {"tool call arguments that are not JSON", CH,
       R"({"messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{oops"}}]}]})",
       400, kInvalid, "messages.[0].tool_calls", ""},
      {"stream_options without stream", C, R"({"prompt":"x","stream_options":{"include_usage":true}})", 400, kInvalid,
       "stream_options", ""},
      {"prompt longer than the context", C, R"({"prompt":")" + long_prompt + R"("})", 400, kInvalid, "prompt", ""},
      {"chat longer than the context", CH, R"({"messages":[{"role":"user","content":")" + long_prompt + R"("}]})", 400,
       kInvalid, "messages", ""},
      {"unknown model", C, R"({"prompt":"x","model":"gpt-4"})", 404, kInvalid, "model", "model_not_found"},
      {"unknown model on chat", CH, R"({"messages":[{"role":"user","content":"a"}],"model":"gpt-4"})", 404, kInvalid,
       "model", "model_not_found"},
      {"unknown route", "/v1/engines", "{}", 404, kInvalid, "", "not_found"},
      {"body over the size limit", C, std::string(5 << 20, ' '), 413, kInvalid, "", "request_too_large"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = client().Post(c.path, c.body, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, c.status) << r->body;
    json j = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r->body;
    ASSERT_TRUE(j["error"].is_object()) << r->body;
    const json& e = j["error"];
    EXPECT_TRUE(e["message"].is_string());
    EXPECT_FALSE(e["message"].get<std::string>().empty());
    EXPECT_EQ(e["type"], c.type);
    EXPECT_EQ(e["param"], c.param.empty() ? json(nullptr) : json(c.param)) << r->body;
    EXPECT_EQ(e["code"], c.code.empty() ? json(nullptr) : json(c.code)) << r->body;
    EXPECT_EQ(r->get_header_value("X-LlamaNet-Node"), "test-node");
    // Still serving after each of them.
    auto ok = client().Post("/v1/completions", R"({"prompt":"fine","max_tokens":2})", "application/json");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200) << ok->body;
  }
}

// Holds a slot with a long stream on `holder` until `release` is set; returns once it began.
std::future<int> HoldSlot(httplib::Client& holder, std::atomic<bool>& release) {
  auto started = std::make_shared<std::promise<void>>();
  auto ready = started->get_future();
  auto holding = std::async(std::launch::async, [&holder, &release, started] {
    bool signalled = false;
    return PostStreaming(holder, "/v1/completions",
                         R"({"prompt":"hold","max_tokens":4000,"ignore_eos":true,"stream":true})",
                         [&](const char*, size_t) {
                           if (!signalled) {
                             signalled = true;
                             started->set_value();
                           }
                           return !release.load();
                         });
  });
  if (ready.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    release = true;
    ADD_FAILURE() << "the stream holding the slot sent nothing within 30 s";
  }
  return holding;
}

TEST(OpenAiQueueTest, FullQueueIs429WithRetryAfterAndRateLimitError) {
  TestNode node({}, /*slots=*/1, /*max_queue=*/0, /*n_ctx=*/4096);
  httplib::Client holder("127.0.0.1", node.port());
  std::atomic<bool> release{false};
  std::future<int> holding = HoldSlot(holder, release);
  for (const char* path : {"/v1/completions", "/v1/chat/completions"}) {
    const char* body = std::string(path) == "/v1/completions" ? R"({"prompt":"x","max_tokens":2})"
                                                               : R"({"messages":[{"role":"user","content":"x"}]})";
    auto r = node.client().Post(path, body, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 429) << r->body;
    EXPECT_EQ(r->get_header_value("Retry-After"), "1");
    json e = json::parse(r->body)["error"];
    EXPECT_EQ(e["type"], "rate_limit_error");
    EXPECT_EQ(e["code"], "rate_limit_exceeded");
  }
  release = true;
  EXPECT_EQ(holding.wait_for(30s), std::future_status::ready) << "the released stream did not end within 30 s";
  // Served again once the slot is free.
  int status = 0;
  const bool served = testing::WaitUntil(
      [&] {
        auto r = node.client().Post("/v1/completions", R"({"prompt":"x","max_tokens":2})", "application/json");
        status = r ? r->status : 0;
        return status == 200;
      },
      5s, 20ms);
  EXPECT_TRUE(served) << "not served 5 s after the slot was released: last status " << status;
}

int BusySlots(TestNode& node) {
  auto r = node.client().Get("/status");
  return r ? json::parse(r->body)["slots_busy"].get<int>() : -1;
}

TEST(OpenAiQueueTest, ClientThatDisconnectsMidStreamFreesEverySlotOfItsRequest) {
  TestNode node({}, /*slots=*/2, /*max_queue=*/0, /*n_ctx=*/4096);
  for (const char* body : {R"({"prompt":"bye","max_tokens":4000,"ignore_eos":true,"stream":true,"n":2})",
                           R"({"messages":[{"role":"user","content":"bye"}],"ignore_eos":true,"stream":true})"}) {
    SCOPED_TRACE(body);
    std::string path = std::string(body).find("messages") != std::string::npos ? "/v1/chat/completions"
                                                                               : "/v1/completions";
    {
      httplib::Client quitter("127.0.0.1", node.port());
      int chunks = 0;
      // Returning false from the receiver closes the connection after the first events.
      int status = PostStreaming(quitter, path, body, [&](const char*, size_t) { return ++chunks < 3; });
      EXPECT_EQ(status, 0);
    }
    // The slots come free within a few decode steps, not after 4000 tokens.
    int busy = -1;
    const bool freed = testing::WaitUntil(
        [&] {
          busy = BusySlots(node);
          return busy == 0;
        },
        5s, 10ms);
    EXPECT_TRUE(freed) << busy << " slots still busy 5 s after their client left";
    auto next = node.client().Post("/v1/completions", R"({"prompt":"next","max_tokens":2,"n":2})", "application/json");
    ASSERT_TRUE(next);
    EXPECT_EQ(next->status, 200) << next->body;
  }
}

TEST(OpenAiFailureTest, FailureMidStreamIsAnErrorEventThenDone) {
  TestNode node({}, /*slots=*/1, /*max_queue=*/0, /*n_ctx=*/4096);
  httplib::Client c("127.0.0.1", node.port());
  std::string body;
  std::promise<void> started;
  bool signalled = false;
  auto streaming = std::async(std::launch::async, [&] {
    return PostStreaming(c, "/v1/chat/completions",
                         R"({"messages":[{"role":"user","content":"x"}],"ignore_eos":true,"stream":true})",
                         [&](const char* data, size_t n) {
                           body.append(data, n);
                           if (!signalled) {
                             signalled = true;
                             started.set_value();
                           }
                           return true;
                         });
  });
  ASSERT_EQ(started.get_future().wait_for(30s), std::future_status::ready) << "the stream sent nothing within 30 s";
  node.node().Shutdown(std::chrono::milliseconds(0));  // cancels the generation mid-stream
  EXPECT_EQ(streaming.get(), 200);
  std::vector<std::string> data = SseData(body);
  ASSERT_GE(data.size(), 3u);
  EXPECT_EQ(data.back(), "[DONE]");
  json error = json::parse(data[data.size() - 2]);
  ASSERT_TRUE(error["error"].is_object()) << error.dump();
  EXPECT_TRUE(error["error"]["message"].is_string());
  EXPECT_EQ(error["error"]["type"], "server_error");
  EXPECT_EQ(error["error"]["code"], "service_unavailable");
  EXPECT_FALSE(error.contains("choices"));
}

TEST(OpenAiAuthTest, WrongOrMissingKeyIs401AndHealthStaysOpen) {
  NodeConfig config;
  config.api_key = "sekret";
  TestNode node(config);
  const std::string body = R"({"prompt":"x","max_tokens":2})";
  for (const httplib::Headers& h : {httplib::Headers{}, httplib::Headers{{"Authorization", "Bearer wrong"}},
                                    httplib::Headers{{"Authorization", "sekret"}}}) {
    auto denied = node.client().Post("/v1/completions", h, body, "application/json");
    ASSERT_TRUE(denied);
    EXPECT_EQ(denied->status, 401);
    json e = json::parse(denied->body)["error"];
    EXPECT_EQ(e["type"], "authentication_error");
    EXPECT_EQ(e["code"], "invalid_api_key");
    EXPECT_EQ(denied->get_header_value("X-LlamaNet-Node"), "test-node");
  }
  auto models = node.client().Get("/v1/models");
  ASSERT_TRUE(models);
  EXPECT_EQ(models->status, 401);
  auto health = node.client().Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  httplib::Headers auth = {{"Authorization", "Bearer sekret"}};
  auto allowed = node.client().Post("/v1/completions", auth, body, "application/json");
  ASSERT_TRUE(allowed);
  EXPECT_EQ(allowed->status, 200);
}

}  // namespace
}  // namespace llamanet::node
