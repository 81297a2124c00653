#include "http/json_body.h"

namespace llamanet::http {

std::string DumpJson(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void SetJson(httplib::Response& res, const nlohmann::json& value, int status) {
  res.status = status;
  res.set_content(DumpJson(value), "application/json");
}

}  // namespace llamanet::http
