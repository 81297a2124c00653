// WaitUntil: how a test waits. It polls the condition it waits for until a deadline, then
// fails saying what never happened; it never sleeps a guessed time or loops forever.
#pragma once

#include <chrono>
#include <thread>

namespace llamanet::testing {

// Polls `done` every `interval` until it returns true (then true) or `timeout` has passed
// (then false).
template <typename Done>
bool WaitUntil(Done done, std::chrono::milliseconds timeout,
               std::chrono::milliseconds interval = std::chrono::milliseconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
  return true;
}

}  // namespace llamanet::testing
