// WriterLease: who the cluster's writer is, settled through a key in a
// JetStream key-value bucket (docs/CLUSTER.md, "Writer choice").
//
// The holder renews the key every `renew_every` with kvStore_Update on the
// revision it last wrote, so two nodes can never both renew: a renewal after
// someone else's write fails. A node that sees the key's revision unchanged
// for `duration` (by its own clock, so clocks need not agree) takes it with
// the same compare-and-set. The holder gives up by itself when it has not
// renewed for `duration - renew_every`, before anyone may take over. The
// lease's revision when taken is the writer's term.
//
// The lease only says who should write; what makes a second writer harmless
// is the stream's expected-last-sequence check (replicated_event_log.h).
//
// Thread-safety: a thread of its own runs the lease; the accessors may be
// called from any thread. The callbacks run on the lease's thread, one at a
// time, and must not block for long.
#ifndef SBD_STORE_CLUSTER_WRITER_LEASE_H_
#define SBD_STORE_CLUSTER_WRITER_LEASE_H_

#include <nats/nats.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/mutex.h"
#include "store/cluster/jetstream.h"

namespace sbd {

class WriterLease {
 public:
  struct Options {
    std::string node_id;
    // Where this node takes HTTP requests (a follower forwards writes there).
    std::string address;
    absl::Duration duration = absl::Seconds(5);
    absl::Duration renew_every = absl::Seconds(1);
    std::function<void(uint64_t term)> on_acquired;
    std::function<void()> on_lost;
  };

  // Opens the layout's bucket (it must exist: JetStream::EnsureLayout) and
  // starts the lease's thread.
  static absl::StatusOr<std::unique_ptr<WriterLease>> Start(JetStream& jetstream,
                                                            const ClusterLayout& layout,
                                                            Options options);
  // Stops the thread and, if this node holds the lease, releases it (a
  // clean shutdown hands over at once instead of after `duration`).
  ~WriterLease();
  WriterLease(const WriterLease&) = delete;
  WriterLease& operator=(const WriterLease&) = delete;

  // Whether this node holds the lease and, by its own clock, renewed it
  // recently enough to write (within `duration - renew_every`).
  bool held() const;
  uint64_t term() const;  // The revision this node took the lease at; 0 if not held.
  // The holder last seen (this node's own id while it holds it); empty if
  // none is known.
  struct Holder {
    std::string node_id;
    std::string address;
  };
  Holder holder() const;

 private:
  WriterLease(kvStore* bucket, std::string key, Options options);
  void Run();
  void Tick();
  void TryTake(absl::Time now);
  void Renew(absl::Time now);
  void Acquired(uint64_t revision, absl::Time now);
  bool HeldNow() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  kvStore* const bucket_;
  const std::string key_;
  const Options options_;
  const std::string value_;  // This node's Holder, encoded.

  mutable Mutex mutex_;
  CondVar wakeup_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  bool held_ ABSL_GUARDED_BY(mutex_) = false;
  uint64_t revision_ ABSL_GUARDED_BY(mutex_) = 0;  // Held: the one we last wrote.
  uint64_t term_ ABSL_GUARDED_BY(mutex_) = 0;
  Holder holder_ ABSL_GUARDED_BY(mutex_);
  // When it last renewed (or took) the lease: the clock time read before
  // that write, so never later than the write.
  absl::Time renewed_at_ ABSL_GUARDED_BY(mutex_);
  // Lease thread only: the revision it last saw and since when (to tell an
  // abandoned lease from a live one).
  uint64_t seen_revision_ = 0;
  absl::Time seen_since_;

  std::thread thread_;
};

}  // namespace sbd

#endif  // SBD_STORE_CLUSTER_WRITER_LEASE_H_
