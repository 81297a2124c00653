#include "swarm/swarm_view.h"

#include <algorithm>
#include <set>

#include "core/log.h"
#include "protocol/lookup_records.h"

namespace llamanet::swarm {
double EpochNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

SwarmViewOptions SwarmViewOptions::ForHeartbeat(std::chrono::seconds heartbeat) {
  SwarmViewOptions o;
  o.refresh = std::max(std::chrono::milliseconds(250), std::chrono::duration_cast<std::chrono::milliseconds>(heartbeat) / 4);
  o.sampled_refresh = 3 * heartbeat;
  o.max_age = 3 * heartbeat;
  o.demand_window = 3 * heartbeat;
  return o;
}

SwarmView::SwarmView(dht::DhtNode& dht, std::function<protocol::NodeRecord()> self, SwarmViewOptions options,
                     protocol::IdentityOptions identity, const dht::Clock& clock)
    : dht_(dht), self_(std::move(self)), options_(options), identities_(identity), clock_(clock) {}

std::chrono::milliseconds SwarmView::Interval() const {
  return sampled_ ? options_.sampled_refresh : options_.refresh;
}

bool SwarmView::InDemand() const {
  return options_.demand_window.count() == 0 || clock_.NowMs() < demand_until_ms_;
}

void SwarmView::Demand(std::chrono::milliseconds wait) {
  std::chrono::milliseconds interval;
  {
    std::lock_guard<std::mutex> lock(mu_);
    demand_until_ms_ = clock_.NowMs() + options_.demand_window.count();
    interval = Interval();
  }
  cv_.notify_all();
  RefreshAndWait(interval, wait);
}

SwarmView::~SwarmView() { Stop(); }

void SwarmView::SetListener(std::function<void(const std::vector<protocol::NodeRecord>&)> listener) {
  listener_ = std::move(listener);
}

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
    if (InDemand()) {
      lock.unlock();
      StartRefresh();
      lock.lock();
    }
    cv_.wait_for(lock, Interval(), [&] { return stopping_; });
  }
}

void SwarmView::Tick() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!InDemand() || (last_start_ms_ && clock_.NowMs() - *last_start_ms_ < Interval().count())) return;
  }
  StartRefresh();
}

void SwarmView::StartRefresh() {
  bool sample = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (in_flight_ || stopping_) return;
    in_flight_ = true;
    last_start_ms_ = clock_.NowMs();
    sample = sampled_;
  }
  // Outside mu_: a driven node may complete the lookup inside GetAsync.
  auto apply = [this, sample](Result<dht::GetResult> r) { Apply(std::move(r), sample); };
  dht::LookupHandle handle =
      sample ? dht_.SampleAsync("all_nodes", options_.sample, apply) : dht_.GetAsync("all_nodes", apply);
  std::lock_guard<std::mutex> lock(mu_);
  std::swap(lookup_, handle);  // the old one completed: cancelling it (on return) is a no-op
}

void SwarmView::Apply(Result<dht::GetResult> records, bool sample) {
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
  const double oldest = now - static_cast<double>(options_.max_age.count());
  std::vector<protocol::NodeRecord> fresh;
  std::set<std::string> seen;
  for (protocol::NodeRecord& peer : protocol::ReadNodeRecords(identities_, records->records, now)) {
    if (peer.last_seen < oldest || peer.node_id == self_id) continue;
    seen.insert(peer.node_id);
    fresh.push_back(std::move(peer));
  }
  if (listener_) listener_(fresh);
  std::unique_lock<std::mutex> lock(mu_);
  in_flight_ = false;
  ++refreshes_ended_;
  last_end_ms_ = clock_.NowMs();
  // Read whole while the set is small; sampled once it holds `sample` records or more, until a
  // sample finds it small again.
  const bool whole = !sample && !records->partial;
  if (options_.sample > 0) {
    sampled_ = sample ? records->partial || records->records.size() >= options_.sample
                      : records->partial || fresh.size() >= options_.sample;
  }
  // A sample's missing records prove nothing: the older ones stay until they age out. So does a
  // whole read that suddenly misses most of the view (lost datagrams, storing nodes under a
  // flood): more likely a failed lookup than a swarm that left. A smaller change in a whole
  // read is believed at once, so a node that withdrew (its tombstone hides its record
  // everywhere) leaves the view at the next refresh.
  if (!whole || fresh.size() * 2 < peers_.size()) {
    for (protocol::NodeRecord& old : peers_) {
      if (old.last_seen >= oldest && !seen.count(old.node_id)) fresh.push_back(std::move(old));
    }
  }
  if (fresh.size() > options_.max_records) {
    std::nth_element(fresh.begin(), fresh.begin() + static_cast<std::ptrdiff_t>(options_.max_records), fresh.end(),
                     [](const protocol::NodeRecord& a, const protocol::NodeRecord& b) { return a.last_seen > b.last_seen; });
    fresh.resize(options_.max_records);
  }
  peers_ = std::move(fresh);
  lock.unlock();
  cv_.notify_all();
}

bool SwarmView::Sampled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sampled_;
}

std::vector<protocol::NodeRecord> SwarmView::Nodes() const {
  std::vector<protocol::NodeRecord> out{self_()};
  for (protocol::NodeRecord& p : Peers()) out.push_back(std::move(p));
  return out;
}

std::vector<protocol::NodeRecord> SwarmView::Peers() const {
  std::vector<protocol::NodeRecord> out;
  const double oldest = clock_.WallSeconds() - static_cast<double>(options_.max_age.count());
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
