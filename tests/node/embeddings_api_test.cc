// POST /v1/embeddings on a real node that loaded the tiny model itself (generation and
// embeddings on one copy of it), and an embeddings-only node.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "api/embeddings_route.h"
#include "node_test_support.h"

namespace llamanet::node {
namespace {

using nlohmann::json;

// The float32 values of a base64 embedding (little-endian), decoded here independently.
std::vector<float> FromBase64(const std::string& text) {
  std::string bytes;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char* at = std::strchr(alphabet, c);
    EXPECT_NE(at, nullptr) << c;
    if (!at) return {};
    acc = (acc << 6) | static_cast<uint32_t>(at - alphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  EXPECT_EQ(bytes.size() % 4, 0u);
  std::vector<float> out(bytes.size() / 4);
  for (size_t i = 0; i < out.size(); ++i) {
    uint32_t v = 0;
    for (int b = 0; b < 4; ++b) v |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i * 4 + b])) << (8 * b);
    std::memcpy(&out[i], &v, 4);
  }
  return out;
}

NodeConfig EmbeddingConfig(bool only) {
  NodeConfig c;
  c.embeddings_ctx = 64;
  c.embeddings_only = only;
  c.node_id = only ? "embed-only" : "embed-node";
  return c;
}

class EmbeddingsApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { node_ = new TestNode(EmbeddingConfig(false), 2, 4, 256, /*as_deployed=*/true); }
  static void TearDownTestSuite() {
    delete node_;
    node_ = nullptr;
  }
  static httplib::Result Post(const json& body) {
    return node_->client().Post("/v1/embeddings", body.dump(), "application/json");
  }
  static json PostOk(const json& body) {
    auto r = Post(body);
    EXPECT_TRUE(r);
    if (!r) return json();
    EXPECT_EQ(r->status, 200) << body.dump() << " -> " << r->body;
    return json::parse(r->body);
  }
  // A 400 whose OpenAI error names `param`; returns its message.
  static std::string Refused(const std::string& body, const std::string& param) {
    auto r = node_->client().Post("/v1/embeddings", body, "application/json");
    EXPECT_TRUE(r);
    if (!r) return "";
    EXPECT_EQ(r->status, 400) << body << " -> " << r->body;
    json e = json::parse(r->body, nullptr, false);
    EXPECT_TRUE(e.contains("error")) << r->body;
    if (!e.contains("error")) return "";
    EXPECT_EQ(e["error"]["param"], param) << body << " -> " << r->body;
    EXPECT_EQ(e["error"]["type"], "invalid_request_error");
    return e["error"]["message"].get<std::string>();
  }
  static TestNode* node_;
};
TestNode* EmbeddingsApiTest::node_ = nullptr;

TEST_F(EmbeddingsApiTest, AnswersInOpenAisShape) {
  json r = PostOk({{"model", "tiny-f16"}, {"input", {"first text", "second, longer text"}}, {"user", "u-1"}});
  EXPECT_EQ(r["object"], "list");
  EXPECT_EQ(r["model"], "tiny-f16");
  ASSERT_EQ(r["data"].size(), 2u);
  size_t dims = 0;
  for (size_t i = 0; i < 2; ++i) {
    const json& d = r["data"][i];
    EXPECT_EQ(d["object"], "embedding");
    EXPECT_EQ(d["index"], i);
    ASSERT_TRUE(d["embedding"].is_array());
    dims = d["embedding"].size();
    double norm = 0;
    for (const json& x : d["embedding"]) norm += x.get<double>() * x.get<double>();
    EXPECT_NEAR(std::sqrt(norm), 1.0, 1e-4);
  }
  EXPECT_GT(dims, 0u);
  EXPECT_GT(r["usage"]["prompt_tokens"].get<int>(), 2);
  EXPECT_EQ(r["usage"]["prompt_tokens"], r["usage"]["total_tokens"]);
  json single = PostOk({{"input", "first text"}});  // no model: this node's
  ASSERT_EQ(single["data"].size(), 1u);
  // The same vector as in the batch, up to float rounding (the batch's shape differs).
  ASSERT_EQ(single["data"][0]["embedding"].size(), dims);
  for (size_t i = 0; i < dims; ++i) {
    EXPECT_NEAR(single["data"][0]["embedding"][i].get<double>(), r["data"][0]["embedding"][i].get<double>(), 1e-4);
  }
}

TEST_F(EmbeddingsApiTest, Base64CarriesTheSameFloats) {
  json f = PostOk({{"input", "round trip"}, {"encoding_format", "float"}});
  json b = PostOk({{"input", "round trip"}, {"encoding_format", "base64"}});
  ASSERT_TRUE(b["data"][0]["embedding"].is_string());
  std::vector<float> decoded = FromBase64(b["data"][0]["embedding"].get<std::string>());
  std::vector<float> floats = f["data"][0]["embedding"].get<std::vector<float>>();
  ASSERT_EQ(decoded.size(), floats.size());
  for (size_t i = 0; i < floats.size(); ++i) EXPECT_EQ(decoded[i], floats[i]) << i;
  EXPECT_EQ(api::EmbeddingBase64({1.0f}), "AACAPw==");  // 0x3f800000, little-endian
}

TEST_F(EmbeddingsApiTest, RefusesWhatItCannotServeNamingTheField) {
  EXPECT_NE(Refused(R"({"input":"x","dimensions":8})", "dimensions").find("dimensions"), std::string::npos);
  EXPECT_EQ(Refused(R"({"input":"x","temperature":1})", "temperature"),
            "Unrecognized request argument supplied: temperature");
  Refused(R"({"input":[]})", "input");
  Refused(R"({"input":""})", "input");
  Refused(R"({"input":["a",""]})", "input");
  Refused(R"({})", "input");
  Refused(R"({"input":42})", "input");
  EXPECT_NE(Refused(R"({"input":[1,2,3]})", "input").find("token-id"), std::string::npos);
  Refused(R"({"input":[[1,2],[3]]})", "input");
  Refused(R"({"input":"x","encoding_format":"int8"})", "encoding_format");
  json many = {{"input", std::vector<std::string>(2049, "x")}};
  Refused(many.dump(), "input");
  std::string lengthy;
  for (int i = 0; i < 200; ++i) lengthy += "word ";
  EXPECT_NE(Refused(json{{"input", {"short", lengthy}}}.dump(), "input").find("input[1]"), std::string::npos);
  auto not_json = node_->client().Post("/v1/embeddings", "{", "application/json");
  ASSERT_TRUE(not_json);
  EXPECT_EQ(not_json->status, 400);
  auto other = Post({{"input", "x"}, {"model", "no-such-model"}});
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404) << other->body;
}

TEST_F(EmbeddingsApiTest, StatusInfoAndMetricsCountEmbeddings) {
  PostOk({{"input", {"count me", "and me"}}});
  json status = json::parse(node_->client().Get("/status")->body);
  EXPECT_GE(status["embeddings"]["requests"].get<int>(), 1);
  EXPECT_GE(status["embeddings"]["inputs"].get<int>(), 2);
  json info = json::parse(node_->client().Get("/info")->body);
  EXPECT_GT(info["embeddings"]["dimensions"].get<int>(), 0);
  EXPECT_EQ(info["embeddings"]["max_input_tokens"], 64);
  EXPECT_NE(info["endpoints"]["openai"].dump().find("/v1/embeddings"), std::string::npos);
  std::string metrics = node_->client().Get("/metrics")->body;
  EXPECT_NE(metrics.find("llamanet_embedding_inputs_total"), std::string::npos);
  EXPECT_NE(metrics.find("route=\"/v1/embeddings\",status=\"200\""), std::string::npos);
}

TEST_F(EmbeddingsApiTest, GenerationStillWorksBeside) {
  auto r = node_->client().Post("/v1/completions", R"({"prompt":"Hello","max_tokens":4})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
}

TEST(EmbeddingsOnlyNode, EmbedsAndGeneratesNothing) {
  TestNode node(EmbeddingConfig(true), 2, 4, 256, /*as_deployed=*/true);
  auto r = node.client().Post("/v1/embeddings", R"({"input":"only this"})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  json status = json::parse(node.client().Get("/status")->body);
  EXPECT_EQ(status["slots"], 0);
  // Alone in its swarm: no peer generates this model.
  auto g = node.client().Post("/v1/completions", R"({"prompt":"Hello","max_tokens":4})", "application/json");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->status, 404) << g->body;
  EXPECT_EQ(json::parse(g->body)["error"]["code"], "model_not_found");
  auto native = node.client().Post("/generate", R"({"prompt":"Hello","max_tokens":4})", "application/json");
  ASSERT_TRUE(native);
  EXPECT_EQ(native->status, 404) << native->body;
}

TEST(EmbeddingsOffNode, AnswersNotFound) {
  NodeConfig c;
  c.embeddings = false;
  TestNode node(c, 2, 4, 256, /*as_deployed=*/true);
  auto r = node.client().Post("/v1/embeddings", R"({"input":"x"})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404) << r->body;
  EXPECT_EQ(json::parse(r->body)["error"]["code"], "model_not_found");
  EXPECT_TRUE(json::parse(node.client().Get("/status")->body)["embeddings"].is_null());
}

}  // namespace
}  // namespace llamanet::node
