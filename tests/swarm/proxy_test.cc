// The proxy's failover rules against in-process peers on 127.0.0.1: fake peers that answer,
// freeze, refuse, lie about their identity or break off mid-stream, and real nodes around the
// fake engine. A small entry server forwards every request through the proxy under test.
#include "swarm/proxy.h"

#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "fake_engine.h"
#include "fake_peer.h"
#include "http/http_errors.h"
#include "http/http_server.h"
#include "node/node.h"

namespace llamanet::swarm {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr const char* kBody = R"({"model":"m","prompt":"hi","max_tokens":4})";

double SecondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// A peer whose POST /v1/completions answers `text` as JSON and remembers the request's headers.
class AnsweringPeer : public FakePeer {
 public:
  explicit AnsweringPeer(std::string node_id, std::string text = "")
      : FakePeer(node_id), text_(text.empty() ? node_id : std::move(text)) {
    server.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
      ++posts;
      {
        std::lock_guard<std::mutex> lock(mu_);
        last_ = req;
      }
      Hold();
      res.set_header("X-LlamaNet-Node", "somebody-else");
      res.set_content("{\"text\":\"" + text_ + "\"}", "application/json");
    });
    Start();
  }

  httplib::Request last() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_;
  }

  std::atomic<int> posts{0};

 private:
  const std::string text_;
  std::mutex mu_;
  httplib::Request last_;
};

// The node that forwards: an HttpServer whose one route goes through the proxy to `peers`.
class Entry {
 public:
  Entry(ProxyOptions options = {}, const ForwardAuth* auth = nullptr, AddressPolicy policy = AddressPolicy({"127.0.0.1"}, false))
      : verifier(VerifierOptions(), std::move(policy)),
        proxy(WithId(std::move(options)), router, verifier, auth),
        server(ServerOptions()) {
    server.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
      std::vector<protocol::NodeRecord> to;
      {
        std::lock_guard<std::mutex> lock(mu_);
        to = peers_;
      }
      switch (proxy.Forward(req, res, to)) {
        case ForwardResult::kAnswered: return;
        case ForwardResult::kClientGone: ++clients_gone; res.status = 499; return;
        case ForwardResult::kFailed: http::SetOpenAiError(res, 503, "every peer failed"); return;
      }
    });
    EXPECT_TRUE(server.Bind().ok());
    thread_ = std::thread([this] { server.Run(); });
    client = std::make_unique<httplib::Client>("127.0.0.1", server.port());
    client->set_read_timeout(seconds(30));
    EXPECT_TRUE(WaitFor([this] { return client->Get("/nothing") != nullptr; }, seconds(5)));
  }
  ~Entry() {
    server.Stop();
    thread_.join();
  }

  void SetPeers(std::vector<protocol::NodeRecord> peers) {
    std::lock_guard<std::mutex> lock(mu_);
    peers_ = std::move(peers);
  }

  httplib::Result Post(const httplib::Headers& headers = {}) {
    return client->Post("/v1/completions", headers, kBody, "application/json");
  }

  Router router;
  PeerVerifier verifier;
  Proxy proxy;
  http::HttpServer server;
  std::unique_ptr<httplib::Client> client;
  std::atomic<int> clients_gone{0};

 private:
  static PeerVerifierOptions VerifierOptions() { return {}; }
  static ProxyOptions WithId(ProxyOptions o) {
    o.self_node_id = "entry";
    return o;
  }
  static http::HttpServerOptions ServerOptions() {
    http::HttpServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.node_id = "entry";
    return o;
  }
  std::mutex mu_;
  std::vector<protocol::NodeRecord> peers_;
  std::thread thread_;
};

std::string TextOf(const httplib::Result& r) {
  if (!r) return "(no answer: " + httplib::to_string(r.error()) + ")";
  nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
  return j.is_object() && j.contains("text") ? j["text"].get<std::string>() : r->body;
}

TEST(ProxyTest, RelaysAVerifiedPeersAnswerAndNeverTheClientsKey) {
  AnsweringPeer peer("n1");
  ForwardAuth auth("swarm-secret");
  Entry entry({}, &auth);
  entry.SetPeers({peer.Record()});
  httplib::Result r = entry.Post({{"Authorization", "Bearer client-key"}, {"X-Request-Id", "req-7"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(TextOf(r), "n1");
  EXPECT_EQ(r->get_header_value("X-LlamaNet-Node"), "n1");  // the id it proved, not what it said
  EXPECT_EQ(r->get_header_value_count("X-LlamaNet-Node"), 1u);
  EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");

  httplib::Request seen = peer.last();
  EXPECT_FALSE(seen.has_header("Authorization"));
  EXPECT_EQ(seen.get_header_value("X-LlamaNet-Forwarded"), "entry");
  EXPECT_EQ(seen.get_header_value("X-Request-Id"), "req-7");
  EXPECT_EQ(seen.body, kBody);
  // The swarm credential the peer got is good once for exactly this request.
  ForwardAuth receiver("swarm-secret");
  const std::string cred = seen.get_header_value(kForwardAuthHeader);
  EXPECT_FALSE(receiver.Accept("POST", "/v1/completions", std::string(kBody) + "x", "n1", cred));
  EXPECT_FALSE(receiver.Accept("POST", "/v1/completions", kBody, "n2", cred));
  EXPECT_TRUE(receiver.Accept("POST", "/v1/completions", kBody, "n1", cred));
  EXPECT_FALSE(receiver.Accept("POST", "/v1/completions", kBody, "n1", cred));
}

TEST(ProxyTest, FailsOverWithin3sOfAFrozenPeerAndAvoidsItUntilItAnswersAgain) {
  AnsweringPeer frozen("frozen"), good("good");
  Entry entry;
  ASSERT_TRUE(entry.verifier.Verify(frozen.Record()).ok());  // verified earlier, frozen since
  frozen.Freeze(true);
  entry.SetPeers({frozen.Record(), good.Record()});
  Clock::time_point t0 = Clock::now();
  httplib::Result r = entry.Post();
  const double failover_s = SecondsSince(t0);
  ASSERT_TRUE(r);
  EXPECT_EQ(TextOf(r), "good");
  EXPECT_LT(failover_s, 3.0);
  std::cout << "failover after a frozen peer: " << failover_s << " s\n";
  EXPECT_EQ(frozen.posts.load(), 1);
  EXPECT_TRUE(entry.verifier.Refused(frozen.Record()));

  // The next request does not try it at all.
  t0 = Clock::now();
  r = entry.Post();
  EXPECT_EQ(TextOf(r), "good");
  EXPECT_LT(SecondsSince(t0), 0.5);
  EXPECT_EQ(frozen.posts.load(), 1);

  // Thawed, it proves itself again and is used.
  frozen.Freeze(false);
  entry.verifier.RecheckDown();
  EXPECT_FALSE(entry.verifier.Refused(frozen.Record()));
  EXPECT_EQ(TextOf(entry.Post()), "frozen");
}

TEST(ProxyTest, APeerBusyWithALongPromptAnswersItsProbesAndIsWaitedFor) {
  FakePeer slow("slow");
  slow.server.Post("/v1/completions", [](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(milliseconds(4000));  // longer than grace + probe: not a hang
    res.set_content(R"({"text":"slow"})", "application/json");
  });
  slow.Start();
  AnsweringPeer fast("fast");
  Entry entry;
  entry.SetPeers({slow.Record(), fast.Record()});
  Clock::time_point t0 = Clock::now();
  httplib::Result r = entry.Post();
  EXPECT_EQ(TextOf(r), "slow");
  EXPECT_GE(SecondsSince(t0), 3.9);
  EXPECT_GE(slow.health_probes.load(), 2);
  EXPECT_EQ(fast.posts.load(), 0);
  EXPECT_FALSE(entry.verifier.Refused(slow.Record()));
}

TEST(ProxyTest, AStreamThatSentItsHeadersAndFrozeBeforeAnyByteStillFailsOver) {
  FakePeer stuck("stuck");
  stuck.server.Post("/v1/completions", [&stuck](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("text/event-stream", [&stuck](size_t, httplib::DataSink& sink) {
      stuck.Hold();  // the headers are out; then nothing
      sink.done();
      return true;
    });
  });
  stuck.Start();
  AnsweringPeer good("good");
  Entry entry;
  ASSERT_TRUE(entry.verifier.Verify(stuck.Record()).ok());
  stuck.Freeze(true);
  entry.SetPeers({stuck.Record(), good.Record()});
  Clock::time_point t0 = Clock::now();
  httplib::Result r = entry.Post();
  EXPECT_EQ(TextOf(r), "good");
  EXPECT_LT(SecondsSince(t0), 3.0);
}

TEST(ProxyTest, RefusalsGoToTheNextPeerWhichTheRouterThenAvoids) {
  for (int status : {503, 429, 500, 401}) {
    FakePeer busy("busy");
    busy.server.Post("/v1/completions", [status](const httplib::Request&, httplib::Response& res) {
      res.status = status;
      res.set_content(R"({"detail":"no"})", "application/json");
    });
    busy.Start();
    AnsweringPeer good("good");
    Entry entry;
    entry.SetPeers({busy.Record(), good.Record()});
    EXPECT_EQ(TextOf(entry.Post()), "good") << status;
    EXPECT_TRUE(entry.router.Avoided("busy")) << status;
  }
}

TEST(ProxyTest, ARecordWhoseAddressIsNotThatPeerNeverReceivesTheRequest) {
  AnsweringPeer liar("n1");
  AnsweringPeer good("good");
  protocol::NodeRecord wrong_key = liar.Record();
  wrong_key.pubkey = good.key().public_key_hex();  // a record claiming good's key at liar's address
  SilentListener plain_tcp;
  protocol::NodeRecord listener = good.Record();
  listener.node_id = "listener";
  listener.port = plain_tcp.port();
  protocol::NodeRecord metadata = good.Record();
  metadata.node_id = "metadata";
  metadata.ip = "169.254.169.254";
  ProxyOptions o;
  o.max_attempts = 8;
  Entry wide(o);
  wide.SetPeers({wrong_key, listener, metadata, good.Record()});
  EXPECT_EQ(TextOf(wide.Post()), "good");
  EXPECT_EQ(liar.posts.load(), 0);
  EXPECT_EQ(liar.identity_probes.load(), 1);
  for (const protocol::NodeRecord& p : {wrong_key, listener, metadata}) EXPECT_TRUE(wide.verifier.Refused(p)) << p.node_id;
  // Refused records are skipped from then on without a probe.
  EXPECT_EQ(TextOf(wide.Post()), "good");
  EXPECT_EQ(liar.identity_probes.load(), 1);
}

TEST(ProxyTest, APeerThatDiesMidStreamBreaksTheClientsStreamInsteadOfEndingIt) {
  FakePeer dying("dying");
  dying.server.Post("/v1/completions", [](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("text/event-stream", [](size_t, httplib::DataSink& sink) {
      const std::string first = "data: {\"text\":\"one\"}\n\n";
      sink.write(first.data(), first.size());
      std::this_thread::sleep_for(milliseconds(100));
      return false;  // the connection drops
    });
  });
  dying.Start();
  AnsweringPeer good("good");
  Entry entry;
  entry.SetPeers({dying.Record(), good.Record()});
  std::string got;
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.body = kBody;
  req.set_header("Content-Type", "application/json");
  req.content_receiver = [&](const char* d, size_t n, uint64_t, uint64_t) {
    got.append(d, n);
    return true;
  };
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  bool complete = entry.client->send(req, res, err);
  EXPECT_FALSE(complete) << "a broken stream must not look complete";
  EXPECT_NE(got.find("one"), std::string::npos);
  EXPECT_EQ(res.get_header_value("Content-Type"), "text/event-stream");
  EXPECT_EQ(good.posts.load(), 0);  // it had started: no second answer
}

TEST(ProxyTest, AForwardedAnswerKeepsOnlyAJsonOrEventStreamContentType) {
  FakePeer html("html");
  html.server.Post("/v1/completions", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("<script>alert(1)</script>", "text/html");
  });
  html.Start();
  Entry entry;
  entry.SetPeers({html.Record()});
  httplib::Result r = entry.Post();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(ForwardedContentType("text/event-stream; charset=utf-8"), "text/event-stream");
  EXPECT_EQ(ForwardedContentType("Application/JSON"), "application/json");
  EXPECT_EQ(ForwardedContentType("text/html"), "application/json");
  EXPECT_EQ(ForwardedContentType(""), "application/json");
}

TEST(ProxyTest, AClientThatLeavesClosesTheExchangeWithThePeer) {
  FakePeer peer("n1");
  std::atomic<bool> peer_saw_close{false};
  peer.server.Post("/v1/completions", [&](const httplib::Request& req, httplib::Response& res) {
    peer_saw_close = WaitFor([&] { return req.is_connection_closed(); }, seconds(10));
    res.set_content("{}", "application/json");
  });
  peer.Start();
  Entry entry;
  entry.SetPeers({peer.Record()});
  httplib::Client impatient("127.0.0.1", entry.server.port());
  impatient.set_read_timeout(milliseconds(300));
  Clock::time_point t0 = Clock::now();
  EXPECT_FALSE(impatient.Post("/v1/completions", kBody, "application/json"));
  impatient.stop();
  EXPECT_TRUE(WaitFor([&] { return peer_saw_close.load(); }, seconds(3)));
  EXPECT_LT(SecondsSince(t0), 2.0);
  EXPECT_TRUE(WaitFor([&] { return entry.clients_gone.load() == 1; }, seconds(3)));
}

TEST(ProxyTest, TriesAtMostMaxAttemptsPeersThenGivesUp) {
  std::vector<std::unique_ptr<FakePeer>> down;
  std::vector<protocol::NodeRecord> records;
  for (int i = 0; i < 3; ++i) {
    down.push_back(std::make_unique<FakePeer>("busy" + std::to_string(i)));
    down.back()->server.Post("/v1/completions", [](const httplib::Request&, httplib::Response& res) {
      res.status = 503;
    });
    down.back()->Start();
    records.push_back(down.back()->Record());
  }
  AnsweringPeer good("good");
  records.push_back(good.Record());
  ProxyOptions o;
  o.max_attempts = 2;
  Entry entry(o);
  entry.SetPeers(records);
  httplib::Result r = entry.Post();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(good.posts.load(), 0);
}

// A real node (HTTP edge, routes, swarm) around the fake engine, on 127.0.0.1.
class FakeEngineNode {
 public:
  FakeEngineNode(FakeEngine::Options engine_options, node::NodeConfig config = {}) {
    char dir[] = "/tmp/llamanet-proxy-test-XXXXXX";
    if (mkdtemp(dir) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = dir;
    config.model_path = dir_ + "/fake.gguf";
    config.host = "127.0.0.1";
    config.port = 0;
    config.dht_port = 0;
    config.node_id = "fake-node";
    config.key_file = dir_ + "/node.key";
    key_ = dht::IdentityKey::LoadOrCreate(config.key_file).value();
    engine = std::make_shared<FakeEngine>(engine_options);
    node_ = node::Node::CreateWithEngine(config, engine).value();
    thread_ = std::thread([this] { node_->Run(); });
    httplib::Client c("127.0.0.1", node_->port());
    EXPECT_TRUE(WaitFor([&] { return c.Get("/health") != nullptr; }, seconds(5)));
  }
  ~FakeEngineNode() {
    node_->Shutdown(milliseconds(0));
    thread_.join();
    std::filesystem::remove_all(dir_);
  }

  protocol::NodeRecord Record() const {
    protocol::NodeRecord r;
    r.node_id = node_->node_id();
    r.ip = "127.0.0.1";
    r.port = node_->port();
    r.model = "fake";
    r.pubkey = key_.public_key_hex();
    return r;
  }
  int port() const { return node_->port(); }

  std::shared_ptr<FakeEngine> engine;

 private:
  std::string dir_;
  dht::IdentityKey key_;
  std::unique_ptr<node::Node> node_;
  std::thread thread_;
};

TEST(ProxyNodeTest, ANodeSendsAStreamsHeadersBeforeItsPromptIsProcessed) {
  FakeEngine::Options eo;
  eo.prompt_time = milliseconds(2500);
  FakeEngineNode node(eo);
  httplib::Client c("127.0.0.1", node.port());
  c.set_read_timeout(seconds(20));
  Clock::time_point t0 = Clock::now();
  double headers_s = -1;
  std::string body;
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.body = R"({"model":"fake","prompt":"a long prompt","max_tokens":4,"stream":true})";
  req.set_header("Content-Type", "application/json");
  req.response_handler = [&](const httplib::Response&) {
    headers_s = SecondsSince(t0);
    return true;
  };
  req.content_receiver = [&](const char* d, size_t n, uint64_t, uint64_t) {
    body.append(d, n);
    return true;
  };
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  ASSERT_TRUE(c.send(req, res, err)) << httplib::to_string(err);
  EXPECT_GE(headers_s, 0);
  EXPECT_LT(headers_s, 1.0);
  EXPECT_GE(SecondsSince(t0), 2.4);
  EXPECT_NE(body.find("[DONE]"), std::string::npos);
}

TEST(ProxyNodeTest, AClientThatLeavesAForwardedRequestCancelsTheGenerationOnThePeer) {
  for (bool stream : {false, true}) {
    FakeEngine::Options eo;
    eo.prompt_time = seconds(20);
    FakeEngineNode peer(eo);
    Entry entry;
    entry.SetPeers({peer.Record()});
    httplib::Client impatient("127.0.0.1", entry.server.port());
    impatient.set_read_timeout(milliseconds(500));
    const std::string body = std::string(R"({"model":"fake","prompt":"p","max_tokens":4,"stream":)") +
                             (stream ? "true" : "false") + "}";
    Clock::time_point t0 = Clock::now();
    (void)impatient.Post("/v1/completions", body, "application/json");
    impatient.stop();
    EXPECT_TRUE(WaitFor([&] { return peer.engine->cancelled.load() == 1; }, seconds(5))) << "stream " << stream;
    EXPECT_LT(SecondsSince(t0), 3.0) << "stream " << stream;
  }
}

TEST(ProxyNodeTest, ANodeWithAnApiKeyTakesForwardedRequestsOnlyWithTheSwarmCredential) {
  node::NodeConfig config;
  config.api_key = "client-key";
  config.swarm_secret = "swarm-secret";
  FakeEngineNode peer({}, config);
  ForwardAuth right("swarm-secret"), wrong("another-secret");
  const std::string body = R"({"model":"fake","prompt":"p","max_tokens":4})";
  struct Case {
    const ForwardAuth* auth;
    int status;
  };
  for (const Case& c : {Case{&right, 200}, Case{&wrong, 503}, Case{nullptr, 503}}) {
    Entry entry({}, c.auth);
    entry.SetPeers({peer.Record()});
    httplib::Result r = entry.client->Post("/v1/completions", {{"Authorization", "Bearer client-key"}}, body,
                                           "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, c.status) << r->body;
    if (c.status != 200) EXPECT_TRUE(entry.router.Avoided("fake-node"));  // it answered 401
  }
  // The node's own clients still need the key.
  httplib::Client direct("127.0.0.1", peer.port());
  EXPECT_EQ(direct.Post("/v1/completions", body, "application/json")->status, 401);
}

}  // namespace
}  // namespace llamanet::swarm
