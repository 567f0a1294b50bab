// StreamFollower: reads the replicated stream from a given message on, in
// order, and hands each decoded batch to a handler (a follower node applies
// it; docs/CLUSTER.md "Change data capture" describes the same feed for
// other consumers). It uses an ordered push consumer, which JetStream keeps
// gapless: after a lost connection or a server's restart the client makes a
// new consumer from the next message itself. Delivery is at least once, so
// a message at or before the last one handled is skipped.
//
// Thread-safety: a thread of its own reads and calls the handler; Stop may
// be called from any other thread.
#ifndef SBD_STORE_CLUSTER_STREAM_FOLLOWER_H_
#define SBD_STORE_CLUSTER_STREAM_FOLLOWER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

#include "absl/status/status.h"
#include "store/cluster/batch_message.h"
#include "store/cluster/jetstream.h"

namespace sbd {

class StreamFollower {
 public:
  // Called with each batch and its stream message seq, in order. A non-OK
  // status stops the follower (handed to `on_error`).
  using Handler = std::function<absl::Status(StreamBatch batch, int64_t stream_seq)>;

  // Starts reading after message `after_stream_seq` (0: from the start).
  StreamFollower(JetStream& jetstream, const ClusterLayout& layout, int64_t after_stream_seq,
                 Handler handler, std::function<void(const absl::Status&)> on_error);
  ~StreamFollower();  // Stop().
  StreamFollower(const StreamFollower&) = delete;
  StreamFollower& operator=(const StreamFollower&) = delete;

  // Returns once the handler is not running and will not run again.
  void Stop();

  // The last message handled.
  int64_t stream_seq() const { return handled_.load(std::memory_order_acquire); }

 private:
  void Run();
  // One subscription's life: until Stop, an error, or the subscription fails.
  absl::Status Follow();

  JetStream& jetstream_;
  const ClusterLayout layout_;
  const Handler handler_;
  const std::function<void(const absl::Status&)> on_error_;
  std::atomic<int64_t> handled_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace sbd

#endif  // SBD_STORE_CLUSTER_STREAM_FOLLOWER_H_
