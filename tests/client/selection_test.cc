#include "client/selection.h"

#include <gtest/gtest.h>

#include <map>

namespace llamanet::client {
namespace {

NodeInfo Node(std::string id, std::string model, double load, double tps) {
  NodeInfo n;
  n.node_id = std::move(id);
  n.ip = "127.0.0.1";
  n.port = 8000;
  n.model = std::move(model);
  n.load = load;
  n.tps = tps;
  return n;
}

std::vector<std::string> Ids(const std::vector<NodeInfo>& nodes) {
  std::vector<std::string> ids;
  for (const NodeInfo& n : nodes) ids.push_back(n.node_id);
  return ids;
}

const LoadFn kReported = [](const NodeInfo& n) { return n.load; };

TEST(SelectionTest, FiltersByModelLoadAndSpeed) {
  std::vector<NodeInfo> nodes = {Node("a", "m1", 0.2, 50), Node("b", "m2", 0.1, 50), Node("c", "m1", 0.9, 50),
                                 Node("d", "m1", 0.1, 5), Node("e", "m1", 0.5, 20)};
  Candidates c = FilterNodes(nodes, {"m1", 10, 0.5});
  EXPECT_EQ(Ids(c.nodes), (std::vector<std::string>{"a", "e"}));
  EXPECT_FALSE(c.relaxed);
  // Any model: b joins.
  EXPECT_EQ(Ids(FilterNodes(nodes, {"llamanet", 10, 0.5}).nodes), (std::vector<std::string>{"a", "b", "e"}));
}

TEST(SelectionTest, UnmeasuredSpeedPassesMinTpsButNotMaxLoad) {
  std::vector<NodeInfo> nodes = {Node("fresh", "m", 0.0, 0), Node("busy-fresh", "m", 1.0, 0), Node("slow", "m", 0, 3)};
  Candidates c = FilterNodes(nodes, {"", 10, 0.5});
  EXPECT_EQ(Ids(c.nodes), (std::vector<std::string>{"fresh"}));
}

TEST(SelectionTest, FallsBackToAllNodesOfTheModelAndSaysSo) {
  std::vector<NodeInfo> nodes = {Node("a", "m1", 0.9, 5), Node("b", "m2", 0.1, 100), Node("c", "m1", 1.0, 5)};
  Candidates c = FilterNodes(nodes, {"m1", 10, 0.5});
  EXPECT_TRUE(c.relaxed);
  EXPECT_EQ(Ids(c.nodes), (std::vector<std::string>{"a", "c"}));  // never another model's node
}

TEST(SelectionTest, NoNodeOfTheModelIsEmptyNotRelaxed) {
  Candidates c = FilterNodes({Node("b", "m2", 0, 0)}, {"m1", 0, 1});
  EXPECT_TRUE(c.nodes.empty());
  EXPECT_FALSE(c.relaxed);
}

TEST(SelectionTest, NeverPicksAnEmbeddingsOnlyNodeEvenWhenRelaxed) {
  NodeInfo only = Node("only", "m1", 0.0, 0);
  only.generation = false;
  Candidates c = FilterNodes({only, Node("busy", "m1", 1.0, 50)}, {"m1", 0, 0.5});
  EXPECT_EQ(Ids(c.nodes), std::vector<std::string>{"busy"});
  EXPECT_TRUE(c.relaxed);
  EXPECT_TRUE(FilterNodes({only}, {"m1", 0, 1.0}).nodes.empty());
}

TEST(SelectionTest, RanksByLoadThenSpeedThenId) {
  std::vector<NodeInfo> nodes = {Node("c", "m", 0.5, 10), Node("b", "m", 0.0, 10), Node("a", "m", 0.0, 10),
                                 Node("d", "m", 0.0, 99)};
  RankNodes(nodes, kReported);
  EXPECT_EQ(Ids(nodes), (std::vector<std::string>{"d", "a", "b", "c"}));
}

TEST(SelectionTest, RankingUsesTheGivenLoad) {
  std::vector<NodeInfo> nodes = {Node("a", "m", 0.0, 10), Node("b", "m", 0.2, 10)};
  RankNodes(nodes, [](const NodeInfo& n) { return n.node_id == "a" ? 0.9 : n.load; });
  EXPECT_EQ(Ids(nodes), (std::vector<std::string>{"b", "a"}));
}

TEST(SelectionTest, TwoChoicesNeverPicksTheMostLoadedOfThePool) {
  std::vector<NodeInfo> ranked = {Node("a", "m", 0.0, 10), Node("b", "m", 0.5, 10), Node("c", "m", 1.0, 10)};
  std::mt19937_64 rng(7);
  std::map<std::string, int> picks;
  for (int i = 0; i < 3000; ++i) ++picks[ranked[ChooseTwo(ranked, 3, kReported, rng)].node_id];
  EXPECT_EQ(picks.count("c"), 0u);
  // a wins both pairs it is drawn in (2 of 3), b wins the pair {b, c} (1 of 3).
  EXPECT_NEAR(picks["a"] / 3000.0, 2.0 / 3, 0.05);
  EXPECT_NEAR(picks["b"] / 3000.0, 1.0 / 3, 0.05);
}

TEST(SelectionTest, TwoChoicesStaysWithinTheBestCandidates) {
  std::vector<NodeInfo> ranked;
  for (int i = 0; i < 10; ++i) ranked.push_back(Node(std::to_string(i), "m", i / 10.0, 10));
  std::mt19937_64 rng(1);
  for (int i = 0; i < 2000; ++i) EXPECT_LT(ChooseTwo(ranked, 4, kReported, rng), 3u);  // the 4th never wins a pair
}

TEST(SelectionTest, TwoChoicesSpreadsEqualNodes) {
  std::vector<NodeInfo> ranked = {Node("a", "m", 0, 10), Node("b", "m", 0, 10), Node("c", "m", 0, 10)};
  std::mt19937_64 rng(3);
  std::map<size_t, int> picks;
  for (int i = 0; i < 3000; ++i) ++picks[ChooseTwo(ranked, 3, kReported, rng)];
  for (size_t i = 0; i < 3; ++i) EXPECT_NEAR(picks[i] / 3000.0, 1.0 / 3, 0.05) << i;
}

TEST(SelectionTest, TwoChoicesBreaksLoadTiesBySpeed) {
  std::vector<NodeInfo> ranked = {Node("slow", "m", 0.5, 10), Node("fast", "m", 0.5, 90)};
  std::mt19937_64 rng(5);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(ChooseTwo(ranked, 2, kReported, rng), 1u);
}

TEST(SelectionTest, OneCandidateIsChosen) {
  std::mt19937_64 rng(5);
  EXPECT_EQ(ChooseTwo({Node("only", "m", 1, 1)}, 4, kReported, rng), 0u);
}

}  // namespace
}  // namespace llamanet::client
