#include "dht/rpc_manager.h"

#include <gtest/gtest.h>

namespace llamanet::dht {
namespace {

class RpcManagerTest : public ::testing::Test {
 protected:
  RpcManager MakeManager(RpcOptions o = {}) {
    return RpcManager(o, [this](const Endpoint& to, const Request& r) { sent_.emplace_back(to, r); }, rng_);
  }
  Response ReplyTo(const std::string& txid) {
    Response r;
    r.txid = txid;
    r.sender = *NodeId::FromHex("0123456789abcdef");
    r.pong = true;
    return r;
  }
  std::mt19937_64 rng_{3};
  std::vector<std::pair<Endpoint, Request>> sent_;
  Endpoint peer_{"10.0.0.1", 4000};
};

TEST_F(RpcManagerTest, AcceptsOnlyPendingIdsFromTheAddressAsked) {
  RpcManager rpc = MakeManager();
  int replies = 0;
  RpcCallbacks cb;
  cb.on_reply = [&](const Response& r) {
    EXPECT_TRUE(r.pong);
    ++replies;
  };
  std::string txid = rpc.Send(peer_, Request{}, cb, 0);
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].second.txid, txid);
  EXPECT_EQ(rpc.OnResponse(peer_, ReplyTo("nope"), 5), RpcManager::Match::kUnknownTxid);
  EXPECT_EQ(rpc.OnResponse(Endpoint{"10.0.0.1", 4001}, ReplyTo(txid), 5), RpcManager::Match::kWrongSource);
  EXPECT_EQ(rpc.OnResponse(Endpoint{"10.0.0.2", 4000}, ReplyTo(txid), 5), RpcManager::Match::kWrongSource);
  EXPECT_EQ(replies, 0);
  EXPECT_EQ(rpc.OnResponse(peer_, ReplyTo(txid), 5), RpcManager::Match::kAccepted);
  EXPECT_EQ(replies, 1);
  EXPECT_EQ(rpc.OnResponse(peer_, ReplyTo(txid), 6), RpcManager::Match::kUnknownTxid);  // no duplicates
  EXPECT_EQ(rpc.pending(), 0u);
  EXPECT_EQ(rpc.NextDeadlineMs(), RpcManager::kNever);
}

TEST_F(RpcManagerTest, ResendsOnceWithTheSameIdThenTimesOut) {
  RpcManager rpc = MakeManager({.timeout_ms = 100, .retries = 1});
  int timeouts = 0;
  RpcCallbacks cb;
  cb.on_timeout = [&] { ++timeouts; };
  std::string txid = rpc.Send(peer_, Request{}, cb, 0);
  EXPECT_EQ(rpc.NextDeadlineMs(), 100);
  rpc.Tick(99);
  EXPECT_EQ(sent_.size(), 1u);
  rpc.Tick(100);
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(sent_[1].second.txid, txid);
  EXPECT_EQ(timeouts, 0);
  rpc.Tick(199);
  EXPECT_EQ(timeouts, 0);
  rpc.Tick(200);
  EXPECT_EQ(timeouts, 1);
  EXPECT_EQ(sent_.size(), 2u);
  EXPECT_EQ(rpc.timeouts(), 1u);
  EXPECT_EQ(rpc.resends(), 1u);
  EXPECT_EQ(rpc.OnResponse(peer_, ReplyTo(txid), 250), RpcManager::Match::kUnknownTxid);
}

TEST_F(RpcManagerTest, SoftTimeoutFiresFirstAndALateReplyStillCounts) {
  RpcManager rpc = MakeManager({.timeout_ms = 1000, .retries = 1, .min_soft_timeout_ms = 50, .initial_soft_timeout_ms = 300});
  std::vector<std::string> events;
  RpcCallbacks cb;
  cb.on_reply = [&](const Response&) { events.push_back("reply"); };
  cb.on_soft_timeout = [&] { events.push_back("soft"); };
  cb.on_timeout = [&] { events.push_back("timeout"); };
  std::string txid = rpc.Send(peer_, Request{}, cb, 0);
  EXPECT_EQ(rpc.NextDeadlineMs(), 300);  // no RTT measured yet
  rpc.Tick(300);
  EXPECT_EQ(events, std::vector<std::string>{"soft"});
  EXPECT_EQ(rpc.OnResponse(peer_, ReplyTo(txid), 400), RpcManager::Match::kAccepted);
  EXPECT_EQ(events, (std::vector<std::string>{"soft", "reply"}));
}

TEST_F(RpcManagerTest, SoftTimeoutAdaptsToMeasuredRoundTrips) {
  RpcManager rpc = MakeManager({.timeout_ms = 1000, .retries = 1, .min_soft_timeout_ms = 50});
  int64_t now = 0;
  for (int i = 0; i < 30; ++i) {
    std::string txid = rpc.Send(peer_, Request{}, {}, now);
    now += 40;
    rpc.OnResponse(peer_, ReplyTo(txid), now);
  }
  // srtt -> 40, rttvar -> ~0: 1.5 * 40 = 60 ms.
  EXPECT_GE(rpc.SoftTimeoutMs(), 60);
  EXPECT_LE(rpc.SoftTimeoutMs(), 62);
}

TEST_F(RpcManagerTest, CancelAllFailsEveryPendingRequest) {
  RpcManager rpc = MakeManager();
  int timeouts = 0;
  RpcCallbacks cb;
  cb.on_timeout = [&] { ++timeouts; };
  rpc.Send(peer_, Request{}, cb, 0);
  rpc.Send(peer_, Request{}, cb, 0);
  rpc.CancelAll();
  EXPECT_EQ(timeouts, 2);
  EXPECT_EQ(rpc.pending(), 0u);
}

}  // namespace
}  // namespace llamanet::dht
