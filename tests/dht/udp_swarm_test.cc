// 20 DhtNodes on real UDP sockets on 127.0.0.1 join through one bootstrap node and find each
// other's records. The only DHT test on real time: every wait is bounded.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "dht/dht_node.h"

namespace llamanet::dht {
namespace {

using namespace std::chrono_literals;

constexpr size_t kNodes = 20;

DhtOptions LoopbackOptions() {
  DhtOptions o;
  o.bind_host = "127.0.0.1";
  o.bind_port = 0;
  o.rpc_timeout_ms = 300;
  o.bootstrap_retry_ms = 200;
  return o;
}

Record NodeRecord(const DhtNode& node, const std::string& model) {
  const double now = SystemClock::Instance().WallSeconds();
  return *ParseRecord(R"({"node_id":")" + node.id().ToHex() + R"(","ip":"127.0.0.1","port":8000,"model":")" + model +
                      R"(","load":0,"last_seen":)" + std::to_string(now) + "}");
}

template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

TEST(UdpSwarmTest, TwentyNodesJoinThroughOneBootstrapNodeAndFindEachOthersRecords) {
  std::vector<std::unique_ptr<DhtNode>> nodes;
  auto first = DhtNode::Create(LoopbackOptions());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  nodes.push_back(std::move(first).value());
  ASSERT_TRUE(nodes[0]->Start().ok());
  const uint16_t port = nodes[0]->local_endpoint().port;
  ASSERT_NE(port, 0);
  for (size_t i = 1; i < kNodes; ++i) {
    DhtOptions o = LoopbackOptions();
    // Half of them name the bootstrap node by host name: names resolve.
    o.bootstrap = {(i % 2 ? "127.0.0.1:" : "localhost:") + std::to_string(port)};
    auto node = DhtNode::Create(o);
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    ASSERT_TRUE((*node)->Start().ok());
    nodes.push_back(std::move(node).value());
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        for (auto& n : nodes) {
          DhtSnapshot s = n->Snapshot();
          if (!s.joined || s.contacts.size() < 5) return false;
        }
        return true;
      },
      10s));

  std::vector<std::future<Result<size_t>>> puts;
  for (auto& n : nodes) {
    puts.push_back(n->Publish("node:" + n->id().ToHex(), NodeRecord(*n, "udp")));
    puts.push_back(n->Publish("model:udp", NodeRecord(*n, "udp")));
  }
  for (auto& p : puts) {
    ASSERT_EQ(p.wait_for(10s), std::future_status::ready);
    auto stored = p.get();
    ASSERT_TRUE(stored.ok()) << stored.status().ToString();
    EXPECT_GE(*stored, 2u);
  }
  for (size_t i = 0; i < kNodes; ++i) {
    const DhtNode& target = *nodes[(i + 7) % kNodes];
    auto got = nodes[i]->Get("node:" + target.id().ToHex());
    ASSERT_EQ(got.wait_for(10s), std::future_status::ready);
    auto records = got.get();
    ASSERT_TRUE(records.ok()) << records.status().ToString();
    ASSERT_EQ(records->size(), 1u);
    EXPECT_EQ((*records)[0].node_id, target.id().ToHex());
  }
  auto all = nodes[3]->Get("model:udp");
  ASSERT_EQ(all.wait_for(10s), std::future_status::ready);
  auto records = all.get();
  ASSERT_TRUE(records.ok());
  std::set<std::string> ids;
  for (const auto& r : *records) ids.insert(r.node_id);
  EXPECT_EQ(ids.size(), kNodes);
  DhtSnapshot s = nodes[0]->Snapshot();
  // Twenty nodes on one IP stay within the per-IP rate limit and routing caps. A reply that
  // comes after its request timed out (a loaded test machine) is the only drop allowed.
  for (const auto& [reason, n] : s.counters.drops) {
    if (reason != "unknown_txid") ADD_FAILURE() << reason << ": " << n;
  }
  EXPECT_EQ(s.counters.contacts_refused, 0u);
  EXPECT_GT(s.counters.datagrams_in, 0u);
  for (auto& n : nodes) n->Stop();
}

// A peer that never answers: a UDP socket on 127.0.0.1 that introduces itself with a ping.
class SilentPeer {
 public:
  SilentPeer() : fd_(::socket(AF_INET, SOCK_DGRAM, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    (void)::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  ~SilentPeer() { ::close(fd_); }
  void Ping(uint16_t port) const {
    const std::string ping = R"({"type":"ping","id":"hi","sender_id":"00000000000000cd"})";
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(port);
    (void)::sendto(fd_, ping.data(), ping.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  }

 private:
  int fd_;
};

TEST(UdpSwarmTest, ALookupItsCallerGaveUpOnStopsAtOnceAndStoppingCompletesTheRest) {
  auto created = DhtNode::Create(LoopbackOptions());  // rpc timeout 300 ms: a resend at 300 ms
  ASSERT_TRUE(created.ok());
  std::unique_ptr<DhtNode> node = std::move(created).value();
  ASSERT_TRUE(node->Start().ok());
  SilentPeer silent;
  silent.Ping(node->local_endpoint().port);
  ASSERT_TRUE(WaitFor([&] { return node->Snapshot().contacts.size() == 1; }, 5s));

  std::atomic<bool> called{false};
  {
    LookupHandle handle = node->GetAsync("model:x", [&](Result<GetResult>) { called = true; });
    // The query to the silent peer is out (after the ping reply).
    ASSERT_TRUE(WaitFor([&] { return node->Snapshot().counters.datagrams_out >= 2; }, 5s));
  }  // the caller gives up: the handle cancels from this thread and wakes the loop
  const uint64_t sent = node->Snapshot().counters.datagrams_out;
  // Not cancelled, the query would be resent at 300 ms and fail at 600 ms (calling back).
  EXPECT_FALSE(WaitFor([&] { return called.load() || node->Snapshot().counters.rpc_resends > 0; }, 1000ms));
  EXPECT_EQ(node->Snapshot().counters.datagrams_out, sent);

  // A detached lookup in flight is completed by Stop (here: the destructor).
  auto pending = node->Get("model:x");
  ASSERT_TRUE(WaitFor([&] { return node->Snapshot().counters.datagrams_out > sent; }, 5s));
  node.reset();
  ASSERT_EQ(pending.wait_for(0s), std::future_status::ready);
  EXPECT_TRUE(pending.get().ok());
  EXPECT_FALSE(called.load());
}

TEST(UdpSwarmTest, PortInUseIsAnError) {
  auto a = DhtNode::Create(LoopbackOptions());
  ASSERT_TRUE(a.ok());
  DhtOptions o = LoopbackOptions();
  o.bind_port = (*a)->local_endpoint().port;
  auto b = DhtNode::Create(o);
  EXPECT_EQ(b.status().code(), Status::Code::kIoError);
}

}  // namespace
}  // namespace llamanet::dht
