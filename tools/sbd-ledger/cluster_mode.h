// ClusterMode: what `sbd-ledger serve --cluster` adds to a single node
// (docs/CLUSTER.md): the connection to the NATS cluster, the replicated log
// around the node's SQLite log, the ClusterNode that moves the node
// between follower and writer, and the NodeQueryResponder that answers the
// gateways' queries from the node's Ledger.
//
// Order of life (RunServe): Connect, then WrapLog (the Ledger opens on the
// result), then Attach the Ledger, then the server starts with view() in its
// context, then Start with the address it listens on. At shutdown: Stop once the server has
// stopped and before the Ledger goes; the ClusterMode itself outlives the
// Ledger (the log's publishes use its connection).
//
// Thread-safety: the main thread drives it; view() is thread-safe.
#ifndef SBD_TOOLS_SBD_LEDGER_CLUSTER_MODE_H_
#define SBD_TOOLS_SBD_LEDGER_CLUSTER_MODE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/cluster_view.h"
#include "engine/event_log.h"
#include "engine/ledger.h"
#include "store/cluster/cluster_node.h"
#include "store/cluster/jetstream.h"
#include "store/cluster/node_query_responder.h"
#include "store/cluster/replicated_event_log.h"
#include "store/sqlite_event_log.h"

namespace sbd {

struct ClusterConfig {
  std::vector<std::string> urls;  // --cluster, split at commas.
  std::string node_id;            // --node-id.
  std::string advertise;          // --advertise; empty: http://the listen address.
  absl::Duration lease_duration = absl::Seconds(5);  // --lease-ms.
};

// "nats://a:4222,nats://b:4222" -> its URLs; kInvalidArgument if one is empty.
absl::StatusOr<std::vector<std::string>> SplitClusterUrls(const std::string& list);

// The largest batch a cluster writer takes from its queue: one batch is one
// stream publish that waits for a quorum, so a batch much larger than a
// stream message only adds latency; and the ledger queue stays the same.
inline constexpr size_t kClusterBatchSizeMax = 2048;

class ClusterMode {
 public:
  // Connects (the servers may still be starting) and creates the stream and
  // the lease bucket if this is the cluster's first node.
  static absl::StatusOr<std::unique_ptr<ClusterMode>> Connect(ClusterConfig config);

  // The replicated log over `local`. A log that was appended to outside
  // cluster mode since its last stream message (or a non-empty log with no
  // stream position, joined to a stream that does not hold its events) is
  // kFailedPrecondition: its events are not the stream's.
  absl::StatusOr<std::unique_ptr<EventLog>> WrapLog(std::unique_ptr<SqliteEventLog> local);

  // Makes the node over `ledger`, which runs on WrapLog's log; `on_fatal`
  // runs once if the node cannot go on (a batch that does not verify).
  void Attach(Ledger& ledger, std::function<void(const absl::Status&)> on_fatal);
  // After Attach: the node's role, for the server's context.
  const ClusterView& view() const { return *node_; }
  // Starts answering gateways' queries, following and competing for the
  // writer lease; `listen_address` (HOST:PORT, as bound) is where followers
  // send writes unless --advertise says otherwise.
  absl::Status Start(const std::string& listen_address);
  // Stops answering queries, then the node (before the Ledger goes).
  void Stop() {
    queries_.reset();
    node_.reset();
  }

 private:
  explicit ClusterMode(ClusterConfig config, std::unique_ptr<JetStream> jetstream)
      : config_(std::move(config)), jetstream_(std::move(jetstream)) {}

  const ClusterConfig config_;
  const ClusterLayout layout_;
  std::unique_ptr<JetStream> jetstream_;
  ReplicatedEventLog* log_ = nullptr;  // Owned by the Ledger.
  const Ledger* ledger_ = nullptr;     // Attach's.
  std::unique_ptr<ClusterNode> node_;
  std::unique_ptr<NodeQueryResponder> queries_;
};

}  // namespace sbd

#endif  // SBD_TOOLS_SBD_LEDGER_CLUSTER_MODE_H_
