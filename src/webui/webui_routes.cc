#include "webui/webui_routes.h"

#include <nlohmann/json.hpp>

#include "http/json_body.h"
#include "webui/assets.h"

namespace llamanet::webui {
namespace {

// img-src allows data: for the small SVG icons inside bootstrap.min.css.
constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'";

void SetNotFound(const httplib::Request& req, httplib::Response& res) {
  nlohmann::json body = {{"detail", "no web UI file at " + req.path}};
  res.status = 404;
  // The path is the client's: replace bytes that are not UTF-8 rather than throw.
  res.set_content(http::DumpJson(body), "application/json");
}

}  // namespace

void ServeWebUi(const httplib::Request& req, httplib::Response& res) {
  // The node's server adds it to every response already; a bare httplib server does not.
  if (!res.has_header("X-Content-Type-Options")) res.set_header("X-Content-Type-Options", "nosniff");
  const Asset* asset = FindAsset(req.path);
  if (asset == nullptr) return SetNotFound(req, res);
  res.set_header("Content-Security-Policy", kContentSecurityPolicy);
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Cache-Control", "no-cache");
  res.set_header("ETag", std::string(asset->etag));
  if (req.get_header_value("If-None-Match") == asset->etag) {
    res.status = 304;
    return;
  }
  res.set_content(asset->body.data(), asset->body.size(), std::string(asset->content_type));
}

}  // namespace llamanet::webui
