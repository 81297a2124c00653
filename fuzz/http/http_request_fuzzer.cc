// libFuzzer target on the HTTP request path as a node runs it: the input is what a client sends
// on one connection. It passes the connection gate (head limits), cpp-httplib's parser, the API
// key check and routing, and the native, OpenAI and embeddings schemas parse the bodies into their request
// structs. Any crash, sanitizer report or escaped exception is a finding; so is an answer that
// is not valid HTTP with a JSON body for an error.
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "api/embeddings_schema.h"
#include "api/native_schema.h"
#include "api/openai_schema.h"
#include "http/http_errors.h"
#include "http/http_server.h"
#include "http/json_body.h"

namespace {

using llamanet::Status;
namespace api = llamanet::api;
namespace http = llamanet::http;

void Answer(httplib::Response& res, const Status& s) {
  if (s.ok()) return http::SetJson(res, {{"ok", true}});
  http::SetNativeError(res, http::HttpStatusFor(s), s.message());
}

std::unique_ptr<http::HttpServer> MakeServer() {
  http::HttpServerOptions o;
  o.limits.max_body_bytes = 64 << 10;
  o.limits.max_header_bytes = 4 << 10;
  o.limits.max_headers = 32;
  o.limits.header_timeout = std::chrono::milliseconds(200);
  o.limits.idle_timeout = std::chrono::milliseconds(50);
  o.limits.read_timeout = std::chrono::seconds(1);
  o.limits.write_timeout = std::chrono::seconds(1);
  o.api_key = "fuzz-key";
  o.node_id = "fuzz-node";
  auto server = std::make_unique<http::HttpServer>(o);
  server->Post("/generate", [](const httplib::Request& req, httplib::Response& res) {
    auto r = api::ParseGenerate(req.body, 2048);
    Answer(res, r.status());
  });
  api::OpenAiLimits limits{2048, 32000};
  server->Post("/v1/completions", [limits](const httplib::Request& req, httplib::Response& res) {
    std::string param;
    Answer(res, api::ParseCompletionRequest(req.body, limits, &param).status());
  });
  server->Post("/v1/chat/completions", [limits](const httplib::Request& req, httplib::Response& res) {
    std::string param;
    Answer(res, api::ParseChatRequest(req.body, limits, &param).status());
  });
  server->Post("/v1/embeddings", [](const httplib::Request& req, httplib::Response& res) {
    std::string param;
    Answer(res, api::ParseEmbeddingsRequest(req.body, 4096, &param).status());
  });
  server->Get("/health", [](const httplib::Request&, httplib::Response& res) { http::SetJson(res, {{"healthy", true}}); },
              http::Access::kOpen);
  server->Get("/static/(.*)", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(4096, 'x'), "text/plain");
  }, http::Access::kOpen);
  return server;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<http::HttpServer> server = MakeServer();
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return 0;
  // The whole input is sent at once and the client's side shut for writing, so the server sees
  // the bytes and then the end of the stream; it answers within its timeouts.
  size_t sent = 0;
  while (sent < size) {
    ssize_t n = ::send(fds[0], data + sent, size - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  ::shutdown(fds[0], SHUT_WR);
  server->ServeConnection(fds[1]);  // closes fds[1]
  std::string answer;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fds[0], buf, sizeof buf, 0)) > 0) answer.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  if (!answer.empty() && answer.rfind("HTTP/1.", 0) != 0) std::abort();
  return 0;
}
