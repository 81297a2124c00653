// RpcManager: requests in flight. Gives each request a random transaction id, accepts a reply
// only when its id is pending AND it comes from the address the request went to (libtorrent's
// rpc_manager rule), resends once after a timeout (same id, so a late first reply still
// counts), and fails the request after the last attempt.
//
// Besides the hard timeout, each request has a short *soft* timeout derived from measured
// round-trip times (RFC 6298 style: 1.5 * srtt + 4 * rttvar, clamped to [min_soft_timeout,
// timeout]). Lookups use it to stop waiting for a silent contact and ask another one, while a
// late reply is still delivered. This is what keeps dead contacts from stalling lookups.
//
// Times are monotonic milliseconds passed in by the caller. Callbacks run inside Send/Tick/
// OnResponse/CancelAll and may call Send again. Not synchronized: owned by the node's loop.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <queue>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "dht/message.h"

namespace llamanet::dht {

struct RpcOptions {
  int64_t timeout_ms = 1000;             // per attempt
  int retries = 1;                       // resends after a timeout
  int64_t min_soft_timeout_ms = 50;
  int64_t initial_soft_timeout_ms = 300; // before any round trip was measured
};

struct RpcCallbacks {
  std::function<void(const Response&)> on_reply;  // the accepted reply
  std::function<void()> on_soft_timeout;          // optional; at most once, before any reply
  std::function<void()> on_timeout;               // every attempt went unanswered (or CancelAll)
  // Optional: the peer answered with a datagram that does not decode (OnBadReply). Unset:
  // on_timeout runs instead.
  std::function<void()> on_bad_reply;
};

class RpcManager {
 public:
  using SendFn = std::function<void(const Endpoint& to, const Request& request)>;
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

  RpcManager(RpcOptions options, SendFn send, std::mt19937_64& rng);

  // Fills in request.txid, sends it and tracks it. Returns the txid.
  std::string Send(const Endpoint& to, Request request, RpcCallbacks callbacks, int64_t now_ms);

  enum class Match { kAccepted, kUnknownTxid, kWrongSource };
  // Accepted replies reach their on_reply; the others are left for the caller to count.
  Match OnResponse(const Endpoint& from, const Response& response, int64_t now_ms);

  // A reply with id `txid` came from `from` but did not decode: when it matches a pending
  // request (id and address), that request fails now rather than at its timeout. False when it
  // matches none.
  bool OnBadReply(const Endpoint& from, const std::string& txid);

  // Forgets request `txid` without running its callbacks (its lookup ended): no resend, and a
  // late reply counts as unknown. False when it is not pending.
  bool Cancel(const std::string& txid);

  // Fires the soft timeouts, resends and timeouts due at `now_ms`.
  void Tick(int64_t now_ms);
  int64_t NextDeadlineMs() const;  // kNever when nothing is pending
  // Fails every pending request now (their on_timeout run), e.g. when the node stops.
  void CancelAll();

  size_t pending() const { return pending_.size(); }
  int64_t SoftTimeoutMs() const;
  uint64_t timeouts() const { return timeouts_; }
  uint64_t resends() const { return resends_; }

 private:
  struct Pending {
    Endpoint to;
    Request request;
    RpcCallbacks callbacks;
    int64_t sent_ms = 0;
    int64_t soft_deadline_ms = kNever;  // kNever once fired
    int64_t deadline_ms = 0;
    int attempts_left = 0;
    bool resent = false;
  };
  using Due = std::pair<int64_t, std::string>;  // (time, txid); stale entries are skipped

  void Schedule(int64_t at_ms, const std::string& txid);
  void SampleRtt(int64_t rtt_ms);
  void DropStale();  // pops due entries of finished requests off the top, so idle means idle

  const RpcOptions options_;
  const SendFn send_;
  std::mt19937_64& rng_;
  std::unordered_map<std::string, Pending> pending_;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due_;
  double srtt_ms_ = -1;  // < 0: no sample yet
  double rttvar_ms_ = 0;
  uint64_t timeouts_ = 0;
  uint64_t resends_ = 0;
};

}  // namespace llamanet::dht
