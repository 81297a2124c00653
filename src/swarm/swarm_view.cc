#include "swarm/swarm_view.h"

#include <algorithm>
#include <set>

#include "core/log.h"
#include "protocol/lookup_records.h"

namespace llamanet::swarm {
double EpochNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

SwarmView::SwarmView(dht::DhtNode& dht, std::function<protocol::NodeRecord()> self, std::chrono::milliseconds refresh,
                     std::chrono::seconds max_age, protocol::IdentityOptions identity, const dht::Clock& clock)
    : dht_(dht), self_(std::move(self)), refresh_(refresh), max_age_(max_age), identities_(identity), clock_(clock) {}

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
  dht::LookupHandle lookup;
  {
    std::lock_guard<std::mutex> lock(mu_);
    lookup = std::move(lookup_);
  }
  lookup.Cancel();  // outside mu_: Cancel waits for a running callback, which takes mu_
}

void SwarmView::RefreshSoon() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    refresh_now_ = true;
  }
  cv_.notify_all();
}

void SwarmView::RefreshAndWait(std::chrono::milliseconds fresh_enough, std::chrono::milliseconds timeout) {
  uint64_t ended = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || (last_end_ms_ && clock_.NowMs() - *last_end_ms_ < fresh_enough.count())) return;
    ended = refreshes_ended_;
  }
  StartRefresh();  // joins the one in flight, if any
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return stopping_ || refreshes_ended_ > ended; });
}

void SwarmView::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    StartRefresh();
    lock.lock();
    cv_.wait_for(lock, refresh_, [&] { return stopping_ || refresh_now_; });
    refresh_now_ = false;
  }
}

void SwarmView::Tick() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (last_start_ms_ && !refresh_now_ && clock_.NowMs() - *last_start_ms_ < refresh_.count()) return;
    refresh_now_ = false;
  }
  StartRefresh();
}

void SwarmView::StartRefresh() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (in_flight_ || stopping_) return;
    in_flight_ = true;
    last_start_ms_ = clock_.NowMs();
  }
  // Outside mu_: a driven node may complete the lookup inside GetAsync.
  dht::LookupHandle handle = dht_.GetAsync("all_nodes", [this](Result<dht::GetResult> r) { Apply(std::move(r)); });
  std::lock_guard<std::mutex> lock(mu_);
  std::swap(lookup_, handle);  // the old one completed: cancelling it (on return) is a no-op
}

void SwarmView::Apply(Result<dht::GetResult> records) {
  if (!records.ok()) {
    LN_DEBUG << "swarm view: all_nodes lookup failed: " << records.status().ToString();
    {
      std::lock_guard<std::mutex> lock(mu_);
      in_flight_ = false;
      ++refreshes_ended_;
      last_end_ms_ = clock_.NowMs();
    }
    cv_.notify_all();
    return;
  }
  const std::string self_id = self_().node_id;
  const double now = clock_.WallSeconds();
  const double oldest = now - static_cast<double>(max_age_.count());
  std::vector<protocol::NodeRecord> fresh;
  std::set<std::string> seen;
  for (protocol::NodeRecord& peer : protocol::ReadNodeRecords(identities_, records->records, now)) {
    if (peer.last_seen < oldest || peer.node_id == self_id) continue;
    seen.insert(peer.node_id);
    fresh.push_back(std::move(peer));
  }
  std::unique_lock<std::mutex> lock(mu_);
  in_flight_ = false;
  ++refreshes_ended_;
  last_end_ms_ = clock_.NowMs();
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
  lock.unlock();
  cv_.notify_all();
}

std::vector<protocol::NodeRecord> SwarmView::Nodes() const {
  std::vector<protocol::NodeRecord> out{self_()};
  for (protocol::NodeRecord& p : Peers()) out.push_back(std::move(p));
  return out;
}

std::vector<protocol::NodeRecord> SwarmView::Peers() const {
  std::vector<protocol::NodeRecord> out;
  const double oldest = clock_.WallSeconds() - static_cast<double>(max_age_.count());
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
