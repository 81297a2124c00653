// HttpTransport against an in-process fake node (cpp-httplib on 127.0.0.1): the headers it
// sends (the API key only where the KeyPolicy allows), the answers it reads, how it classifies
// failures, and cancellation by the pool.
#include "client/http_transport.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <thread>

#include "free_port.h"
#include "support/wait_until.h"

namespace llamanet::client {
namespace {

using namespace std::chrono_literals;

class FakeNode {
 public:
  FakeNode() {
    // Every route notes the Authorization it got and, like a node with --api-key, refuses
    // requests without the key when required_key_ is set.
    server_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      const std::string authorization = req.get_header_value("Authorization");
      std::lock_guard<std::mutex> lock(mu_);
      authorizations_.push_back(req.path + " " + authorization);
      if (required_key_.empty() || authorization == "Bearer " + required_key_) {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      res.status = 401;
      res.set_content(R"({"error":{"message":"Invalid API key"}})", "application/json");
      return httplib::Server::HandlerResponse::Handled;
    });
    server_.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
      forwarded_ = req.get_header_value(protocol::kForwardedHeader);
      if (status_ != 200) {
        res.status = status_;
        res.set_content(R"({"error":{"message":"queue full"}})", "application/json");
        return;
      }
      res.set_header(protocol::kServedByHeader, "fake-node");
      res.set_content(R"({"id":"cmpl-1","model":"tiny","choices":[{"index":0,"text":"ok","finish_reason":"stop"}]})",
                      "application/json");
    });
    server_.Post("/v1/chat/completions", [this](const httplib::Request&, httplib::Response& res) {
      res.set_header(protocol::kServedByHeader, "fake-node");
      res.set_chunked_content_provider("text/event-stream", [this](size_t, httplib::DataSink& sink) {
        auto event = [&](const std::string& data) {
          std::string e = "data: " + data + "\n\n";
          sink.write(e.data(), e.size());
        };
        event(R"({"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})");
        event(R"({"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]})");
        if (stream_mode_ == "cut") return false;  // the node dies mid-stream
        if (stream_mode_ == "hang") {
          std::unique_lock<std::mutex> lock(mu_);
          cv_.wait(lock, [&] { return released_; });
          return false;
        }
        event(R"({"choices":[{"index":0,"delta":{"content":" there"},"finish_reason":"stop"}]})");
        event("[DONE]");
        sink.done();
        return true;
      });
    });
    server_.Get("/status", [](const httplib::Request&, httplib::Response& res) {
      res.set_header(protocol::kServedByHeader, "fake-node");
      res.set_content(R"({"uptime":12.5,"tps":30,"load":0.5,"total_tokens":99,"model":"tiny"})", "application/json");
    });
    server_.Get("/health", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"healthy":true})", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // Stopped before it runs, the server could still start listening and the destructor hang.
    if (!testing::WaitUntil([this] { return server_.is_running(); }, 5s)) {
      ADD_FAILURE() << "the fake node was not listening within 5 s";
    }
  }
  ~FakeNode() {
    Release();
    server_.stop();
    thread_.join();
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  // "<path> <Authorization header>" of each request so far.
  std::vector<std::string> Authorizations() {
    std::lock_guard<std::mutex> lock(mu_);
    return authorizations_;
  }
  NodeInfo Info() const {
    NodeInfo n;
    n.node_id = "record-id";
    n.ip = "127.0.0.1";
    n.port = port_;
    return n;
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> status_{200};
  std::string stream_mode_ = "full";
  std::string forwarded_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;                   // guarded by mu_
  std::string required_key_;                // set before requests
  std::vector<std::string> authorizations_;  // guarded by mu_
};

class HttpTransportTest : public ::testing::Test {
 protected:
  FakeNode node_;  // first: it outlives the pool, whose kept connections would hold its threads
  ConnectionPool pool_{ConnectionSettings{1000ms, 5000ms}};
  // The key "secret" for the nodes named in `trusted`, or for every node in a private swarm.
  static KeyPolicy Keys(std::vector<std::string> trusted, bool private_swarm) {
    Result<KeyPolicy> keys = KeyPolicy::Make("secret", trusted, private_swarm);
    EXPECT_TRUE(keys.ok()) << keys.status().ToString();
    return keys.ok() ? std::move(keys).value() : KeyPolicy();
  }
  HttpTransport With(KeyPolicy keys) {
    return HttpTransport(HttpTransportOptions{std::move(keys), 1 << 20, 1 << 16}, pool_);
  }
  HttpTransport transport_ = With(Keys({"127.0.0.1:" + std::to_string(node_.port_)}, false));
  Call completion_ = MakeCall(GenerateRequest{"x", {}}, "", false);
  Call chat_ = MakeCall(ChatRequest{{{"user", "x"}}, {}}, "", true);
};

TEST_F(HttpTransportTest, AsksTheNodeToServeItselfAndNamesWhoServed) {
  AttemptResult r = transport_.Send(node_.Info(), completion_, nullptr);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(node_.forwarded_, "client");
  EXPECT_EQ(r.completion.text, "ok");
  EXPECT_EQ(r.completion.node_id, "fake-node");
  // The kept connection serves the next request.
  EXPECT_TRUE(transport_.Send(node_.Info(), completion_, nullptr).status.ok());
}

// A node that a public swarm's DHT lists is whoever published the record: it must never see
// the key, on any route.
TEST_F(HttpTransportTest, ANodeFoundInAPublicSwarmNeverGetsTheKey) {
  const std::string another_node = "127.0.0.1:" + std::to_string(testing::FreeLoopbackPort(SOCK_STREAM));
  HttpTransport public_swarm = With(Keys({another_node}, false));
  ASSERT_TRUE(public_swarm.Send(node_.Info(), completion_, nullptr).status.ok());
  ASSERT_TRUE(public_swarm.Send(node_.Info(), chat_, nullptr).status.ok());
  ASSERT_TRUE(public_swarm.GetStatus("127.0.0.1", node_.port_).ok());
  EXPECT_EQ(node_.Authorizations(), (std::vector<std::string>{"/v1/completions ", "/v1/chat/completions ",
                                                              "/status ", "/health "}));
}

TEST_F(HttpTransportTest, ANamedNodeGetsTheKey) {
  ASSERT_TRUE(transport_.Send(node_.Info(), completion_, nullptr).status.ok());
  ASSERT_TRUE(transport_.GetStatus("127.0.0.1", node_.port_).ok());
  EXPECT_EQ(node_.Authorizations(), (std::vector<std::string>{"/v1/completions Bearer secret", "/status Bearer secret",
                                                              "/health Bearer secret"}));
}

TEST_F(HttpTransportTest, APrivateSwarmsNodesGetTheKey) {
  HttpTransport private_swarm = With(Keys({}, true));
  ASSERT_TRUE(private_swarm.Send(node_.Info(), chat_, nullptr).status.ok());
  EXPECT_EQ(node_.Authorizations(), (std::vector<std::string>{"/v1/chat/completions Bearer secret"}));
}

TEST_F(HttpTransportTest, ANodeThatNeedsTheWithheldKeySaysHowToSendIt) {
  node_.required_key_ = "secret";
  HttpTransport public_swarm = With(Keys({}, false));
  AttemptResult r = public_swarm.Send(node_.Info(), completion_, nullptr);
  EXPECT_EQ(r.status.code(), Status::Code::kUnavailable);  // the failover moves on to another node
  for (const char* part : {"record-id", "HTTP 401", "Invalid API key", "withheld", "--trusted-nodes"}) {
    EXPECT_NE(r.status.message().find(part), std::string::npos) << part << " in " << r.status.message();
  }
  Result<NodeStatus> s = public_swarm.GetStatus("127.0.0.1", node_.port_);
  EXPECT_EQ(s.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(s.status().message().find("withheld"), std::string::npos) << s.status().message();
  // Sent the key, the node serves.
  EXPECT_TRUE(transport_.Send(node_.Info(), completion_, nullptr).status.ok());
  EXPECT_EQ(node_.Authorizations().back(), "/v1/completions Bearer secret");
}

TEST_F(HttpTransportTest, StreamsPiecesInOrder) {
  std::vector<std::string> pieces;
  AttemptResult r = transport_.Send(node_.Info(), chat_, [&](std::string_view p) { pieces.emplace_back(p); });
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(pieces, (std::vector<std::string>{"Hi", " there"}));
  EXPECT_EQ(r.completion.text, "Hi there");
  EXPECT_EQ(r.completion.finish_reason, "stop");
  EXPECT_TRUE(r.delivered);
}

TEST_F(HttpTransportTest, ServerErrorIsRetryableAndNothingWasDelivered) {
  node_.status_ = 503;
  AttemptResult r = transport_.Send(node_.Info(), completion_, nullptr);
  EXPECT_EQ(r.status.code(), Status::Code::kUnavailable);
  EXPECT_NE(r.status.message().find("queue full"), std::string::npos);
  EXPECT_NE(r.status.message().find("record-id"), std::string::npos);
  EXPECT_FALSE(r.delivered);
}

TEST_F(HttpTransportTest, StreamCutAfterAPieceIsDelivered) {
  node_.stream_mode_ = "cut";
  AttemptResult r = transport_.Send(node_.Info(), chat_, [](std::string_view) {});
  EXPECT_FALSE(r.status.ok());
  EXPECT_TRUE(r.delivered);
}

TEST_F(HttpTransportTest, NoListenerIsAnIoError) {
  NodeInfo gone = node_.Info();
  gone.port = testing::FreeLoopbackPort(SOCK_STREAM);  // no listener there
  AttemptResult r = transport_.Send(gone, completion_, nullptr);
  EXPECT_EQ(r.status.code(), Status::Code::kIoError);
}

TEST_F(HttpTransportTest, CallbackExceptionFailsTheRequest) {
  AttemptResult r = transport_.Send(node_.Info(), chat_, [](std::string_view) { throw std::runtime_error("x"); });
  EXPECT_EQ(r.status.code(), Status::Code::kInternal);
}

TEST_F(HttpTransportTest, PoolCloseInterruptsARequestInFlight) {
  node_.stream_mode_ = "hang";
  std::atomic<bool> got_piece{false};
  AttemptResult r;
  std::thread t([&] { r = transport_.Send(node_.Info(), chat_, [&](std::string_view) { got_piece = true; }); });
  const bool streaming = testing::WaitUntil([&] { return got_piece.load(); }, 5s);
  const auto start = std::chrono::steady_clock::now();
  pool_.Close();
  t.join();
  ASSERT_TRUE(streaming) << "the stream's first piece did not come within 5 s";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(r.status.code(), Status::Code::kCancelled);
  EXPECT_EQ(transport_.Send(node_.Info(), completion_, nullptr).status.code(), Status::Code::kCancelled);
}

TEST_F(HttpTransportTest, ReadsStatusAndHealth) {
  Result<NodeStatus> s = transport_.GetStatus("127.0.0.1", node_.port_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->node_id, "fake-node");
  EXPECT_TRUE(s->healthy);
  EXPECT_EQ(s->model, "tiny");
  EXPECT_DOUBLE_EQ(s->load, 0.5);
  EXPECT_EQ(s->total_tokens, 99);
  EXPECT_EQ(s->address, "127.0.0.1:" + std::to_string(node_.port_));
}

}  // namespace
}  // namespace llamanet::client
