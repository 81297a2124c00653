// The scalable view (issue 12) on the real DHT code over the simulated network, driven in
// virtual time: real Publishers with the scalable plan and CandidateViews on every node, and
// the directory of all_nodes (SwarmView) where a test asks for one.
#include "swarm/candidate_view.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <random>
#include <set>

#include "dht/node_id.h"
#include "dht/simulated_swarm.h"
#include "protocol/identity.h"
#include "protocol/lookup_records.h"
#include "swarm/publisher.h"
#include "swarm/swarm_view.h"

namespace llamanet::swarm {
namespace {

using dht::SimulatedSwarm;

constexpr int kHeartbeatS = 10;
constexpr int kNodes = 60;

class ScalableViewTest : public ::testing::Test {
 protected:
  struct Node {
    std::string node_id;
    std::string model;
    int free = 4;
    std::unique_ptr<Publisher> publisher;
    std::unique_ptr<CandidateView> view;
    std::unique_ptr<SwarmView> directory;
  };

  ScalableViewTest() : swarm_(dht::LinkModel{.latency_ms = 20, .jitter_ms = 10}, 7) {}

  protocol::NodeRecord RecordOf(size_t i) {
    protocol::NodeRecord r;
    r.node_id = nodes_[i].node_id;
    r.ip = SimulatedSwarm::EndpointOf(i).ip;
    r.port = 8000;
    r.dht_port = 8001;
    r.model = nodes_[i].model;
    r.slots = 4;
    r.free_slots = nodes_[i].free;
    r.load = (4.0 - nodes_[i].free) / 4;
    r.last_seen = swarm_.network().clock().WallSeconds();
    return r;
  }

  // `plan_of`, when set, gives a node a plan of its own (and `model_of` a model of its own).
  void Build(CandidateViewOptions options, PublishPlan plan = PublishPlan::Scalable(), size_t count = kNodes,
             const std::function<std::optional<PublishPlan>(size_t)>& plan_of = nullptr,
             const std::function<std::string(size_t)>& model_of = nullptr) {
    nodes_.resize(count);
    std::mt19937_64 rng(11);
    for (size_t i = 0; i < count; ++i) {
      dht::IdentityKey key = *dht::IdentityKey::Generate();
      nodes_[i].node_id = protocol::NodeIdFromPublicKey(key.public_key_hex());
      nodes_[i].model = model_of ? model_of(i) : i % 2 == 0 ? "even" : "odd";
      dht::DhtOptions o;
      o.node_id = dht::NodeId::Sha1(nodes_[i].node_id).ToHex();
      o.rng_seed = rng() | 1;
      o.record_ttl_s = 3 * kHeartbeatS;
      if (i > 0) o.bootstrap = {SimulatedSwarm::EndpointOf(0).ToString()};
      ASSERT_TRUE(swarm_.AddNode(o).ok());
      const dht::Clock& clock = swarm_.network().clock();
      nodes_[i].publisher = std::make_unique<Publisher>(swarm_.node(i), key, [this, i] { return RecordOf(i); },
                                                        std::chrono::seconds(kHeartbeatS), clock,
                                                        plan_of && plan_of(i) ? *plan_of(i) : plan);
      nodes_[i].view = std::make_unique<CandidateView>(swarm_.node(i), [this, i] { return RecordOf(i); }, options,
                                                       protocol::IdentityOptions{}, clock, o.rng_seed);
    }
    swarm_.Run(2000);
  }

  // Runs virtual time in 250 ms ticks, every publisher and view ticking, as their threads do.
  void Drive(int64_t ms) {
    const int64_t end = swarm_.network().clock().NowMs() + ms;
    while (swarm_.network().clock().NowMs() < end) {
      for (size_t i = 0; i < nodes_.size(); ++i) {
        nodes_[i].publisher->Tick();
        nodes_[i].view->Tick();
        if (nodes_[i].directory) nodes_[i].directory->Tick();
        swarm_.network().Reschedule(SimulatedSwarm::EndpointOf(i));
      }
      swarm_.network().RunFor(250);
    }
  }

  std::optional<protocol::NodeRecord> Seen(size_t viewer, size_t node) {
    for (protocol::NodeRecord& r : nodes_[viewer].view->Peers()) {
      if (r.node_id == nodes_[node].node_id) return r;
    }
    return std::nullopt;
  }

  void AddDirectory(size_t i, SwarmViewOptions options) {
    nodes_[i].directory = std::make_unique<SwarmView>(swarm_.node(i), [this, i] { return RecordOf(i); }, options,
                                                      protocol::IdentityOptions{}, swarm_.network().clock());
  }

  // Builds the swarm, node 0 asks for "odd" with room for `per_model` candidates, three
  // heartbeats pass: the candidates node 0 then holds.
  std::vector<protocol::NodeRecord> OddCandidatesOfNodeZero(size_t per_model) {
    CandidateViewOptions options;
    options.per_model = per_model;
    Build(options);
    nodes_[0].view->Want("odd");
    Drive(3 * kHeartbeatS * 1000);
    return nodes_[0].view->Peers();
  }

  SimulatedSwarm swarm_;
  std::vector<Node> nodes_;
};

TEST_F(ScalableViewTest, KeepsABoundedSetOfCandidatesServingTheModelAskedFor) {
  std::vector<protocol::NodeRecord> peers = OddCandidatesOfNodeZero(6);
  EXPECT_EQ(peers.size(), 6u);
  for (const protocol::NodeRecord& r : peers) EXPECT_EQ(r.model, "odd");
  EXPECT_TRUE(nodes_[0].view->Candidates("even").empty());  // never asked for
  EXPECT_TRUE(nodes_[1].view->Peers().empty());            // wants nothing
}

TEST_F(ScalableViewTest, RoutersChooseAmongEquallyGoodNodesAtRandom) {
  // 30 "odd" nodes, all equally free: ten routers with room for 4 candidates each must not all
  // pick the same 4 (by node id, say), or those 4 would answer every router's polls.
  CandidateViewOptions options;
  options.per_model = 4;
  Build(options);
  Drive(2 * kHeartbeatS * 1000);  // every node published
  for (size_t router = 0; router < 20; router += 2) nodes_[router].view->Want("odd");
  Drive(3 * kHeartbeatS * 1000);
  std::map<std::string, int> pollers;
  for (size_t router = 0; router < 20; router += 2) {
    for (const protocol::NodeRecord& r : nodes_[router].view->Candidates("odd")) ++pollers[r.node_id];
  }
  EXPECT_GE(pollers.size(), 12u) << "ten routers chose among " << pollers.size() << " of 30 equal nodes";
  for (const auto& [node, n] : pollers) EXPECT_LE(n, 7) << node << " is a candidate of " << n << " of 10 routers";
}

TEST_F(ScalableViewTest, ASlotFillingReachesTheRoutersHoldingTheNodeWellWithinAHeartbeat) {
  CandidateViewOptions options;
  options.per_model = 4;
  Build(options);
  for (size_t i = 0; i < nodes_.size(); i += 2) nodes_[i].view->Want("odd");
  Drive(3 * kHeartbeatS * 1000);
  // A candidate of node 0 gets busy; its publisher pushes the change to its pollers.
  std::vector<protocol::NodeRecord> peers = nodes_[0].view->Peers();
  ASSERT_FALSE(peers.empty());
  size_t target = 0;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].node_id == peers.front().node_id) target = i;
  }
  ASSERT_NE(target, 0u);
  const int before = nodes_[target].free;
  nodes_[target].free = before == 0 ? 3 : before - 1;
  const int64_t changed = swarm_.network().clock().NowMs();
  int64_t seen_after = -1;
  while (swarm_.network().clock().NowMs() - changed < kHeartbeatS * 1000) {
    Drive(250);
    std::optional<protocol::NodeRecord> r = Seen(0, target);
    if (r && r->free_slots == nodes_[target].free) {
      seen_after = swarm_.network().clock().NowMs() - changed;
      break;
    }
  }
  ASSERT_GE(seen_after, 0) << "the change was not seen within a heartbeat";
  EXPECT_LE(seen_after, 1000);  // pushed: a tick and a one-way trip, not a poll interval
}

TEST_F(ScalableViewTest, AllNodesStillCarriesTheSignedRecordsPythonNodesRead) {
  Build(CandidateViewOptions{});
  Drive(3 * kHeartbeatS * 1000);
  // What a Python node does: one get of all_nodes; it must find the C++ nodes there.
  std::optional<std::vector<dht::Record>> got;
  swarm_.Get(5, "all_nodes", [&](Result<dht::GetResult> r) { got = r.ok() ? r->records : std::vector<dht::Record>{}; });
  ASSERT_TRUE(swarm_.RunUntil([&] { return got.has_value(); }, 10'000));
  protocol::IdentityBook book;
  std::vector<protocol::NodeRecord> read = protocol::ReadNodeRecords(book, *got, swarm_.network().clock().WallSeconds());
  EXPECT_GE(read.size(), kNodes * 9 / 10) << "all_nodes holds " << read.size() << " of " << kNodes;
  for (const dht::Record& r : *got) EXPECT_TRUE(r.is_signed());
}

TEST_F(ScalableViewTest, InALargeSwarmAllNodesHoldsARotatingShareOfTheNodes) {
  // Thresholds scaled down to this 60-node swarm: above 10 nodes, about 12 publish to
  // all_nodes, spread over the key's closest nodes. A node of a share publishes for several
  // rounds (its first publish costs a lookup, the next ones reuse it), so two reads a round
  // apart hold mostly the same nodes; over many rounds the share still goes round the swarm.
  PublishPlan plan = PublishPlan::Scalable();
  int share_rounds = 0;
  for (PublishPlan::Entry& e : plan.keys) {
    if (e.key != PublishPlan::Key::kAllNodes) continue;
    e.spread_above = 10;
    e.publishers_at_most = 12;
    share_rounds = e.share_rounds;
  }
  ASSERT_GE(share_rounds, 2);
  Build(CandidateViewOptions{}, plan);
  auto read_all_nodes = [&](size_t reader) {
    std::optional<std::vector<dht::Record>> got;
    swarm_.Get(reader, "all_nodes", [&](Result<dht::GetResult> r) { got = r.ok() ? r->records : std::vector<dht::Record>{}; });
    EXPECT_TRUE(swarm_.RunUntil([&] { return got.has_value(); }, 10'000));
    std::set<std::string> ids;
    for (const dht::Record& r : got.value_or(std::vector<dht::Record>{})) ids.insert(r.node_id);
    return ids;
  };
  Drive(3 * kHeartbeatS * 1000);  // the first round publishes everywhere (a starting node's size is unknown)
  Drive(2 * kHeartbeatS * 1000);  // and its records expire
  std::set<std::string> seen;
  std::set<std::string> before;
  size_t kept = 0, held = 0;
  for (int round = 0; round < 4 * share_rounds; ++round) {
    Drive(2 * kHeartbeatS * 1000);
    std::set<std::string> now = read_all_nodes(5);
    EXPECT_GE(now.size(), 3u);
    EXPECT_LE(now.size(), 40u) << "every node still publishes to all_nodes";
    if (!before.empty()) {
      held += now.size();
      for (const std::string& id : now) kept += before.count(id);
    }
    seen.insert(now.begin(), now.end());
    before = std::move(now);
  }
  EXPECT_GT(seen.size(), 24u) << "the share does not rotate";  // the same 12 or so each round
  EXPECT_GE(kept * 10, held * 6) << kept << " of " << held << " nodes were in the read a round before";
}

TEST_F(ScalableViewTest, ASampleOfAModelKeysRegionThatComesUpShortReadsTheKeysClosestNodes) {
  // 320 nodes; the samplers aim at a region of half the swarm (prefix 1), where the "common"
  // model's publishers spread their records. The two nodes of "rare" publish to the key's own
  // closest nodes only, as publishers whose estimate of the swarm is below the spreading
  // threshold do: a region sample finds (almost) none of them and must read there.
  constexpr size_t kWide = 320;
  PublishPlan spread = PublishPlan::Scalable();
  for (PublishPlan::Entry& e : spread.keys) {
    if (e.key == PublishPlan::Key::kModel) e.region = dht::Spread{1};
  }
  PublishPlan near = PublishPlan::Scalable();
  for (PublishPlan::Entry& e : near.keys) e.spread_above = SIZE_MAX;
  CandidateViewOptions options;
  options.sample_region = dht::Spread{1};
  auto rare = [](size_t i) { return i == 7 || i == 8; };
  Build(options, spread, kWide, [&](size_t i) { return rare(i) ? std::optional<PublishPlan>(near) : std::nullopt; },
        [&](size_t i) { return rare(i) ? "rare" : "common"; });
  Drive(2 * kHeartbeatS * 1000);  // every key published, routing tables full
  for (size_t reader : {100, 200, 300}) {
    nodes_[reader].view->Want("rare");
    nodes_[reader].view->Want("common");
  }
  Drive(2 * kHeartbeatS * 1000);
  for (size_t reader : {100, 200, 300}) {
    std::set<std::string> found;
    for (const protocol::NodeRecord& r : nodes_[reader].view->Candidates("rare")) found.insert(r.node_id);
    EXPECT_EQ(found, (std::set<std::string>{nodes_[7].node_id, nodes_[8].node_id})) << "reader " << reader;
    EXPECT_GE(nodes_[reader].view->Candidates("common").size(), 12u) << "reader " << reader;
  }
}

// An upgrade under way: half the nodes run the previous release, which keeps every copy of a
// model record among the key's k closest and samples there; the other half run this one. Both
// kinds of routers fill their candidates, old routers with new publishers among them, and new
// routers find a model that only old nodes serve. At 320 nodes a model key's region (a
// sixteenth of the swarm) is about its k closest, so this checks that the releases work
// together at this size; the mechanisms that keep it so in larger swarms (the copy among the
// key's k closest, the fallback of a short region sample) have tests of their own above.
TEST_F(ScalableViewTest, NodesOfThePreviousReleaseAndOfThisOneFindEachOther) {
  constexpr size_t kWide = 320;
  PublishPlan previous = PublishPlan::Scalable();
  for (PublishPlan::Entry& e : previous.keys) {
    if (e.key == PublishPlan::Key::kModel) e.region_replicas = 0;
  }
  auto old_release = [](size_t i) { return i % 2 == 1; };
  Build(CandidateViewOptions{}, PublishPlan::Scalable(), kWide,
        [&](size_t i) { return old_release(i) ? std::optional<PublishPlan>(previous) : std::nullopt; },
        [&](size_t i) { return i % 16 == 1 ? "legacy" : "shared"; });  // legacy: 20 old nodes
  CandidateViewOptions previous_view;
  previous_view.sample_region_above = SIZE_MAX;
  const std::vector<size_t> old_routers = {101, 201, 301}, new_routers = {100, 200, 300};
  for (size_t r : old_routers) {
    nodes_[r].view = std::make_unique<CandidateView>(swarm_.node(r), [this, r] { return RecordOf(r); }, previous_view,
                                                     protocol::IdentityOptions{}, swarm_.network().clock(), r + 1);
  }
  Drive(2 * kHeartbeatS * 1000);
  for (size_t r : old_routers) nodes_[r].view->Want("shared");
  for (size_t r : new_routers) {
    nodes_[r].view->Want("shared");
    nodes_[r].view->Want("legacy");
  }
  Drive(3 * kHeartbeatS * 1000);
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < kWide; ++i) index[nodes_[i].node_id] = i;
  size_t new_seen_by_old = 0;
  for (size_t r : old_routers) {
    std::vector<protocol::NodeRecord> got = nodes_[r].view->Candidates("shared");
    EXPECT_GE(got.size(), 12u) << "old router " << r;
    for (const protocol::NodeRecord& c : got) new_seen_by_old += old_release(index.at(c.node_id)) ? 0 : 1;
  }
  EXPECT_GE(new_seen_by_old, 10u);  // 21 to 29 in six runs
  for (size_t r : new_routers) {
    EXPECT_GE(nodes_[r].view->Candidates("shared").size(), 12u) << "new router " << r;
    EXPECT_GE(nodes_[r].view->Candidates("legacy").size(), 12u) << "new router " << r;
  }
}

TEST_F(ScalableViewTest, ACandidateThatStopsAnsweringIsReplaced) {
  std::vector<protocol::NodeRecord> peers = OddCandidatesOfNodeZero(4);
  ASSERT_EQ(peers.size(), 4u);
  size_t dead = 0;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].node_id == peers.front().node_id) dead = i;
  }
  swarm_.Kill(dead);
  // Two unanswered polls (a poll every 2 heartbeats) and the dead node is gone.
  for (int beat = 0; beat < 6; ++beat) {
    nodes_[0].view->Want("odd");  // still routing: its candidates do not rest
    Drive(kHeartbeatS * 1000);
  }
  EXPECT_FALSE(Seen(0, dead).has_value());
  EXPECT_EQ(nodes_[0].view->Peers().size(), 4u);
}

TEST_F(ScalableViewTest, AModelNotAskedForRestsAndIsPolledAgainAtTheNextRequest) {
  std::vector<protocol::NodeRecord> peers = OddCandidatesOfNodeZero(4);
  ASSERT_EQ(peers.size(), 4u);
  const std::string zero = SimulatedSwarm::EndpointOf(0).ToString();
  size_t polls = 0;
  swarm_.network().SetTap([&](const dht::Endpoint& from, const dht::Endpoint&, std::string_view datagram) {
    if (from.ToString() == zero && datagram.find(R"("value_only":true)") != std::string_view::npos) ++polls;
  });
  // Asked for 3 heartbeats ago; it rests after 6, and then polls nothing.
  Drive(4 * kHeartbeatS * 1000);
  EXPECT_GT(polls, 0u);
  polls = 0;
  Drive(6 * kHeartbeatS * 1000);
  EXPECT_EQ(polls, 0u);
  EXPECT_TRUE(nodes_[0].view->Wanted("odd"));  // kept, for the next request
  // The next request: every candidate is polled at once and can be routed to within a second.
  nodes_[0].view->Want("odd");
  Drive(1000);
  EXPECT_GE(polls, 4u);
  EXPECT_EQ(nodes_[0].view->Peers().size(), 4u);
  swarm_.network().SetTap(nullptr);
}

TEST_F(ScalableViewTest, ModelsKeptAreBoundedAndForgottenOnceNoLongerAskedFor) {
  CandidateViewOptions options;
  options.max_models = 2;
  options.forget_after = 3;
  Build(options);
  CandidateView& view = *nodes_[0].view;
  EXPECT_TRUE(view.Want("odd"));   // new
  EXPECT_FALSE(view.Want("odd"));  // known: only its last request is noted
  Drive(1000);
  view.Want("even");
  Drive(1000);
  view.Want("no-such-model");  // the least recently asked for ("odd") makes room
  EXPECT_FALSE(view.Wanted("odd"));
  EXPECT_TRUE(view.Wanted("even"));
  EXPECT_EQ(view.Models().size(), 2u);
  for (int beat = 0; beat < 4; ++beat) {
    view.Want("even");
    Drive(kHeartbeatS * 1000);
  }
  EXPECT_TRUE(view.Wanted("even"));
  EXPECT_FALSE(view.Candidates("even").empty());
  EXPECT_FALSE(view.Wanted("no-such-model"));  // not asked for in over 3 heartbeats
  Drive(4 * kHeartbeatS * 1000);
  EXPECT_TRUE(view.Models().empty());
  EXPECT_TRUE(view.Peers().empty());
}

TEST_F(ScalableViewTest, TheDirectoryIsWholeWhenReadWholeAndAGrowingUnionWhenSampled) {
  Build(CandidateViewOptions{});
  SwarmViewOptions whole = SwarmViewOptions::ForHeartbeat(std::chrono::seconds(kHeartbeatS));
  whole.sample = 0;
  whole.demand_window = std::chrono::milliseconds(0);
  AddDirectory(0, whole);
  SwarmViewOptions sampled = whole;
  sampled.sample = 8;
  sampled.sampled_refresh = std::chrono::seconds(2);
  AddDirectory(1, sampled);
  Drive(3 * kHeartbeatS * 1000);
  EXPECT_FALSE(nodes_[0].directory->Sampled());
  EXPECT_GE(nodes_[0].directory->Nodes().size(), kNodes * 9 / 10);
  // 60 records are more than the 8 it samples at: after the first read, each is 8 drawn at random.
  EXPECT_TRUE(nodes_[1].directory->Sampled());
  const size_t union_size = nodes_[1].directory->Nodes().size();
  EXPECT_GT(union_size, 8u);
  EXPECT_LE(union_size, size_t{kNodes});
  for (const protocol::NodeRecord& r : nodes_[1].directory->Peers()) EXPECT_NE(r.node_id, nodes_[1].node_id);
}

TEST_F(ScalableViewTest, TheDirectoryIsReadOnlyWhileSomeoneUsesIt) {
  Build(CandidateViewOptions{});
  AddDirectory(0, SwarmViewOptions::ForHeartbeat(std::chrono::seconds(kHeartbeatS)));
  SwarmView& directory = *nodes_[0].directory;
  Drive(3 * kHeartbeatS * 1000);
  EXPECT_EQ(directory.Nodes().size(), 1u);  // itself: nobody asked, nothing read
  directory.Demand(std::chrono::milliseconds(0));
  Drive(2000);
  EXPECT_GT(directory.Nodes().size(), 10u);
  // Unused for longer than the demand window and the records' life: no read kept them.
  Drive(7 * kHeartbeatS * 1000);
  EXPECT_EQ(directory.Nodes().size(), 1u);
}

}  // namespace
}  // namespace llamanet::swarm
