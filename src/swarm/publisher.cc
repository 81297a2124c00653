#include "swarm/publisher.h"

#include <cmath>

#include "core/log.h"
#include "swarm/swarm_view.h"

namespace llamanet::swarm {
namespace {
constexpr auto kPollInterval = std::chrono::milliseconds(250);  // how fast a load change is seen
constexpr auto kMinGap = std::chrono::seconds(1);                // publishes at most this often
}  // namespace

Publisher::Publisher(dht::DhtNode& dht, dht::IdentityKey key, std::function<protocol::NodeRecord()> current,
                     std::chrono::seconds heartbeat)
    : dht_(dht), key_(std::move(key)), current_(std::move(current)), heartbeat_(heartbeat) {}

Publisher::~Publisher() { Withdraw(std::chrono::milliseconds(0)); }

void Publisher::Start() {
  thread_ = std::thread([this] { Loop(); });
}

std::vector<std::string> Publisher::KeysFor(const protocol::NodeRecord& r) {
  return {"model:" + r.model, "node:" + r.node_id, "all_nodes"};
}

bool Publisher::MarkedChange(const protocol::NodeRecord& now) const {
  if (!last_published_) return true;
  const protocol::NodeRecord& then = *last_published_;
  return (then.free_slots == 0) != (now.free_slots == 0) || std::fabs(then.load - now.load) >= 0.5;
}

void Publisher::Loop() {
  std::optional<std::chrono::steady_clock::time_point> last;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    protocol::NodeRecord r = current_();
    auto now = std::chrono::steady_clock::now();
    if (!last || now - *last >= heartbeat_ || (MarkedChange(r) && now - *last >= kMinGap)) {
      PublishOnce(r);
      last = now;
      last_published_ = r;
    }
    lock.lock();
    cv_.wait_for(lock, kPollInterval, [&] { return stopping_; });
  }
}

void Publisher::PublishOnce(const protocol::NodeRecord& r) {
  Result<dht::Record> parsed = dht::ParseRecord(protocol::NodeRecordJson(r));
  if (!parsed.ok()) {
    LN_ERROR << "cannot build this node's record: " << parsed.status().ToString();
    return;
  }
  Result<dht::Record> signed_record = dht::SignRecord(*parsed, key_);
  if (!signed_record.ok()) {
    LN_ERROR << "cannot sign this node's record: " << signed_record.status().ToString();
    return;
  }
  std::vector<std::future<Result<size_t>>> pending;
  for (const std::string& key : KeysFor(r)) pending.push_back(dht_.Publish(key, *signed_record));
  size_t stored = 0;
  for (auto& f : pending) {
    Result<size_t> n = f.get();
    if (n.ok()) stored = std::max(stored, *n);
  }
  std::lock_guard<std::mutex> lock(mu_);
  last_record_ = *signed_record;
  if (stored > 0) last_heartbeat_ = EpochNow();
  LN_DEBUG << "published the record (load " << r.load << ") to " << stored << " nodes";
}

void Publisher::Withdraw(std::chrono::milliseconds timeout) {
  std::optional<dht::Record> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    live = last_record_;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (!live || timeout.count() <= 0) return;
  Result<dht::Record> tomb = dht::SignRecord(dht::MakeTombstone(*live, EpochNow()), key_);
  Result<protocol::NodeRecord> mine = protocol::ParseNodeRecord(live->json);
  if (!tomb.ok() || !mine.ok()) return;
  std::vector<std::future<Result<size_t>>> pending;
  for (const std::string& key : KeysFor(*mine)) pending.push_back(dht_.Publish(key, *tomb));
  auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t stored = 0;
  for (auto& f : pending) {
    if (f.wait_until(deadline) != std::future_status::ready) continue;
    Result<size_t> n = f.get();
    if (n.ok()) {
      stored = std::max(stored, *n);
    } else {
      LN_DEBUG << "withdraw: " << n.status().ToString();
    }
  }
  LN_INFO << "withdrew this node's record from the swarm (" << stored << " nodes hold the tombstone)";
}

std::optional<double> Publisher::LastHeartbeat() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_heartbeat_;
}

}  // namespace llamanet::swarm
