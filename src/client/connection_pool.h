// Keep-alive HTTP connections to nodes, reused across requests (a fresh TCP connection per
// request would cost a handshake, and cpp-httplib's Client serves one request at a time, so
// concurrent requests to one node each lease their own). Close() interrupts every leased
// connection, which is how Client::Close cancels requests in flight. Thread-safe.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "llamanet/status.h"

namespace llamanet::client {

struct ConnectionSettings {
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds read_timeout{30000};
  size_t max_idle_per_node = 8;  // the client passes its worker count: one per concurrent request
};

class ConnectionPool {
 public:
  // One connection, lent to one request. Goes back to the pool when the lease ends after
  // Keep(); otherwise it is closed.
  class Lease {
   public:
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    httplib::Client& client() { return *client_; }
    // The exchange completed cleanly: the connection may serve another request.
    void Keep() { keep_ = true; }

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, std::string key, std::unique_ptr<httplib::Client> client)
        : pool_(pool), key_(std::move(key)), client_(std::move(client)) {}
    ConnectionPool* pool_;
    std::string key_;
    std::unique_ptr<httplib::Client> client_;
    bool keep_ = false;
  };

  explicit ConnectionPool(ConnectionSettings settings) : settings_(settings) {}

  // Cancelled after Close().
  Result<Lease> Acquire(const std::string& host, int port);
  // Close() has begun: a request that failed meanwhile was interrupted by it.
  bool closed();
  // Closes the idle connections to a node that failed.
  void Forget(const std::string& host, int port);
  // Refuses new leases and interrupts every leased connection, again and again until each
  // lease has ended (a request may have been between Acquire and its first byte when the
  // first interruption came). Blocks until then. Idempotent.
  void Close();

 private:
  void Return(const std::string& key, std::unique_ptr<httplib::Client> client, bool keep);

  const ConnectionSettings settings_;
  std::mutex mu_;
  std::condition_variable lease_ended_;
  bool closed_ = false;                                                       // guarded by mu_
  std::map<std::string, std::vector<std::unique_ptr<httplib::Client>>> idle_;  // guarded by mu_
  std::set<httplib::Client*> leased_;                                         // guarded by mu_
};

}  // namespace llamanet::client
