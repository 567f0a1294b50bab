// RateLimiter: the per-user send rate limit (API.md: `--rate-limit N` sends/s
// per user, burst 2N). A token bucket per user, refilled continuously.
//
// Memory: one bucket per user that has sent; users are accounts (the route
// checks that first), so the map is bounded by the number of accounts.
//
// Thread-safety: thread-safe (one mutex, held for a map lookup only).
#ifndef SBD_TRANSPORT_RATE_LIMITER_H_
#define SBD_TRANSPORT_RATE_LIMITER_H_

#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "engine/mutex.h"

namespace sbd {

class RateLimiter {
 public:
  // rate_per_s <= 0 disables the limit (Acquire always succeeds).
  explicit RateLimiter(double rate_per_s);

  bool enabled() const { return rate_per_s_ > 0; }

  // Takes one token from `user`'s bucket. On success returns zero; when the
  // bucket is empty returns how long until a token is available (> 0).
  absl::Duration Acquire(std::string_view user, absl::Time now);

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time updated;
  };
  const double rate_per_s_;
  const double burst_;  // 2N.
  Mutex mutex_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace sbd

#endif  // SBD_TRANSPORT_RATE_LIMITER_H_
