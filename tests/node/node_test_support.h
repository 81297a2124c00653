// A node on 127.0.0.1 and a free port, serving the tiny model, for HTTP tests.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <memory>
#include <thread>

#include "engine/llama_engine.h"
#include "node/node.h"
#include "support/wait_until.h"

namespace llamanet::node {

// POSTs a JSON body and hands the response body to `receiver` as it arrives (httplib 0.11
// has no Post overload for that). Returns the HTTP status, or 0 when the exchange broke off.
inline int PostStreaming(httplib::Client& client, const std::string& path, const std::string& body,
                         std::function<bool(const char*, size_t)> receiver) {
  httplib::Request req;
  req.method = "POST";
  req.path = path;
  req.body = body;
  req.set_header("Content-Type", "application/json");
  req.content_receiver = [receiver](const char* data, size_t n, uint64_t, uint64_t) { return receiver(data, n); };
  httplib::Response res;
  httplib::Error error = httplib::Error::Success;
  if (!client.send(req, res, error)) return 0;
  return res.status;
}

// The `data:` payloads of an SSE body, checking the framing: every event is one `data:` line
// and a blank line.
inline std::vector<std::string> SseData(const std::string& body) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find("\n\n", pos);
    EXPECT_NE(end, std::string::npos) << "event without its blank line";
    if (end == std::string::npos) break;
    std::string frame = body.substr(pos, end - pos);
    EXPECT_EQ(frame.rfind("data: ", 0), 0u) << frame;
    EXPECT_EQ(frame.find('\n'), std::string::npos) << frame;
    out.push_back(frame.substr(6));
    pos = end + 2;
  }
  return out;
}

class TestNode {
 public:
  // `as_deployed`: the node loads the model itself (Node::Create, so with its embedder as
  // `config` says) instead of taking an engine opened here.
  explicit TestNode(NodeConfig config = {}, int32_t slots = 2, int32_t max_queue = 4, int32_t n_ctx = 256,
                    bool as_deployed = false) {
    config.model_path = LLAMANET_TINY_MODEL;
    config.host = "127.0.0.1";
    config.port = 0;
    config.dht_port = 0;
    config.node_id = config.node_id.empty() ? "test-node" : config.node_id;
    config.parallel = slots;
    config.max_queue = max_queue;
    // A key of its own in a fresh folder: tests never touch the user's state directory.
    char key_dir[] = "/tmp/llamanet-test-XXXXXX";
    if (mkdtemp(key_dir) == nullptr) throw std::runtime_error("mkdtemp failed");
    key_dir_ = key_dir;
    config.key_file = key_dir_ + "/node.key";
    config.n_ctx = n_ctx;
    config.threads = 1;  // no spinning thread barriers on a machine whose cores the tests share
    Result<std::unique_ptr<Node>> node = Status::Internal("no node");
    if (as_deployed) {
      node = Node::Create(config);
    } else {
      engine::LlamaEngineOptions eo;
      eo.model_path = config.model_path;
      eo.n_slots = slots;
      eo.max_queue = max_queue;
      eo.n_ctx = n_ctx;
      eo.n_threads = 1;
      eo.show_progress = false;
      auto engine = engine::OpenLlamaEngine(eo);
      if (!engine.ok()) throw std::runtime_error(engine.status().ToString());
      node = Node::CreateWithEngine(config, std::shared_ptr<engine::Engine>(std::move(engine).value()));
    }
    if (!node.ok()) throw std::runtime_error(node.status().ToString());
    node_ = std::move(node).value();
    thread_ = std::thread([this] { node_->Run(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", node_->port());
    client_->set_read_timeout(60, 0);
    if (!testing::WaitUntil([this] { return static_cast<bool>(client_->Get("/health")); }, std::chrono::seconds(10))) {
      Stop();
      throw std::runtime_error("the node did not answer /health within 10 s");
    }
  }
  ~TestNode() { Stop(); }
  httplib::Client& client() { return *client_; }
  Node& node() { return *node_; }
  int32_t port() const { return node_->port(); }

 private:
  void Stop() {
    node_->Shutdown(std::chrono::milliseconds(0));
    thread_.join();
    std::error_code ec;
    std::filesystem::remove_all(key_dir_, ec);
  }

  std::string key_dir_;
  std::unique_ptr<Node> node_;
  std::thread thread_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace llamanet::node
