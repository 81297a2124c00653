#include "swarm/publisher.h"

#include <cmath>
#include <optional>

#include "core/log.h"
#include "swarm/model_key.h"

namespace llamanet::swarm {
namespace {
constexpr auto kPollInterval = std::chrono::milliseconds(250);  // how fast a load change is seen
constexpr auto kMinGap = std::chrono::seconds(1);                // publishes at most this often
constexpr size_t kSpreadAbove = 64;                               // nodes; see Scalable()
constexpr size_t kAllNodesPublishers = 128;                       // per round; see Scalable()
constexpr int kAllNodesShareRounds = 4;                           // rounds; see Scalable()
}  // namespace

PublishPlan PublishPlan::Everything() {
  PublishPlan p;
  p.keys = {{Key::kModel, 1, SIZE_MAX}, {Key::kNode, 1, SIZE_MAX}, {Key::kAllNodes, 1, SIZE_MAX}};
  return p;
}

PublishPlan PublishPlan::Scalable() {
  PublishPlan p;
  // Records live 3 heartbeats (the DHT's TTL), so a key published every 2 stays filled.
  // Up to 64 nodes, all_nodes stays on the nearest nodes of its key, where a Python reader
  // (one page) finds every C++ node; beyond, a page holds a small part of it anyway. Beyond
  // 128, a rotating share of 128 nodes publishes there, each node of a share for 4 rounds:
  // every node publishing would load the key's storing nodes in proportion to the swarm (at
  // 256, a storing node of all_nodes was the hottest node of a 1,000-node swarm whose nodes
  // are mostly idle).
  // Model keys are sampled by every router: above 64 nodes, 2 of their 3 replicas go to the
  // key's region (model_key.h).
  p.keys = {{.key = Key::kModel,
             .every = 2,
             .replicas = 3,
             .spread_above = kModelKeySpreadAbove,
             .region_replicas = 2,
             .region = kModelKeyRegion},
            {.key = Key::kNode, .every = 2, .replicas = 3},
            {.key = Key::kAllNodes,
             .every = 2,
             .replicas = 3,
             .spread_above = kSpreadAbove,
             .publishers_at_most = kAllNodesPublishers,
             .share_rounds = kAllNodesShareRounds}};
  p.local_on_change = true;
  p.publish_marked_change = false;
  return p;
}

Publisher::Publisher(dht::DhtNode& dht, dht::IdentityKey key, std::function<protocol::NodeRecord()> current,
                     std::chrono::seconds heartbeat, const dht::Clock& clock, PublishPlan plan)
    : dht_(dht),
      key_(std::move(key)),
      current_(std::move(current)),
      heartbeat_(heartbeat),
      clock_(clock),
      plan_(std::move(plan)),
      swarm_size_(dht, clock, std::chrono::milliseconds(heartbeat)) {}

Publisher::~Publisher() { Withdraw(std::chrono::milliseconds(0)); }

void Publisher::Start() {
  thread_ = std::thread([this] { Loop(); });
}

std::string Publisher::KeyName(PublishPlan::Key key, const protocol::NodeRecord& r) {
  switch (key) {
    case PublishPlan::Key::kModel:
      return ModelKey(r.model);
    case PublishPlan::Key::kNode:
      return "node:" + r.node_id;
    case PublishPlan::Key::kAllNodes:
      break;
  }
  return "all_nodes";
}

std::vector<std::string> Publisher::KeysFor(const protocol::NodeRecord& r) {
  return {KeyName(PublishPlan::Key::kModel, r), KeyName(PublishPlan::Key::kNode, r),
          KeyName(PublishPlan::Key::kAllNodes, r)};
}

bool Publisher::MarkedChange(const protocol::NodeRecord& now) const {
  if (!last_published_) return true;
  const protocol::NodeRecord& then = *last_published_;
  return (then.free_slots == 0) != (now.free_slots == 0) || std::fabs(then.load - now.load) >= 0.5;
}

void Publisher::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    Tick();
    lock.lock();
    cv_.wait_for(lock, kPollInterval, [&] { return stopping_; });
  }
}

void Publisher::Tick() {
  protocol::NodeRecord r = current_();
  const int64_t now = clock_.NowMs();
  const int64_t since = last_ms_ ? now - *last_ms_ : 0;
  if (plan_.local_on_change && last_local_ &&
      (r.free_slots != last_local_->free_slots || r.load != last_local_->load || r.queue != last_local_->queue)) {
    if (std::optional<dht::Record> rec = Signed(r)) dht_.Notify(KeyName(PublishPlan::Key::kNode, r), *rec);
    last_local_ = r;
  }
  if (!last_ms_ || since >= std::chrono::milliseconds(heartbeat_).count()) {
    // The first goes to every key, so that a node that just started is found at once.
    PublishOnce(r, beat_, beat_ == 0);
    ++beat_;
  } else if (plan_.publish_marked_change && MarkedChange(r) && since >= std::chrono::milliseconds(kMinGap).count()) {
    PublishOnce(r, 0, true);
  } else {
    return;
  }
  last_ms_ = now;
  last_published_ = r;
  last_local_ = r;
}

std::optional<dht::Record> Publisher::Signed(const protocol::NodeRecord& r) const {
  Result<dht::Record> parsed = dht::ParseRecord(protocol::NodeRecordJson(r));
  if (!parsed.ok()) {
    LN_ERROR << "cannot build this node's record: " << parsed.status().ToString();
    return std::nullopt;
  }
  Result<dht::Record> signed_record = dht::SignRecord(*parsed, key_);
  if (!signed_record.ok()) {
    LN_ERROR << "cannot sign this node's record: " << signed_record.status().ToString();
    return std::nullopt;
  }
  return *std::move(signed_record);
}

void Publisher::PublishOnce(const protocol::NodeRecord& r, int64_t beat, bool all) {
  std::optional<dht::Record> signed_record = Signed(r);
  if (!signed_record) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_record_ = *signed_record;
  }
  // Nodes publish a key every few heartbeats at phases of their own, so a key's storing nodes
  // get an even stream rather than bursts.
  const auto phase = static_cast<int64_t>(std::hash<std::string>()(r.node_id) % 1024);
  std::optional<size_t> swarm_size;  // read when a key asks for it
  for (const PublishPlan::Entry& e : plan_.keys) {
    const bool due = all || (beat + phase) % e.every == 0;
    if (!due && e.key != PublishPlan::Key::kNode) continue;
    if (due && (e.spread_above != SIZE_MAX || e.publishers_at_most != SIZE_MAX) && !swarm_size) {
      swarm_size = swarm_size_.Nodes();
    }
    if (due && swarm_size && *swarm_size > e.publishers_at_most) {
      const auto round = static_cast<uint64_t>((beat + phase) / e.every / e.share_rounds);
      if (std::hash<std::string>()(r.node_id + ':' + std::to_string(round)) % *swarm_size >= e.publishers_at_most) continue;
    }
    auto publish = [&](size_t replicas, std::optional<dht::Spread> spread) {
      dht_.PublishAsync(KeyName(e.key, r), *signed_record,
                        [shared = shared_, &clock = clock_](Result<size_t> n) {
                          if (!n.ok() || *n == 0) return;
                          std::lock_guard<std::mutex> lock(shared->mu);
                          shared->last_heartbeat = clock.WallSeconds();
                        },
                        replicas, spread)
          .Detach();
    };
    if (!due || !swarm_size || *swarm_size <= e.spread_above) {
      publish(due ? e.replicas : 0, std::nullopt);  // not due, `node:<id>` is still renewed here
      continue;                                      // (peers polling this node read it)
    }
    const size_t in_region = std::min(e.region_replicas, e.replicas);
    if (in_region > 0) publish(in_region, e.region);
    if (e.replicas > in_region) publish(e.replicas - in_region, dht::Spread{});
  }
  LN_DEBUG << "publishing the record (load " << r.load << ")";
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
  Result<dht::Record> tomb = dht::SignRecord(dht::MakeTombstone(*live, clock_.WallSeconds()), key_);
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
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->last_heartbeat;
}

}  // namespace llamanet::swarm
