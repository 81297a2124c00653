// The request fields that constrain output, read the same way by the native and the OpenAI
// routes: llama.cpp's `grammar` (GBNF) and `json_schema` extensions, and the JSON schemas
// clients give (bounded in size and depth: they are turned into grammars recursively).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "core/status.h"
#include "engine/generation.h"

namespace llamanet::api {

inline constexpr size_t kMaxSchemaBytes = 64 * 1024;  // a schema's or a grammar's JSON text
inline constexpr size_t kMaxSchemaDepth = 32;

// A JSON schema at `field`: an object, kept as JSON text. kMalformed / kInvalidArgument.
Status ReadSchema(const nlohmann::json& v, const std::string& field, std::string* out);

// `grammar` and `json_schema` of `obj` into `out` (at most one of them). On failure `field`
// names the field at fault.
Status ReadGrammarFields(const nlohmann::json& obj, engine::OutputConstraints* out, std::string* field);

}  // namespace llamanet::api
