// A regression run of the simulation benchmark: 200 nodes on the in-memory network (20 ms one
// way), lookups of published records, then 20% of the nodes killed at once without warning.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>
#include <set>

#include "dht/simulated_swarm.h"

namespace llamanet::dht {
namespace {

class SimulationTest : public ::testing::Test {
 protected:
  SimulationTest() : swarm_(LinkModel{.latency_ms = 20}, 2024) {}
  void Grow(size_t nodes) {
    DhtOptions base;
    base.record_ttl_s = 30;
    ASSERT_TRUE(swarm_.Grow(nodes, base, 20, 200).ok());
    swarm_.Run(2000);
  }

  std::vector<std::pair<size_t, size_t>> Pairs(size_t n, const std::vector<size_t>& from, const std::vector<size_t>& to) {
    std::vector<std::pair<size_t, size_t>> out;
    for (size_t i = 0; i < n; ++i) out.emplace_back(from[rng_() % from.size()], to[rng_() % to.size()]);
    return out;
  }

  SimulatedSwarm swarm_;
  std::mt19937_64 rng_{5};
};

TEST_F(SimulationTest, LookupsSurviveAFifthOfTheNodesDyingAtOnce) {
  constexpr size_t kNodes = 200;
  Grow(kNodes);
  ASSERT_EQ(swarm_.PublishAll(), kNodes);
  std::vector<size_t> all(kNodes);
  for (size_t i = 0; i < kNodes; ++i) all[i] = i;
  LookupSummary before = swarm_.MeasureLookups(Pairs(100, all, all), 5);
  EXPECT_EQ(before.found, before.lookups);

  std::vector<size_t> live, dead;
  for (size_t i = 0; i < kNodes; ++i) (i % 5 == 3 ? dead : live).push_back(i);
  for (size_t i : dead) swarm_.Kill(i);
  LookupSummary after = swarm_.MeasureLookups(Pairs(100, live, live), 5);
  EXPECT_GE(after.success(), 0.99);
  EXPECT_LE(after.p50_ms, 2 * before.p50_ms) << "before p50 " << before.p50_ms;

  // Dead nodes' records are gone within their expiry (30 s); live ones republished as a
  // heartbeat would (here only those looked up, to keep the test short) stay.
  swarm_.Run(20'000);
  auto kept_pairs = Pairs(40, live, live);
  size_t republished = 0;
  for (const auto& [from, target] : kept_pairs) {
    swarm_.Publish(target, SimulatedSwarm::NodeKey(swarm_.node(target)), swarm_.NodeRecord(target),
                   [&](Result<size_t> r) { republished += r.ok() ? 1 : 0; });
  }
  ASSERT_TRUE(swarm_.RunUntil([&] { return republished == kept_pairs.size(); }, 10'000));
  swarm_.Run(11'000);
  LookupSummary gone = swarm_.MeasureLookups(Pairs(40, live, dead), 5);
  EXPECT_EQ(gone.found, 0u);
  LookupSummary kept = swarm_.MeasureLookups(kept_pairs, 5);
  EXPECT_EQ(kept.found, kept.lookups);
}

TEST_F(SimulationTest, GetReturnsEveryLiveRecordOfAKeyWithManyPublishers) {
  Grow(100);
  // 50 publishers under one key, records padded so that the set spans several datagrams.
  std::set<std::string> expected;
  size_t pending = 0;
  for (size_t i = 0; i < 50; ++i) {
    const size_t publisher = i * 2;
    auto record = ParseRecord(R"({"node_id":")" + swarm_.node(publisher).id().ToHex() + R"(","last_seen":)" +
                              std::to_string(swarm_.network().clock().WallSeconds()) + R"(,"pad":")" +
                              std::string(200, 'p') + "\"}");
    ASSERT_TRUE(record.ok());
    expected.insert(record->node_id);
    ++pending;
    swarm_.Publish(publisher, "model:shared", *record, [&](Result<size_t> r) {
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      --pending;
    });
  }
  ASSERT_TRUE(swarm_.RunUntil([&] { return pending == 0; }, 30'000));
  size_t complete = 0;
  for (size_t g = 0; g < 10; ++g) {
    bool done = false;
    swarm_.Get(1 + g * 9, "model:shared", [&](Result<GetResult> r) {
      ASSERT_TRUE(r.ok());
      std::set<std::string> got;
      for (const auto& rec : r->records) got.insert(rec.node_id);
      if (got == expected) ++complete;
      done = true;
    });
    ASSERT_TRUE(swarm_.RunUntil([&] { return done; }, 30'000));
  }
  EXPECT_EQ(complete, 10u);
}

TEST_F(SimulationTest, WithdrawnRecordsDisappearAtOnce) {
  Grow(100);
  const size_t leaver = 17;
  const std::string key = SimulatedSwarm::NodeKey(swarm_.node(leaver));
  bool published = false;
  swarm_.Publish(leaver, key, swarm_.NodeRecord(leaver), [&](Result<size_t> r) { published = r.ok(); });
  ASSERT_TRUE(swarm_.RunUntil([&] { return published; }, 10'000));
  const std::vector<std::pair<size_t, size_t>> lookup = {{1, leaver}};
  ASSERT_EQ(swarm_.MeasureLookups(lookup, 5).found, 1u);
  swarm_.Run(1000);
  Record tomb = MakeTombstone(swarm_.NodeRecord(leaver), swarm_.network().clock().WallSeconds());
  published = false;
  swarm_.Publish(leaver, key, tomb, [&](Result<size_t> r) { published = r.ok(); });
  ASSERT_TRUE(swarm_.RunUntil([&] { return published; }, 10'000));
  swarm_.Kill(leaver);
  LookupSummary s = swarm_.MeasureLookups({{1, leaver}, {50, leaver}, {99, leaver}}, 5);
  EXPECT_EQ(s.found, 0u);
}

TEST_F(SimulationTest, SpreadReplicasShareAKeyAmongItsClosestNodes) {
  Grow(60);
  // 50 publishers, 3 replicas each: on the 3 nearest nodes of the key, or spread over its k
  // closest.
  auto holders = [&](const std::string& key, std::optional<Spread> spread) {
    size_t stored = 0;
    for (size_t i = 0; i < 50; ++i) {
      swarm_.node(i).PublishAsync(key, swarm_.NodeRecord(i), [&](Result<size_t> r) { stored += r.ok() ? 1 : 0; }, 3, spread).Detach();
      swarm_.network().Reschedule(SimulatedSwarm::EndpointOf(i));
    }
    EXPECT_TRUE(swarm_.RunUntil([&] { return stored == 50; }, 10'000));
    // Publishers keep their own record too: a storing node is one that holds others'.
    size_t n = 0;
    for (size_t i = 0; i < 60; ++i) {
      std::optional<size_t> held;
      swarm_.node(59 - (i == 59)).AskAsync(SimulatedSwarm::EndpointOf(i), key, "", [&](Result<GetResult> r) {
            held = r.ok() ? r->records.size() : 0;
          }).Detach();
      swarm_.network().Reschedule(SimulatedSwarm::EndpointOf(59 - (i == 59)));
      EXPECT_TRUE(swarm_.RunUntil([&] { return held.has_value(); }, 5'000));
      n += held.value_or(0) >= 3 ? 1 : 0;
    }
    return n;
  };
  const size_t near = holders("model:near", std::nullopt);
  const size_t spread = holders("model:spread", Spread{});
  EXPECT_LE(near, 6u);
  EXPECT_GE(spread, 2 * near);
  EXPECT_GE(spread, 10u);
  // A whole read still finds every record: it merges the k closest.
  std::optional<GetResult> all;
  swarm_.Get(55, "model:spread", [&](Result<GetResult> r) { all = r.ok() ? *r : GetResult{}; });
  ASSERT_TRUE(swarm_.RunUntil([&] { return all.has_value(); }, 10'000));
  EXPECT_EQ(all->records.size(), 50u);
}

TEST_F(SimulationTest, ARegionSpreadKeyIsStoredAndSampledAcrossAShareOfTheSwarm) {
  // A key spread over a quarter of a 320-node swarm (prefix 2 bits: about 80 nodes) is held
  // by several times the k nodes that hold it spread among its own closest, all inside its
  // region, and samples aimed at random points of the region find its records there.
  Grow(320);
  const Spread region{2};
  auto storing_nodes = [&](const std::string& key, Spread spread) {
    size_t stored = 0;
    for (size_t i = 0; i < 160; ++i) {
      swarm_.node(i).PublishAsync(key, swarm_.NodeRecord(i), [&](Result<size_t> r) { stored += r.ok() ? 1 : 0; }, 3, spread).Detach();
      swarm_.network().Reschedule(SimulatedSwarm::EndpointOf(i));
    }
    EXPECT_TRUE(swarm_.RunUntil([&] { return stored == 160; }, 20'000));
    std::vector<size_t> holders;  // of others' records: a publisher keeps its own
    for (size_t i = 0; i < 320; ++i) {
      std::optional<size_t> held;
      const size_t asker = i == 319 ? 318 : 319;
      swarm_.node(asker).AskAsync(SimulatedSwarm::EndpointOf(i), key, "", [&](Result<GetResult> r) {
            held = r.ok() ? r->records.size() : 0;
          }).Detach();
      swarm_.network().Reschedule(SimulatedSwarm::EndpointOf(asker));
      EXPECT_TRUE(swarm_.RunUntil([&] { return held.has_value(); }, 5'000));
      if (held.value_or(0) > (i < 160 ? 1u : 0u)) holders.push_back(i);
    }
    return holders;
  };
  const std::vector<size_t> closest = storing_nodes("model:closest", Spread{});
  const std::vector<size_t> wide = storing_nodes("model:wide", region);
  // Lookups from different places do not all end at the very same k closest: about 40 here.
  EXPECT_GE(wide.size(), 60u) << "the region spread over " << wide.size() << " nodes only";
  EXPECT_GE(wide.size(), closest.size() * 3 / 2) << "the region spread no wider than the k closest";
  const NodeId key_target = KeyTarget("model:wide");
  size_t outside = 0;
  for (size_t i : wide) outside += swarm_.node(i).id().DistanceBit(key_target) >= 160 - region.prefix_bits ? 1 : 0;
  EXPECT_LE(outside, wide.size() / 20) << outside << " storing nodes outside the region";

  std::set<std::string> sampled;
  for (size_t reader = 300; reader < 310; ++reader) {
    std::optional<GetResult> one;
    swarm_.node(reader).SampleAsync("model:wide", 16, [&](Result<GetResult> r) { one = r.ok() ? *r : GetResult{}; }, region)
        .Detach();
    swarm_.network().Reschedule(SimulatedSwarm::EndpointOf(reader));
    ASSERT_TRUE(swarm_.RunUntil([&] { return one.has_value(); }, 10'000));
    EXPECT_GE(one->records.size(), 12u) << "reader " << reader;
    for (const Record& r : one->records) sampled.insert(r.node_id);
  }
  // Ten samples from different places of the region: well over the 16 one place would give.
  EXPECT_GE(sampled.size(), 60u);
}

// Node 0, which every node bootstrapped from, sits in every routing table. Lookups that many
// nodes make toward a spread key near node 0 (samples of a region, publishes spread among a
// key's closest) must not take their first hop there from everywhere: each starts from
// contacts near its target drawn at random.
TEST_F(SimulationTest, SpreadLookupsDoNotAllStartAtTheSameOldNode) {
  Grow(320);
  const Spread region{3};  // 40 nodes
  const NodeId zero = swarm_.node(0).id();
  std::string key;
  for (int i = 0; key.empty(); ++i) {
    const std::string k = "model:m" + std::to_string(i);
    if (KeyTarget(k).DistanceBit(zero) < 160 - region.prefix_bits) key = k;
  }
  const std::string zero_at = SimulatedSwarm::EndpointOf(0).ToString();
  // The share of 60 lookups (from 60 nodes) whose first three requests of `type` include node 0.
  auto first_hops_at_zero = [&](const char* type, const std::function<void(size_t, bool&)>& lookup) {
    size_t first = 0, at_zero = 0, sent = 0;
    const std::string pattern = std::string(R"("type":")") + type + '"';
    swarm_.network().SetTap([&](const Endpoint&, const Endpoint& to, std::string_view datagram) {
      if (datagram.find(pattern) == std::string_view::npos || sent++ >= 3) return;
      ++first;
      at_zero += to.ToString() == zero_at ? 1 : 0;
    });
    for (size_t from = 100; from < 160; ++from) {
      sent = 0;
      bool done = false;
      lookup(from, done);
      swarm_.network().Reschedule(SimulatedSwarm::EndpointOf(from));
      EXPECT_TRUE(swarm_.RunUntil([&] { return done; }, 10'000));
    }
    swarm_.network().SetTap(nullptr);
    EXPECT_EQ(first, 180u) << type;
    return at_zero;
  };
  const size_t samples = first_hops_at_zero("find_value", [&](size_t from, bool& done) {
    swarm_.node(from).SampleAsync(key, 16, [&](Result<GetResult>) { done = true; }, region).Detach();
  });
  const size_t publishes = first_hops_at_zero("find_node", [&](size_t from, bool& done) {
    swarm_.node(from).PublishAsync(key, swarm_.NodeRecord(from), [&](Result<size_t>) { done = true; }, 3, Spread{}).Detach();
  });
  // From the nearest contacts node 0 was a first hop of 50 samples in 60 and of 28 publishes;
  // from random ones, of 11 and 11.
  EXPECT_LE(samples, 20u);
  EXPECT_LE(publishes, 18u);
}

TEST_F(SimulationTest, SampleAskNotifyAndFewReplicas) {
  // The calls the scalable swarm view (swarm/candidate_view.h) is made of.
  Grow(60);
  auto record_of = [&](size_t i, int load) {
    return *ParseRecord(R"({"node_id":")" + swarm_.node(i).id().ToHex() + R"(","load":)" + std::to_string(load) +
                        R"(,"pad":")" + std::string(300, 'p') + R"(","last_seen":)" +
                        std::to_string(swarm_.network().clock().WallSeconds()) + "}");
  };
  // 50 publishers to 3 replicas each: a reader looking up k still finds them all.
  size_t stored = 0;
  for (size_t i = 0; i < 50; ++i) {
    swarm_.node(i).PublishAsync("model:few", record_of(i, 0), [&](Result<size_t> r) { stored += r.ok() ? 1 : 0; }, 3)
        .Detach();
    swarm_.network().Reschedule(SimulatedSwarm::EndpointOf(i));
  }
  ASSERT_TRUE(swarm_.RunUntil([&] { return stored == 50; }, 10'000));
  std::optional<GetResult> all;
  swarm_.Get(55, "model:few", [&](Result<GetResult> r) { all = r.ok() ? *r : GetResult{}; });
  ASSERT_TRUE(swarm_.RunUntil([&] { return all.has_value(); }, 10'000));
  EXPECT_EQ(all->records.size(), 50u);
  EXPECT_FALSE(all->partial);

  // A sample of 10 costs less than the whole set and returns at least 10 (a page or two).
  std::optional<GetResult> sample;
  swarm_.node(56).SampleAsync("model:few", 10, [&](Result<GetResult> r) { sample = r.ok() ? *r : GetResult{}; }).Detach();
  swarm_.network().Reschedule(SimulatedSwarm::EndpointOf(56));
  ASSERT_TRUE(swarm_.RunUntil([&] { return sample.has_value(); }, 10'000));
  EXPECT_GE(sample->records.size(), 10u);
  EXPECT_LT(sample->records.size(), 50u);
  EXPECT_LT(sample->stats.messages, all->stats.messages);
  EXPECT_TRUE(sample->partial);  // so a reader does not take a missing record for a gone node
  // Samples are drawn at random by the storing nodes: samplers do not all get the same few
  // nodes (who would then answer every sampler's polls).
  stored = 0;
  for (size_t i = 0; i < 50; ++i) {
    swarm_.node(i).PublishAsync("model:many", record_of(i, 0), [&](Result<size_t> r) { stored += r.ok() ? 1 : 0; })
        .Detach();
    swarm_.network().Reschedule(SimulatedSwarm::EndpointOf(i));
  }
  ASSERT_TRUE(swarm_.RunUntil([&] { return stored == 50; }, 10'000));
  std::set<std::string> sampled;
  for (size_t reader = 50; reader < 56; ++reader) {
    std::optional<GetResult> one;
    swarm_.node(reader).SampleAsync("model:many", 10, [&](Result<GetResult> r) { one = r.ok() ? *r : GetResult{}; }).Detach();
    swarm_.network().Reschedule(SimulatedSwarm::EndpointOf(reader));
    ASSERT_TRUE(swarm_.RunUntil([&] { return one.has_value(); }, 10'000));
    EXPECT_GE(one->records.size(), 10u);
    for (const Record& r : one->records) sampled.insert(r.node_id);
  }
  // Six random draws of 10 of 50 name about 37 nodes; six copies of the same first records, 10 to 16.
  EXPECT_GE(sampled.size(), 25u) << "six samples of 10 named only " << sampled.size() << " of 50 nodes";

  // A small set (fits a page): the sample holds all of it, says so, and ends once three
  // storing nodes answered instead of asking on for 10 records that do not exist.
  stored = 0;
  for (size_t i = 0; i < 5; ++i) {
    swarm_.node(i).PublishAsync("model:small", record_of(i, 0), [&](Result<size_t> r) { stored += r.ok() ? 1 : 0; }, 3)
        .Detach();
    swarm_.network().Reschedule(SimulatedSwarm::EndpointOf(i));
  }
  ASSERT_TRUE(swarm_.RunUntil([&] { return stored == 5; }, 10'000));
  std::optional<GetResult> whole, small;
  swarm_.Get(57, "model:small", [&](Result<GetResult> r) { whole = r.ok() ? *r : GetResult{}; });
  ASSERT_TRUE(swarm_.RunUntil([&] { return whole.has_value(); }, 10'000));
  swarm_.node(58).SampleAsync("model:small", 10, [&](Result<GetResult> r) { small = r.ok() ? *r : GetResult{}; }).Detach();
  swarm_.network().Reschedule(SimulatedSwarm::EndpointOf(58));
  ASSERT_TRUE(swarm_.RunUntil([&] { return small.has_value(); }, 10'000));
  EXPECT_EQ(small->records.size(), 5u);
  EXPECT_FALSE(small->partial);
  EXPECT_LT(small->stats.messages, whole->stats.messages);

  // Here only: no lookup, no datagram; an Ask at the node answers with it.
  const uint64_t sent = swarm_.node(7).Snapshot().counters.datagrams_out;
  std::optional<Result<size_t>> local;
  swarm_.node(7).PublishAsync("node:" + swarm_.node(7).id().ToHex(), record_of(7, 1), [&](Result<size_t> r) { local = r; }, 0)
      .Detach();
  ASSERT_TRUE(local && local->ok());
  EXPECT_EQ(**local, 1u);
  EXPECT_EQ(swarm_.node(7).Snapshot().counters.datagrams_out, sent);
  std::vector<Record> got;
  bool unchanged = false;
  auto ask = [&](std::string known = "") {
    got.clear();
    unchanged = false;
    bool done = false;
    swarm_.node(8).AskAsync(SimulatedSwarm::EndpointOf(7), "node:" + swarm_.node(7).id().ToHex(), known, [&](Result<GetResult> r) {
          if (r.ok()) got = r->records;
          unchanged = r.ok() && r->unchanged;
          done = true;
        }).Detach();
    swarm_.network().Reschedule(SimulatedSwarm::EndpointOf(8));
    return swarm_.RunUntil([&] { return done; }, 5'000);
  };
  ASSERT_TRUE(ask());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NE(got[0].json.find(R"("load":1)"), std::string::npos);
  // A poll that names the digest of what it holds gets "unchanged", not the record again, and
  // still subscribes (with the token now: node 8 becomes a watcher of node:<7>).
  const std::string digest = ContentDigest(got[0]);
  const uint64_t bytes_before = swarm_.node(7).Snapshot().counters.bytes_out;
  ASSERT_TRUE(ask(digest));
  EXPECT_TRUE(unchanged);
  EXPECT_TRUE(got.empty());
  EXPECT_LT(swarm_.node(7).Snapshot().counters.bytes_out - bytes_before, 250u);
  ASSERT_TRUE(ask(std::string(16, '0')));  // another digest: the record
  EXPECT_FALSE(unchanged);
  ASSERT_EQ(got.size(), 1u);

  // A change notified by node 7 reaches node 8 at once, as a store.
  std::vector<std::string> observed;
  swarm_.node(8).SetStoreObserver([&](const std::string& key, const Record& r) { observed.push_back(key + " " + r.json); });
  swarm_.Run(100);
  swarm_.node(7).Notify("node:" + swarm_.node(7).id().ToHex(), record_of(7, 2));
  swarm_.network().Reschedule(SimulatedSwarm::EndpointOf(7));
  ASSERT_TRUE(swarm_.RunUntil([&] { return !observed.empty(); }, 1'000));
  EXPECT_NE(observed[0].find(R"("load":2)"), std::string::npos);
  ASSERT_TRUE(ask(digest));  // what node 8 held before the change: no longer what 7 says
  EXPECT_FALSE(unchanged);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NE(got[0].json.find(R"("load":2)"), std::string::npos);
}

// A swarm restarting: 400 nodes join within 0.4 s, so that most join lookups run before the
// nodes they should find have joined. The second join lookup, 10 s later, fills the gaps.
TEST_F(SimulationTest, ACrowdJoiningAtOnceLearnsEachNodesNearestNodes) {
  constexpr size_t kNodes = 400;
  DhtOptions base;
  ASSERT_TRUE(swarm_.Grow(kNodes, base, 100, 100).ok());
  swarm_.Run(base.second_join_lookup_ms + 5000);
  size_t complete = 0;
  for (size_t i = 0; i < kNodes; ++i) {
    const NodeId me = swarm_.node(i).id();
    std::vector<NodeId> others;
    for (size_t j = 0; j < kNodes; ++j) {
      if (j != i) others.push_back(swarm_.node(j).id());
    }
    std::partial_sort(others.begin(), others.begin() + 20, others.end(),
                      [&](const NodeId& a, const NodeId& b) { return NodeId::Closer(me, a, b); });
    std::set<std::string> table;
    for (const DhtContact& c : swarm_.node(i).Snapshot().contacts) table.insert(c.node_id);
    size_t known = 0;
    for (size_t j = 0; j < 20; ++j) known += table.count(others[j].ToHex());
    complete += known == 20 ? 1 : 0;
  }
  // Without the second lookup: 88 of 400.
  EXPECT_GE(complete, kNodes * 95 / 100) << "nodes whose table holds their 20 nearest";
}

}  // namespace
}  // namespace llamanet::dht
