#include "node/http_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "node/http_errors.h"

namespace llamanet::node {
namespace {

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

bool NeedsKey(const std::string& path) {
  return IsOpenAiPath(path) || StartsWith(path, "/generate");
}

}  // namespace

bool IsOpenAiPath(const std::string& path) { return StartsWith(path, "/v1/") || path == "/v1"; }

HttpServer::HttpServer(HttpServerOptions options) : options_(std::move(options)) {
  server_.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server_.set_tcp_nodelay(true);
  server_.set_payload_max_length(options_.max_body_bytes);
  server_.set_read_timeout(options_.read_timeout_seconds, 0);
  server_.set_write_timeout(options_.write_timeout_seconds, 0);
  size_t workers = static_cast<size_t>(std::max(options_.workers, 4));
  server_.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };

  server_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!options_.node_id.empty()) res.set_header("X-LlamaNet-Node", options_.node_id);
    if (options_.api_key.empty() || !NeedsKey(req.path) || Authorized(req)) return httplib::Server::HandlerResponse::Unhandled;
    const char* msg = "missing or wrong API key: send 'Authorization: Bearer <key>'";
    if (IsOpenAiPath(req.path)) {
      SetOpenAiError(res, 401, msg);
    } else {
      SetNativeError(res, 401, msg);
    }
    return httplib::Server::HandlerResponse::Handled;
  });
  // Errors httplib makes itself (unknown route, body too large, bad request line) come with
  // an empty body: give them the API's JSON shape.
  server_.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string msg = res.status == 404 ? "no route " + req.method + " " + req.path
                      : res.status == 413 ? "the request body is over the size limit"
                                          : std::string("HTTP ") + std::to_string(res.status);
    if (IsOpenAiPath(req.path)) {
      SetOpenAiError(res, res.status, msg);
    } else {
      SetNativeError(res, res.status, msg);
    }
    return httplib::Server::HandlerResponse::Handled;
  }));
  server_.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = std::string("internal error: ") + e.what();
    } catch (...) {
    }
    if (IsOpenAiPath(req.path)) {
      SetOpenAiError(res, 500, what);
    } else {
      SetNativeError(res, 500, what);
    }
  });
}

void HttpServer::Get(const std::string& pattern, httplib::Server::Handler handler) {
  routes_.push_back({"GET", pattern, std::regex(pattern)});
  server_.Get(pattern, std::move(handler));
}

void HttpServer::Post(const std::string& pattern, httplib::Server::Handler handler) {
  routes_.push_back({"POST", pattern, std::regex(pattern)});
  server_.Post(pattern, std::move(handler));
}

void HttpServer::SetRequestObserver(RequestObserver observer) {
  // httplib calls its logger once per answered request, after the body (a stream's too).
  server_.set_logger([this, observer = std::move(observer)](const httplib::Request& req, const httplib::Response& res) {
    observer(RouteOf(req), req, res);
  });
}

const std::string& HttpServer::RouteOf(const httplib::Request& req) const {
  static const std::string kNone;
  // httplib answers HEAD with the GET handler.
  const std::string method = req.method == "HEAD" ? "GET" : req.method;
  for (const Route& r : routes_) {
    if (r.method == method && std::regex_match(req.path, r.regex)) return r.pattern;
  }
  return kNone;
}

bool HttpServer::Authorized(const httplib::Request& req) const {
  std::string expected = "Bearer " + options_.api_key;
  const std::string& got = req.get_header_value("Authorization");
  // Constant-time compare: the key must not leak through response timing.
  if (got.size() != expected.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < got.size(); ++i) diff |= static_cast<unsigned char>(got[i] ^ expected[i]);
  return diff == 0;
}

Status HttpServer::Bind() {
  if (options_.port == 0) {
    int port = server_.bind_to_any_port(options_.host);
    if (port <= 0) return Status::InvalidArgument("cannot listen on " + options_.host + ": " + std::strerror(errno));
    port_ = port;
    return Status::Ok();
  }
  if (!server_.bind_to_port(options_.host, options_.port)) {
    int err = errno;
    std::string where = options_.host + ":" + std::to_string(options_.port);
    if (err == EADDRINUSE) return Status::Unavailable("port " + where + " is already in use");
    return Status::InvalidArgument("cannot listen on " + where + ": " + std::strerror(err));
  }
  port_ = options_.port;
  return Status::Ok();
}

void HttpServer::Run() { server_.listen_after_bind(); }

void HttpServer::Stop() { server_.stop(); }

}  // namespace llamanet::node
