#include "api/embeddings_schema.h"

#include <nlohmann/json.hpp>

#include "api/json_fields.h"
#include "api/openai_schema.h"

namespace llamanet::api {
namespace {

using nlohmann::json;

Status Fail(std::string* param, const std::string& field, Status s) {
  if (param) *param = field;
  return s;
}

// input: a string or a non-empty list of strings. Token ids (a list of integers, or of lists)
// are OpenAI's too, but they are ids of OpenAI's tokenizer, meaningless to this model.
Status ReadInputs(const json& body, std::vector<std::string>* inputs) {
  if (!Present(body, "input")) return Status::InvalidArgument("'input' is required");
  const json& v = body.at("input");
  if (v.is_string()) {
    inputs->push_back(v.get<std::string>());
  } else if (v.is_array()) {
    if (v.empty()) return Status::InvalidArgument("'input' must not be an empty list");
    if (v.size() > kMaxEmbeddingInputs) {
      return Status::InvalidArgument("'input' has " + std::to_string(v.size()) + " entries; at most " +
                                     std::to_string(kMaxEmbeddingInputs) + " are allowed");
    }
    for (const json& item : v) {
      if (item.is_number_integer() || item.is_array()) {
        return Status::InvalidArgument("token-id input is not supported by this node; send the text instead");
      }
      if (!item.is_string()) return Status::Malformed("'input' must be a string or a list of strings");
      inputs->push_back(item.get<std::string>());
    }
  } else {
    return Status::Malformed("'input' must be a string or a list of strings");
  }
  for (size_t i = 0; i < inputs->size(); ++i) {
    if ((*inputs)[i].empty()) {
      return Status::InvalidArgument(inputs->size() == 1 ? "'input' must not be an empty string"
                                                         : "'input' entry " + std::to_string(i) + " is an empty string");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<EmbeddingsRequest> ParseEmbeddingsRequest(const std::string& body, int32_t dimensions, std::string* param) {
  Result<json> parsed = ParseJsonObject(body);
  if (!parsed.ok()) return parsed.status();
  const json& j = *parsed;
  if (std::string unknown = UnknownField(j, {"input", "model", "encoding_format", "dimensions", "user"});
      !unknown.empty()) {
    return Fail(param, unknown, Status::InvalidArgument(UnrecognizedArgument(unknown)));
  }
  EmbeddingsRequest out;
  if (Status s = ReadString(j, "model", &out.model); !s.ok()) return Fail(param, "model", s);
  if (Status s = ReadInputs(j, &out.inputs); !s.ok()) return Fail(param, "input", s);
  std::string format = "float";
  if (Status s = ReadString(j, "encoding_format", &format); !s.ok()) return Fail(param, "encoding_format", s);
  if (format == "base64") {
    out.format = EncodingFormat::kBase64;
  } else if (format != "float") {
    return Fail(param, "encoding_format",
                Status::InvalidArgument("'encoding_format' must be 'float' or 'base64'"));
  }
  if (Present(j, "dimensions")) {
    const json& d = j.at("dimensions");
    if (!d.is_number_integer()) return Fail(param, "dimensions", Status::Malformed("'dimensions' must be an integer"));
    if (d.get<int64_t>() != dimensions) {
      return Fail(param, "dimensions",
                  Status::InvalidArgument("'dimensions' is not supported: this model's embeddings have " +
                                          std::to_string(dimensions) + " dimensions and are not shortened"));
    }
  }
  std::string user;  // accepted, as OpenAI does; nothing here uses it
  if (Status s = ReadString(j, "user", &user); !s.ok()) return Fail(param, "user", s);
  return out;
}

}  // namespace llamanet::api
