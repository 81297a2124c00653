#include "swarm/peer_verifier.h"

#include <algorithm>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "swarm/identity_proof.h"
#include "swarm/peer_probe.h"

namespace llamanet::swarm {

PeerVerifier::PeerVerifier(PeerVerifierOptions options, AddressPolicy policy, std::function<Clock::time_point()> now)
    : options_(options), policy_(std::move(policy)), now_(std::move(now)) {}

PeerVerifier::~PeerVerifier() { Stop(); }

std::string PeerVerifier::KeyOf(const protocol::NodeRecord& p) {
  return p.node_id + '\n' + p.ip + '\n' + std::to_string(p.port) + '\n' + p.pubkey;
}

Result<PeerTarget> PeerVerifier::Probe(const protocol::NodeRecord& peer) const {
  if (peer.pubkey.empty() && options_.require_signed) return Status::InvalidArgument("unsigned record");
  Result<std::string> ip = ResolveHost(peer.ip);
  if (!ip.ok()) return Status::InvalidArgument(ip.status().message());
  if (Status s = policy_.Check(*ip); !s.ok()) return s;
  PeerTarget target{*ip, peer.port};
  const std::string nonce = NewIdentityNonce();
  const std::string path = peer.pubkey.empty() ? "/info" : "/identity?nonce=" + nonce;
  Result<ProbeAnswer> answer = ProbeGet(target.ip, target.port, path, options_.probe_timeout, options_.max_answer_bytes);
  if (!answer.ok()) {
    if (answer.status().code() == Status::Code::kUnavailable) return answer.status();
    return Status::InvalidArgument(answer.status().message());
  }
  if (answer->status != 200) {
    return Status::InvalidArgument(path.substr(0, path.find('?')) + " answered HTTP " + std::to_string(answer->status));
  }
  if (!peer.pubkey.empty()) {
    if (Status s = CheckIdentityProof(answer->body, nonce, peer.node_id, peer.pubkey); !s.ok()) return s;
    return target;
  }
  nlohmann::json info = nlohmann::json::parse(answer->body, nullptr, false);
  auto id = info.is_object() ? info.find("node_id") : info.end();
  if (!info.is_object() || id == info.end() || !id->is_string() || id->get<std::string>() != peer.node_id) {
    return Status::InvalidArgument("/info there names another node");
  }
  return target;
}

Result<PeerTarget> PeerVerifier::Verify(const protocol::NodeRecord& peer) {
  const std::string key = KeyOf(peer);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      const Entry& e = it->second;
      if (e.state == State::kDown) return Status::Unavailable("peer is down");
      if (now_() < e.until) {
        if (e.state == State::kVerified) return e.target;
        return Status::InvalidArgument(e.why);
      }
    }
  }
  Result<PeerTarget> target = Probe(peer);
  Entry e;
  e.peer = peer;
  if (target.ok()) {
    e.state = State::kVerified;
    e.target = *target;
    e.until = now_() + options_.success_ttl;
  } else {
    LN_WARN << "peer " << peer.node_id << " at " << peer.ip << ":" << peer.port
            << " is not used: " << target.status().message();
    e.state = State::kFailed;
    e.why = target.status().message();
    e.until = now_() + options_.failure_ttl;
  }
  std::lock_guard<std::mutex> lock(mu_);
  Store(key, std::move(e));
  return target;
}

bool PeerVerifier::Refused(const protocol::NodeRecord& peer) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(KeyOf(peer));
  if (it == entries_.end()) return false;
  return it->second.state == State::kDown || (it->second.state == State::kFailed && now_() < it->second.until);
}

void PeerVerifier::MarkDown(const protocol::NodeRecord& peer) {
  Entry e;
  e.state = State::kDown;
  e.peer = peer;
  e.until = now_() + options_.success_ttl;
  std::lock_guard<std::mutex> lock(mu_);
  Store(KeyOf(peer), std::move(e));
}

void PeerVerifier::Store(const std::string& key, Entry entry) {
  if (entries_.size() >= options_.max_entries && entries_.count(key) == 0) {
    const Clock::time_point now = now_();
    for (auto it = entries_.begin(); it != entries_.end();) {
      it = now >= it->second.until ? entries_.erase(it) : std::next(it);
    }
    if (entries_.size() >= options_.max_entries) {
      // Forgetting costs only a probe the next time that peer comes up.
      entries_.erase(std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
        return a.second.until < b.second.until;
      }));
    }
  }
  entries_[key] = std::move(entry);
}

void PeerVerifier::RecheckDown() {
  std::vector<protocol::NodeRecord> down;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const Clock::time_point now = now_();
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->second.state == State::kDown && now >= it->second.until) {
        it = entries_.erase(it);
        continue;
      }
      if (it->second.state == State::kDown) down.push_back(it->second.peer);
      ++it;
    }
  }
  for (const protocol::NodeRecord& peer : down) {
    Result<PeerTarget> target = Probe(peer);
    if (!target.ok()) continue;
    LN_INFO << "peer " << peer.node_id << " at " << peer.ip << ":" << peer.port << " answers again";
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(KeyOf(peer));
    if (it == entries_.end() || it->second.state != State::kDown) continue;
    it->second.state = State::kVerified;
    it->second.target = *target;
    it->second.until = now_() + options_.success_ttl;
  }
}

void PeerVerifier::Start() {
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      cv_.wait_for(lock, options_.recheck_interval, [&] { return stopping_; });
      if (stopping_) break;
      lock.unlock();
      RecheckDown();
      lock.lock();
    }
  });
}

void PeerVerifier::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace llamanet::swarm
