// The cache-aware routing rule nodes and clients share: conversation names, rendezvous ranks
// and the choice between cache and load.
#include "protocol/affinity.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace llamanet::protocol {
namespace {

TEST(ConversationKeyTest, LaterTurnsKeepTheName) {
  RoutingFacts one = ReadRoutingFacts(
      R"({"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}]})");
  RoutingFacts three = ReadRoutingFacts(
      R"({"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"},)"
      R"({"role":"assistant","content":"Hello!"},{"role":"user","content":"More?"}]})");
  EXPECT_EQ(one.model, "m");
  EXPECT_NE(one.conversation, 0u);
  EXPECT_EQ(one.conversation, three.conversation);
  EXPECT_EQ(one.conversation, ConversationKey({{"system", "Be brief."}, {"user", "Hi"}}));
}

TEST(ConversationKeyTest, DifferentOpeningsDiffer) {
  RoutingFacts a = ReadRoutingFacts(R"({"messages":[{"role":"user","content":"Hi"}]})");
  RoutingFacts b = ReadRoutingFacts(R"({"messages":[{"role":"user","content":"Hello"}]})");
  RoutingFacts c = ReadRoutingFacts(R"({"messages":[{"role":"system","content":"Hi"}]})");
  EXPECT_NE(a.conversation, b.conversation);
  EXPECT_NE(a.conversation, c.conversation);
  // Content given as parts still names a conversation.
  RoutingFacts parts = ReadRoutingFacts(R"({"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]})");
  EXPECT_NE(parts.conversation, 0u);
  EXPECT_NE(parts.conversation, a.conversation);
}

TEST(ConversationKeyTest, APromptIsNamedByItsOpeningBytes) {
  std::string opening(kPromptOpeningBytes, 'x');
  RoutingFacts short_turn = ReadRoutingFacts(R"({"prompt":")" + opening + R"( first"})");
  RoutingFacts long_turn = ReadRoutingFacts(R"({"prompt":")" + opening + R"( first, then more"})");
  EXPECT_NE(short_turn.conversation, 0u);
  EXPECT_EQ(short_turn.conversation, long_turn.conversation);
  EXPECT_EQ(ReadRoutingFacts(R"({"prompt":["abc"]})").conversation, ReadRoutingFacts(R"({"prompt":"abc"})").conversation);
}

TEST(ConversationKeyTest, BodiesWithoutAConversationHaveNone) {
  for (const char* body : {"", "[]", "{}", R"({"model":"m"})", R"({"messages":"hi"})", R"({"messages":[1]})",
                           R"({"messages":[{"content":"no role"}]})", R"({"prompt":[]})", R"({"prompt":5})", "{bad json"}) {
    EXPECT_EQ(ReadRoutingFacts(body).conversation, 0u) << body;
  }
  EXPECT_EQ(ReadRoutingFacts(R"({"model":"m"})").model, "m");
}

TEST(ConversationHexTest, RoundTripsAndRefusesOtherText) {
  for (uint64_t k : {uint64_t{1}, uint64_t{0xdeadbeefcafef00d}, ~uint64_t{0}}) {
    EXPECT_EQ(ConversationHex(k).size(), 16u);
    EXPECT_EQ(ParseConversationHex(ConversationHex(k)), k);
  }
  EXPECT_EQ(ParseConversationHex("DEADBEEFCAFEF00D"), 0xdeadbeefcafef00dULL);
  for (const char* bad : {"", "123", "0123456789abcdefa", "0123456789abcdeg", "%ff"}) {
    EXPECT_EQ(ParseConversationHex(bad), 0u) << bad;
  }
}

TEST(RendezvousRankTest, IsStableAndSpreadsConversations) {
  std::vector<std::string> nodes = {"a1", "b2", "c3"};
  std::map<std::string, int> firsts;
  for (uint64_t k = 1; k <= 3000; ++k) {
    std::vector<std::string> r = RendezvousRank(k, nodes);
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(std::set<std::string>(r.begin(), r.end()).size(), 3u);
    EXPECT_EQ(r, RendezvousRank(k, {"c3", "a1", "b2"})) << "the input order must not matter";
    ++firsts[r[0]];
  }
  for (const auto& [node, n] : firsts) EXPECT_NEAR(n, 1000, 150) << node;
}

TEST(RendezvousRankTest, ANodeLeavingMovesOnlyItsOwnConversations) {
  int moved = 0;
  for (uint64_t k = 1; k <= 1000; ++k) {
    std::string before = RendezvousRank(k, {"a", "b", "c", "d"})[0];
    std::string after = RendezvousRank(k, {"a", "b", "c"})[0];
    if (before != "d") EXPECT_EQ(before, after);
    moved += before != after;
  }
  EXPECT_GT(moved, 150);
  EXPECT_LT(moved, 350);
}

TEST(ChooseForConversationTest, AHolderWithRoomWins) {
  EXPECT_EQ(ChooseForConversation({{"a", 0, 4}, {"b", 300, 1}, {"c", 100, 4}}), 1u);
}

TEST(ChooseForConversationTest, AFullHolderLosesToAFreeNode) {
  EXPECT_EQ(ChooseForConversation({{"a", 300, 0}, {"b", 0, 1}, {"c", 0, 3}}), 2u);
}

TEST(ChooseForConversationTest, ANewConversationGoesWhereFewestAreHeld) {
  EXPECT_EQ(ChooseForConversation({{"a", 0, 4, 3}, {"b", 0, 2, 1}, {"c", 0, 4, 2}}), 1u);
}

TEST(ChooseForConversationTest, WhenEveryNodeIsFullTheHolderWaits) {
  EXPECT_EQ(ChooseForConversation({{"a", 0, 0}, {"b", 300, 0}, {"c", 0, 0}}), 1u);
  EXPECT_EQ(ChooseForConversation({{"a", 0, 0}, {"b", 0, 0}}), 0u);
}

TEST(ChooseForConversationTest, ANewConversationGoesToTheFreestNodeEarlierRankFirst) {
  EXPECT_EQ(ChooseForConversation({{"a", 0, 2}, {"b", 0, 4}, {"c", 0, 4}}), 1u);
  EXPECT_EQ(ChooseForConversation({{"a", 0, 4}, {"b", 0, 4}}), 0u);
}

}  // namespace
}  // namespace llamanet::protocol
