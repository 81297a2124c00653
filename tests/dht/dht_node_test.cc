// A real DhtNode driven on the in-memory network: exact replies to hand-written datagrams,
// drops by reason, bootstrap, private swarms and read-only clients. No sockets, no sleeps.
#include "dht/dht_node.h"

#include <gtest/gtest.h>

#include <set>

#include "dht/record_signing.h"
#include "dht/simulated_swarm.h"
#include "test_peer.h"

namespace llamanet::dht {
namespace {

using nlohmann::json;

const std::string kPeerId = "00000000000000ab";  // a Python node's 16-digit id

class DhtNodeTest : public ::testing::Test {
 protected:
  DhtNodeTest() : swarm_(LinkModel{.latency_ms = 5}, 11), peer_(swarm_.network(), Endpoint{"192.168.1.7", 5555}) {}

  size_t AddNode(DhtOptions o = {}) {
    o.rng_seed = 42 + swarm_.size();
    o.node_id = NodeId::Sha1("node" + std::to_string(swarm_.size())).ToHex();
    return *swarm_.AddNode(o);
  }
  json Exchange(size_t node, json request) {
    peer_.received.clear();
    peer_.Send(SimulatedSwarm::EndpointOf(node), request);
    swarm_.network().RunFor(50);
    EXPECT_EQ(peer_.received.size(), 1u) << request.dump();
    return peer_.received.empty() ? json() : peer_.received.back().second;
  }
  json Store(size_t node, const std::string& key, json value) {
    return Exchange(node, {{"type", "store"}, {"id", "s"}, {"sender_id", kPeerId}, {"key", key}, {"value", value}});
  }
  json RecordJson(const std::string& node_id, const std::string& pad = "") {
    return {{"node_id", node_id}, {"last_seen", swarm_.network().clock().WallSeconds()}, {"pad", pad}};
  }
  std::string Id(size_t node) { return swarm_.node(node).id().ToHex(); }

  SimulatedSwarm swarm_;
  TestPeer peer_;
};

TEST_F(DhtNodeTest, PingReplyCarriesSenderIdInDataAndTheSourceAddressIsRouted) {
  size_t n = AddNode();
  json reply = Exchange(n, {{"type", "ping"}, {"id", "p1"}, {"sender_id", kPeerId}});
  EXPECT_EQ(reply, json({{"type", "response"}, {"id", "p1"}, {"sender_id", Id(n)},
                         {"data", {{"pong", true}, {"sender_id", Id(n)}}}}));
  DhtSnapshot s = swarm_.node(n).Snapshot();
  ASSERT_EQ(s.contacts.size(), 1u);
  EXPECT_EQ(s.contacts[0].node_id, kPeerId);
  EXPECT_EQ(s.contacts[0].ip, "192.168.1.7");
  EXPECT_EQ(s.contacts[0].port, 5555);
}

TEST_F(DhtNodeTest, ReadOnlyRequestersAreAnsweredButNeverRouted) {
  size_t n = AddNode();
  json reply = Exchange(n, {{"type", "ping"}, {"id", "p"}, {"sender_id", kPeerId}, {"ro", true}});
  EXPECT_TRUE(reply["data"]["pong"]);
  EXPECT_TRUE(swarm_.node(n).Snapshot().contacts.empty());
}

TEST_F(DhtNodeTest, ReadOnlyNodeAnswersNoQuery) {
  DhtOptions o;
  o.read_only = true;
  size_t n = AddNode(o);
  peer_.Send(SimulatedSwarm::EndpointOf(n), json{{"type", "ping"}, {"id", "p"}, {"sender_id", kPeerId}});
  swarm_.network().RunFor(50);
  EXPECT_TRUE(peer_.received.empty());
  EXPECT_EQ(swarm_.node(n).Snapshot().counters.drops, (std::map<std::string, uint64_t>{{"not_serving", 1}}));
}

TEST_F(DhtNodeTest, ReadOnlyClientLooksUpRecordsWithoutJoiningAnyTable) {
  size_t a = AddNode();
  DhtOptions o;
  o.bootstrap = {SimulatedSwarm::EndpointOf(a).ToString()};
  size_t b = AddNode(o);
  o.read_only = true;
  size_t client = AddNode(o);
  swarm_.network().RunFor(1000);
  auto put = swarm_.node(b).Publish("model:m", swarm_.NodeRecord(b));
  swarm_.network().Reschedule(SimulatedSwarm::EndpointOf(b));
  swarm_.network().RunFor(500);
  ASSERT_EQ(*put.get(), 2u);
  auto got = swarm_.node(client).Get("model:m");
  swarm_.network().Reschedule(SimulatedSwarm::EndpointOf(client));
  swarm_.network().RunFor(500);
  auto records = got.get();
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].node_id, Id(b));
  EXPECT_EQ(swarm_.node(client).Snapshot().contacts.size(), 2u);  // the client routes to them
  for (size_t n : {a, b}) {
    for (const auto& c : swarm_.node(n).Snapshot().contacts) EXPECT_NE(c.node_id, Id(client));
  }
}

TEST_F(DhtNodeTest, StoresUnsignedRecordsAndAnswersFindValueAsDocumented) {
  size_t n = AddNode();
  json rec = RecordJson(kPeerId);
  EXPECT_EQ(Store(n, "model:tiny", rec)["data"], json({{"stored", true}}));
  EXPECT_EQ(Store(n, "node:" + kPeerId, rec)["data"], json({{"stored", true}}));
  // Python peers send no token and use uuid4 request ids; what fits 3x their request is theirs.
  const std::string id = "0b6f3c1e-7d2a-4a9b-8f45-1c2d3e4f5a6b";
  json arr = Exchange(n, {{"type", "find_value"}, {"id", id}, {"sender_id", kPeerId}, {"key", "model:tiny"}});
  EXPECT_EQ(arr["data"]["value"], json::array({rec}));
  EXPECT_FALSE(arr["data"].contains("truncated"));
  EXPECT_FALSE(arr["data"].contains("token"));
  json obj = Exchange(n, {{"type", "find_value"}, {"id", id}, {"sender_id", kPeerId}, {"key", "node:" + kPeerId}});
  EXPECT_EQ(obj["data"]["value"], rec);
  json miss = Exchange(n, {{"type", "find_value"}, {"id", id}, {"sender_id", kPeerId}, {"key", "model:none"}});
  EXPECT_FALSE(miss["data"].contains("value"));
  EXPECT_TRUE(miss["data"]["contacts"].is_array());
  // Refusals say why.
  EXPECT_EQ(Store(n, "node:" + kPeerId, RecordJson("someone-else"))["data"],
            json({{"stored", false}, {"error", "record node_id does not match the key"}}));
}

TEST_F(DhtNodeTest, RequireSignedRefusesUnsignedStores) {
  DhtOptions o;
  o.require_signed = true;
  size_t n = AddNode(o);
  EXPECT_EQ(Store(n, "model:m", RecordJson(kPeerId))["data"],
            json({{"stored", false}, {"error", "unsigned record refused: signatures required"}}));
}

TEST_F(DhtNodeTest, LargeSetsAreTruncatedToOneDatagramAndPagedWithOffset) {
  size_t n = AddNode();
  for (int i = 0; i < 60; ++i) {
    ASSERT_EQ(Store(n, "all_nodes", RecordJson("n" + std::to_string(i), std::string(300, 'x')))["data"]["stored"], true);
  }
  // Full-size pages go to a requester that proved its address with a token.
  const std::string token =
      Exchange(n, {{"type", "ping"}, {"id", "p"}, {"sender_id", kPeerId}, {"token", ""}})["data"]["token"];
  std::set<std::string> seen;
  uint32_t offset = 0;
  int pages = 0;
  while (true) {
    json req = {{"type", "find_value"}, {"id", "f"}, {"sender_id", kPeerId}, {"key", "all_nodes"}, {"token", token}};
    if (offset > 0) req["offset"] = offset;
    json reply = Exchange(n, req);
    ASSERT_LE(peer_.sizes.back(), 8192u);
    const json& data = reply["data"];
    EXPECT_EQ(data["truncated"], true);
    EXPECT_EQ(data["total"], 60);
    EXPECT_EQ(data.value("offset", 0u), offset);
    if (offset > 0) {
      EXPECT_FALSE(data.contains("contacts"));  // pages carry records only
    }
    ASSERT_FALSE(data["value"].empty());
    for (const auto& r : data["value"]) seen.insert(r["node_id"].get<std::string>());
    offset += static_cast<uint32_t>(data["value"].size());
    ++pages;
    if (offset >= 60) break;
  }
  EXPECT_EQ(seen.size(), 60u);
  EXPECT_GE(pages, 3);
}

// What a spoofed request can make a node send (PROTOCOL.md: one datagram of up to 8 KiB).
TEST_F(DhtNodeTest, RepliesToUnprovenSourcesAreCappedAtThreeTimesTheRequestOrHalfAKibibyte) {
  size_t n = AddNode();
  // 60 records of the Python node's shape (~190 bytes): 11 KiB, more than a datagram.
  for (int i = 0; i < 60; ++i) {
    json rec = {{"node_id", "7f2d1ac9a4b5e6" + std::to_string(10 + i)}, {"ip", "192.168.1.50"}, {"port", 8000},
                {"model", "tinyllama-1.1b-chat"}, {"load", 0.25}, {"tps", 10.0}, {"uptime", 5},
                {"last_seen", swarm_.network().clock().WallSeconds()}, {"dht_port", 8001}};
    ASSERT_EQ(Store(n, "all_nodes", rec)["data"]["stored"], true);
  }
  const std::string client_id = NodeId::Sha1("python client").ToHex();
  // The Python client's request, byte for byte as json.dumps writes it.
  const std::string python_request =
      R"({"type": "find_value", "id": "5b0c9e5e-8a8f-4d1e-9c64-2f0b7c1a9d33", "sender_id": ")" + client_id +
      R"(", "key": "all_nodes"})";
  struct Sample {
    std::string who;
    size_t request = 0;
    size_t reply = 0;
    json data;
  };
  std::vector<Sample> samples;
  auto measure = [&](const std::string& who, const std::string& request) {
    peer_.received.clear();
    peer_.sizes.clear();
    peer_.Send(SimulatedSwarm::EndpointOf(n), request);
    swarm_.network().RunFor(50);
    ASSERT_EQ(peer_.received.size(), 1u) << who;
    samples.push_back({who, request.size(), peer_.sizes.back(), peer_.received.back().second["data"]});
  };
  measure("python client (unproven)", python_request);
  json cpp = {{"type", "find_value"}, {"id", "a1b2c3d4e5f6"}, {"sender_id", client_id}, {"key", "all_nodes"},
              {"token", ""}};
  measure("C++ requester without a token (unproven)", cpp.dump());
  cpp["token"] = samples.back().data["token"];
  measure("C++ requester with its token (proven)", cpp.dump());
  cpp["token"] = std::string(32, '0');
  measure("a forged token (unproven)", cpp.dump());
  measure("the smallest find_value (unproven)",
          json{{"type", "find_value"}, {"id", "a"}, {"sender_id", kPeerId}, {"key", "all_nodes"}}.dump());

  for (const Sample& s : samples) {
    std::printf("amplification: %-42s request %4zu B, reply %4zu B, factor %5.2f\n", s.who.c_str(), s.request, s.reply,
                static_cast<double>(s.reply) / static_cast<double>(s.request));
  }
  // Unproven: at most max(3x, 512 bytes), yet never nothing: the size of the whole set, and
  // for the Python client a record (a C++ requester asks again with its token instead).
  const DhtOptions defaults;
  for (size_t i : {0u, 1u, 3u, 4u}) {
    EXPECT_LE(samples[i].reply, std::max<size_t>(3 * samples[i].request, defaults.min_unproven_reply_bytes))
        << samples[i].who;
    EXPECT_EQ(samples[i].data["truncated"], true);
    EXPECT_EQ(samples[i].data["total"], 60);
  }
  EXPECT_GE(samples[0].data["value"].size(), 1u);
  EXPECT_GE(samples[4].data["value"].size(), 1u) << samples[4].data.dump();
  EXPECT_FALSE(samples[0].data.contains("token"));     // Python peers see no new field
  EXPECT_FALSE(samples[0].data.contains("unproven"));
  EXPECT_EQ(samples[1].data["unproven"], true);         // ask again with the token
  EXPECT_EQ(samples[1].data["token"].get<std::string>().size(), 32u);
  // Proven: a full datagram, as before.
  EXPECT_GT(samples[2].reply, 7000u);
  EXPECT_LE(samples[2].reply, 8192u);
  EXPECT_FALSE(samples[2].data.contains("unproven"));
  EXPECT_GE(swarm_.node(n).Snapshot().counters.replies_cut, 3u);

  // Without the cap (the factor of the old behaviour), for the record.
  DhtOptions uncapped;
  uncapped.unproven_reply_factor = 1000;
  size_t old = AddNode(uncapped);
  for (int i = 0; i < 60; ++i) {
    json rec = {{"node_id", "7f2d1ac9a4b5e6" + std::to_string(10 + i)}, {"ip", "192.168.1.50"}, {"port", 8000},
                {"model", "tinyllama-1.1b-chat"}, {"load", 0.25}, {"tps", 10.0}, {"uptime", 5},
                {"last_seen", swarm_.network().clock().WallSeconds()}, {"dht_port", 8001}};
    Store(old, "all_nodes", rec);
  }
  peer_.received.clear();
  peer_.Send(SimulatedSwarm::EndpointOf(old), python_request);
  swarm_.network().RunFor(50);
  ASSERT_EQ(peer_.received.size(), 1u);
  std::printf("amplification: %-42s request %4zu B, reply %4zu B, factor %5.2f\n", "python client, cap off (before)",
              python_request.size(), peer_.sizes.back(),
              static_cast<double>(peer_.sizes.back()) / static_cast<double>(python_request.size()));
}

TEST_F(DhtNodeTest, UnprovenFindNodeRepliesKeepTheClosestContactsThatFit) {
  size_t a = AddNode();
  DhtOptions o;
  o.bootstrap = {SimulatedSwarm::EndpointOf(a).ToString()};
  for (int i = 0; i < 12; ++i) AddNode(o);
  swarm_.network().RunFor(2000);
  const std::string target = NodeId::Sha1("x").ToHex();
  const json request = {{"type", "find_node"}, {"id", "f"}, {"sender_id", kPeerId}, {"target_id", target}};
  json unproven = Exchange(a, request);
  const size_t request_bytes = request.dump().size();
  EXPECT_LE(peer_.sizes.back(), std::max<size_t>(3 * request_bytes, DhtOptions().min_unproven_reply_bytes));
  const size_t few = unproven["data"]["contacts"].size();
  EXPECT_GE(few, 1u);
  EXPECT_EQ(unproven["data"]["truncated"], true);
  const std::string token =
      Exchange(a, {{"type", "ping"}, {"id", "p"}, {"sender_id", kPeerId}, {"token", ""}})["data"]["token"];
  json with_token = request;
  with_token["token"] = token;
  json proven = Exchange(a, with_token);
  EXPECT_EQ(proven["data"]["contacts"].size(), 12u);
  // The cut reply holds the closest ones.
  for (size_t i = 0; i < few; ++i) EXPECT_EQ(unproven["data"]["contacts"][i], proven["data"]["contacts"][i]);
}

TEST_F(DhtNodeTest, CountsDropsByReason) {
  size_t n = AddNode();
  const Endpoint to = SimulatedSwarm::EndpointOf(n);
  peer_.Send(to, std::string("not json"));
  peer_.Send(to, std::string(9000, ' '));
  peer_.Send(to, json{{"type", "response"}, {"id", "nobody-asked"}, {"sender_id", kPeerId}, {"data", json::object()}});
  peer_.Send(to, json{{"type", "store"}, {"id", "s"}, {"sender_id", kPeerId}, {"key", "k"}, {"value", 3}});
  swarm_.network().RunFor(50);
  EXPECT_TRUE(peer_.received.empty());
  EXPECT_EQ(swarm_.node(n).Snapshot().counters.drops,
            (std::map<std::string, uint64_t>{{"not_json", 1}, {"oversized", 1}, {"unknown_txid", 1}, {"bad_value", 1}}));
}

TEST_F(DhtNodeTest, RateLimitsEachSourceIpWhateverItsPort) {
  DhtOptions o;
  o.rate_limit = {.per_second = 1, .burst = 5, .max_sources = 100};
  size_t n = AddNode(o);
  // The same host rotating its source port shares one bucket.
  std::vector<std::unique_ptr<TestPeer>> ports;
  for (int i = 0; i < 4; ++i) {
    const Endpoint at{"192.168.1.7", static_cast<uint16_t>(6000 + i)};
    ports.push_back(std::make_unique<TestPeer>(swarm_.network(), at));
  }
  for (int i = 0; i < 10; ++i) {
    TestPeer& from = i < 6 ? peer_ : *ports[i % 4];
    from.Send(SimulatedSwarm::EndpointOf(n), json{{"type", "ping"}, {"id", std::to_string(i)}, {"sender_id", kPeerId}});
  }
  swarm_.network().RunFor(50);
  size_t answered = peer_.received.size();
  for (const auto& p : ports) answered += p->received.size();
  EXPECT_EQ(answered, 5u);
  EXPECT_EQ(swarm_.node(n).Snapshot().counters.drops.at("rate_limited"), 5u);
  // Another IP has its own bucket.
  TestPeer other(swarm_.network(), Endpoint{"192.168.1.8", 5555});
  other.Send(SimulatedSwarm::EndpointOf(n), json{{"type", "ping"}, {"id", "x"}, {"sender_id", kPeerId}});
  swarm_.network().RunFor(50);
  EXPECT_EQ(other.received.size(), 1u);
}

TEST_F(DhtNodeTest, AcceptsRepliesOnlyFromTheAddressAskedAndRetriesBootstrap) {
  TestPeer impostor(swarm_.network(), Endpoint{"192.168.1.8", 5555});
  DhtOptions o;
  o.bootstrap = {peer_.endpoint().ToString()};
  o.bootstrap_retry_ms = 2000;
  size_t n = AddNode(o);
  swarm_.network().RunFor(50);
  ASSERT_EQ(peer_.received.size(), 1u);  // the bootstrap ping
  const json ping = peer_.received[0].second;
  EXPECT_EQ(ping["type"], "ping");
  // Unanswered: resent at 1 s, failed at 2 s, retried 2 s later (t = 4 s).
  swarm_.network().RunFor(4500);
  EXPECT_EQ(peer_.received.size(), 3u);
  EXPECT_FALSE(swarm_.node(n).Snapshot().joined);
  const json retry = peer_.received.back().second;
  json reply = {{"type", "response"}, {"id", retry["id"]}, {"sender_id", kPeerId},
                {"data", {{"pong", true}, {"sender_id", kPeerId}}}};
  impostor.Send(SimulatedSwarm::EndpointOf(n), reply);
  swarm_.network().RunFor(20);
  DhtSnapshot s = swarm_.node(n).Snapshot();
  EXPECT_EQ(s.counters.drops.at("wrong_source"), 1u);
  EXPECT_FALSE(s.joined);
  peer_.Send(SimulatedSwarm::EndpointOf(n), reply);
  swarm_.network().RunFor(20);
  s = swarm_.node(n).Snapshot();
  EXPECT_TRUE(s.joined);
  ASSERT_EQ(s.contacts.size(), 1u);
  EXPECT_EQ(s.contacts[0].node_id, kPeerId);
}

TEST_F(DhtNodeTest, NodesJoinThroughABootstrapNodeAndFindEachOthersRecords) {
  size_t a = AddNode();
  DhtOptions o;
  o.bootstrap = {SimulatedSwarm::EndpointOf(a).ToString()};
  size_t b = AddNode(o);
  size_t c = AddNode(o);
  swarm_.network().RunFor(1000);
  EXPECT_EQ(swarm_.node(c).Snapshot().contacts.size(), 2u);
  auto stored = swarm_.node(b).Publish(SimulatedSwarm::NodeKey(swarm_.node(b)), swarm_.NodeRecord(b));
  swarm_.network().Reschedule(SimulatedSwarm::EndpointOf(b));
  swarm_.network().RunFor(1000);
  ASSERT_EQ(stored.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_EQ(*stored.get(), 3u);  // b itself, a and c
  auto got = swarm_.node(c).Get(SimulatedSwarm::NodeKey(swarm_.node(b)));
  swarm_.network().Reschedule(SimulatedSwarm::EndpointOf(c));
  swarm_.network().RunFor(1000);
  auto records = got.get();
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].node_id, Id(b));
}

TEST_F(DhtNodeTest, ANodeFarFromANearPointLeadsTheWayInsteadOfAnswering) {
  // "near" (a sample of a spread key's region): a storing node that knows k nodes closer to the
  // point than itself answers contacts near the point, not its records; one close to the point
  // answers them.
  size_t n = AddNode();
  DhtOptions o;
  o.bootstrap = {SimulatedSwarm::EndpointOf(n).ToString()};
  for (int i = 0; i < 24; ++i) AddNode(o);
  swarm_.network().RunFor(2000);
  ASSERT_GE(swarm_.node(n).Snapshot().contacts.size(), 20u);
  json rec = RecordJson(kPeerId);
  ASSERT_EQ(Store(n, "model:wide", rec)["data"], json({{"stored", true}}));
  // Every other id is closer to the complement of n's id than n is.
  std::string far = Id(n);
  for (char& c : far) c = "fedcba9876543210"[c <= '9' ? c - '0' : c - 'a' + 10];
  auto ask = [&](const std::string& near) {
    return Exchange(n, {{"type", "find_value"}, {"id", "q"}, {"sender_id", kPeerId}, {"key", "model:wide"},
                        {"limit", 16}, {"near", near}})["data"];
  };
  json led = ask(far);
  EXPECT_FALSE(led.contains("value")) << led.dump();
  ASSERT_TRUE(led["contacts"].is_array());
  EXPECT_FALSE(led["contacts"].empty());
  const NodeId far_id = *NodeId::FromHex(far);
  for (const json& c : led["contacts"]) {
    EXPECT_TRUE(NodeId::Closer(far_id, *NodeId::FromHex(c["node_id"].get<std::string>()), swarm_.node(n).id()));
  }
  json answered = ask(Id(n));
  EXPECT_EQ(answered["value"], json::array({rec})) << answered.dump();
  // Without "near" the node answers as always.
  json plain = Exchange(n, {{"type", "find_value"}, {"id", "q"}, {"sender_id", kPeerId}, {"key", "model:wide"}})["data"];
  EXPECT_EQ(plain["value"], json::array({rec}));
}

TEST_F(DhtNodeTest, LookupsKeepEveryIdentityOfANodeId) {
  // Two storing nodes hold records of one node_id signed by different keys: the lookup returns
  // both, so that the reader's identity rule (protocol/identity.h), not the newer date, decides.
  size_t a = AddNode();
  DhtOptions o;
  o.bootstrap = {SimulatedSwarm::EndpointOf(a).ToString()};
  size_t b = AddNode(o);
  o.read_only = true;
  size_t client = AddNode(o);
  swarm_.network().RunFor(1000);
  auto signed_json = [&](double age_s) {
    json rec = RecordJson("bootstrap-node");
    rec["last_seen"] = rec["last_seen"].get<double>() - age_s;
    return json::parse(SignRecord(*ParseRecord(rec.dump()), *IdentityKey::Generate())->json);
  };
  ASSERT_EQ(Store(a, "model:m", signed_json(5))["data"], json({{"stored", true}}));
  ASSERT_EQ(Store(b, "model:m", signed_json(0))["data"], json({{"stored", true}}));
  auto got = swarm_.node(client).Get("model:m");
  swarm_.network().Reschedule(SimulatedSwarm::EndpointOf(client));
  swarm_.network().RunFor(500);
  auto records = got.get();
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 2u);
  EXPECT_NE((*records)[0].pubkey, (*records)[1].pubkey);
  EXPECT_GT((*records)[0].last_seen, (*records)[1].last_seen);  // freshest first
}

TEST_F(DhtNodeTest, SwarmSecretKeepsOutsidersOut) {
  DhtOptions secret;
  secret.swarm_secret = "our-swarm";
  size_t a = AddNode(secret);
  secret.bootstrap = {SimulatedSwarm::EndpointOf(a).ToString()};
  size_t b = AddNode(secret);
  DhtOptions outsider;
  outsider.bootstrap = secret.bootstrap;
  size_t c = AddNode(outsider);
  swarm_.network().RunFor(1500);
  EXPECT_TRUE(swarm_.node(b).Snapshot().joined);
  EXPECT_EQ(swarm_.node(a).Snapshot().contacts.size(), 1u);
  EXPECT_FALSE(swarm_.node(c).Snapshot().joined);
  EXPECT_GE(swarm_.node(a).Snapshot().counters.drops.at("bad_mac"), 1u);
  // A Python-style datagram without a MAC gets no answer either.
  peer_.Send(SimulatedSwarm::EndpointOf(a), json{{"type", "ping"}, {"id", "p"}, {"sender_id", kPeerId}});
  swarm_.network().RunFor(50);
  EXPECT_TRUE(peer_.received.empty());
}

TEST_F(DhtNodeTest, ContactsThatStopAnsweringLeaveTheTable) {
  size_t a = AddNode();
  DhtOptions o;
  o.bootstrap = {SimulatedSwarm::EndpointOf(a).ToString()};
  o.contact_ping_ms = 3000;
  size_t b = AddNode(o);
  swarm_.network().RunFor(1000);
  ASSERT_EQ(swarm_.node(b).Snapshot().contacts.size(), 1u);
  swarm_.Kill(a);
  // Liveness pings every contact_ping_ms; two failed requests (each with a resend) remove it.
  swarm_.network().RunFor(15000);
  EXPECT_TRUE(swarm_.node(b).Snapshot().contacts.empty());
  EXPECT_GE(swarm_.node(b).Snapshot().counters.rpc_timeouts, 2u);
}

TEST_F(DhtNodeTest, StoppedNodeFailsOperationsWithUnavailable) {
  size_t a = AddNode();
  swarm_.node(a).Stop();
  auto got = swarm_.node(a).Get("model:x");
  EXPECT_EQ(got.get().status().code(), Status::Code::kUnavailable);
  auto put = swarm_.node(a).Publish("model:x", swarm_.NodeRecord(a));
  EXPECT_EQ(put.get().status().message(), "DHT node is not running");
}

}  // namespace
}  // namespace llamanet::dht
