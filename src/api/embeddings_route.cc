#include "api/embeddings_route.h"

#include <cstdint>
#include <cstring>

#include <nlohmann/json.hpp>

#include "api/embeddings_schema.h"
#include "api/openai_api.h"
#include "api/routing.h"
#include "http/http_errors.h"
#include "http/json_body.h"

namespace llamanet::api {
namespace {

using http::OpenAiHttpStatusFor;
using http::SetOpenAiError;
using nlohmann::json;

void HandleEmbeddings(ApiContext& node, const httplib::Request& req, httplib::Response& res) {
  if (!node.embedder) {
    return SetOpenAiError(res, 404, "this node serves no embeddings", "model", "model_not_found");
  }
  std::string param;
  Result<EmbeddingsRequest> parsed = ParseEmbeddingsRequest(req.body, node.embedder->Dimensions(), &param);
  if (!parsed.ok()) {
    return SetOpenAiError(res, OpenAiHttpStatusFor(parsed.status()), parsed.status().message(), param);
  }
  const engine::ModelInfo model = node.engine->Model();
  if (!ServesModel(model, parsed->model)) {
    return SetOpenAiError(res, 404, "the model '" + parsed->model + "' is not served here", "model", "model_not_found");
  }
  if (!node.running) return SetOpenAiError(res, 503, "the node is shutting down");
  res.set_header("X-Request-Id", node.NewRequestId());
  Result<engine::Embeddings> embedded = node.embedder->Embed(parsed->inputs);
  if (!embedded.ok()) {
    const Status& s = embedded.status();
    return SetOpenAiError(res, OpenAiHttpStatusFor(s), s.message(),
                          s.code() == Status::Code::kInvalidArgument ? "input" : "");
  }
  json data = json::array();
  for (size_t i = 0; i < embedded->vectors.size(); ++i) {
    const std::vector<float>& v = embedded->vectors[i];
    json item = {{"object", "embedding"}, {"index", i}};
    if (parsed->format == EncodingFormat::kBase64) {
      item["embedding"] = EmbeddingBase64(v);
    } else {
      item["embedding"] = v;
    }
    data.push_back(std::move(item));
  }
  http::SetJson(res, json{{"object", "list"},
                          {"data", std::move(data)},
                          {"model", model.name},
                          {"usage", {{"prompt_tokens", embedded->prompt_tokens}, {"total_tokens", embedded->prompt_tokens}}}});
}

}  // namespace

std::string EmbeddingBase64(const std::vector<float>& vector) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes;
  bytes.reserve(vector.size() * 4);
  for (float f : vector) {
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    for (int shift = 0; shift < 32; shift += 8) bytes.push_back(static_cast<char>((bits >> shift) & 0xff));
  }
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t chunk = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (i + 1 < bytes.size()) chunk |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    if (i + 2 < bytes.size()) chunk |= static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(kAlphabet[(chunk >> 18) & 63]);
    out.push_back(kAlphabet[(chunk >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kAlphabet[(chunk >> 6) & 63] : '=');
    out.push_back(i + 2 < bytes.size() ? kAlphabet[chunk & 63] : '=');
  }
  return out;
}

void RegisterEmbeddingsApi(http::HttpServer& server, ApiContext& node) {
  server.Post("/v1/embeddings",
              RoutedHandler(
                  node, [&node](const httplib::Request& req, httplib::Response& res) { HandleEmbeddings(node, req, res); },
                  true, swarm::Service::kEmbeddings));
}

}  // namespace llamanet::api
