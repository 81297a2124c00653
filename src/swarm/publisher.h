// Puts this node's signed record into the DHT under `model:<name>`, `node:<id>` and
// `all_nodes`: every heartbeat, and at once when its load changes markedly (a slot frees up
// or the last one fills) so that routers see it without waiting a whole heartbeat. On a
// graceful stop it publishes tombstones so that peers drop the node at once. Thread-safe.
//
// Two ways to run one: Start() (a thread calls Tick() four times a second), or a driver that
// calls Tick() itself on a driven DHT node and its clock (the swarm benchmark, tests).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "dht/clock.h"
#include "dht/dht_node.h"
#include "dht/record_signing.h"
#include "protocol/node_record.h"
#include "swarm/swarm_size.h"

namespace llamanet::swarm {

// Which keys a node's record goes to, how often and to how many of the keys' closest nodes.
struct PublishPlan {
  enum class Key { kNode, kModel, kAllNodes };
  struct Entry {
    Key key;
    int every = 1;                // heartbeats between publishes
    size_t replicas = SIZE_MAX;   // closest nodes that store it (capped at k)
    // Above this many nodes in the swarm (as estimated from the routing table), the replicas
    // are drawn at random among the k closest (DhtNode::PublishAsync's `spread`): every node
    // publishes to the key, so its nearest nodes alone would carry the whole swarm.
    size_t spread_above = SIZE_MAX;
    // Above this many nodes in the swarm, only about this many publish to the key in a round
    // (a different share of the nodes each round): a key read a page at a time (all_nodes, by
    // Python nodes) needs a rotating sample of the swarm, not every node's record.
    size_t publishers_at_most = SIZE_MAX;
    // With publishers_at_most: how many rounds one share keeps publishing. A node's first
    // publish to a key costs a lookup toward it (later ones reuse it: DhtNode::PublishAsync),
    // so a share that changed every round sent a new crowd of lookups at the key's nearest
    // nodes each round until every node had published once.
    int share_rounds = 1;
    // Above `spread_above`, this many of the replicas go to a random place of the key's region
    // (`region`, dht/spread.h) instead: a key that a share of all nodes publishes and every
    // router samples needs storing nodes in proportion to the swarm. The others stay among the
    // key's k closest, where a reader that does not aim at the region (a Python client, a
    // sample of the region that came up short) finds every record.
    size_t region_replicas = 0;
    dht::Spread region;
  };
  std::vector<Entry> keys;
  // Every load change also goes at once to this node's own copy of `node:<id>` and to the
  // peers that poll it directly (DhtNode::Notify; swarm/candidate_view.h): no lookup.
  bool local_on_change = false;
  // A marked load change (publisher.cc) is published to the whole plan at once.
  bool publish_marked_change = true;

  // Every key every heartbeat to k nodes, and marked changes at once: the design before
  // issue 12, for routers that read the whole all_nodes set.
  static PublishPlan Everything();
  // For routers that poll their candidates directly (CandidateView): the keys only serve
  // discovery (and Python nodes, and clients), so they go at a low rate. See ARCHITECTURE.md.
  static PublishPlan Scalable();
};

class Publisher {
 public:
  Publisher(dht::DhtNode& dht, dht::IdentityKey key, std::function<protocol::NodeRecord()> current,
            std::chrono::seconds heartbeat, const dht::Clock& clock = dht::SystemClock::Instance(),
            PublishPlan plan = PublishPlan::Everything());
  ~Publisher();

  void Start();
  // Publishes when a heartbeat is due or the load changed markedly; returns at once (the
  // stores complete on the DHT's loop).
  void Tick();
  // Publishes tombstones (waiting up to `timeout`), then stops. Idempotent.
  void Withdraw(std::chrono::milliseconds timeout);

  // Epoch seconds of the last publish that reached at least one node; nullopt before.
  std::optional<double> LastHeartbeat() const;

 private:
  // What the stores' callbacks update; shared, so a late callback never touches a gone Publisher.
  struct Shared {
    std::mutex mu;
    std::optional<double> last_heartbeat;  // guarded by mu
  };
  static std::string KeyName(PublishPlan::Key key, const protocol::NodeRecord& r);
  static std::vector<std::string> KeysFor(const protocol::NodeRecord& r);
  void Loop();
  bool MarkedChange(const protocol::NodeRecord& now) const;
  // Publishes to the plan's keys that are due at heartbeat `beat` (every key when `all`).
  void PublishOnce(const protocol::NodeRecord& r, int64_t beat, bool all);
  std::optional<dht::Record> Signed(const protocol::NodeRecord& r) const;

  dht::DhtNode& dht_;
  const dht::IdentityKey key_;
  std::function<protocol::NodeRecord()> current_;
  const std::chrono::seconds heartbeat_;
  const dht::Clock& clock_;
  const PublishPlan plan_;
  int64_t beat_ = 0;  // heartbeats published, Tick's caller only
  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                              // guarded by mu_
  std::optional<dht::Record> last_record_;             // guarded by mu_
  std::optional<int64_t> last_ms_;                     // Tick's caller only
  std::optional<protocol::NodeRecord> last_published_;  // Tick's caller only
  std::optional<protocol::NodeRecord> last_local_;      // Tick's caller only
  // Read once a heartbeat at most: a node that starts in a large swarm learns its size within
  // a few heartbeats, and must not go on publishing as in a small one.
  CachedSwarmSize swarm_size_;
  std::thread thread_;
};

}  // namespace llamanet::swarm
