#include "dht/lookup_handle.h"

namespace llamanet::dht {

void LookupHandle::State::Complete(const std::function<void()>& callback) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  if (done_) return;
  done_ = true;
  callback();
}

void LookupHandle::State::Cancel() {
  {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (done_) return;
    done_ = true;
  }
  cancel_requested_ = true;
  if (wake_) wake_();
}

LookupHandle& LookupHandle::operator=(LookupHandle&& other) noexcept {
  if (this != &other) {
    Cancel();
    state_ = std::move(other.state_);
  }
  return *this;
}

void LookupHandle::Cancel() {
  if (state_) state_->Cancel();
  state_.reset();
}

}  // namespace llamanet::dht
