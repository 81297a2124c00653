#include "client/discovery.h"

#include <algorithm>

#include "client/node_record.h"
#include "core/log.h"
#include "dht/endpoint.h"
#include "protocol/lookup_records.h"
#include "protocol/rules.h"

namespace llamanet::client {
namespace {

// A client whose swarm is on this machine need not listen beyond it.
std::string DefaultBindHost(const std::vector<std::string>& bootstrap) {
  if (bootstrap.empty()) return "0.0.0.0";
  for (const std::string& entry : bootstrap) {
    auto hp = dht::SplitHostPort(entry);
    if (!hp.ok() || !(hp->first == "localhost" || hp->first.rfind("127.", 0) == 0)) return "0.0.0.0";
  }
  return "127.0.0.1";
}

}  // namespace

Result<std::unique_ptr<Discovery>> Discovery::Start(DiscoveryOptions options) {
  for (const std::string& entry : options.bootstrap) {
    if (auto hp = dht::SplitHostPort(entry); !hp.ok()) {
      return Status::InvalidArgument("bootstrap node '" + entry + "': " + hp.status().message());
    }
  }
  dht::DhtOptions d;
  d.bind_host = options.bind_host.empty() ? DefaultBindHost(options.bootstrap) : options.bind_host;
  d.bind_port = options.bind_port;
  d.read_only = true;
  d.bootstrap = options.bootstrap;
  d.swarm_secret = options.swarm_secret;
  d.require_signed = options.identity.require_signed;
  auto node = dht::DhtNode::Create(d);
  if (!node.ok()) return node.status();
  if (Status s = (*node)->Start(); !s.ok()) return s;
  return std::unique_ptr<Discovery>(new Discovery(std::move(options), std::move(node).value()));
}

Discovery::Discovery(DiscoveryOptions options, std::unique_ptr<dht::DhtNode> dht)
    : options_(std::move(options)),
      key_(protocol::IsAnyModel(options_.model) ? "all_nodes" : "model:" + options_.model),
      dht_(std::move(dht)),
      identities_(options_.identity),
      last_status_(Status::Unavailable("the swarm has not been read yet")) {
  refresher_ = std::thread([this] { RefreshLoop(); });
}

Discovery::~Discovery() { Stop(); }

void Discovery::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  dht_->Stop();  // completes a lookup in progress at once
  if (refresher_.joinable()) refresher_.join();
}

Result<std::vector<NodeInfo>> Discovery::Nodes(bool refresh) {
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_) return Status::Cancelled("the client is closed");
  const Clock::time_point now = Clock::now();
  if (!refresh && view_) {
    if (now - fetched_at_ >= options_.cache_ttl && !refresh_wanted_) {
      refresh_wanted_ = true;  // served stale meanwhile
      cv_.notify_all();
    }
    return *view_;
  }
  const uint64_t target = refreshes_done_ + 1;
  refresh_wanted_ = true;
  cv_.notify_all();
  // The refresh is bounded by options_.timeout itself (plus a refresh already running).
  cv_.wait_until(lock, now + 2 * options_.timeout + std::chrono::seconds(1),
                 [&] { return stopping_ || refreshes_done_ >= target; });
  if (stopping_) return Status::Cancelled("the client is closed");
  if (refreshes_done_ < target) return Status::DeadlineExceeded("reading the swarm from the DHT took too long");
  if (!last_status_.ok()) return last_status_;
  return *view_;
}

Result<NodeInfo> Discovery::Find(const std::string& node_id) {
  auto found = Fetch("node:" + node_id, Clock::now() + options_.timeout);
  if (!found.ok()) return found.status();
  for (NodeInfo& n : *found) {
    if (n.node_id == node_id) return std::move(n);
  }
  return Status::NotFound("no live node has the id '" + node_id + "'");
}

void Discovery::RefreshLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || refresh_wanted_; });
    if (stopping_) return;
    lock.unlock();
    Result<std::vector<NodeInfo>> fetched = Fetch(key_, Clock::now() + options_.timeout);
    if (fetched.ok()) {
      // A `model:<name>` set holds only that model's records, unless a node lies.
      if (!protocol::IsAnyModel(options_.model)) {
        std::erase_if(*fetched, [&](const NodeInfo& n) { return n.model != options_.model; });
      }
      std::sort(fetched->begin(), fetched->end(), [](const NodeInfo& a, const NodeInfo& b) {
        return a.load != b.load ? a.load < b.load : a.node_id < b.node_id;
      });
    } else {
      LN_DEBUG << "client: reading " << key_ << " failed: " << fetched.status().ToString();
    }
    lock.lock();
    refresh_wanted_ = false;
    last_status_ = fetched.status();
    if (fetched.ok()) {
      view_ = std::move(fetched).value();
      fetched_at_ = Clock::now();
    }
    ++refreshes_done_;
    cv_.notify_all();
  }
}

Status Discovery::WaitJoined(Clock::time_point deadline) {
  if (options_.bootstrap.empty()) {
    return Status::NotFound("no bootstrap nodes given (--bootstrap-nodes or BOOTSTRAP_NODES)");
  }
  // Polled: the DHT has no join notification. A loopback join takes about a millisecond,
  // hence the short first wait.
  std::chrono::milliseconds wait(1);
  while (true) {
    dht::DhtSnapshot snap = dht_->Snapshot();
    if (snap.joined && !snap.contacts.empty()) return Status::Ok();
    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_) return Status::Cancelled("the client is closed");
    if (Clock::now() >= deadline) {
      return Status::Unavailable("no bootstrap node answered within " + std::to_string(options_.timeout.count()) +
                                 " ms");
    }
    cv_.wait_until(lock, std::min(deadline, Clock::now() + wait), [&] { return stopping_; });
    wait = std::min(wait * 2, std::chrono::milliseconds(50));
  }
}

Result<std::vector<NodeInfo>> Discovery::Fetch(const std::string& key, Clock::time_point deadline) {
  if (Status s = WaitJoined(deadline); !s.ok()) return s;
  std::future<Result<std::vector<dht::Record>>> lookup = dht_->Get(key);
  if (lookup.wait_until(deadline) != std::future_status::ready) {
    return Status::DeadlineExceeded("the DHT lookup of " + key + " took longer than " +
                                    std::to_string(options_.timeout.count()) + " ms");
  }
  Result<std::vector<dht::Record>> records = lookup.get();
  if (!records.ok()) return records.status();
  const double now_s =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::vector<NodeInfo> nodes;
  for (const protocol::NodeRecord& r : protocol::ReadNodeRecords(identities_, *records, now_s)) {
    nodes.push_back(ToNodeInfo(r));
  }
  return nodes;
}

}  // namespace llamanet::client
