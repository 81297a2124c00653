#include "dht/rate_limiter.h"

#include <algorithm>

namespace llamanet::dht {

double RateLimiter::Refill(const Bucket& b, int64_t now_ms) const {
  double elapsed_s = static_cast<double>(std::max<int64_t>(0, now_ms - b.updated_ms)) / 1000.0;
  return std::min(limit_.burst, b.tokens + elapsed_s * limit_.per_second);
}

bool RateLimiter::Allow(const std::string& source, int64_t now_ms) {
  auto it = buckets_.find(source);
  if (it == buckets_.end()) {
    if (buckets_.size() >= limit_.max_sources) {
      Sweep(now_ms);
      if (buckets_.size() >= limit_.max_sources) return false;
    }
    it = buckets_.emplace(source, Bucket{limit_.burst, now_ms}).first;
  }
  Bucket& b = it->second;
  b.tokens = Refill(b, now_ms);
  b.updated_ms = now_ms;
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

void RateLimiter::Sweep(int64_t now_ms) {
  std::erase_if(buckets_, [&](const auto& entry) { return Refill(entry.second, now_ms) >= limit_.burst; });
}

}  // namespace llamanet::dht
