// JSON bodies on the wire: serialized so that invalid UTF-8 in any string (a peer's record, a
// model's bytes, a request's path) becomes U+FFFD instead of throwing from inside a handler.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>

namespace llamanet::http {

std::string DumpJson(const nlohmann::json& value);

// Sets `res`'s status and a JSON body.
void SetJson(httplib::Response& res, const nlohmann::json& value, int status = 200);

}  // namespace llamanet::http
