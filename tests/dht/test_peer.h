// A raw datagram peer on the memory network: sends hand-written JSON and records what comes
// back, so tests can assert exact replies of a real node.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

#include "dht/memory_network.h"

namespace llamanet::dht {

class TestPeer final : public MemoryNetwork::Host {
 public:
  TestPeer(MemoryNetwork& net, Endpoint endpoint) : endpoint_(endpoint), transport_(net.Attach(endpoint, this)) {}
  void Send(const Endpoint& to, const std::string& datagram) { transport_->Send(to, datagram); }
  void Send(const Endpoint& to, const nlohmann::json& datagram) { Send(to, datagram.dump()); }
  void OnDatagram(const Endpoint& from, std::string_view d) override {
    received.emplace_back(from, nlohmann::json::parse(d));
    sizes.push_back(d.size());
  }
  void OnWakeup() override {}
  int64_t NextWakeupMs() const override { return MemoryNetwork::kNever; }
  const Endpoint& endpoint() const { return endpoint_; }

  std::vector<std::pair<Endpoint, nlohmann::json>> received;
  std::vector<size_t> sizes;

 private:
  Endpoint endpoint_;
  std::unique_ptr<Transport> transport_;
};

}  // namespace llamanet::dht
