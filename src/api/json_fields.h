// Typed reads of optional fields from a JSON request body. A field that is absent or null
// keeps the caller's default; a field of the wrong type is kMalformed naming the field; a
// value out of range is kInvalidArgument naming the field and the range.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string_view>
#include <string>
#include <vector>

#include "core/status.h"

namespace llamanet::api {

// Parses a request body that must be a JSON object (kMalformed otherwise).
Result<nlohmann::json> ParseJsonObject(const std::string& body);

Status ReadString(const nlohmann::json& obj, const char* key, std::string* out);
Status ReadInt(const nlohmann::json& obj, const char* key, int64_t min, int64_t max, int32_t* out);
Status ReadFloat(const nlohmann::json& obj, const char* key, double min, double max, float* out);
Status ReadBool(const nlohmann::json& obj, const char* key, bool* out);
// A string or a list of strings (OpenAI's and the native `stop`); at most max_items of at
// most max_bytes each.
Status ReadStringOrList(const nlohmann::json& obj, const char* key, size_t max_items, size_t max_bytes,
                        std::vector<std::string>* out);

bool Present(const nlohmann::json& obj, const char* key);

// The first key of `obj` not in `known`, as OpenAI refuses an argument it does not recognize;
// "" when every key is known. The name goes back to the client (message and `param`), so it
// comes cut to 64 bytes with control characters as '?' ("''" for the empty key).
std::string UnknownField(const nlohmann::json& obj, const std::vector<std::string_view>& known);

// How deeply `v` nests (a scalar is 1), counted without recursion: a client's JSON schema is
// turned into a grammar recursively, so its depth is bounded before that.
size_t JsonDepth(const nlohmann::json& v);

}  // namespace llamanet::api
