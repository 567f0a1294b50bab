// ReplicatedEventLog: cluster mode's EventLog (docs/CLUSTER.md). It wraps the
// node's own SqliteEventLog and the cluster's JetStream stream.
//
// As the writer, Append publishes the batch to the stream first, with the
// stream's expected-last-sequence set to the message this log's last batch
// came from, and commits it to SQLite only after the stream's quorum has
// stored it (the PubAck), recording the stream position in the same SQLite
// transaction. So no node's SQLite is ever ahead of the stream, and a writer
// that is not the only one (paused, partitioned, deposed) is refused by the
// stream itself (fenced): it can never fork the log.
//
// Any publish that fails or whose outcome is unknown steps the writer down:
// Append returns kUnavailable, the log becomes a follower and calls
// `on_step_down`, and the node catches up from the stream (which holds the
// batch if it landed) before it may write again.
//
// As a follower, Append refuses (the engine's commands are the writer's);
// AppendFollowed commits a batch read from the stream after checking that
// its hash chain continues this log's.
//
// Thread-safety: as EventLog. Append and AppendFollowed are the append path
// (one thread at a time). BecomeWriter and BecomeFollower may be called from
// any thread: each waits for an Append in flight to end (a publish may be
// retried for seconds), so that a node that stops writing reads the stream
// from where its log really ends.
#ifndef SBD_STORE_CLUSTER_REPLICATED_EVENT_LOG_H_
#define SBD_STORE_CLUSTER_REPLICATED_EVENT_LOG_H_

#include <atomic>
#include <cassert>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/event_log.h"
#include "engine/mutex.h"
#include "store/cluster/batch_message.h"
#include "store/cluster/jetstream.h"
#include "store/sqlite_event_log.h"

namespace sbd {

class ReplicatedEventLog : public EventLog {
 public:
  // `jetstream` must outlive this.
  ReplicatedEventLog(std::unique_ptr<SqliteEventLog> local, JetStream& jetstream,
                     ClusterLayout layout);

  // Runs on the append thread with the reason whenever the writer steps
  // down; it must not block. Set before the first BecomeWriter.
  void set_on_step_down(std::function<void(const absl::Status&)> on_step_down) {
    assert(!writer());
    on_step_down_ = std::move(on_step_down);
  }

  absl::Status Append(absl::Span<const Event> events) override ABSL_LOCKS_EXCLUDED(append_mutex_);
  int64_t LastSeq() const override { return local_->LastSeq(); }
  absl::Status Read(int64_t from_seq, int64_t to_seq,
                    absl::FunctionRef<absl::Status(const Event&)> visit) const override {
    return local_->Read(from_seq, to_seq, visit);
  }
  absl::StatusOr<std::vector<Event>> ReadSeqs(absl::Span<const int64_t> seqs) const override {
    return local_->ReadSeqs(seqs);
  }

  // Commits `events`, message `stream_seq` of the stream, whose hashes
  // (`hashes[i]` is events[i]'s) must continue this log's chain: a hash that
  // does not is kDataLoss naming the seq, and nothing is written.
  absl::Status AppendFollowed(absl::Span<const Event> events, absl::Span<const EventHash> hashes,
                              int64_t stream_seq) ABSL_LOCKS_EXCLUDED(append_mutex_);

  // The stream message this log's last batch came from (0: none yet).
  int64_t StreamSeq() const { return local_->LastStreamPosition().stream_seq; }

  // From now on Append publishes, as the writer of lease revision `term`.
  // The log must hold every message of the stream (the caller checked).
  void BecomeWriter(uint64_t term) ABSL_LOCKS_EXCLUDED(append_mutex_);
  void BecomeFollower() ABSL_LOCKS_EXCLUDED(append_mutex_);
  bool writer() const { return writer_.load(std::memory_order_acquire); }

 private:
  // Publishes one stream message, `body` holding events first..last, the
  // last with chain hash `last_hash` (the message id); its stream sequence,
  // or why not (kAborted: fenced).
  absl::StatusOr<uint64_t> Publish(std::string body, int64_t first, int64_t last,
                                   const EventHash& last_hash, uint64_t expected_last);
  absl::Status StepDown(absl::Status why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(append_mutex_);

  const std::unique_ptr<SqliteEventLog> local_;
  JetStream& jetstream_;
  const ClusterLayout layout_;
  std::function<void(const absl::Status&)> on_step_down_;
  // Held for a whole Append (and AppendFollowed): a role change waits for it.
  Mutex append_mutex_;
  std::atomic<bool> writer_{false};
  std::atomic<uint64_t> term_{0};
};

}  // namespace sbd

#endif  // SBD_STORE_CLUSTER_REPLICATED_EVENT_LOG_H_
