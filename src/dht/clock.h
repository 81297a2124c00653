// Time sources for the DHT. Every timer, timeout and expiry in src/dht/ reads time through a
// Clock so that tests and the simulator can drive time by hand (virtual time, no sleeps).
#pragma once

#include <atomic>
#include <cstdint>

namespace llamanet::dht {

// NowMs(): monotonic milliseconds, for timers and round-trip times.
// WallSeconds(): Unix epoch seconds, for record `last_seen` and record expiry.
// Thread safety: implementations allow concurrent calls from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMs() const = 0;
  virtual double WallSeconds() const = 0;
};

// The real clocks (steady_clock and system_clock).
class SystemClock final : public Clock {
 public:
  static SystemClock& Instance();
  int64_t NowMs() const override;
  double WallSeconds() const override;
};

// A clock that moves only when told to. Wall time is `wall_origin_s` plus the monotonic time,
// so both clocks advance together. Thread-safe (atomic).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(double wall_origin_s = 1'700'000'000.0) : wall_origin_s_(wall_origin_s) {}
  int64_t NowMs() const override { return now_ms_.load(std::memory_order_relaxed); }
  double WallSeconds() const override { return wall_origin_s_ + static_cast<double>(NowMs()) / 1000.0; }
  void AdvanceMs(int64_t ms) { now_ms_.fetch_add(ms, std::memory_order_relaxed); }
  // REQUIRES: ms >= NowMs() (time never goes back).
  void SetMs(int64_t ms) { now_ms_.store(ms, std::memory_order_relaxed); }

 private:
  const double wall_origin_s_;
  std::atomic<int64_t> now_ms_{0};
};

}  // namespace llamanet::dht
