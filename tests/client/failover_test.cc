#include "client/failover.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <mutex>

namespace llamanet::client {
namespace {

using namespace std::chrono_literals;

NodeInfo Node(std::string id, double load = 0, std::string model = "m") {
  NodeInfo n;
  n.node_id = id;
  n.ip = "10.0.0.1";
  n.port = 8000;
  n.model = std::move(model);
  n.load = load;
  return n;
}

class FakeSource : public NodeSource {
 public:
  Result<std::vector<NodeInfo>> Nodes(bool refresh) override {
    refreshes += refresh ? 1 : 0;
    if (!error.ok()) return error;
    if (refresh && !after_refresh.empty()) nodes = after_refresh;
    return nodes;
  }
  std::vector<NodeInfo> nodes;
  std::vector<NodeInfo> after_refresh;
  Status error;
  int refreshes = 0;
};

// Answers per node: a queue of results for each node id; OK when the queue is empty.
class FakeTransport : public Transport {
 public:
  AttemptResult Send(const NodeInfo& node, const Call&, const TextSink& on_text) override {
    sent.push_back(node.node_id);
    auto& q = script[node.node_id];
    if (q.empty()) {
      AttemptResult ok;
      if (on_text) on_text("hi");
      ok.completion.text = "hi";
      ok.completion.node_id = node.node_id;
      return ok;
    }
    AttemptResult r = q.front();
    q.pop_front();
    return r;
  }
  Result<protocol::CacheReport> AskCache(const NodeInfo& node, uint64_t) override {
    std::lock_guard<std::mutex> lock(mu);
    asked.push_back(node.node_id);
    auto it = cache.find(node.node_id);
    if (it == cache.end()) return Status::IoError("no answer");
    return it->second;
  }
  std::vector<std::string> sent;
  std::map<std::string, std::deque<AttemptResult>> script;
  std::map<std::string, protocol::CacheReport> cache;  // what each node says of the conversation
  std::mutex mu;                                       // AskCache runs on several threads
  std::vector<std::string> asked;                      // guarded by mu
};

AttemptResult Failure(Status s, bool delivered = false) {
  AttemptResult r;
  r.status = std::move(s);
  r.delivered = delivered;
  return r;
}

class FailoverTest : public ::testing::Test {
 protected:
  Failover Make(FailoverOptions o = {}) {
    return Failover(o, source_, transport_, health_,
                    [this](std::chrono::milliseconds d) {
                      sleeps_.push_back(d);
                      return !closed_;
                    },
                    42);
  }
  FakeSource source_;
  FakeTransport transport_;
  NodeHealth health_{30s};
  std::vector<std::chrono::milliseconds> sleeps_;
  bool closed_ = false;
  Call call_;
};

TEST_F(FailoverTest, AnswersFromTheChosenNodeAndNamesIt) {
  source_.nodes = {Node("a")};
  Result<Completion> r = Make().Run(call_, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->node_id, "a");
  ASSERT_EQ(r->attempts.size(), 1u);
  EXPECT_TRUE(r->attempts[0].status.ok());
  EXPECT_EQ(r->attempts[0].address, "10.0.0.1:8000");
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(FailoverTest, MovesToAnotherNodeNeverTheOneThatFailed) {
  source_.nodes = {Node("a"), Node("b"), Node("c")};
  for (const char* id : {"a", "b", "c"}) transport_.script[id].push_back(Failure(Status::IoError("refused")));
  transport_.script["c"].clear();  // c answers
  transport_.script["b"].push_back(Failure(Status::IoError("refused")));
  Failover f = Make();
  Result<Completion> r = f.Run(call_, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->node_id, "c");
  // Each node at most once per request.
  std::map<std::string, int> count;
  for (const std::string& id : transport_.sent) ++count[id];
  for (const auto& [id, n] : count) EXPECT_EQ(n, 1) << id;
  EXPECT_FALSE(r->attempts.back().node_id.empty());
  EXPECT_EQ(r->attempts.size(), transport_.sent.size());
  EXPECT_EQ(sleeps_.size(), transport_.sent.size() - 1);  // a backoff before each retry
}

TEST_F(FailoverTest, LaterRequestsPassOverAFailedNode) {
  source_.nodes = {Node("a", 0.0), Node("b", 0.5)};  // a is always the better choice
  transport_.script["a"].push_back(Failure(Status::Unavailable("HTTP 503")));
  Failover f = Make();
  Result<Completion> first = f.Run(call_, nullptr);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(transport_.sent, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(first->attempts[0].status.ok());
  transport_.sent.clear();
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(f.Run(call_, nullptr).ok());
  for (const std::string& id : transport_.sent) EXPECT_EQ(id, "b");
}

TEST_F(FailoverTest, AFailedNodeIsStillUsedWhenNoOtherIsLeft) {
  source_.nodes = {Node("a")};
  health_.MarkFailed("a");
  Result<Completion> r = Make().Run(call_, nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->node_id, "a");
}

TEST_F(FailoverTest, ClientErrorsAreNotRetried) {
  source_.nodes = {Node("a"), Node("b")};
  for (const char* id : {"a", "b"}) transport_.script[id].push_back(Failure(Status::InvalidArgument("HTTP 400: bad")));
  Result<Completion> r = Make().Run(call_, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(transport_.sent.size(), 1u);
  EXPECT_FALSE(health_.Avoided(transport_.sent[0]));
}

TEST_F(FailoverTest, AStreamThatDeliveredTextIsNotRetried) {
  source_.nodes = {Node("a"), Node("b")};
  for (const char* id : {"a", "b"}) transport_.script[id].push_back(Failure(Status::IoError("lost"), true));
  Result<Completion> r = Make().Run(call_, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kIoError);
  EXPECT_EQ(transport_.sent.size(), 1u);
}

TEST_F(FailoverTest, StopsAfterMaxAttemptsNamingEveryNodeTried) {
  for (const char* id : {"a", "b", "c", "d"}) {
    source_.nodes.push_back(Node(id));
    transport_.script[id].push_back(Failure(Status::DeadlineExceeded(std::string("node ") + id + ": timed out")));
  }
  FailoverOptions o;
  o.max_attempts = 3;
  o.backoff_initial = 100ms;
  o.backoff_max = 300ms;
  Result<Completion> r = Make(o).Run(call_, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kDeadlineExceeded);
  EXPECT_EQ(transport_.sent.size(), 3u);
  for (const std::string& id : transport_.sent) EXPECT_NE(r.status().message().find("node " + id), std::string::npos);
  ASSERT_EQ(sleeps_.size(), 2u);
  EXPECT_GE(sleeps_[0], 50ms);
  EXPECT_LE(sleeps_[0], 100ms);
  EXPECT_GE(sleeps_[1], 100ms);
  EXPECT_LE(sleeps_[1], 200ms);
}

TEST_F(FailoverTest, NoNodeIsNotFound) {
  Result<Completion> r = Make().Run(call_, nullptr);
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_EQ(source_.refreshes, 1);  // it looked once more before giving up
  source_.error = Status::Unavailable("no bootstrap node answered");
  r = Make().Run(call_, nullptr);
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_NE(r.status().message().find("no bootstrap node answered"), std::string::npos);
}

TEST_F(FailoverTest, NoNodeOfTheModelIsNotFound) {
  source_.nodes = {Node("a", 0, "other")};
  FailoverOptions o;
  o.criteria.model = "m";
  Result<Completion> r = Make(o).Run(call_, nullptr);
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_NE(r.status().message().find("'m'"), std::string::npos);
  EXPECT_TRUE(transport_.sent.empty());
}

TEST_F(FailoverTest, ReadsTheSwarmAgainWhenEveryCandidateFailed) {
  source_.nodes = {Node("a")};
  source_.after_refresh = {Node("a"), Node("new")};
  transport_.script["a"].push_back(Failure(Status::IoError("refused")));
  Result<Completion> r = Make().Run(call_, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->node_id, "new");
  EXPECT_EQ(source_.refreshes, 1);
}

TEST_F(FailoverTest, SaysWhenFiltersWereRelaxed) {
  source_.nodes = {Node("a", 0.9)};
  FailoverOptions o;
  o.criteria.max_load = 0.5;
  Result<Completion> r = Make(o).Run(call_, nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->filters_relaxed);
  source_.nodes = {Node("a", 0.1)};
  r = Make(o).Run(call_, nullptr);
  EXPECT_FALSE(r->filters_relaxed);
}

TEST_F(FailoverTest, ClosingDuringBackoffCancels) {
  source_.nodes = {Node("a"), Node("b")};
  for (const char* id : {"a", "b"}) transport_.script[id].push_back(Failure(Status::IoError("refused")));
  closed_ = true;
  Result<Completion> r = Make().Run(call_, nullptr);
  EXPECT_EQ(r.status().code(), Status::Code::kCancelled);
  EXPECT_EQ(transport_.sent.size(), 1u);
}

TEST_F(FailoverTest, PrefersTheNodeWithFewerOwnRequestsInFlight) {
  NodeInfo a = Node("a"), b = Node("b");
  a.slots = b.slots = 1;
  source_.nodes = {a, b};
  health_.Begin("a");  // a is busy with one of our requests
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(Make().Run(call_, nullptr).ok());
  for (const std::string& id : transport_.sent) EXPECT_EQ(id, "b");
}

TEST_F(FailoverTest, AConversationGoesToTheNodeHoldingIt) {
  source_.nodes = {Node("a"), Node("b"), Node("c")};
  call_.conversation = protocol::ConversationKey({{"user", "hello"}});
  transport_.cache = {{"a", {"a", 0, 4}}, {"b", {"b", 120, 2}}, {"c", {"c", 0, 4}}};
  for (int i = 0; i < 5; ++i) {
    Result<Completion> r = Make().Run(call_, nullptr);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->node_id, "b");
  }
  EXPECT_EQ(transport_.asked.size(), 15u);  // the three ranked nodes, each time
}

TEST_F(FailoverTest, ANewConversationGoesToTheFreestAndAFullHolderIsLeft) {
  source_.nodes = {Node("a"), Node("b"), Node("c")};
  call_.conversation = protocol::ConversationKey({{"user", "new"}});
  transport_.cache = {{"a", {"a", 0, 1}}, {"b", {"b", 0, 3}}, {"c", {"c", 500, 0}}};
  Result<Completion> r = Make().Run(call_, nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->node_id, "b");
}

TEST_F(FailoverTest, NodesThatCannotSayCountAsHoldingNothing) {
  source_.nodes = {Node("a"), Node("b")};
  call_.conversation = protocol::ConversationKey({{"user", "x"}});
  transport_.cache = {{"b", {"b", 50, 1}}};  // a does not answer /cache
  Result<Completion> r = Make().Run(call_, nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->node_id, "b");
}

TEST(BackoffTest, DoublesWithinBounds) {
  EXPECT_EQ(Failover::Backoff(1, 0, 50ms, 1000ms), 25ms);
  EXPECT_EQ(Failover::Backoff(1, 1, 50ms, 1000ms), 50ms);
  EXPECT_EQ(Failover::Backoff(3, 1, 50ms, 1000ms), 200ms);
  EXPECT_EQ(Failover::Backoff(10, 1, 50ms, 1000ms), 1000ms);
  EXPECT_EQ(Failover::Backoff(10, 0, 50ms, 1000ms), 500ms);
}

}  // namespace
}  // namespace llamanet::client
