#include "swarm/swarm_view.h"

#include <algorithm>
#include <set>

#include "core/log.h"
#include "protocol/lookup_records.h"

namespace llamanet::swarm {
namespace {
constexpr auto kLookupTimeout = std::chrono::seconds(5);
}

double EpochNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

SwarmView::SwarmView(dht::DhtNode& dht, std::function<protocol::NodeRecord()> self, std::chrono::milliseconds refresh,
                     std::chrono::seconds max_age, protocol::IdentityOptions identity)
    : dht_(dht), self_(std::move(self)), refresh_(refresh), max_age_(max_age), identities_(identity) {}

SwarmView::~SwarmView() { Stop(); }

void SwarmView::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void SwarmView::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SwarmView::RefreshSoon() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    refresh_now_ = true;
  }
  cv_.notify_all();
}

void SwarmView::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    RefreshOnce();
    lock.lock();
    cv_.wait_for(lock, refresh_, [&] { return stopping_ || refresh_now_; });
    refresh_now_ = false;
  }
}

void SwarmView::RefreshOnce() {
  auto t0 = std::chrono::steady_clock::now();
  std::future<Result<std::vector<dht::Record>>> pending = dht_.Get("all_nodes");
  if (pending.wait_for(kLookupTimeout) != std::future_status::ready) return;
  Result<std::vector<dht::Record>> records = pending.get();
  if (!records.ok()) {
    LN_DEBUG << "swarm view: all_nodes lookup failed: " << records.status().ToString();
    return;
  }
  const std::string self_id = self_().node_id;
  const double now = EpochNow();
  const double oldest = now - static_cast<double>(max_age_.count());
  std::vector<protocol::NodeRecord> fresh;
  std::set<std::string> seen;
  for (protocol::NodeRecord& peer : protocol::ReadNodeRecords(identities_, *records, now)) {
    if (peer.last_seen < oldest || peer.node_id == self_id) continue;
    seen.insert(peer.node_id);
    fresh.push_back(std::move(peer));
  }
  LN_DEBUG << "swarm view: " << fresh.size() << " peers in "
           << std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() << " ms";
  std::lock_guard<std::mutex> lock(mu_);
  // A lookup that suddenly misses most of the view (lost datagrams, storing nodes under a flood)
  // is more likely a failed lookup than a swarm that left: then the missed peers stay until their
  // records expire. A smaller change is believed at once, so a node that withdrew (its
  // tombstone hides its record everywhere) leaves the view at the next refresh.
  if (fresh.size() * 2 < peers_.size()) {
    for (protocol::NodeRecord& old : peers_) {
      if (old.last_seen >= oldest && !seen.count(old.node_id)) fresh.push_back(std::move(old));
    }
  }
  peers_ = std::move(fresh);
}

std::vector<protocol::NodeRecord> SwarmView::Nodes() const {
  std::vector<protocol::NodeRecord> out{self_()};
  for (protocol::NodeRecord& p : Peers()) out.push_back(std::move(p));
  return out;
}

std::vector<protocol::NodeRecord> SwarmView::Peers() const {
  std::vector<protocol::NodeRecord> out;
  const double oldest = EpochNow() - static_cast<double>(max_age_.count());
  std::lock_guard<std::mutex> lock(mu_);
  for (const protocol::NodeRecord& p : peers_) {
    if (p.last_seen >= oldest) out.push_back(p);
  }
  return out;
}

std::vector<std::string> SwarmView::Models() const {
  std::set<std::string> models;
  for (const protocol::NodeRecord& p : Nodes()) models.insert(p.model);
  return {models.begin(), models.end()};
}

}  // namespace llamanet::swarm
