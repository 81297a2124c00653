// In-process stand-ins for swarm peers on 127.0.0.1: a small httplib server that proves an
// identity (or lies about it), answers /health, and counts what reaches it; a listening socket
// that is never accepted (a plain TCP listener, or a frozen process's kernel); and waits with
// bounds.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "dht/record_signing.h"
#include "swarm/identity_proof.h"
#include "protocol/node_record.h"

namespace llamanet::swarm {

// Waits for `done` to hold, polling every 10 ms, for at most `limit`.
inline bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

class FakePeer {
 public:
  // `claimed_id`: the node_id its identity answer names (another one plays a wrong identity).
  explicit FakePeer(std::string node_id, std::string claimed_id = "")
      : node_id_(std::move(node_id)),
        claimed_id_(claimed_id.empty() ? node_id_ : std::move(claimed_id)),
        key_(dht::IdentityKey::Generate().value()) {
    server.new_task_queue = [] { return new httplib::ThreadPool(16); };
    server.Get("/identity", [this](const httplib::Request& req, httplib::Response& res) {
      ++identity_probes;
      Hold();
      Result<IdentityProof> proof = ProveIdentity(key_, claimed_id_, req.get_param_value("nonce"));
      if (!proof.ok()) {
        res.status = 400;
        return;
      }
      res.set_content(IdentityProofJson(*proof), "application/json");
    });
    server.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
      ++health_probes;
      Hold();
      res.set_content(R"({"status":"healthy"})", "application/json");
    });
    server.Get("/info", [this](const httplib::Request&, httplib::Response& res) {
      ++info_probes;
      res.set_content("{\"node_id\":\"" + claimed_id_ + "\"}", "application/json");
    });
  }

  ~FakePeer() {
    Freeze(false);
    server.stop();
    if (thread_.joinable()) thread_.join();
  }

  // Register routes on `server` first.
  void Start() {
    port_ = server.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server.listen_after_bind(); });
    ASSERT_TRUE(WaitFor([this] { return server.is_running(); }, std::chrono::seconds(5)));
  }

  // The record a DHT lookup would give for this peer: signed (with its key) or not.
  protocol::NodeRecord Record(const std::string& model = "m", bool is_signed = true) const {
    protocol::NodeRecord r;
    r.node_id = node_id_;
    r.ip = "127.0.0.1";
    r.port = port_;
    r.model = model;
    r.slots = 4;
    r.free_slots = 4;
    if (is_signed) r.pubkey = key_.public_key_hex();
    return r;
  }

  // A frozen peer answers nothing (handlers hold until thawed, at most 20 s).
  void Freeze(bool frozen) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      frozen_ = frozen;
    }
    cv_.notify_all();
  }
  // For handlers of a test's own routes.
  void Hold() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(20), [&] { return !frozen_; });
  }

  int port() const { return port_; }
  const dht::IdentityKey& key() const { return key_; }

  httplib::Server server;
  std::atomic<int> identity_probes{0}, health_probes{0}, info_probes{0};

 private:
  const std::string node_id_, claimed_id_;
  const dht::IdentityKey key_;
  int port_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool frozen_ = false;
  std::thread thread_;
};

// A TCP port that is listening but never accepts: the kernel completes handshakes and takes
// the request's bytes, and nothing ever answers.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 64), 0);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace llamanet::swarm
