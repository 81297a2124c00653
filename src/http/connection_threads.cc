#include "http/connection_threads.h"

#include <thread>

#include "core/log.h"

namespace llamanet::http {

ConnectionThreads::ConnectionThreads(size_t max_threads) : max_threads_(max_threads) {}

ConnectionThreads::~ConnectionThreads() { shutdown(); }

bool ConnectionThreads::enqueue(std::function<void()> fn) {
  std::shared_ptr<State> state = state_;
  {
    std::lock_guard<std::mutex> lock(state->mu);
    if (state->stopping || state->running >= max_threads_) return false;
    ++state->running;
  }
  try {
    std::thread([state, fn = std::move(fn)] {
      fn();
      std::lock_guard<std::mutex> lock(state->mu);
      --state->running;
      state->cv.notify_all();
    }).detach();
  } catch (const std::system_error& e) {
    LN_WARN << "http: cannot start a connection thread: " << e.what();
    std::lock_guard<std::mutex> lock(state->mu);
    --state->running;
    return false;
  }
  return true;
}

void ConnectionThreads::shutdown() {
  std::unique_lock<std::mutex> lock(state_->mu);
  state_->stopping = true;
  state_->cv.wait(lock, [&] { return state_->running == 0; });
}

}  // namespace llamanet::http
