// The one place that turns a Status into an HTTP error: the native shape {"detail": ...}
// and OpenAI's {"error": {message, type, param, code}}.
#pragma once

#include <string>

#include "core/status.h"

namespace httplib {
struct Response;
}

namespace llamanet::http {

// 400 bad value, 422 bad schema, 404, 413 too large, 503 unavailable, 504 timeout, 499 cancelled, 500 else.
int HttpStatusFor(const Status& status);

// The native error body {"detail": message}.
std::string NativeErrorJson(const std::string& message);
void SetNativeError(httplib::Response& res, int http_status, const std::string& message);

// The same for OpenAI's routes: 400 for every bad input (kMalformed too), 404, 413, 429 for a
// full queue (kUnavailable), 503 when cancelled by a shutdown, 504 timeout, 500 else.
int OpenAiHttpStatusFor(const Status& status);

// OpenAI's error shape; `type` and `code` follow OpenAI's names for the HTTP status unless given.
std::string OpenAiErrorJson(int http_status, const std::string& message, const std::string& param = "",
                            const std::string& code = "");
void SetOpenAiError(httplib::Response& res, int http_status, const std::string& message,
                    const std::string& param = "", const std::string& code = "");

// A full queue: 503 on native routes, 429 on OpenAI's, with Retry-After either way.
constexpr int kRetryAfterSeconds = 1;

}  // namespace llamanet::http
