// cpp-httplib set up the way a node needs it: no SO_REUSEPORT (a taken port is an error, not
// a second silent listener), TCP_NODELAY (small SSE chunks must not wait 40 ms), a worker
// pool sized for every stream that may be open at once, body and time limits, JSON bodies
// for the errors httplib makes itself, and the API key check.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>

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
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);

  // Register routes here before Bind().
  httplib::Server& routes() { return server_; }

  // kUnavailable when the address is taken, kInvalidArgument when it cannot be bound.
  Status Bind();
  int32_t port() const { return port_; }
  // Serves until Stop(). Call after Bind().
  void Run();
  // Stops accepting and waits for handlers in flight to return. Thread-safe.
  void Stop();

 private:
  bool Authorized(const httplib::Request& req) const;

  HttpServerOptions options_;
  httplib::Server server_;
  int32_t port_ = 0;
};

// Whether a path belongs to the OpenAI-compatible API (errors there take OpenAI's shape).
bool IsOpenAiPath(const std::string& path);

}  // namespace llamanet::node
