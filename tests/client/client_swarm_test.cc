// The client against three real llamanet-node processes on 127.0.0.1 (tiny model, 1 s
// heartbeats): discovery, streaming, status, and failover when one node is killed with
// kill -9 in the middle of a load.
#include <gtest/gtest.h>

#include <deque>
#include <set>

#include "llamanet/client.h"
#include "node_process.h"
#include "support/wait_until.h"

namespace llamanet {
namespace {

using namespace std::chrono_literals;
using testing::NodeProcess;
using testing::NodeSpec;
using testing::TempDir;
using Clock = std::chrono::steady_clock;

class ClientSwarmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    for (const char* id : {"n1", "n2", "n3"}) {
      NodeSpec spec{LLAMANET_NODE_BIN, LLAMANET_TINY_MODEL, id};
      spec.dir = dir_.path();
      if (!nodes_.empty()) spec.bootstrap = {nodes_[0]->dht_address()};
      auto node = NodeProcess::Start(spec);
      ASSERT_TRUE(node.ok()) << node.status().ToString();
      nodes_.push_back(std::move(node).value());
    }
  }

  ClientOptions Options() const {
    ClientOptions o;
    o.bootstrap_nodes = {nodes_[0]->dht_address()};
    o.read_timeout = 20s;
    return o;
  }

  // Waits until the client's view lists every node (records appear within a heartbeat or two).
  void WaitForAll(Client& client) {
    size_t seen = 0;
    const bool all = testing::WaitUntil(
        [&] {
          auto nodes = client.Nodes(/*refresh=*/true).get();
          seen = nodes.ok() ? nodes->size() : 0;
          return seen == nodes_.size();
        },
        20s, 100ms);
    ASSERT_TRUE(all) << "the client saw " << seen << " of " << nodes_.size() << " nodes within 20 s";
  }

  TempDir dir_;
  std::vector<std::unique_ptr<NodeProcess>> nodes_;
};

TEST_F(ClientSwarmTest, FindsTheNodesStreamsAndReadsStatus) {
  auto client = Client::Create(Options());
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  ASSERT_NO_FATAL_FAILURE(WaitForAll(**client));
  const std::set<std::string> ids = {"n1", "n2", "n3"};

  std::string streamed;
  auto done = (*client)->GenerateStream({"Once upon a time", {.max_tokens = 16}},
                                        [&](std::string_view piece) { streamed += piece; }).get();
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(streamed, done->text);
  EXPECT_FALSE(done->text.empty());
  // Random weights may end early on an end-of-text token.
  EXPECT_GT(done->usage.completion_tokens, 0);
  if (done->finish_reason == "length") {
    EXPECT_EQ(done->usage.completion_tokens, 16);
  } else {
    EXPECT_EQ(done->finish_reason, "stop");
  }
  EXPECT_TRUE(ids.count(done->node_id)) << done->node_id;

  auto chat = (*client)->Chat({{{"user", "Hello"}}, {.max_tokens = 8}}).get();
  ASSERT_TRUE(chat.ok()) << chat.status().ToString();
  EXPECT_TRUE(ids.count(chat->node_id));
  EXPECT_GT(chat->usage.prompt_tokens, 0);

  auto status = (*client)->GetNodeStatus("n2").get();
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(status->node_id, "n2");
  EXPECT_TRUE(status->healthy);
  EXPECT_EQ((*client)->GetNodeStatus("nobody").get().status().code(), Status::Code::kNotFound);

  ClientOptions other_model = Options();
  other_model.model = "no-such-model";
  auto none = Client::Create(other_model);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ((*none)->Generate({"x", {}}).get().status().code(), Status::Code::kNotFound);

  (*client)->Close();
  EXPECT_EQ((*client)->Generate({"x", {}}).get().status().code(), Status::Code::kCancelled);
}

TEST_F(ClientSwarmTest, CloseEndsRequestsInFlightAndQueued) {
  ClientOptions o = Options();
  o.worker_threads = 2;
  auto client = Client::Create(o);
  ASSERT_TRUE(client.ok());
  ASSERT_NO_FATAL_FAILURE(WaitForAll(**client));
  std::atomic<int> pieces{0};
  std::vector<std::future<Result<Completion>>> answers;
  for (int i = 0; i < 12; ++i) {  // 2 run, 10 wait in the queue
    answers.push_back((*client)->GenerateStream({"Story " + std::to_string(i), {.max_tokens = 400}},
                                                [&](std::string_view) { ++pieces; }));
  }
  const bool streaming = testing::WaitUntil([&] { return pieces > 0; }, 20s);
  const auto start = Clock::now();
  (*client)->Close();
  ASSERT_TRUE(streaming) << "no stream sent a piece within 20 s";
  EXPECT_LT(Clock::now() - start, 3s);
  int cancelled = 0;
  for (auto& a : answers) {
    ASSERT_EQ(a.wait_for(0s), std::future_status::ready);
    Result<Completion> r = a.get();
    if (!r.ok()) ++cancelled;
    EXPECT_TRUE(r.ok() || r.status().code() == Status::Code::kCancelled) << r.status().ToString();
  }
  EXPECT_GE(cancelled, 10);
}

// 100 requests, 6 at a time; the 50th is followed by kill -9 of n2. Every request must
// succeed, and once a request has seen n2 fail, no request sent afterwards may try n2.
TEST_F(ClientSwarmTest, HundredRequestsSurviveAKill9) {
  ClientOptions o = Options();
  o.cache_ttl = 60s;  // keep the dead node in the view: the failover itself must avoid it
  auto made = Client::Create(o);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  Client& client = **made;
  ASSERT_NO_FATAL_FAILURE(WaitForAll(client));
  const std::string victim = "n2";

  struct Pending {
    int index;
    Clock::time_point sent;
    std::future<Result<Completion>> answer;
  };
  std::deque<Pending> in_flight;
  std::vector<std::pair<Clock::time_point, Result<Completion>>> results;
  std::optional<Clock::time_point> victim_failure_seen;
  const auto deadline = Clock::now() + 150s;

  auto collect_oldest = [&] {
    Pending p = std::move(in_flight.front());
    in_flight.pop_front();
    ASSERT_EQ(p.answer.wait_until(deadline), std::future_status::ready) << "request " << p.index << " hangs";
    Result<Completion> r = p.answer.get();
    ASSERT_TRUE(r.ok()) << "request " << p.index << ": " << r.status().ToString();
    for (const Attempt& a : r->attempts) {
      if (a.node_id == victim && !a.status.ok() && !victim_failure_seen) victim_failure_seen = Clock::now();
    }
    results.emplace_back(p.sent, std::move(r));
  };

  for (int i = 0; i < 100; ++i) {
    if (in_flight.size() == 6) collect_oldest();
    if (HasFatalFailure()) return;
    GenerateRequest req{"Request " + std::to_string(i), {.max_tokens = 8, .temperature = 0}};
    in_flight.push_back({i, Clock::now(), client.Generate(std::move(req))});
    if (i == 50) nodes_[1]->Kill9();
  }
  while (!in_flight.empty()) {
    collect_oldest();
    if (HasFatalFailure()) return;
  }

  ASSERT_EQ(results.size(), 100u);
  ASSERT_TRUE(victim_failure_seen) << "no request ever reached the killed node";
  int after = 0;
  for (const auto& [sent, r] : results) {
    if (sent <= *victim_failure_seen) continue;
    ++after;
    for (const Attempt& a : r->attempts) EXPECT_NE(a.node_id, victim) << "a request sent after n2 failed tried it";
    EXPECT_NE(r->node_id, victim);
  }
  EXPECT_GT(after, 0);
}

}  // namespace
}  // namespace llamanet
