#include "dht/simulated_swarm.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace llamanet::dht {

namespace {
constexpr int64_t kRunSliceMs = 50;  // heartbeat granularity

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(std::ceil(p * static_cast<double>(v.size()))) - 1);
  return v[i];
}
}  // namespace

SimulatedSwarm::SimulatedSwarm(LinkModel link, uint64_t seed) : network_(link, seed), seed_(seed) {}

SimulatedSwarm::~SimulatedSwarm() {
  // Nodes first: stopping a node completes its callbacks, which may still use the network.
  for (auto& n : nodes_) n->node.reset();
}

Endpoint SimulatedSwarm::EndpointOf(size_t index) {
  return Endpoint{"10." + std::to_string((index >> 8) & 255) + "." + std::to_string(index & 255) + ".1", 8001};
}

Result<size_t> SimulatedSwarm::AddNode(DhtOptions options) {
  const size_t index = nodes_.size();
  auto sim = std::make_unique<SimNode>();
  const Endpoint endpoint = EndpointOf(index);
  sim->transport = network_.Attach(endpoint, sim.get());
  auto node = DhtNode::CreateDriven(options, *sim->transport, network_.clock());
  if (!node.ok()) return Status::Internal(node.status().message());
  sim->node = std::move(node).value();
  if (Status s = sim->node->Start(); !s.ok()) return s;
  if (heartbeat_ms_ > 0) sim->next_heartbeat_ms = network_.clock().NowMs() + heartbeat_ms_;
  nodes_.push_back(std::move(sim));
  network_.Reschedule(endpoint);
  return index;
}

Status SimulatedSwarm::Grow(size_t count, const DhtOptions& base, size_t batch, int64_t gap_ms) {
  std::mt19937_64 rng(seed_ * 7919 + nodes_.size());
  size_t added = 0;
  while (added < count) {
    for (size_t b = 0; b < batch && added < count; ++b, ++added) {
      DhtOptions o = base;
      o.node_id = NodeId::Random(rng).ToHex();
      o.rng_seed = rng() | 1;
      if (!nodes_.empty()) o.bootstrap = {EndpointOf(0).ToString()};
      auto index = AddNode(o);
      if (!index.ok()) return index.status();
    }
    Run(gap_ms);
  }
  return Status::Ok();
}

void SimulatedSwarm::Kill(size_t index) {
  nodes_[index]->alive = false;
  network_.SetDead(EndpointOf(index), true);
}

void SimulatedSwarm::Publish(size_t index, std::string key, Record record, std::function<void(Result<size_t>)> done) {
  node(index).PublishAsync(std::move(key), std::move(record), std::move(done)).Detach();
  network_.Reschedule(EndpointOf(index));
}

void SimulatedSwarm::Get(size_t index, std::string key, std::function<void(Result<GetResult>)> done) {
  node(index).GetAsync(std::move(key), std::move(done)).Detach();
  network_.Reschedule(EndpointOf(index));
}

Record SimulatedSwarm::NodeRecord(size_t index) const {
  const Endpoint e = EndpointOf(index);
  char last_seen[32];
  std::snprintf(last_seen, sizeof last_seen, "%.3f", network_.clock().WallSeconds());
  return *ParseRecord(R"({"node_id":")" + nodes_[index]->node->id().ToHex() + R"(","ip":")" + e.ip +
                      R"(","port":8000,"dht_port":8001,"model":"sim","load":0,"last_seen":)" + last_seen + "}");
}

void SimulatedSwarm::SetHeartbeat(int64_t interval_ms) {
  heartbeat_ms_ = interval_ms;
  const int64_t now = network_.clock().NowMs();
  for (size_t i = 0; i < nodes_.size(); ++i) {
    nodes_[i]->next_heartbeat_ms = now + interval_ms * static_cast<int64_t>(i) / static_cast<int64_t>(nodes_.size());
  }
}

void SimulatedSwarm::Heartbeats() {
  if (heartbeat_ms_ <= 0) return;
  const int64_t now = network_.clock().NowMs();
  for (size_t i = 0; i < nodes_.size(); ++i) {
    SimNode& n = *nodes_[i];
    if (!n.alive || n.next_heartbeat_ms > now) continue;
    n.next_heartbeat_ms = now + heartbeat_ms_;
    Publish(i, NodeKey(*n.node), NodeRecord(i), [](Result<size_t>) {});
  }
}

void SimulatedSwarm::Run(int64_t duration_ms) {
  const int64_t end = network_.clock().NowMs() + duration_ms;
  while (network_.clock().NowMs() < end) {
    Heartbeats();
    network_.RunUntil(std::min(end, network_.clock().NowMs() + kRunSliceMs));
  }
}

bool SimulatedSwarm::RunUntil(const std::function<bool()>& done, int64_t limit_ms) {
  const int64_t end = network_.clock().NowMs() + limit_ms;
  while (!done() && network_.clock().NowMs() < end) {
    Heartbeats();
    network_.RunUntilTrue(done, std::min(end, network_.clock().NowMs() + kRunSliceMs) - network_.clock().NowMs());
  }
  return done();
}

size_t SimulatedSwarm::PublishAll() {
  struct Tally {
    size_t pending = 0;
    size_t ok = 0;
  };
  auto tally = std::make_shared<Tally>();  // shared: a callback may outlive the wait
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (!nodes_[i]->alive) continue;
    ++tally->pending;
    Publish(i, NodeKey(node(i)), NodeRecord(i), [tally](Result<size_t> r) {
      --tally->pending;
      if (r.ok()) ++tally->ok;
    });
  }
  RunUntil([&] { return tally->pending == 0; }, 60'000);
  return tally->ok;
}

LookupSummary SimulatedSwarm::MeasureLookups(const std::vector<std::pair<size_t, size_t>>& from_target,
                                             int64_t spacing_ms) {
  struct Sample {
    bool found = false;
    double ms = 0;
    int hops = 0;
    int messages = 0;
  };
  struct State {
    std::vector<Sample> samples;
    size_t pending = 0;
  };
  auto state = std::make_shared<State>();  // shared: a callback may outlive the wait
  for (const auto& [from, target] : from_target) {
    const std::string target_id = node(target).id().ToHex();
    const int64_t started = network_.clock().NowMs();
    ++state->pending;
    Get(from, NodeKey(node(target)), [this, state, target_id, started](Result<GetResult> r) {
      Sample s;
      s.ms = static_cast<double>(network_.clock().NowMs() - started);
      if (r.ok()) {
        s.found = std::any_of(r->records.begin(), r->records.end(), [&](const Record& rec) { return rec.node_id == target_id; });
        s.hops = r->stats.hops;
        s.messages = r->stats.messages;
      }
      state->samples.push_back(s);
      --state->pending;
    });
    Run(spacing_ms);
  }
  RunUntil([&] { return state->pending == 0; }, 60'000);
  const std::vector<Sample>& samples = state->samples;
  LookupSummary summary;
  summary.lookups = samples.size();
  std::vector<double> times;
  for (const Sample& s : samples) {
    times.push_back(s.ms);
    summary.found += s.found ? 1 : 0;
    summary.mean_hops += s.hops;
    summary.mean_messages += s.messages;
  }
  if (!samples.empty()) {
    summary.mean_hops /= static_cast<double>(samples.size());
    summary.mean_messages /= static_cast<double>(samples.size());
  }
  summary.p50_ms = Percentile(times, 0.50);
  summary.p99_ms = Percentile(times, 0.99);
  return summary;
}

}  // namespace llamanet::dht
