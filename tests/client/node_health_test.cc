#include "client/node_health.h"

#include <gtest/gtest.h>

namespace llamanet::client {
namespace {

using namespace std::chrono_literals;

TEST(NodeHealthTest, FailedNodeIsAvoidedForItsSpanOnly) {
  NodeHealth::Clock::time_point now{};
  NodeHealth h(30s, [&] { return now; });
  EXPECT_FALSE(h.Avoided("a"));
  h.MarkFailed("a");
  EXPECT_TRUE(h.Avoided("a"));
  EXPECT_FALSE(h.Avoided("b"));
  now += 29s;
  EXPECT_TRUE(h.Avoided("a"));
  now += 1s;
  EXPECT_FALSE(h.Avoided("a"));
}

TEST(NodeHealthTest, OwnRequestsInFlightRaiseTheLoadPerSlot) {
  NodeHealth h(1s);
  NodeInfo four_slots;
  four_slots.node_id = "a";
  four_slots.load = 0.25;
  four_slots.slots = 4;
  NodeInfo python;  // no slots in its record: counts as one
  python.node_id = "p";
  python.load = 0.5;
  h.Begin("a");
  h.Begin("a");
  h.Begin("p");
  EXPECT_EQ(h.InFlight("a"), 2);
  EXPECT_DOUBLE_EQ(h.EffectiveLoad(four_slots), 0.75);
  EXPECT_DOUBLE_EQ(h.EffectiveLoad(python), 1.5);
  h.End("a");
  h.End("a");
  h.End("p");
  EXPECT_EQ(h.InFlight("a"), 0);
  EXPECT_DOUBLE_EQ(h.EffectiveLoad(four_slots), 0.25);
}

}  // namespace
}  // namespace llamanet::client
