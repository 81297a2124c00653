// LookupHandle: the caller's end of a lookup started with DhtNode::GetAsync or PublishAsync.
// Destroying the handle or calling Cancel() ends the lookup: its callback never runs after
// Cancel() returns, and the node stops sending for it at once (it wakes its loop). A caller
// that gives up therefore leaves nothing running. Detach() lets the lookup run to completion
// (at most its deadline, LookupLimits::timeout_ms) without the handle.
//
// Thread safety: Cancel may be called from any thread, also from inside the callback. When the
// callback is running on the loop thread at that moment, Cancel waits for it to return: do not
// call Cancel while holding a lock that the callback takes. Move-only.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

namespace llamanet::dht {

class LookupHandle {
 public:
  // Shared by the handle and the node's side of the lookup.
  class State {
   public:
    explicit State(std::function<void()> wake) : wake_(std::move(wake)) {}
    // Runs `callback` unless the lookup was cancelled; at most once. On the loop thread.
    void Complete(const std::function<void()>& callback);
    void Cancel();
    // The loop's cheap check: a cancel is pending, end the lookup.
    const std::atomic<bool>& cancel_requested() const { return cancel_requested_; }

   private:
    std::recursive_mutex mu_;  // held while the callback runs, so Cancel can wait for it
    bool done_ = false;        // guarded by mu_: completed or cancelled
    std::atomic<bool> cancel_requested_{false};
    const std::function<void()> wake_;  // wakes the node's loop; may be empty (driven nodes)
  };

  LookupHandle() = default;
  explicit LookupHandle(std::shared_ptr<State> state) : state_(std::move(state)) {}
  LookupHandle(LookupHandle&& other) noexcept = default;
  LookupHandle& operator=(LookupHandle&& other) noexcept;
  LookupHandle(const LookupHandle&) = delete;
  LookupHandle& operator=(const LookupHandle&) = delete;
  ~LookupHandle() { Cancel(); }

  // Ends the lookup (see above). Idempotent; no-op on an empty or detached handle.
  void Cancel();
  // Lets the lookup run on its own; the handle becomes empty.
  void Detach() { state_.reset(); }

 private:
  std::shared_ptr<State> state_;
};

}  // namespace llamanet::dht
