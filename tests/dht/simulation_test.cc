// A regression run of the simulation benchmark: 200 nodes on the in-memory network (20 ms one
// way), lookups of published records, then 20% of the nodes killed at once without warning.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace llamanet::dht
