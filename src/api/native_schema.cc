#include "api/native_schema.h"

#include <nlohmann/json.hpp>

#include "api/grammar_fields.h"
#include "api/json_fields.h"
#include "protocol/affinity.h"

namespace llamanet::api {

using nlohmann::json;

Result<engine::GenerationRequest> ParseGenerate(const std::string& body, int32_t n_ctx) {
  Result<json> parsed = ParseJsonObject(body);
  if (!parsed.ok()) return parsed.status();
  const json& j = *parsed;
  engine::GenerationRequest r;
  r.conversation = protocol::ConversationOf(j);
  if (!Present(j, "prompt")) return Status::Malformed("'prompt' is required");
  Status s = ReadString(j, "prompt", &r.prompt);
  if (s.ok() && r.prompt.empty()) s = Status::InvalidArgument("'prompt' must not be empty");
  if (s.ok()) s = ReadInt(j, "max_tokens", 1, n_ctx, &r.max_tokens);
  if (s.ok()) s = ReadFloat(j, "temperature", 0.0, 2.0, &r.sampling.temperature);
  if (s.ok()) s = ReadFloat(j, "top_p", 0.0, 1.0, &r.sampling.top_p);
  if (s.ok() && r.sampling.top_p == 0.0f) s = Status::InvalidArgument("'top_p' must be greater than 0");
  if (s.ok()) s = ReadInt(j, "top_k", 0, 1 << 20, &r.sampling.top_k);
  if (s.ok()) s = ReadFloat(j, "repeat_penalty", 0.01, 10.0, &r.sampling.repeat_penalty);
  if (s.ok()) s = ReadStringOrList(j, "stop", kMaxNativeStops, kMaxNativeStopBytes, &r.stop);
  if (s.ok() && Present(j, "seed")) {
    int32_t seed = 0;
    s = ReadInt(j, "seed", 0, INT32_MAX, &seed);
    r.sampling.seed = static_cast<uint32_t>(seed);
  }
  if (!s.ok()) return s;
  // llama.cpp's extensions, as llama-server's /completion takes them.
  std::string field;
  if (s = ReadGrammarFields(j, &r.constraints, &field); !s.ok()) return s;
  return r;
}

}  // namespace llamanet::api
