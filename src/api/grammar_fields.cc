#include "api/grammar_fields.h"

#include "api/json_fields.h"
#include "http/json_body.h"

namespace llamanet::api {

Status ReadSchema(const nlohmann::json& v, const std::string& field, std::string* out) {
  const std::string quoted = "'" + field + "'";
  if (!v.is_object()) return Status::Malformed(quoted + " must be a JSON schema object");
  if (JsonDepth(v) > kMaxSchemaDepth) {
    return Status::InvalidArgument(quoted + " nests deeper than " + std::to_string(kMaxSchemaDepth) + " levels");
  }
  *out = http::DumpJson(v);
  if (out->size() > kMaxSchemaBytes) {
    return Status::InvalidArgument(quoted + " is longer than " + std::to_string(kMaxSchemaBytes) + " bytes");
  }
  return Status::Ok();
}

Status ReadGrammarFields(const nlohmann::json& obj, engine::OutputConstraints* out, std::string* field) {
  *field = "grammar";
  if (Status s = ReadString(obj, "grammar", &out->grammar); !s.ok()) return s;
  if (out->grammar.size() > kMaxSchemaBytes) {
    return Status::InvalidArgument("'grammar' is longer than " + std::to_string(kMaxSchemaBytes) + " bytes");
  }
  if (Present(obj, "json_schema")) {
    *field = "json_schema";
    if (Status s = ReadSchema(obj.at("json_schema"), "json_schema", &out->json_schema); !s.ok()) return s;
    if (!out->grammar.empty()) return Status::InvalidArgument("'grammar' and 'json_schema' cannot be used together");
  }
  field->clear();
  return Status::Ok();
}

}  // namespace llamanet::api
