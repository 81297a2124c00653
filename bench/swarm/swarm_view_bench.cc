// Swarm-view benchmark (issue 12, item 1): the node's real swarm layer (Publisher, the view,
// Router) on every node of a simulated swarm (dht/simulated_swarm.h: the real DHT code on an
// in-memory network, virtual time), idle but for a load process, for several heartbeats.
// Prints, per design and swarm size:
// - per-node traffic, sent plus received, over the measured heartbeats: datagrams/s and bytes/s
//   (mean, p99 and the hottest node, and hottest/mean);
// - view quality: the share of routed requests whose first choice is a node within 10% of the
//   best free capacity (free slots, the router's first criterion) among all nodes serving the
//   model, by the simulation's ground truth;
// - staleness: how long after a node's load changed the routers that hold it see a record of it
//   made after the change (p50, p99, and the share seen within one heartbeat).
// Model: 4 models, each node serves one and routes requests for another; 4 slots per node, busy
// count a random walk (one step per 20 s per node on average); tps in three classes.
//
// The new design is what a node runs: its candidates (candidate_view.h) for the model it routes
// for, and its directory of all_nodes (swarm_view.h), sampled once the swarm is large.
// The old design (every node reads all of all_nodes every heartbeat/4) costs quadratic work to
// simulate: above --full-before nodes only --before-views nodes run a view (and probe), and the per-node
// figures of the old design are those of the viewing nodes (the storing nodes' load, so the
// hottest node, is then a lower bound). Said in the output.
//
//   swarm_view_bench [--nodes 100,1000] [--heartbeats 4] [--heartbeat-s 10] [--seed 1]
//                    [--designs before,after] [--probes 20] [--full-before 200] [--before-views 4]
//                    [--per-model 12] [--poll-every 2] [--discover-every 3] [--sample 16] [--active 20]
//                    [--breakdown 1]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "dht/node_id.h"
#include "dht/simulated_swarm.h"
#include "protocol/identity.h"
#include "swarm/candidate_view.h"
#include "swarm/model_key.h"
#include "swarm/publisher.h"
#include "swarm/router.h"
#include "swarm/swarm_view.h"

namespace llamanet::swarm {
namespace {

using dht::SimulatedSwarm;

constexpr int kModels = 4;
constexpr int kSlots = 4;
constexpr int64_t kTickMs = 250;
constexpr double kLoadStepPerS = 1.0 / 20;
constexpr double kWallOrigin = 1'700'000'000.0;  // ManualClock's default

struct Flags {
  std::vector<size_t> nodes = {100, 1000};
  std::vector<std::string> designs = {"before", "after"};
  int heartbeats = 4;
  int heartbeat_s = 10;
  uint64_t seed = 1;
  size_t probes = 20;
  size_t full_before = 200;
  size_t before_views = 4;
  size_t per_model = CandidateViewOptions{}.per_model;
  int poll_every = CandidateViewOptions{}.poll_every;
  int discover_every = CandidateViewOptions{}.discover_every;
  size_t sample = CandidateViewOptions{}.sample;
  size_t active = SIZE_MAX;  // nodes that route (the probes among them); the rest route nothing
  bool breakdown = false;  // traffic by kind of message
};

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, ',');) out.push_back(part);
  return out;
}

bool ParseFlags(int argc, char** argv, Flags* f) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string name = argv[i];
    const std::string v = argv[i + 1];
    if (name == "--nodes") {
      f->nodes.clear();
      for (const std::string& n : Split(v)) f->nodes.push_back(std::strtoull(n.c_str(), nullptr, 10));
    } else if (name == "--designs") {
      f->designs = Split(v);
    } else if (name == "--heartbeats") {
      f->heartbeats = std::atoi(v.c_str());
    } else if (name == "--heartbeat-s") {
      f->heartbeat_s = std::atoi(v.c_str());
    } else if (name == "--seed") {
      f->seed = std::strtoull(v.c_str(), nullptr, 10);
    } else if (name == "--probes") {
      f->probes = std::strtoull(v.c_str(), nullptr, 10);
    } else if (name == "--poll-every") {
      f->poll_every = std::atoi(v.c_str());
    } else if (name == "--discover-every") {
      f->discover_every = std::atoi(v.c_str());
    } else if (name == "--active") {
      f->active = std::strtoull(v.c_str(), nullptr, 10);
    } else if (name == "--sample") {
      f->sample = std::strtoull(v.c_str(), nullptr, 10);
    } else if (name == "--breakdown") {
      f->breakdown = v == "1";
    } else if (name == "--per-model") {
      f->per_model = std::strtoull(v.c_str(), nullptr, 10);
    } else if (name == "--before-views") {
      f->before_views = std::strtoull(v.c_str(), nullptr, 10);
    } else if (name == "--full-before") {
      f->full_before = std::strtoull(v.c_str(), nullptr, 10);
    } else {
      return false;
    }
  }
  return (argc % 2) == 1;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// What a node's routes read: the old view or the candidate view, behind one face.
struct View {
  std::function<void()> tick;
  std::function<std::vector<protocol::NodeRecord>()> peers;
};

struct Node {
  std::string node_id;
  std::string model;
  std::string wants;  // the model this node routes requests for
  int busy = 0;
  double tps = 0;
  double changed_at = 0;  // wall seconds of the last load change
  std::unique_ptr<Publisher> publisher;
  std::unique_ptr<SwarmView> directory;  // all_nodes: whole in the old design, sampled in the new
  std::unique_ptr<CandidateView> candidates;
  View view;
  bool has_view = false;
  bool active = false;  // routes requests all along (asks its view for its model every tick)
};

struct Result {
  std::string design;
  size_t nodes = 0;
  size_t viewing = 0;
  double dg_mean = 0, dg_p99 = 0, dg_max = 0;
  double bytes_mean = 0, bytes_p99 = 0, bytes_max = 0;
  size_t requests = 0, good = 0, not_found = 0;
  std::vector<double> staleness_s;
  size_t stale_pairs = 0, seen_in_heartbeat = 0;
  double cpu_s = 0;
  std::map<std::string, std::pair<double, double>> kinds;  // per node: datagrams/s, bytes/s sent
  std::map<std::string, double> hottest_kinds;              // the hottest node: bytes/s sent+received
  std::vector<std::string> hottest_place;                   // the hottest node's place near each model key
  size_t hottest_index = 0;                                 // its index: the order in which nodes joined
  std::vector<double> size_estimates;                       // each node's estimate of the swarm's size
  std::map<std::string, uint64_t> events;                   // swarm totals over the measure
  size_t idle = 0;                                          // nodes that route nothing (--active)
  double idle_dg_mean = 0, idle_dg_max = 0, idle_bytes_mean = 0, idle_bytes_max = 0;
  size_t missed_stale = 0, missed_none = 0;  // requests not to a best node, by why
};

class Bench {
 public:
  Bench(const Flags& flags, size_t n, bool after) : flags_(flags), n_(n), after_(after), swarm_({20, 10, 0}, flags.seed), rng_(flags.seed) {}

  Result Run() {
    const auto cpu0 = std::clock();
    Build();
    const int64_t heartbeat_ms = flags_.heartbeat_s * 1000LL;
    // Warm-up: two heartbeats, so every record is published and every view filled once.
    Drive(2 * heartbeat_ms, false);
    std::vector<dht::DhtCounters> before = Counters();
    const int64_t measured_ms = flags_.heartbeats * heartbeat_ms;
    std::map<std::string, std::pair<uint64_t, uint64_t>> kinds;  // datagrams, bytes
    std::unordered_map<std::string, std::string> asked;         // transaction id -> kind
    std::unordered_map<std::string, std::map<std::string, uint64_t>> by_node;  // endpoint -> kind -> bytes
    if (flags_.breakdown) {
      swarm_.network().SetTap([&](const dht::Endpoint& from, const dht::Endpoint& to, std::string_view datagram) {
        const nlohmann::json j = nlohmann::json::parse(datagram, nullptr, false);
        if (!j.is_object()) return;
        const std::string type = j.value("type", "");
        const std::string id = j.value("id", "");
        std::string kind;
        if (type == "response") {
          auto it = asked.find(id);
          kind = (it == asked.end() ? std::string("?") : it->second) + " reply";
          if (it != asked.end()) asked.erase(it);
        } else {
          const std::string key = j.value("key", "");
          kind = type + (key.rfind("node:", 0) == 0 ? " node:" : key.rfind("model:", 0) == 0 ? " model:" : key.empty() ? "" : " " + key);
          if (j.value("value_only", false)) kind += " value_only";
          if (j.value("offset", 0) != 0) kind += " page";
          asked[id] = kind;
        }
        kinds[kind].first += 1;
        kinds[kind].second += datagram.size();
        by_node[from.ToString()][kind + " (sent)"] += datagram.size();
        by_node[to.ToString()][kind + " (received)"] += datagram.size();
      });
    }
    Drive(measured_ms, true);
    swarm_.network().SetTap(nullptr);
    std::vector<dht::DhtCounters> after = Counters();
    Result r;
    for (const auto& [kind, v] : kinds) {
      const double per = static_cast<double>(n_) * static_cast<double>(measured_ms) / 1000.0;
      r.kinds[kind] = {static_cast<double>(v.first) / per, static_cast<double>(v.second) / per};
    }
    r.design = after_ ? "after" : "before";
    r.nodes = n_;
    r.viewing = viewing_;
    std::vector<double> dg, bytes, idle_dg, idle_bytes;
    for (size_t i = 0; i < n_; ++i) {
      if (!nodes_[i].has_view) continue;  // the old design's non-viewing nodes would undercount
      const double s = static_cast<double>(measured_ms) / 1000.0;
      dg.push_back(static_cast<double>(after[i].datagrams_in + after[i].datagrams_out - before[i].datagrams_in -
                                       before[i].datagrams_out) / s);
      bytes.push_back(static_cast<double>(after[i].bytes_in + after[i].bytes_out - before[i].bytes_in -
                                          before[i].bytes_out) / s);
      if (after_ && !nodes_[i].active) {
        idle_dg.push_back(dg.back());
        idle_bytes.push_back(bytes.back());
      }
    }
    r.idle = idle_dg.size();
    auto mean = [](const std::vector<double>& v) {
      double t = 0;
      for (double x : v) t += x;
      return v.empty() ? 0 : t / static_cast<double>(v.size());
    };
    r.dg_mean = mean(dg);
    r.dg_p99 = Percentile(dg, 0.99);
    r.dg_max = dg.empty() ? 0 : *std::max_element(dg.begin(), dg.end());
    r.bytes_mean = mean(bytes);
    r.bytes_p99 = Percentile(bytes, 0.99);
    r.bytes_max = bytes.empty() ? 0 : *std::max_element(bytes.begin(), bytes.end());
    if (!idle_dg.empty()) {
      r.idle_dg_mean = mean(idle_dg);
      r.idle_dg_max = *std::max_element(idle_dg.begin(), idle_dg.end());
      r.idle_bytes_mean = mean(idle_bytes);
      r.idle_bytes_max = *std::max_element(idle_bytes.begin(), idle_bytes.end());
    }
    for (size_t i = 0; i < n_; ++i) {
      r.events["stores refused"] += after[i].stores_refused - before[i].stores_refused;
      r.events["rpc timeouts"] += after[i].rpc_timeouts - before[i].rpc_timeouts;
      for (const auto& [why, count] : after[i].drops) {
        auto b = before[i].drops.find(why);
        r.events["dropped: " + why] += count - (b == before[i].drops.end() ? 0 : b->second);
      }
    }
    for (size_t p : probes_) {  // the probes' candidates whose record says other than the node's load
      for (const protocol::NodeRecord& rec : nodes_[p].view.peers()) {
        for (size_t i = 0; i < n_; ++i) {
          if (nodes_[i].node_id != rec.node_id) continue;
          ++r.events["probe candidates at the end"];
          if (rec.free_slots != kSlots - nodes_[i].busy) ++r.events["probe candidates out of date at the end"];
        }
      }
    }
    if (flags_.breakdown && !bytes.empty()) {
      size_t hottest = 0;
      for (size_t i = 0; i < n_; ++i) {
        if (after[i].bytes_in + after[i].bytes_out - before[i].bytes_in - before[i].bytes_out >
            after[hottest].bytes_in + after[hottest].bytes_out - before[hottest].bytes_in - before[hottest].bytes_out) {
          hottest = i;
        }
      }
      for (const auto& [kind, b] : by_node[SimulatedSwarm::EndpointOf(hottest).ToString()]) {
        r.hottest_kinds[kind] = static_cast<double>(b) * 1000.0 / static_cast<double>(measured_ms);
      }
      // Where it sits: for each model key, how many nodes are closer to the key, and how many
      // leading bits its id shares with the key's target (the key's region, model_key.h).
      const dht::NodeId me = swarm_.node(hottest).id();
      r.hottest_index = hottest;
      for (int m = 0; m < kModels; ++m) {
        const dht::NodeId key = dht::KeyTarget(ModelKey("model-" + std::to_string(m)));
        size_t closer = 0;
        for (size_t i = 0; i < n_; ++i) closer += dht::NodeId::Closer(key, swarm_.node(i).id(), me) ? 1 : 0;
        r.hottest_place.push_back("model-" + std::to_string(m) + ": " + std::to_string(closer) + " nodes closer, " +
                                  std::to_string(159 - me.DistanceBit(key)) + " bits shared");
      }
    }
    if (flags_.breakdown) {
      for (size_t i = 0; i < n_; ++i) {
        r.size_estimates.push_back(static_cast<double>(EstimateSwarmSize(swarm_.node(i).Snapshot()).nodes));
      }
    }
    r.requests = requests_;
    r.good = good_;
    r.not_found = not_found_;
    r.missed_stale = missed_stale_;
    r.missed_none = missed_none_;
    r.staleness_s = staleness_;
    r.stale_pairs = stale_pairs_;
    r.seen_in_heartbeat = seen_in_heartbeat_;
    r.cpu_s = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
    return r;
  }

 private:
  struct Watch {  // a load change that a probe must come to see
    size_t node;
    size_t probe;
    double changed_at;
  };

  protocol::NodeRecord RecordOf(size_t i) {
    const Node& n = nodes_[i];
    protocol::NodeRecord r;
    r.node_id = n.node_id;
    r.ip = SimulatedSwarm::EndpointOf(i).ip;
    r.port = 8000;
    r.dht_port = 8001;
    r.model = n.model;
    r.slots = kSlots;
    r.free_slots = kSlots - n.busy;
    r.load = static_cast<double>(n.busy) / kSlots;
    r.tps = n.tps;
    r.uptime = 100;
    r.last_seen = swarm_.network().clock().WallSeconds();
    r.version = "0.1.0";
    return r;
  }

  void Build() {
    nodes_.resize(n_);
    const auto heartbeat = std::chrono::seconds(flags_.heartbeat_s);
    const bool all_view = after_ || n_ <= flags_.full_before;
    std::vector<size_t> order(n_);
    for (size_t i = 0; i < n_; ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng_);
    probes_.assign(order.begin(), order.begin() + static_cast<long>(std::min(flags_.probes, n_)));
    for (size_t k = 0; k < std::min(std::max(flags_.active, flags_.probes), n_); ++k) nodes_.at(order[k]).active = true;
    // The old design above full_before: views (and so probes) on before_views nodes only.
    if (!all_view) probes_.resize(std::min(probes_.size(), flags_.before_views));
    std::set<size_t> probe_set(probes_.begin(), probes_.end());
    for (size_t i = 0; i < n_; ++i) {
      Node& n = nodes_[i];
      dht::IdentityKey key = *dht::IdentityKey::Generate();
      n.node_id = protocol::NodeIdFromPublicKey(key.public_key_hex());
      n.model = "model-" + std::to_string(i % kModels);
      n.wants = "model-" + std::to_string((i + 1) % kModels);
      n.busy = static_cast<int>(rng_() % (kSlots + 1));
      n.tps = 20.0 * static_cast<double>(1 << (rng_() % 3));
      dht::DhtOptions o;
      o.node_id = dht::NodeId::Sha1(n.node_id).ToHex();
      o.rng_seed = rng_() | 1;
      o.record_ttl_s = 3.0 * flags_.heartbeat_s;
      if (i > 0) o.bootstrap = {SimulatedSwarm::EndpointOf(0).ToString()};
      if (!swarm_.AddNode(o).ok()) std::abort();
      if (i % 50 == 49) swarm_.Run(200);  // joins in batches, as SimulatedSwarm::Grow does
      const dht::Clock& clock = swarm_.network().clock();
      n.publisher = std::make_unique<Publisher>(swarm_.node(i), key, [this, i] { return RecordOf(i); }, heartbeat, clock,
                                                after_ ? PublishPlan::Scalable() : PublishPlan::Everything());
      if (!all_view && !probe_set.count(i)) continue;
      n.has_view = true;
      ++viewing_;
      SwarmViewOptions vo = SwarmViewOptions::ForHeartbeat(heartbeat);
      if (!after_) {  // the old design: the whole set, all the time
        vo.sample = 0;
        vo.sampled_refresh = vo.refresh;
        vo.demand_window = std::chrono::milliseconds(0);
      }
      n.directory = std::make_unique<SwarmView>(swarm_.node(i), [this, i] { return RecordOf(i); }, vo,
                                                protocol::IdentityOptions{}, clock);
      if (after_) {
        CandidateViewOptions co = CandidateViewOptions::ForHeartbeat(heartbeat);
        co.per_model = flags_.per_model;
        co.poll_every = flags_.poll_every;
        co.discover_every = flags_.discover_every;
        co.sample = flags_.sample;
        n.candidates = std::make_unique<CandidateView>(swarm_.node(i), [this, i] { return RecordOf(i); }, co,
                                                       protocol::IdentityOptions{}, clock, o.rng_seed);
        if (n.active) n.candidates->Want(n.wants);
        n.view = {[c = n.candidates.get(), v = n.directory.get()] {
                    c->Tick();
                    v->Tick();
                  },
                  [c = n.candidates.get()] { return c->Peers(); }};
      } else {
        n.view = {[v = n.directory.get()] { v->Tick(); }, [v = n.directory.get()] { return v->Peers(); }};
      }
    }
    swarm_.Run(1000);
  }

  std::vector<dht::DhtCounters> Counters() {
    std::vector<dht::DhtCounters> out;
    for (size_t i = 0; i < n_; ++i) out.push_back(swarm_.node(i).Snapshot().counters);
    return out;
  }

  double Now() { return swarm_.network().clock().WallSeconds(); }

  // Runs `ms` of virtual time in ticks: load changes, every node's publisher and view, and
  // (when measuring) the probes' routing decisions and staleness checks.
  void Drive(int64_t ms, bool measure) {
    const int64_t end = swarm_.network().clock().NowMs() + ms;
    const double step_p = kLoadStepPerS * kTickMs / 1000.0;
    std::uniform_real_distribution<double> u(0, 1);
    while (swarm_.network().clock().NowMs() < end) {
      for (size_t i = 0; i < n_; ++i) {
        Node& n = nodes_[i];
        if (u(rng_) < step_p) {
          const int next = n.busy + ((rng_() & 1) ? 1 : -1);
          n.busy = next < 0 ? 1 : next > kSlots ? kSlots - 1 : next;
          n.changed_at = Now();
          if (measure) WatchChange(i);
        }
        n.publisher->Tick();
        if (n.active && n.candidates) n.candidates->Want(n.wants);  // as each routed request does
        if (n.has_view) n.view.tick();
        swarm_.network().Reschedule(SimulatedSwarm::EndpointOf(i));
      }
      if (measure) Probe();
      swarm_.network().RunFor(kTickMs);
    }
  }

  // The probes that route to `node` (they hold it in their view now) must come to see its change.
  void WatchChange(size_t node) {
    for (size_t p : probes_) {
      if (p == node || nodes_[p].wants != nodes_[node].model || !nodes_[p].has_view) continue;
      const std::string& id = nodes_[node].node_id;
      std::vector<protocol::NodeRecord> peers = nodes_[p].view.peers();
      if (std::none_of(peers.begin(), peers.end(), [&](const protocol::NodeRecord& r) { return r.node_id == id; })) continue;
      watches_.push_back(Watch{node, p, nodes_[node].changed_at});
    }
  }

  void Probe() {
    const double now = Now();
    const double heartbeat_s = flags_.heartbeat_s;
    std::map<size_t, std::unordered_map<std::string, double>> seen;  // probe -> node_id -> last_seen
    auto view_of = [&](size_t p) -> const std::unordered_map<std::string, double>& {
      auto it = seen.find(p);
      if (it != seen.end()) return it->second;
      auto& m = seen[p];
      for (const protocol::NodeRecord& r : nodes_[p].view.peers()) m[r.node_id] = r.last_seen;
      return m;
    };
    std::vector<Watch> pending;
    for (const Watch& w : watches_) {
      const auto& v = view_of(w.probe);
      auto it = v.find(nodes_[w.node].node_id);
      if (it != v.end() && it->second >= w.changed_at - 1e-6) {
        const double delay = now - w.changed_at;
        staleness_.push_back(delay);
        ++stale_pairs_;
        if (delay <= heartbeat_s) ++seen_in_heartbeat_;
      } else if (now - w.changed_at > 3 * heartbeat_s) {
        staleness_.push_back(now - w.changed_at);
        ++stale_pairs_;
      } else {
        pending.push_back(w);
      }
    }
    watches_ = std::move(pending);

    // One routed request per probe per tick, for the model it routes for.
    std::map<std::string, int> best;  // model -> most free slots anywhere (ground truth)
    for (const Node& n : nodes_) best[n.model] = std::max(best[n.model], kSlots - n.busy);
    std::unordered_map<std::string, size_t> index;
    for (size_t i = 0; i < n_; ++i) index[nodes_[i].node_id] = i;
    Router router;
    for (size_t p : probes_) {
      const Node& n = nodes_[p];
      if (!n.has_view) continue;
      LocalState here{n.node_id, n.model, 0};
      RouteDecision d = router.Decide(n.wants, false, here, n.view.peers());
      ++requests_;
      if (d.kind != RouteDecision::Kind::kForward || d.peers.empty()) {
        ++not_found_;
        continue;
      }
      auto it = index.find(d.peers.front().node_id);
      if (it == index.end()) continue;
      const int free = kSlots - nodes_[it->second].busy;
      if (free >= 0.9 * best[n.wants]) {
        ++good_;
      } else if (d.peers.front().free_slots >= 0.9 * best[n.wants]) {
        ++missed_stale_;  // the router's record of its choice was out of date
      } else {
        ++missed_none_;  // no candidate it held was free enough
      }
    }
  }

  const Flags& flags_;
  const size_t n_;
  const bool after_;
  SimulatedSwarm swarm_;
  std::mt19937_64 rng_;
  std::vector<Node> nodes_;
  std::vector<size_t> probes_;
  size_t viewing_ = 0;
  std::vector<Watch> watches_;
  size_t requests_ = 0, good_ = 0, not_found_ = 0, missed_stale_ = 0, missed_none_ = 0;
  std::vector<double> staleness_;
  size_t stale_pairs_ = 0, seen_in_heartbeat_ = 0;
};

void PrintRow(const Result& r, const Flags& f) {
  const double quality = r.requests == 0 ? 0 : 100.0 * static_cast<double>(r.good) / static_cast<double>(r.requests);
  const double in_hb = r.stale_pairs == 0 ? 0 : 100.0 * static_cast<double>(r.seen_in_heartbeat) / static_cast<double>(r.stale_pairs);
  std::printf("%-6s %6zu %6zu | %7.1f %7.1f %8.1f %5.1fx | %8.0f %8.0f %9.0f %5.1fx | %6.1f%% (%zu req, %zu none) | %5.2f %5.2f %5.1f%% (%zu) | %6.1f\n",
              r.design.c_str(), r.nodes, r.viewing, r.dg_mean, r.dg_p99, r.dg_max, r.dg_mean > 0 ? r.dg_max / r.dg_mean : 0,
              r.bytes_mean, r.bytes_p99, r.bytes_max, r.bytes_mean > 0 ? r.bytes_max / r.bytes_mean : 0, quality,
              r.requests, r.not_found, Percentile(r.staleness_s, 0.5), Percentile(r.staleness_s, 0.99), in_hb,
              r.stale_pairs, r.cpu_s);
  if (r.idle > 0) {
    std::printf("    the %zu nodes that route nothing: %.1f datagrams/s mean, %.1f max; %.0f B/s mean, %.0f max\n",
                r.idle, r.idle_dg_mean, r.idle_dg_max, r.idle_bytes_mean, r.idle_bytes_max);
  }
  if (f.breakdown) {
    std::printf("    requests not to a best node: %zu with a stale record of the choice, %zu with no candidate free enough\n",
                r.missed_stale, r.missed_none);
    std::printf("    sent per node, by kind:\n");
    for (const auto& [kind, v] : r.kinds) std::printf("      %-36s %7.2f dgram/s %8.0f B/s\n", kind.c_str(), v.first, v.second);
    for (const auto& [what, count] : r.events) std::printf("    %s: %llu\n", what.c_str(), static_cast<unsigned long long>(count));
    std::printf("    swarm size as the nodes estimate it: p10 %.0f, median %.0f, p90 %.0f\n",
                Percentile(r.size_estimates, 0.1), Percentile(r.size_estimates, 0.5), Percentile(r.size_estimates, 0.9));
    std::printf("    the hottest node (node %zu), by model key:", r.hottest_index);
    for (const std::string& place : r.hottest_place) std::printf(" %s;", place.c_str());
    std::printf("\n");
    std::printf("    the hottest node, by kind (over 500 B/s):\n");
    for (const auto& [kind, b] : r.hottest_kinds) {
      if (b > 500) std::printf("      %-47s %8.0f B/s\n", kind.c_str(), b);
    }
  }
}

void PrintGoals(const Result& r, const Flags& f) {
  const double quality = r.requests == 0 ? 0 : static_cast<double>(r.good) / static_cast<double>(r.requests);
  const double in_hb = r.stale_pairs == 0 ? 0 : static_cast<double>(r.seen_in_heartbeat) / static_cast<double>(r.stale_pairs);
  auto mark = [](bool ok) { return ok ? "MET" : "NOT MET"; };
  std::printf("goals, %s at %zu nodes (heartbeat %d s):\n", r.design.c_str(), r.nodes, f.heartbeat_s);
  std::printf("  mean < 2 KB/s (sent+received):        %8.0f B/s    %s\n", r.bytes_mean, mark(r.bytes_mean < 2048));
  std::printf("  mean < 20 datagrams/s (sent+received): %8.1f /s     %s\n", r.dg_mean, mark(r.dg_mean < 20));
  std::printf("  hottest < 10x mean (datagrams):        %8.1fx      %s\n", r.dg_max / std::max(r.dg_mean, 1e-9),
              mark(r.dg_max < 10 * r.dg_mean));
  std::printf("  hottest < 10x mean (bytes):            %8.1fx      %s\n", r.bytes_max / std::max(r.bytes_mean, 1e-9),
              mark(r.bytes_max < 10 * r.bytes_mean));
  std::printf("  quality >= 95%%:                        %8.1f%%     %s\n", 100 * quality, mark(quality >= 0.95));
  std::printf("  load change seen within a heartbeat:   %8.1f%%     (p99 %.2f s) %s\n", 100 * in_hb,
              Percentile(r.staleness_s, 0.99), mark(Percentile(r.staleness_s, 0.99) <= f.heartbeat_s));
}

}  // namespace
}  // namespace llamanet::swarm

int main(int argc, char** argv) {
  using namespace llamanet::swarm;
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) {
    std::fprintf(stderr,
                 "usage: swarm_view_bench [--nodes 100,1000] [--designs before,after] [--heartbeats 4]\n"
                 "                        [--heartbeat-s 10] [--seed 1] [--probes 20] [--full-before 200]\n"
                 "                        [--before-views 4] [--per-model 12] [--poll-every 2]\n"
                 "                        [--discover-every 3] [--sample 16] [--active 20]\n"
                 "                        [--breakdown 1]\n");
    return 2;
  }
  std::printf("swarm view benchmark: %d models, %d slots per node, load random walk (1 step / 20 s / node),\n"
              "20 ms +0-10 ms one way, heartbeat %d s, %d heartbeats measured after 2 of warm-up, %zu probes route\n"
              "one request each per 250 ms. Traffic = DHT datagrams and bytes sent plus received per node.\n\n",
              kModels, kSlots, flags.heartbeat_s, flags.heartbeats, flags.probes);
  std::printf("design  nodes  views | dgram/s  mean     p99      max  max/m |  bytes/s mean      p99       max max/m |"
              " quality                    | stale p50  p99  <1hb (pairs) | cpu s\n");
  std::vector<Result> results;
  for (size_t n : flags.nodes) {
    for (const std::string& d : flags.designs) {
      Bench bench(flags, n, d == "after");
      results.push_back(bench.Run());
      PrintRow(results.back(), flags);
      std::fflush(stdout);
    }
  }
  std::printf("\n(views < nodes: the old design simulated with views on that many nodes only: per-node figures are\n"
              " theirs; the storing nodes then see a fraction of the view traffic, so 'max' is a lower bound.)\n\n");
  for (const Result& r : results) PrintGoals(r, flags);
  return 0;
}
