// cpp-httplib's task queue for the node: one thread per accepted connection, up to a cap, so
// that a connection is served the moment it is accepted (a slow or streaming one never makes
// another wait for a pooled worker). httplib's own dynamic pool spawns a thread only when no
// worker is idle at the moment of enqueueing, so a burst of connections queued behind busy ones.
#pragma once

#include <httplib.h>

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>

namespace llamanet::http {

class ConnectionThreads final : public httplib::TaskQueue {
 public:
  explicit ConnectionThreads(size_t max_threads);
  ~ConnectionThreads() override;

  // False (httplib then closes the connection) beyond `max_threads` or after shutdown().
  bool enqueue(std::function<void()> fn) override;
  // Refuses new work and waits for every running connection to end.
  void shutdown() override;

 private:
  // Shared with the detached threads, which may still be unwinding after shutdown() returned.
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    size_t running = 0;  // guarded by mu
    bool stopping = false;
  };
  const size_t max_threads_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace llamanet::http
