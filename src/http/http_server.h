// The node's HTTP server: cpp-httplib 0.54.1 behind a connection gate (connection_gate.h), set
// up the way a node needs it. No SO_REUSEPORT (a taken port is an error, not a second silent
// listener); TCP_NODELAY (small SSE chunks must not wait 40 ms); a worker per open connection,
// up to the connection cap, so that streams are never limited by a fixed pool; every limit of
// HttpLimits for every framing; JSON error bodies for the errors httplib makes itself; the API
// key checked per route; X-LlamaNet-Node and X-Content-Type-Options: nosniff on every response;
// and no exception from a handler, an error handler or a streaming callback ever leaves a
// worker: it ends that one request (a 500, or a dropped connection once the answer began).
#pragma once

#include <httplib.h>

#include <functional>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "core/status.h"
#include "http/connection_gate.h"

namespace llamanet::http {

struct HttpServerOptions {
  std::string host = "0.0.0.0";
  int32_t port = 8000;  // 0: any free port
  HttpLimits limits;
  std::string api_key;  // empty: no route needs a key
  std::string node_id;  // sent as X-LlamaNet-Node on every response; empty: none
};

// Who may call a route when the node has an API key.
enum class Access {
  kOpen,  // health checks and the web UI's static files
  kKey,   // everything else
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();

  // Register routes before Bind(). `pattern` is httplib's (a regex over the path) and is also
  // the route the request observer sees.
  void Get(const std::string& pattern, httplib::Server::Handler handler, Access access = Access::kKey);
  void Post(const std::string& pattern, httplib::Server::Handler handler, Access access = Access::kKey);

  // Another way to be let in on kKey routes besides the API key (e.g. a swarm peer's signed
  // credential). Asked only when the key is missing or wrong, after the request body is read
  // (so that it may cover the body). Set before Run(); called on worker threads.
  using Credential = std::function<bool(const httplib::Request&)>;
  void SetAlternateCredential(Credential credential);

  // Called once for every answered request, on its worker thread, after the whole response
  // was sent (streams included, errors httplib made itself too). `route` is the pattern of the
  // registered route for the method and path, "" when there is none. Set before Run().
  using RequestObserver =
      std::function<void(const std::string& route, const httplib::Request& req, const httplib::Response& res)>;
  void SetRequestObserver(RequestObserver observer);

  // kUnavailable when the address is taken, kInvalidArgument when it cannot be bound.
  Status Bind();
  int32_t port() const { return port_; }
  // Serves until Stop(). Call after Bind().
  void Run();
  // Stops accepting and waits for handlers in flight to return. Thread-safe.
  void Stop();

  // Serves one connection accepted elsewhere on the calling thread, through the same gate and
  // limits, then closes it (the fuzzer feeds raw bytes this way). No Bind() needed.
  void ServeConnection(socket_t sock);

  // Connections open right now (for /metrics and tests).
  size_t open_connections() const;

 private:
  class Server;
  struct Route {
    std::string method;
    std::string pattern;
    std::regex regex;
    Access access;
  };
  bool KeyMatches(const httplib::Request& req) const;
  // The handler of a kKey route: asks the alternate credential, now that the body is read.
  httplib::Server::Handler Guarded(httplib::Server::Handler handler, Access access) const;
  const Route* RouteOf(const httplib::Request& req) const;

  HttpServerOptions options_;
  std::unique_ptr<Server> server_;
  std::vector<Route> routes_;  // constant once serving
  Credential alternate_;
  int32_t port_ = 0;
};

// Whether a path belongs to the OpenAI-compatible API (errors there take OpenAI's shape).
bool IsOpenAiPath(const std::string& path);

}  // namespace llamanet::http
