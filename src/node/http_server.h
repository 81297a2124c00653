// cpp-httplib set up the way a node needs it: no SO_REUSEPORT (a taken port is an error, not
// a second silent listener), TCP_NODELAY (small SSE chunks must not wait 40 ms), a worker
// pool sized for every stream that may be open at once, body and time limits, JSON bodies
// for the errors httplib makes itself, the API key check, an X-LlamaNet-Node header on every
// response, and one observer of every answered request (for metrics).
#pragma once

#include <httplib.h>

#include <functional>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "core/status.h"

namespace llamanet::node {

struct HttpServerOptions {
  std::string host = "0.0.0.0";
  int32_t port = 8000;           // 0: any free port
  int32_t workers = 32;          // concurrent requests (streams hold one each)
  size_t max_body_bytes = 4 << 20;
  int32_t read_timeout_seconds = 30;
  int32_t write_timeout_seconds = 60;
  std::string api_key;           // empty: no check
  std::string node_id;           // sent as X-LlamaNet-Node on every response; empty: none
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);

  // Register routes before Bind(). `pattern` is httplib's (a regex over the path) and is also
  // the route the request observer sees.
  void Get(const std::string& pattern, httplib::Server::Handler handler);
  void Post(const std::string& pattern, httplib::Server::Handler handler);

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

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::regex regex;
  };
  bool Authorized(const httplib::Request& req) const;
  const std::string& RouteOf(const httplib::Request& req) const;

  HttpServerOptions options_;
  httplib::Server server_;
  std::vector<Route> routes_;  // constant once serving
  int32_t port_ = 0;
};

// Whether a path belongs to the OpenAI-compatible API (errors there take OpenAI's shape).
bool IsOpenAiPath(const std::string& path);

}  // namespace llamanet::node
