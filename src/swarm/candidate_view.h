// A view of the swarm whose cost does not grow with the swarm (issue 12): for each model this
// node is asked for, a bounded set of candidate nodes, each polled directly every other
// heartbeat (one find_value of its own `node:<id>` record at its DHT port, with "value_only":
// two datagrams, no lookup; the poll names the digest of the copy held, and a record that did
// not change is not sent again). A poll also subscribes: the candidate pushes its record to its
// pollers the moment its load changes (DhtNode::Notify), so a slot filling or freeing is seen
// within a round trip, at a cost that follows the load changes, not the clock. Candidates come
// from small samples of `model:<name>` (SampleAsync: a lookup that ends once storing nodes sent
// it a few records, each drawn at random), taken every few heartbeats at a random point of the
// key's region in a large swarm (model_key.h); the worst candidate makes room for an untried
// one now and then, so the set drifts toward free nodes, ties drawn at random, and a candidate
// that stops answering goes. A model not asked for lately rests: nothing is
// polled or sampled for it until its next request. See docs/ARCHITECTURE.md for the figures.
//
// Thread-safe. Start() runs Tick() on a thread of its own four times a second; a driver of a
// driven DHT node (the swarm benchmark) calls Tick() itself instead.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dht/clock.h"
#include "dht/dht_node.h"
#include "protocol/identity.h"
#include "protocol/node_record.h"
#include "swarm/model_key.h"
#include "swarm/swarm_size.h"

namespace llamanet::swarm {

struct CandidateViewOptions {
  std::chrono::seconds heartbeat{10};
  size_t per_model = 16;     // candidates kept per model
  int poll_every = 2;        // heartbeats between polls of one candidate
  size_t sample = 16;        // records a discovery sample asks for
  int discover_every = 3;    // heartbeats between samples of one model's key
  size_t pool = 64;          // untried records kept per model
  int max_failures = 2;      // unanswered polls in a row before a candidate goes
  size_t max_models = 16;    // models kept at once; the one asked for least recently goes
  int rest_after = 6;        // heartbeats without a request before a model's candidates rest
  int forget_after = 30;     // heartbeats without a request before a model is dropped
  // Where samples of model keys aim once the swarm (this node's estimate) has more than
  // `sample_region_above` nodes: where publishers spread them (model_key.h).
  dht::Spread sample_region = kModelKeyRegion;
  size_t sample_region_above = kModelKeySpreadAbove;
  // Records (polled or sampled) older than this are not used.
  std::chrono::seconds max_age{30};

  // A node's, for its heartbeat: records live three heartbeats.
  static CandidateViewOptions ForHeartbeat(std::chrono::seconds heartbeat);
};

class CandidateView {
 public:
  CandidateView(dht::DhtNode& dht, std::function<protocol::NodeRecord()> self, CandidateViewOptions options,
                protocol::IdentityOptions identity, const dht::Clock& clock = dht::SystemClock::Instance(),
                uint64_t seed = 0);
  ~CandidateView();
  CandidateView(const CandidateView&) = delete;
  CandidateView& operator=(const CandidateView&) = delete;

  void Start();
  void Stop();
  // A model this node is asked for: from now on it keeps candidates for it, until it has not
  // been asked for in `forget_after` heartbeats. After `rest_after` heartbeats without a
  // request its candidates rest (no polls, no samples: an idle node costs the swarm only its
  // publishing); the next request polls them all at once. Cheap when known. True when the
  // model is new.
  bool Want(const std::string& model);
  // Whether Want(model) was called and the model is still kept.
  bool Wanted(const std::string& model) const;
  // For the first request of a model: runs its discovery now and waits, up to `timeout`, until
  // the candidates that answered are `enough` for the request, or discovery has no other node
  // to try. Not for a view driven by Tick().
  void WaitForCandidates(const std::string& model, std::chrono::milliseconds timeout,
                         const std::function<bool(const std::vector<protocol::NodeRecord>&)>& enough);
  // Records read elsewhere (the directory of all_nodes, swarm_view.h): those of a kept model
  // become untried candidates, as a sample's would, at no cost.
  void Offer(const std::vector<protocol::NodeRecord>& records);
  // Polls the candidates that are due, samples the models that are due; returns at once.
  void Tick();

  // The candidates of every wanted model that answered a poll, freshest record of each (what a
  // router chooses among).
  std::vector<protocol::NodeRecord> Peers() const;
  // The candidates of `model` only.
  std::vector<protocol::NodeRecord> Candidates(const std::string& model) const;
  // The models kept.
  std::vector<std::string> Models() const;

 private:
  struct Core;
  void Loop();
  static void Pushed(const std::shared_ptr<Core>& core, const dht::Record& record);
  // Samples `model:<name>` (DhtNode::SampleAsync) in the key's region (`sample_region`), or
  // among its own closest nodes, where a short sample of the region goes on.
  static void Sample(const std::shared_ptr<Core>& core, dht::DhtNode& dht, const std::string& model, bool in_region);

  dht::DhtNode& dht_;
  CachedSwarmSize swarm_size_;  // whether samples aim at model keys' regions
  std::shared_ptr<Core> core_;  // shared with the DHT callbacks, which may outlive a Stop
  std::mutex loop_mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by loop_mu_
  std::thread thread_;
};

}  // namespace llamanet::swarm
