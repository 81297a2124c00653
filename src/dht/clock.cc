#include "dht/clock.h"

#include <chrono>

namespace llamanet::dht {

SystemClock& SystemClock::Instance() {
  static SystemClock clock;
  return clock;
}

int64_t SystemClock::NowMs() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

double SystemClock::WallSeconds() const {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

}  // namespace llamanet::dht
