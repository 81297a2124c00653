// Puts this node's signed record into the DHT under `model:<name>`, `node:<id>` and
// `all_nodes`: every heartbeat, and at once when its load changes markedly (a slot frees up
// or the last one fills) so that routers see it without waiting a whole heartbeat. On a
// graceful stop it publishes tombstones so that peers drop the node at once. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "dht/dht_node.h"
#include "dht/record_signing.h"
#include "protocol/node_record.h"

namespace llamanet::swarm {

class Publisher {
 public:
  Publisher(dht::DhtNode& dht, dht::IdentityKey key, std::function<protocol::NodeRecord()> current,
            std::chrono::seconds heartbeat);
  ~Publisher();

  void Start();
  // Publishes tombstones (waiting up to `timeout`), then stops. Idempotent.
  void Withdraw(std::chrono::milliseconds timeout);

  // Epoch seconds of the last publish that reached at least one node; nullopt before.
  std::optional<double> LastHeartbeat() const;

 private:
  static std::vector<std::string> KeysFor(const protocol::NodeRecord& r);
  void Loop();
  bool MarkedChange(const protocol::NodeRecord& now) const;
  void PublishOnce(const protocol::NodeRecord& r);

  dht::DhtNode& dht_;
  const dht::IdentityKey key_;
  std::function<protocol::NodeRecord()> current_;
  const std::chrono::seconds heartbeat_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                 // guarded by mu_
  std::optional<double> last_heartbeat_;  // guarded by mu_
  std::optional<protocol::NodeRecord> last_published_;   // publisher thread only
  std::optional<dht::Record> last_record_;     // guarded by mu_
  std::thread thread_;
};

}  // namespace llamanet::swarm
