#include "dht/rpc_manager.h"

#include <algorithm>
#include <cmath>

#include "dht/hex.h"

namespace llamanet::dht {

RpcManager::RpcManager(RpcOptions options, SendFn send, std::mt19937_64& rng)
    : options_(options), send_(std::move(send)), rng_(rng) {}

int64_t RpcManager::SoftTimeoutMs() const {
  if (srtt_ms_ < 0) return std::min(options_.initial_soft_timeout_ms, options_.timeout_ms);
  auto soft = static_cast<int64_t>(std::ceil(1.5 * srtt_ms_ + 4 * rttvar_ms_));
  return std::clamp(soft, options_.min_soft_timeout_ms, options_.timeout_ms);
}

void RpcManager::SampleRtt(int64_t rtt_ms) {
  const auto r = static_cast<double>(rtt_ms);
  if (srtt_ms_ < 0) {
    srtt_ms_ = r;
    rttvar_ms_ = r / 2;
  } else {
    rttvar_ms_ = 0.75 * rttvar_ms_ + 0.25 * std::abs(srtt_ms_ - r);
    srtt_ms_ = 0.875 * srtt_ms_ + 0.125 * r;
  }
}

void RpcManager::Schedule(int64_t at_ms, const std::string& txid) { due_.emplace(at_ms, txid); }

std::string RpcManager::Send(const Endpoint& to, Request request, RpcCallbacks callbacks, int64_t now_ms) {
  std::string txid;
  do {
    uint64_t r = rng_();
    txid = ToHex(std::string_view(reinterpret_cast<const char*>(&r), 6));
  } while (pending_.count(txid) != 0);
  request.txid = txid;
  Pending p;
  p.to = to;
  p.request = std::move(request);
  p.callbacks = std::move(callbacks);
  p.sent_ms = now_ms;
  p.deadline_ms = now_ms + options_.timeout_ms;
  p.attempts_left = options_.retries;
  if (p.callbacks.on_soft_timeout) {
    p.soft_deadline_ms = now_ms + SoftTimeoutMs();
    if (p.soft_deadline_ms < p.deadline_ms) Schedule(p.soft_deadline_ms, txid);
  }
  Schedule(p.deadline_ms, txid);
  auto& stored = pending_.emplace(txid, std::move(p)).first->second;
  send_(to, stored.request);
  return txid;
}

RpcManager::Match RpcManager::OnResponse(const Endpoint& from, const Response& response, int64_t now_ms) {
  auto it = pending_.find(response.txid);
  if (it == pending_.end()) return Match::kUnknownTxid;
  if (it->second.to != from) return Match::kWrongSource;
  Pending p = std::move(it->second);
  pending_.erase(it);
  if (!p.resent) SampleRtt(now_ms - p.sent_ms);  // Karn: no samples from resent requests
  DropStale();
  if (p.callbacks.on_reply) p.callbacks.on_reply(response);
  return Match::kAccepted;
}

bool RpcManager::OnBadReply(const Endpoint& from, const std::string& txid) {
  auto it = pending_.find(txid);
  if (it == pending_.end() || it->second.to != from) return false;
  Pending failed = std::move(it->second);
  pending_.erase(it);
  DropStale();
  if (failed.callbacks.on_bad_reply) {
    failed.callbacks.on_bad_reply();
  } else if (failed.callbacks.on_timeout) {
    failed.callbacks.on_timeout();
  }
  return true;
}

bool RpcManager::Cancel(const std::string& txid) {
  if (pending_.erase(txid) == 0) return false;
  DropStale();
  return true;
}

void RpcManager::Tick(int64_t now_ms) {
  while (!due_.empty() && due_.top().first <= now_ms) {
    std::string txid = due_.top().second;
    due_.pop();
    auto it = pending_.find(txid);
    if (it == pending_.end()) continue;
    Pending& p = it->second;
    if (p.soft_deadline_ms <= now_ms) {
      p.soft_deadline_ms = kNever;
      auto on_soft = p.callbacks.on_soft_timeout;
      on_soft();
      it = pending_.find(txid);  // the callback may have sent requests (rehash)
      if (it == pending_.end()) continue;
    }
    Pending& q = it->second;
    if (q.deadline_ms > now_ms) continue;
    if (q.attempts_left > 0) {
      --q.attempts_left;
      q.resent = true;
      q.deadline_ms = now_ms + options_.timeout_ms;
      Schedule(q.deadline_ms, txid);
      ++resends_;
      send_(q.to, q.request);
      continue;
    }
    Pending failed = std::move(q);
    pending_.erase(it);
    ++timeouts_;
    if (failed.callbacks.on_timeout) failed.callbacks.on_timeout();
  }
  DropStale();
}

void RpcManager::DropStale() {
  while (!due_.empty() && pending_.count(due_.top().second) == 0) due_.pop();
}

int64_t RpcManager::NextDeadlineMs() const {
  // Stale entries only make the loop wake early, never late.
  return due_.empty() ? kNever : due_.top().first;
}

void RpcManager::CancelAll() {
  while (!pending_.empty()) {
    auto it = pending_.begin();
    Pending failed = std::move(it->second);
    pending_.erase(it);
    if (failed.callbacks.on_timeout) failed.callbacks.on_timeout();
  }
  due_ = {};
}

}  // namespace llamanet::dht
