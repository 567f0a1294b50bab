// ClusterNode: one node of cluster mode (docs/CLUSTER.md "Nodes"). It holds
// the node's role and moves it between follower and writer:
//
// - a follower reads the stream (StreamFollower) and applies each batch to
//   its log and projection through Ledger::SubmitReplicated;
// - when the writer lease (WriterLease) comes to this node, it first catches
//   up to the stream's last message, stops reading, and only then lets its
//   log publish (ReplicatedEventLog::BecomeWriter);
// - a writer that loses the lease, or whose log stepped down (fenced, or a
//   publish whose outcome it does not know), becomes a follower again and
//   catches up from the stream.
//
// An error the node cannot go on from (a batch whose chain or balances do
// not verify, a stream that skips) goes to `on_fatal`, naming the seq; the
// node then stops taking part.
//
// Thread-safety: a role thread of its own; the lease and the follower have
// theirs. The ClusterView methods may be called from any thread.
#ifndef SBD_STORE_CLUSTER_CLUSTER_NODE_H_
#define SBD_STORE_CLUSTER_CLUSTER_NODE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/cluster_view.h"
#include "engine/ledger.h"
#include "engine/mutex.h"
#include "store/cluster/jetstream.h"
#include "store/cluster/replicated_event_log.h"
#include "store/cluster/stream_follower.h"
#include "store/cluster/writer_lease.h"

namespace sbd {

class ClusterNode : public ClusterView {
 public:
  struct Options {
    std::string node_id;
    ClusterLayout layout;
    absl::Duration lease_duration = absl::Seconds(5);
    absl::Duration lease_renew_every = absl::Seconds(1);
    std::function<void(const absl::Status&)> on_fatal;
  };

  // `ledger` runs on `log`; both, and `jetstream`, must outlive the node.
  // Nothing runs until Start: the node is a follower that knows no writer.
  ClusterNode(Ledger& ledger, ReplicatedEventLog& log, JetStream& jetstream, Options options);
  // Stops reading, writing and renewing; releases the lease if held. Only
  // once nothing calls the ClusterView methods any more (the server stopped).
  ~ClusterNode() override;
  ClusterNode(const ClusterNode&) = delete;
  ClusterNode& operator=(const ClusterNode&) = delete;

  // Starts following the stream and competing for the lease; `address` is
  // this node's HTTP address ("http://host:port"), where followers send
  // writes while it is the writer. Once only.
  absl::Status Start(std::string address);

  const std::string& node_id() const override { return options_.node_id; }
  bool writer() const override { return log_.writer(); }
  std::string writer_address() const override;
  int64_t failovers() const override { return failovers_.load(std::memory_order_relaxed); }
  int64_t stream_lag() const override { return lag_.load(std::memory_order_relaxed); }

 private:
  void Run();
  // One pass of the role loop: follow, or become the writer, or step down.
  void Step();
  void StartFollowing();
  // Applies one stream batch through the ledger; waits for the outcome.
  absl::Status ApplyBatch(StreamBatch batch, int64_t stream_seq);
  void Fatal(const absl::Status& status);
  void Wake();

  Ledger& ledger_;
  ReplicatedEventLog& log_;
  JetStream& jetstream_;
  const Options options_;
  // Set once by Start; read by any thread after it.
  std::atomic<WriterLease*> lease_{nullptr};
  std::unique_ptr<WriterLease> owned_lease_;
  std::unique_ptr<StreamFollower> follower_;  // Start, then the role thread only.
  std::atomic<int64_t> failovers_{0};
  std::atomic<int64_t> lag_{0};
  std::atomic<bool> fatal_{false};

  Mutex mutex_;
  CondVar wakeup_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  bool woken_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread thread_;
};

}  // namespace sbd

#endif  // SBD_STORE_CLUSTER_CLUSTER_NODE_H_
