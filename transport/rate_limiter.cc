#include "transport/rate_limiter.h"

#include <algorithm>

#include "engine/absl_compat.h"

namespace sbd {

RateLimiter::RateLimiter(double rate_per_s)
    : rate_per_s_(rate_per_s), burst_(std::max(1.0, 2 * rate_per_s)) {}

absl::Duration RateLimiter::Acquire(std::string_view user, absl::Time now) {
  if (!enabled()) return absl::ZeroDuration();
  MutexLock lock(mutex_);
  auto [it, inserted] = buckets_.try_emplace(ToAbsl(user));
  Bucket& bucket = it->second;
  if (inserted) {
    bucket.tokens = burst_;
  } else if (now > bucket.updated) {
    bucket.tokens =
        std::min(burst_, bucket.tokens + absl::ToDoubleSeconds(now - bucket.updated) * rate_per_s_);
  }
  bucket.updated = std::max(bucket.updated, now);
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return absl::ZeroDuration();
  }
  return absl::Seconds((1 - bucket.tokens) / rate_per_s_);
}

}  // namespace sbd
