// A fixed set of threads running queued tasks, with a bounded queue. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace llamanet::client {

class WorkerPool {
 public:
  WorkerPool(size_t threads, size_t max_queued);
  ~WorkerPool();  // Join()s

  // Queues `task`; false (and `task` dropped unrun) when the queue is full or after Join().
  bool Submit(std::function<void()> task);
  // Runs every queued task, then joins the threads. Idempotent; REQUIRES: not called from a
  // task.
  void Join();

 private:
  void Work();

  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool joining_ = false;                     // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace llamanet::client
