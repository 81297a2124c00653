#include "client/http_transport.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "client/sse_parser.h"
#include "client/status_util.h"

namespace llamanet::client {
namespace {

Status FromHttplibError(httplib::Error err, const std::string& where) {
  switch (err) {
    case httplib::Error::Connection: return Status::IoError(where + ": cannot connect");
    case httplib::Error::ConnectionTimeout: return Status::DeadlineExceeded(where + ": connection timed out");
    case httplib::Error::Read:
      return Status::IoError(where + ": the connection was lost or stayed silent past the read timeout");
    case httplib::Error::Write: return Status::IoError(where + ": sending the request failed");
    case httplib::Error::Canceled: return Status::Cancelled(where + ": cancelled");
    default: return Status::IoError(where + ": " + httplib::to_string(err));
  }
}

double Number(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0;
}

std::string Compact(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

}  // namespace

AttemptResult HttpTransport::Send(const NodeInfo& node, const Call& call, const TextSink& on_text) {
  AttemptResult out;
  const std::string where = "node " + node.node_id + " at " + node.address();
  auto lease = pool_.Acquire(node.ip, node.port);
  if (!lease.ok()) {
    out.status = lease.status();
    return out;
  }
  httplib::Request req;
  req.method = "POST";
  req.path = call.path();
  req.body = call.body;
  req.set_header("Content-Type", "application/json");
  req.set_header("Accept", call.stream ? "text/event-stream" : "application/json");
  req.set_header(protocol::kForwardedHeader, "client");
  if (const std::string& key = options_.keys.KeyFor(node.ip, node.port); !key.empty()) {
    req.set_header("Authorization", "Bearer " + key);
  }

  int http_status = 0;
  std::string served_by;
  std::string body;
  Status stopped_by_us;  // why our own handler ended the exchange
  SseParser sse(options_.max_event_bytes);
  StreamAssembler assembler(call.kind);
  auto on_event = [&](std::string_view data) -> Status {
    Result<std::string> piece = assembler.OnEvent(data);
    if (!piece.ok()) return Status(piece.status());
    if (piece->empty()) return Status::Ok();
    out.delivered = true;
    if (!on_text) return Status::Ok();
    try {
      on_text(*piece);
    } catch (...) {
      return Status::Internal("the stream callback threw an exception");
    }
    return Status::Ok();
  };
  req.response_handler = [&](const httplib::Response& r) {
    http_status = r.status;
    served_by = r.get_header_value(protocol::kServedByHeader);
    return true;
  };
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    if (http_status == 200 && call.stream) {
      stopped_by_us = sse.Feed(std::string_view(data, n), on_event);
      return stopped_by_us.ok();
    }
    if (body.size() + n > options_.max_response_bytes) {
      stopped_by_us = Status::TooLarge(where + ": the answer is over max_response_bytes");
      return false;
    }
    body.append(data, n);
    return true;
  };

  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  const bool sent = lease->client().send(req, res, err);
  if (!sent && pool_.closed()) {  // interrupted by Client::Close, not the node's fault
    out.status = Status::Cancelled("the client is closed");
    return out;
  }
  if (!stopped_by_us.ok()) {
    out.status = stopped_by_us;
    return out;
  }
  if (!sent) {
    pool_.Forget(node.ip, node.port);  // its other idle connections are as dead as this one
    out.status = FromHttplibError(err, where);
    return out;
  }
  lease->Keep();
  if (http_status != 200) {
    const Status answer = StatusFromHttp(http_status, body);
    out.status = Prefixed(where, options_.keys.ExplainRefusal(node.ip, node.port, http_status, answer));
    return out;
  }
  if (call.stream) {
    if (!assembler.done() && assembler.completion().finish_reason.empty()) {
      out.status = Status::IoError(where + ": the stream ended before its last event");
      return out;
    }
    out.completion = std::move(assembler.completion());
  } else {
    Result<Completion> parsed = ParseAnswer(call.kind, body);
    if (!parsed.ok()) {
      out.status = Prefixed(where, parsed.status());
      return out;
    }
    out.completion = std::move(parsed).value();
  }
  out.completion.node_id = served_by.empty() ? node.node_id : served_by;
  return out;
}

Result<std::string> HttpTransport::GetJson(ConnectionPool::Lease& lease, const std::string& host, int port,
                                           const char* path, std::string* served_by) {
  httplib::Headers headers;
  if (const std::string& key = options_.keys.KeyFor(host, port); !key.empty()) {
    headers.emplace("Authorization", "Bearer " + key);
  }
  httplib::Result r = lease.client().Get(path, headers);
  if (!r) return FromHttplibError(r.error(), std::string("GET ") + path);
  if (r->status != 200) {
    return options_.keys.ExplainRefusal(host, port, r->status, StatusFromHttp(r->status, r->body));
  }
  if (r->body.size() > options_.max_response_bytes) return Status::TooLarge(std::string("GET ") + path + ": too large");
  if (served_by->empty()) *served_by = r->get_header_value(protocol::kServedByHeader);
  return r->body;
}

Result<protocol::CacheReport> HttpTransport::AskCache(const NodeInfo& node, uint64_t conversation) {
  auto lease = pool_.Acquire(node.ip, node.port);
  if (!lease.ok()) return lease.status();
  std::string served_by;
  const std::string path = "/cache?conversation=" + protocol::ConversationHex(conversation);
  Result<std::string> body = GetJson(*lease, node.ip, node.port, path.c_str(), &served_by);
  if (!body.ok()) return Prefixed(node.address(), body.status());
  lease->Keep();
  nlohmann::json j = nlohmann::json::parse(*body, nullptr, false);
  auto count = [&](const char* field) -> int64_t {
    auto it = j.is_object() ? j.find(field) : j.end();
    return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : -1;
  };
  int64_t cached = count("cached_tokens"), free_slots = count("free_slots");
  if (served_by != node.node_id || cached < 0 || free_slots < 0 || cached > (1 << 24) || free_slots > (1 << 16)) {
    return Status::Malformed(node.address() + ": /cache is not this node's answer");
  }
  int64_t conversations = std::clamp<int64_t>(count("conversations"), 0, 1 << 24);
  return protocol::CacheReport{node.node_id, static_cast<int32_t>(cached), static_cast<int32_t>(free_slots),
                               static_cast<int32_t>(conversations)};
}

Result<NodeStatus> HttpTransport::GetStatus(const std::string& host, int port) {
  using nlohmann::json;
  auto lease = pool_.Acquire(host, port);
  if (!lease.ok()) return lease.status();
  NodeStatus st;
  st.address = NodeInfo{.ip = host, .port = port}.address();
  Result<std::string> status_body = GetJson(*lease, host, port, "/status", &st.node_id);
  if (!status_body.ok()) return Prefixed(st.address, status_body.status());
  Result<std::string> health_body = GetJson(*lease, host, port, "/health", &st.node_id);
  if (!health_body.ok()) return Prefixed(st.address, health_body.status());
  lease->Keep();
  json s = json::parse(*status_body, nullptr, false);
  json h = json::parse(*health_body, nullptr, false);
  if (!s.is_object() || !h.is_object()) return Status::Malformed(st.address + ": /status or /health is not a JSON object");
  if (auto it = s.find("model"); it != s.end() && it->is_string()) st.model = it->get<std::string>();
  st.uptime = Number(s, "uptime");
  st.load = Number(s, "load");
  st.tps = Number(s, "tps");
  st.total_tokens = static_cast<int64_t>(Number(s, "total_tokens"));
  st.healthy = h.contains("healthy") && h["healthy"].is_boolean() && h["healthy"].get<bool>();
  st.status_json = Compact(s);
  st.health_json = Compact(h);
  return st;
}

}  // namespace llamanet::client
