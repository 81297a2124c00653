#include "swarm/router.h"

#include <gtest/gtest.h>

#include "protocol/node_record.h"

namespace llamanet::swarm {
namespace {

protocol::NodeRecord Peer(const std::string& id, const std::string& model, int32_t slots, int32_t free_slots, double tps = 10) {
  protocol::NodeRecord p;
  p.node_id = id;
  p.ip = "127.0.0.1";
  p.port = 9000;
  p.model = model;
  p.slots = slots;
  p.free_slots = free_slots;
  p.load = slots > 0 ? 1.0 - static_cast<double>(free_slots) / slots : 0;
  p.tps = tps;
  return p;
}

LocalState Local(int32_t free_slots) { return {"self", "llama", free_slots}; }

std::vector<std::string> Ids(const RouteDecision& d) {
  std::vector<std::string> ids;
  for (const auto& p : d.peers) ids.push_back(p.node_id);
  return ids;
}

TEST(RouterTest, ServesLocallyWhenItHasTheModelAndAFreeSlot) {
  Router r;
  for (const char* model : {"llama", "llamanet", ""}) {
    RouteDecision d = r.Decide(model, false, Local(1), {Peer("a", "llama", 4, 4)});
    EXPECT_EQ(d.kind, RouteDecision::Kind::kLocal) << model;
  }
}

TEST(RouterTest, ForwardsAnotherModelToItsBestServerFewestBusyThenFastest) {
  Router r;
  RouteDecision d = r.Decide("mistral", false, Local(4),
                             {Peer("busy", "mistral", 4, 0), Peer("slow", "mistral", 4, 3, 5),
                              Peer("fast", "mistral", 4, 3, 50), Peer("idle", "mistral", 2, 2, 1),
                              Peer("other", "llama", 4, 4)});
  ASSERT_EQ(d.kind, RouteDecision::Kind::kForward);
  EXPECT_FALSE(d.local_fallback);
  EXPECT_EQ(Ids(d), (std::vector<std::string>{"idle", "fast", "slow", "busy"}));
}

TEST(RouterTest, UnknownModelIsNotFound) {
  Router r;
  EXPECT_EQ(r.Decide("gpt-9", false, Local(4), {Peer("a", "llama", 4, 4)}).kind, RouteDecision::Kind::kNotFound);
}

TEST(RouterTest, BusyNodeForwardsOnlyToPeersWithFreeSlotsAndKeepsLocalFallback) {
  Router r;
  RouteDecision d = r.Decide("llama", false, Local(0), {Peer("full", "llama", 4, 0), Peer("free", "llama", 4, 1)});
  ASSERT_EQ(d.kind, RouteDecision::Kind::kForward);
  EXPECT_TRUE(d.local_fallback);
  EXPECT_EQ(Ids(d), std::vector<std::string>{"free"});

  RouteDecision none = r.Decide("llama", false, Local(0), {Peer("full", "llama", 4, 0)});
  EXPECT_EQ(none.kind, RouteDecision::Kind::kLocal);  // queue here rather than hop to a full peer
}

TEST(RouterTest, ForwardedRequestsAreNeverForwardedAgain) {
  Router r;
  EXPECT_EQ(r.Decide("llama", true, Local(0), {Peer("free", "llama", 4, 4)}).kind, RouteDecision::Kind::kLocal);
  EXPECT_EQ(r.Decide("mistral", true, Local(4), {Peer("m", "mistral", 4, 4)}).kind, RouteDecision::Kind::kNotFound);
}

TEST(RouterTest, SkipsItselfAndAvoidsAPeerThatFailed) {
  Router r(std::chrono::seconds(60));
  r.MarkRefused("b");
  RouteDecision d =
      r.Decide("mistral", false, Local(1), {Peer("self", "mistral", 4, 4), Peer("b", "mistral", 4, 4), Peer("c", "mistral", 4, 1)});
  EXPECT_EQ(Ids(d), std::vector<std::string>{"c"});
  EXPECT_TRUE(r.Avoided("b"));
  EXPECT_FALSE(r.Avoided("c"));
}

TEST(RouterTest, SkipsPeersTheVerifierRefuses) {
  Router r(std::chrono::seconds(10), [](const protocol::NodeRecord& p) { return p.node_id == "rogue"; });
  RouteDecision d = r.Decide("mistral", false, Local(1), {Peer("rogue", "mistral", 8, 8), Peer("c", "mistral", 4, 1)});
  EXPECT_EQ(Ids(d), std::vector<std::string>{"c"});
  RouteDecision none = r.Decide("mistral", false, Local(1), {Peer("rogue", "mistral", 8, 8)});
  EXPECT_EQ(none.kind, RouteDecision::Kind::kNotFound);
}

TEST(RouterTest, PythonPeersWithoutSlotCountsRouteByLoad) {
  protocol::NodeRecord py;
  py.node_id = "py";
  py.model = "mistral";
  py.load = 0.5;
  EXPECT_EQ(protocol::FreeSlotsOf(py), 1);
  py.load = 1.0;
  EXPECT_EQ(protocol::FreeSlotsOf(py), 0);
}

// Embeddings take no slot: a node offering them serves them itself, busy or not; one that
// does not sends them to a peer that offers them for the model, never to one that does not.
TEST(RouterTest, EmbeddingsGoWhereTheyAreOffered) {
  Router r;
  auto embedder = [](const std::string& id, const std::string& model, bool generation) {
    protocol::NodeRecord p = Peer(id, model, generation ? 4 : 0, generation ? 4 : 0);
    p.embeddings = true;
    p.generation = generation;
    return p;
  };
  LocalState busy{"self", "llama", 0, true, true};
  EXPECT_EQ(r.Decide("llama", false, busy, {embedder("a", "llama", true)}, Service::kEmbeddings).kind,
            RouteDecision::Kind::kLocal);
  LocalState without{"self", "llama", 4, true, false};
  RouteDecision d = r.Decide("llama", false, without,
                             {Peer("plain", "llama", 4, 4), embedder("e", "llama", false), embedder("m", "mistral", true)},
                             Service::kEmbeddings);
  ASSERT_EQ(d.kind, RouteDecision::Kind::kForward);
  EXPECT_FALSE(d.local_fallback);
  EXPECT_EQ(Ids(d), std::vector<std::string>{"e"});
  EXPECT_EQ(r.Decide("llama", false, without, {Peer("plain", "llama", 4, 4)}, Service::kEmbeddings).kind,
            RouteDecision::Kind::kNotFound);
  EXPECT_EQ(r.Decide("llama", true, without, {embedder("e", "llama", false)}, Service::kEmbeddings).kind,
            RouteDecision::Kind::kNotFound);
}

// An embeddings-only node generates nothing: generation goes to a peer generating the model,
// even a busy one, and never to another embeddings-only node.
TEST(RouterTest, AnEmbeddingsOnlyNodeForwardsEveryGeneration) {
  Router r;
  LocalState only{"self", "llama", 0, false, true};
  protocol::NodeRecord other_only = Peer("only", "llama", 0, 0);
  other_only.generation = false;
  RouteDecision d = r.Decide("llama", false, only, {Peer("busy", "llama", 4, 0), other_only});
  ASSERT_EQ(d.kind, RouteDecision::Kind::kForward);
  EXPECT_FALSE(d.local_fallback);
  EXPECT_EQ(Ids(d), std::vector<std::string>{"busy"});
  EXPECT_EQ(r.Decide("", false, only, {other_only}).kind, RouteDecision::Kind::kNotFound);
}

}  // namespace
}  // namespace llamanet::swarm
