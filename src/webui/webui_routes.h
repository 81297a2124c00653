// Serves the embedded web UI over HTTP: GET "/" (the page) and GET "/static/..." (its
// scripts, styles and libraries).
#pragma once

#include <httplib.h>

namespace llamanet::webui {

// The route patterns (httplib regexes over the path) that ServeWebUi answers.
inline constexpr const char* kWebUiRoutes[] = {"/", "/static/(.*)"};

// Answers one GET from the embedded assets: the body with its Content-Type, an ETag (and 304
// for a matching If-None-Match), `Cache-Control: no-cache` (browsers keep the files but
// revalidate, so a new node binary never serves a page mixed with old scripts), nosniff and a
// strict Content-Security-Policy (scripts only from this origin, none inline). An unknown
// path is 404 {"detail": "..."}. Thread-safe.
void ServeWebUi(const httplib::Request& req, httplib::Response& res);

// Registers ServeWebUi for kWebUiRoutes on `router`: an httplib::Server, or any type with the
// same Get(pattern, handler, extra...), such as the node's HttpServer (so that its request
// observer and X-LlamaNet-Node header cover the UI too; `extra` is then its Access). Call
// before the server starts.
template <typename Router, typename... Extra>
void RegisterWebUi(Router& router, Extra... extra) {
  for (const char* pattern : kWebUiRoutes) router.Get(pattern, ServeWebUi, extra...);
}

}  // namespace llamanet::webui
