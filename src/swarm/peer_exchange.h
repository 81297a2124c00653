// One request to one peer, sent on a thread of its own so that the proxy can wait for it under
// its own deadlines, watch its client meanwhile, and give up at any moment. Giving up shuts the
// connection, which the peer sees as its client gone (it stops generating). Thread-safe; meant
// for one reader at a time (the request's handler, then the stream that relays the body).
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "swarm/peer_verifier.h"

namespace llamanet::swarm {

class PeerExchange {
 public:
  using Clock = std::chrono::steady_clock;

  struct Snapshot {
    bool answered = false;  // the status line and headers arrived
    int status = 0;
    bool has_data = false;  // body bytes wait in TakeData()
    bool finished = false;  // nothing more will come
    bool broken = false;    // finished without a complete answer (error says why)
    std::string error;
    Clock::time_point last_heard;  // the last byte from the peer; the start before any
  };

  // Sends `request` to `target` at once. Holds at most `max_buffered` body bytes for the reader;
  // beyond that the peer waits (TCP backpressure). `read_timeout` bounds each wait for a byte.
  PeerExchange(const PeerTarget& target, httplib::Request request, std::chrono::milliseconds connect_timeout,
               std::chrono::seconds read_timeout, size_t max_buffered);
  // Cancels, then waits for the thread: at most about the connect timeout.
  ~PeerExchange();
  PeerExchange(const PeerExchange&) = delete;
  PeerExchange& operator=(const PeerExchange&) = delete;

  // Returns at once when anything changed since the last call, else after that or `timeout`.
  Snapshot WaitForChange(std::chrono::milliseconds timeout);
  // The peer's headers. REQUIRES: a snapshot said answered.
  httplib::Headers headers() const;
  // When the last byte came from the peer (the start before any).
  Clock::time_point last_heard() const;
  // The body bytes received and not yet taken.
  std::string TakeData();
  // Stops the exchange and closes its connection. Idempotent.
  void Cancel();

 private:
  void Run(httplib::Request request);
  Snapshot SnapshotLocked() const;
  void ChangedLocked();

  std::unique_ptr<httplib::Client> client_;
  const size_t max_buffered_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  // All guarded by mu_.
  bool answered_ = false;
  int status_ = 0;
  httplib::Headers headers_;
  std::string data_;
  bool finished_ = false;
  bool broken_ = false;
  bool cancelled_ = false;
  std::string error_;
  Clock::time_point last_heard_ = Clock::now();
  uint64_t version_ = 0;  // bumped on every change
  uint64_t seen_ = 0;     // the version the reader last saw

  std::thread thread_;
};

}  // namespace llamanet::swarm
