#include "http/http_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/log.h"
#include "http/connection_threads.h"
#include "http/http_errors.h"
#include "http/request_head.h"

namespace llamanet::http {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

constexpr size_t kRefusalThreads = 64;
// What a closing connection still reads and drops, so that a client still sending (a body the
// node refused with 413) gets the answer instead of a reset: bounded in bytes and in time, and
// ended by a pause in what the client sends.
constexpr size_t kDrainBytes = 16 << 20;
constexpr auto kDrainTime = std::chrono::seconds(2);
constexpr int kDrainPauseMs = 200;

const char* Reason(int status) {
  switch (status) {
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Bad Request";
  }
}

void DrainAndClose(socket_t sock) {
  ::shutdown(sock, SHUT_WR);
  char sink[16384];
  size_t drained = 0;
  const auto until = std::chrono::steady_clock::now() + kDrainTime;
  pollfd p{sock, POLLIN, 0};
  while (drained < kDrainBytes && std::chrono::steady_clock::now() < until && ::poll(&p, 1, kDrainPauseMs) > 0) {
    ssize_t n = ::recv(sock, sink, sizeof sink, MSG_DONTWAIT);
    if (n <= 0) break;
    drained += static_cast<size_t>(n);
  }
  ::close(sock);
}

// An error the gate answers itself, before httplib has a request: the shape follows the path
// in the request line when there is one.
void WriteGateError(GatedStream& strm, const std::string& node_id, int status, const std::string& message) {
  std::string_view line = strm.FirstLine();
  size_t space = line.find(' ');
  bool openai = space != std::string_view::npos && StartsWith(line.substr(space + 1), "/v1/");
  std::string body = openai ? OpenAiErrorJson(status, message) : NativeErrorJson(message);
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + Reason(status) +
                    "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\nConnection: close\r\nX-Content-Type-Options: nosniff\r\n";
  if (!node_id.empty()) out += "X-LlamaNet-Node: " + node_id + "\r\n";
  if (status == 429 || status == 503) out += "Retry-After: " + std::to_string(kRetryAfterSeconds) + "\r\n";
  out += "\r\n" + body;
  size_t sent = 0;
  while (sent < out.size()) {
    ssize_t n = strm.write(out.data() + sent, out.size() - sent);
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
}

void SetUnauthorized(const httplib::Request& req, httplib::Response& res) {
  const char* msg = "missing or wrong API key: send 'Authorization: Bearer <key>'";
  if (IsOpenAiPath(req.path)) {
    SetOpenAiError(res, 401, msg);
  } else {
    SetNativeError(res, 401, msg);
  }
}

}  // namespace

bool IsOpenAiPath(const std::string& path) { return StartsWith(path, "/v1/") || path == "/v1"; }

// httplib's server with our connection loop: the gate admits the connection, reads each head
// under the limits, and only then lets httplib parse and route it.
class HttpServer::Server final : public httplib::Server {
 public:
  Server(const HttpLimits& limits, std::string node_id) : limits_(limits), node_id_(std::move(node_id)), gate_(limits) {}

  size_t open() const { return gate_.open(); }

  // Set by HttpServer::Stop: connections waiting for a request end instead of holding the stop.
  std::atomic<bool> stopping_{false};

  bool process_and_close_socket(socket_t sock) override {
    bool ok = false;
    try {
      ok = Serve(sock);
    } catch (const std::exception& e) {
      LN_WARN << "http: a connection ended on an error: " << e.what();
    } catch (...) {
      LN_WARN << "http: a connection ended on an unknown error";
    }
    DrainAndClose(sock);
    return ok;
  }

 private:
  bool Serve(socket_t sock) {
    GatedStream strm(sock, limits_);
    std::string ip, local_ip;
    int port = 0, local_port = 0;
    strm.get_remote_ip_and_port(ip, port);
    strm.get_local_ip_and_port(local_ip, local_port);
    ConnectionGate::Ticket ticket = gate_.Admit(ip);
    if (ticket.refusal != 0) {
      WriteGateError(strm, node_id_, ticket.refusal,
                     ticket.refusal == 429 ? "too many connections from this address" : "too many connections");
      return false;
    }
    for (size_t left = keep_alive_max_count_; left > 0; --left) {
      switch (strm.ReadHead(stopping_)) {
        case GatedStream::Head::kReady:
          if (HeadVerdict v = CheckHead(strm.PendingHead(), limits_.max_body_bytes); v.status != 0) {
            WriteGateError(strm, node_id_, v.status, v.message);
            return false;
          }
          break;
        case GatedStream::Head::kClosed: return true;
        case GatedStream::Head::kTimeout:
          WriteGateError(strm, node_id_, 408, "the request line and headers did not arrive in time");
          return false;
        case GatedStream::Head::kTooLarge:
          WriteGateError(strm, node_id_, 431, "the request line and headers are over " +
                                        std::to_string(limits_.max_header_bytes) + " bytes");
          return false;
        case GatedStream::Head::kTooManyLines:
          WriteGateError(strm, node_id_, 431, "more than " + std::to_string(limits_.max_headers) + " header lines");
          return false;
      }
      bool closed = false;
      if (!process_request(strm, ip, port, local_ip, local_port, left == 1, closed, nullptr)) return false;
      if (closed) return true;
    }
    return true;
  }

  const HttpLimits& limits_;
  const std::string node_id_;  // for X-LlamaNet-Node on the gate's own answers
  ConnectionGate gate_;
};

HttpServer::HttpServer(HttpServerOptions options)
    : options_(std::move(options)), server_(std::make_unique<Server>(options_.limits, options_.node_id)) {
  httplib::Server& s = *server_;
  s.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  s.set_tcp_nodelay(true);
  s.set_payload_max_length(options_.limits.max_body_bytes);
  s.set_read_timeout(options_.limits.read_timeout.count(), 0);
  s.set_write_timeout(options_.limits.write_timeout.count(), 0);
  s.set_default_headers({{"X-Content-Type-Options", "nosniff"}});
  // Beyond the gate's cap a few more threads are let in, so that a refused connection still
  // gets its 503 instead of a silent close.
  size_t max_threads = options_.limits.max_connections + kRefusalThreads;
  s.new_task_queue = [max_threads] { return new ConnectionThreads(max_threads); };
  s.set_error_logger([](const httplib::Error& err, const httplib::Request* req) {
    LN_DEBUG << "http: " << httplib::to_string(err) << (req ? " (" + req->method + ")" : std::string());
  });

  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!options_.node_id.empty()) res.set_header("X-LlamaNet-Node", options_.node_id);
    const Route* route = RouteOf(req);
    // With an alternate credential, the route's handler decides once the body is read.
    if (options_.api_key.empty() || !route || route->access == Access::kOpen || KeyMatches(req) || alternate_) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    SetUnauthorized(req, res);
    return httplib::Server::HandlerResponse::Handled;
  });
  // Errors httplib makes itself (unknown route, body too large, bad framing) come with an empty
  // body: give them the API's JSON shape. Nothing of the request is echoed.
  s.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
    // A body of its own, or a stream (a peer's answer passed through), is already the answer.
    if (!res.body.empty() || res.content_provider_) return httplib::Server::HandlerResponse::Unhandled;
    std::string msg = res.status == 404   ? "no such route"
                      : res.status == 413 ? "the request body is over the size limit"
                      : res.status == 414 ? "the request target is too long"
                      : res.status == 416 ? "only one satisfiable byte range is served"
                      : res.status == 400 ? "malformed request"
                                          : std::string("HTTP ") + std::to_string(res.status);
    if (IsOpenAiPath(req.path)) {
      SetOpenAiError(res, res.status, msg);
    } else {
      SetNativeError(res, res.status, msg);
    }
    return httplib::Server::HandlerResponse::Handled;
  }));
  s.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      LN_WARN << "http: " << req.method << " handler failed: " << e.what();
    } catch (...) {
      LN_WARN << "http: " << req.method << " handler failed";
    }
    res.headers.erase("Content-Type");
    res.body.clear();
    if (IsOpenAiPath(req.path)) {
      SetOpenAiError(res, 500, what);
    } else {
      SetNativeError(res, 500, what);
    }
  });
}

HttpServer::~HttpServer() = default;

httplib::Server::Handler HttpServer::Guarded(httplib::Server::Handler handler, Access access) const {
  if (access == Access::kOpen || options_.api_key.empty()) return handler;
  return [this, handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
    if (!KeyMatches(req) && !(alternate_ && alternate_(req))) return SetUnauthorized(req, res);
    handler(req, res);
  };
}

void HttpServer::Get(const std::string& pattern, httplib::Server::Handler handler, Access access) {
  routes_.push_back({"GET", pattern, std::regex(pattern), access});
  server_->Get(pattern, Guarded(std::move(handler), access));
}

void HttpServer::Post(const std::string& pattern, httplib::Server::Handler handler, Access access) {
  routes_.push_back({"POST", pattern, std::regex(pattern), access});
  server_->Post(pattern, Guarded(std::move(handler), access));
}

void HttpServer::SetAlternateCredential(Credential credential) { alternate_ = std::move(credential); }

void HttpServer::SetRequestObserver(RequestObserver observer) {
  // httplib calls its logger once per answered request, after the body (a stream's too).
  server_->set_logger([this, observer = std::move(observer)](const httplib::Request& req, const httplib::Response& res) {
    const Route* route = RouteOf(req);
    static const std::string kNone;
    observer(route ? route->pattern : kNone, req, res);
  });
}

const HttpServer::Route* HttpServer::RouteOf(const httplib::Request& req) const {
  // httplib answers HEAD with the GET handler.
  const std::string method = req.method == "HEAD" ? "GET" : req.method;
  for (const Route& r : routes_) {
    if (r.method == method && std::regex_match(req.path, r.regex)) return &r;
  }
  return nullptr;
}

bool HttpServer::KeyMatches(const httplib::Request& req) const {
  std::string expected = "Bearer " + options_.api_key;
  const std::string& got = req.get_header_value("Authorization");
  // Constant-time compare: the key must not leak through response timing.
  unsigned char diff = got.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < got.size() && i < expected.size(); ++i) {
    diff |= static_cast<unsigned char>(got[i] ^ expected[i]);
  }
  return diff == 0;
}

Status HttpServer::Bind() {
  if (options_.port == 0) {
    int port = server_->bind_to_any_port(options_.host);
    if (port <= 0) return Status::InvalidArgument("cannot listen on " + options_.host + ": " + std::strerror(errno));
    port_ = port;
    return Status::Ok();
  }
  if (!server_->bind_to_port(options_.host, options_.port)) {
    int err = errno;
    std::string where = options_.host + ":" + std::to_string(options_.port);
    if (err == EADDRINUSE) return Status::Unavailable("port " + where + " is already in use");
    return Status::InvalidArgument("cannot listen on " + where + ": " + std::strerror(err));
  }
  port_ = options_.port;
  return Status::Ok();
}

void HttpServer::Run() { server_->listen_after_bind(); }

void HttpServer::Stop() {
  server_->stopping_ = true;
  server_->stop();
}

void HttpServer::ServeConnection(socket_t sock) { server_->process_and_close_socket(sock); }

size_t HttpServer::open_connections() const { return server_->open(); }

}  // namespace llamanet::http
