#include "swarm/proxy.h"

#include <algorithm>
#include <cctype>
#include <memory>

#include "core/log.h"
#include "protocol/rules.h"
#include "swarm/peer_exchange.h"
#include "swarm/peer_probe.h"

namespace llamanet::swarm {
namespace {

using Clock = std::chrono::steady_clock;

// A peer that answers these has refused the request: the swarm's retry rule (busy or broken),
// and also 401/403, a peer not letting this node in; the next peer may take it.
bool RefusalStatus(int status) { return protocol::RetryableHttpStatus(status) || status == 401 || status == 403; }

// Tells a frozen peer from a busy one while the proxy waits on it.
class Watchdog {
 public:
  Watchdog(PeerTarget target, const ProxyOptions& options)
      : target_(std::move(target)),
        grace_(options.answer_grace),
        interval_(options.probe_interval),
        timeout_(options.probe_timeout) {}

  // True once the peer has been silent since `last_heard` for answer_grace, did not answer a
  // probe, and sent nothing on the exchange meanwhile either. Probes at most every
  // probe_interval; blocks up to probe_timeout when it does.
  bool Frozen(const PeerExchange& ex, Clock::time_point last_heard) {
    const Clock::time_point now = Clock::now();
    if (now - last_heard < grace_ || now < next_probe_) return false;
    next_probe_ = now + interval_;
    return !AnswersHttp(target_.ip, target_.port, timeout_) && ex.last_heard() == last_heard;
  }

 private:
  const PeerTarget target_;
  const std::chrono::milliseconds grace_, interval_, timeout_;
  Clock::time_point next_probe_{};
};

enum class Outcome { kAnswered, kRefused, kDown, kClientGone };

// Waits until the peer's answer begins (its first body byte, or its end), it refuses, it fails
// or freezes, or the client leaves.
Outcome AwaitAnswer(PeerExchange& ex, const httplib::Request& req, Watchdog& watchdog,
                    std::chrono::milliseconds client_poll, int* status, std::string* why) {
  while (true) {
    PeerExchange::Snapshot s = ex.WaitForChange(client_poll);
    *status = s.status;
    if (s.answered && RefusalStatus(s.status)) {
      *why = "HTTP " + std::to_string(s.status);
      return Outcome::kRefused;
    }
    if (s.answered && s.has_data) return Outcome::kAnswered;
    if (s.finished) {
      if (s.answered && !s.broken) return Outcome::kAnswered;
      *why = s.error;
      return Outcome::kDown;
    }
    if (req.is_connection_closed()) return Outcome::kClientGone;
    if (watchdog.Frozen(ex, s.last_heard)) {
      *why = "no answer, and none to a liveness probe";
      return Outcome::kDown;
    }
  }
}

httplib::Request Outgoing(const httplib::Request& in, const std::string& self_node_id, const ForwardAuth* auth,
                          const std::string& to) {
  httplib::Request out;
  out.method = in.method;
  out.path = in.path;
  out.body = in.body;
  // Never Authorization: the client's key is for the node it chose.
  for (const char* h : {"Content-Type", "Accept", "X-Request-Id"}) {
    if (in.has_header(h)) out.set_header(h, in.get_header_value(h));
  }
  out.set_header(protocol::kForwardedHeader, self_node_id);
  if (auth) out.set_header(kForwardAuthHeader, auth->Credential(out.method, out.path, out.body, to));
  return out;
}

// Answers `res` with the peer's answer, relayed as it comes.
void Relay(std::shared_ptr<PeerExchange> ex, const protocol::NodeRecord& peer, const PeerTarget& target, int status,
           const ProxyOptions& options, httplib::Response& res) {
  res.status = status;
  std::string content_type = "application/json";
  for (const auto& [name, value] : ex->headers()) {
    if (name == "Content-Type") content_type = ForwardedContentType(value);
    if (name == "X-Request-Id" || name == "Retry-After" || name == "Cache-Control") res.set_header(name, value);
  }
  // The answer is the peer's: the id it proved replaces this node's.
  res.headers.erase(protocol::kServedByHeader);
  res.set_header(protocol::kServedByHeader, peer.node_id);
  auto watchdog = std::make_shared<Watchdog>(target, options);
  res.set_chunked_content_provider(
      content_type,
      [ex, watchdog, poll = options.client_poll](size_t, httplib::DataSink& sink) {
        while (true) {
          std::string data = ex->TakeData();
          if (!data.empty()) {
            if (!sink.write(data.data(), data.size())) return false;
            continue;
          }
          PeerExchange::Snapshot now = ex->WaitForChange(poll);
          if (now.has_data) continue;
          if (now.finished) {
            // A peer that died mid-answer must not look like a complete answer: drop the
            // connection so that the client sees the failure.
            if (now.broken) return false;
            sink.done();
            return true;
          }
          if (!sink.is_writable() || watchdog->Frozen(*ex, now.last_heard)) return false;
        }
      },
      [ex](bool) { ex->Cancel(); });
}

}  // namespace

std::string ForwardedContentType(const std::string& peer_content_type) {
  std::string base = peer_content_type.substr(0, peer_content_type.find(';'));
  base.erase(std::remove_if(base.begin(), base.end(), [](unsigned char c) { return std::isspace(c); }), base.end());
  std::transform(base.begin(), base.end(), base.begin(), [](unsigned char c) { return std::tolower(c); });
  return base == "text/event-stream" ? "text/event-stream" : "application/json";
}

ForwardResult Proxy::Forward(const httplib::Request& req, httplib::Response& res, const std::vector<protocol::NodeRecord>& peers) {
  size_t attempts = 0;
  for (const protocol::NodeRecord& peer : peers) {
    if (attempts++ == options_.max_attempts) break;
    if (req.is_connection_closed()) return ForwardResult::kClientGone;
    Result<PeerTarget> target = verifier_.Verify(peer);
    if (!target.ok()) continue;  // the verifier says why, and the router skips it from now on
    auto ex = std::make_shared<PeerExchange>(*target, Outgoing(req, options_.self_node_id, auth_, peer.node_id),
                                             options_.connect_timeout, options_.read_timeout,
                                             options_.max_buffered_bytes);
    Watchdog watchdog(*target, options_);
    int status = 0;
    std::string why;
    switch (AwaitAnswer(*ex, req, watchdog, options_.client_poll, &status, &why)) {
      case Outcome::kAnswered:
        Relay(ex, peer, *target, status, options_, res);
        return ForwardResult::kAnswered;
      case Outcome::kClientGone:
        return ForwardResult::kClientGone;
      case Outcome::kRefused:
        router_.MarkRefused(peer.node_id);
        break;
      case Outcome::kDown:
        verifier_.MarkDown(peer);
        break;
    }
    LN_WARN << "peer " << peer.node_id << " at " << target->ip << ":" << target->port << " failed (" << why
            << "); trying the next";
  }
  return ForwardResult::kFailed;
}

}  // namespace llamanet::swarm
