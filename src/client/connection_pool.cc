#include "client/connection_pool.h"

namespace llamanet::client {
namespace {

std::string Key(const std::string& host, int port) { return host + "|" + std::to_string(port); }

template <typename Setter>
void SetTimeout(std::chrono::milliseconds t, Setter set) {
  set(static_cast<time_t>(t.count() / 1000), static_cast<time_t>((t.count() % 1000) * 1000));
}

}  // namespace

ConnectionPool::Lease::~Lease() {
  if (client_) pool_->Return(key_, std::move(client_), keep_);
}

Result<ConnectionPool::Lease> ConnectionPool::Acquire(const std::string& host, int port) {
  const std::string key = Key(host, port);
  std::unique_ptr<httplib::Client> client;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return Status::Cancelled("the client is closed");
    auto it = idle_.find(key);
    if (it != idle_.end() && !it->second.empty()) {
      client = std::move(it->second.back());
      it->second.pop_back();
    }
  }
  if (!client) {
    // An IPv6 literal needs brackets in cpp-httplib's host:port.
    const bool v6 = host.find(':') != std::string::npos;
    client = std::make_unique<httplib::Client>(v6 ? "[" + host + "]" : host, port);
    SetTimeout(settings_.connect_timeout, [&](time_t s, time_t us) { client->set_connection_timeout(s, us); });
    SetTimeout(settings_.read_timeout, [&](time_t s, time_t us) { client->set_read_timeout(s, us); });
    SetTimeout(settings_.read_timeout, [&](time_t s, time_t us) { client->set_write_timeout(s, us); });
    client->set_keep_alive(true);
    client->set_tcp_nodelay(true);  // small SSE pieces and short answers must not wait (ARCHITECTURE.md)
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return Status::Cancelled("the client is closed");
  leased_.insert(client.get());
  return Lease(this, key, std::move(client));
}

void ConnectionPool::Return(const std::string& key, std::unique_ptr<httplib::Client> client, bool keep) {
  std::lock_guard<std::mutex> lock(mu_);
  leased_.erase(client.get());
  lease_ended_.notify_all();
  if (!keep || closed_) return;
  auto& idle = idle_[key];
  if (idle.size() < settings_.max_idle_per_node) idle.push_back(std::move(client));
}

bool ConnectionPool::closed() {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

void ConnectionPool::Forget(const std::string& host, int port) {
  std::lock_guard<std::mutex> lock(mu_);
  idle_.erase(Key(host, port));
}

void ConnectionPool::Close() {
  std::unique_lock<std::mutex> lock(mu_);
  closed_ = true;
  idle_.clear();
  // stop() shuts down the socket of the request in progress; a request that had not begun
  // yet when stop() came opens a new socket, hence the repeat. Return() needs mu_, so no
  // client is destroyed while it is being stopped.
  while (!leased_.empty()) {
    for (httplib::Client* c : leased_) c->stop();
    lease_ended_.wait_for(lock, std::chrono::milliseconds(20));
  }
}

}  // namespace llamanet::client
