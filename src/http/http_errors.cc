#include "http/http_errors.h"

#include <httplib.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "http/json_body.h"

namespace llamanet::http {
namespace {

constexpr size_t kMaxMessageBytes = 512;

// An error message may carry a value a client sent (a field, a model name): it goes out
// without control characters and bounded, whatever the value held.
std::string Clean(const std::string& message) {
  std::string out;
  out.reserve(std::min(message.size(), kMaxMessageBytes));
  for (size_t i = 0; i < message.size() && i < kMaxMessageBytes; ++i) {
    unsigned char c = static_cast<unsigned char>(message[i]);
    out.push_back(c < 0x20 || c == 0x7f ? '?' : message[i]);
  }
  return out;
}

}  // namespace

int HttpStatusFor(const Status& status) {
  switch (status.code()) {
    case Status::Code::kOk: return 200;
    case Status::Code::kInvalidArgument: return 400;
    case Status::Code::kMalformed: return 422;
    case Status::Code::kNotFound: return 404;
    case Status::Code::kTooLarge: return 413;
    case Status::Code::kUnavailable: return 503;
    case Status::Code::kDeadlineExceeded: return 504;
    case Status::Code::kCancelled: return 499;
    case Status::Code::kIoError:
    case Status::Code::kInternal: return 500;
  }
  return 500;
}

int OpenAiHttpStatusFor(const Status& status) {
  switch (status.code()) {
    case Status::Code::kMalformed: return 400;
    case Status::Code::kUnavailable: return 429;
    case Status::Code::kCancelled: return 503;
    default: return HttpStatusFor(status);
  }
}

std::string NativeErrorJson(const std::string& message) { return DumpJson(nlohmann::json{{"detail", Clean(message)}}); }

void SetNativeError(httplib::Response& res, int http_status, const std::string& message) {
  res.status = http_status;
  res.set_content(NativeErrorJson(message), "application/json");
  if (http_status == 503 || http_status == 429) res.set_header("Retry-After", std::to_string(kRetryAfterSeconds));
}

std::string OpenAiErrorJson(int http_status, const std::string& message, const std::string& param,
                            const std::string& code) {
  std::string type = "invalid_request_error";
  std::string default_code;
  switch (http_status) {
    case 401: type = "authentication_error"; default_code = "invalid_api_key"; break;
    case 404: default_code = "not_found"; break;
    case 413: default_code = "request_too_large"; break;
    case 429: type = "rate_limit_error"; default_code = "rate_limit_exceeded"; break;
    case 503: type = "server_error"; default_code = "service_unavailable"; break;
    default:
      if (http_status >= 500) type = "server_error";
  }
  nlohmann::json err = {{"message", Clean(message)},
                        {"type", type},
                        {"param", param.empty() ? nlohmann::json(nullptr) : nlohmann::json(param)},
                        {"code", !code.empty() ? nlohmann::json(code)
                                               : default_code.empty() ? nlohmann::json(nullptr) : nlohmann::json(default_code)}};
  return DumpJson(nlohmann::json{{"error", err}});
}

void SetOpenAiError(httplib::Response& res, int http_status, const std::string& message, const std::string& param,
                    const std::string& code) {
  res.status = http_status;
  res.set_content(OpenAiErrorJson(http_status, message, param, code), "application/json");
  if (http_status == 503 || http_status == 429) res.set_header("Retry-After", std::to_string(kRetryAfterSeconds));
}

}  // namespace llamanet::http
