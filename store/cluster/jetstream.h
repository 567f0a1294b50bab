// JetStream: a node's one connection to the NATS cluster and its JetStream
// context, plus the stream and key-value bucket cluster mode keeps there.
// Every use of the NATS C client (nats.c) in the project goes through
// store/cluster/; this file owns the connection, and FromNats turns the
// client's status codes into absl::Status.
//
// The connection reconnects forever (to any of the URLs, with the servers
// the cluster announces), and a node may start before any server is up.
//
// Thread-safety: nats.c's connection and context are thread-safe; every
// method may be called from any thread.
#ifndef SBD_STORE_CLUSTER_JETSTREAM_H_
#define SBD_STORE_CLUSTER_JETSTREAM_H_

#include <nats/nats.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sbd {

// Where cluster mode keeps its state in JetStream, and how (docs/CLUSTER.md).
struct ClusterLayout {
  std::string stream = "SBD_LOG";   // The replicated log: one message per batch.
  std::string subject = "sbd.log";  // Its only subject.
  std::string lease_bucket = "SBD_WRITER";
  std::string lease_key = "lease";
  int replicas = 3;
  // A retried publish within this window is one message (de-duplicated by
  // its id); far longer than any retry loop of ours.
  absl::Duration duplicates_window = absl::Minutes(2);
  // nats-server's default max_payload; a batch message must fit.
  int32_t max_message_bytes = 1024 * 1024;
  // Where gateways ask nodes for what their window does not hold (NATS core
  // request/reply, store/cluster/node_query_protocol.h), and the queue group
  // the nodes answer in: each query reaches one node.
  std::string query_subject = "sbd.query";
  std::string query_queue = "sbd-nodes";
};

// kAborted: the stream refused a publish because its last sequence was not
// the expected one (JetStream error 10071): another writer appended first.
// Timeouts, lost connections and missing quorum are kUnavailable.
absl::Status FromNats(natsStatus status, jsErrCode js_error, std::string_view what);

class JetStream {
 public:
  // `urls`: nats://host:port each. `name` names the connection on the
  // servers (monitoring).
  static absl::StatusOr<std::unique_ptr<JetStream>> Connect(const std::vector<std::string>& urls,
                                                            const std::string& name);
  ~JetStream();
  JetStream(const JetStream&) = delete;
  JetStream& operator=(const JetStream&) = delete;

  natsConnection* connection() const { return connection_; }
  jsCtx* context() const { return context_; }
  bool connected() const;

  // Unsubscribes `subscription` (made on this connection) and returns once
  // the connection's reader can no longer be handing it a message, so that
  // the caller may destroy it. nats.c before 3.6 (Debian 12 ships 3.4.1)
  // finds an incoming message's subscription in the connection's table,
  // lets go of the table's lock and only then locks the subscription,
  // holding no reference to it (nats.c issue #637): one unsubscribed and
  // destroyed in between is used after it was freed.
  void Unsubscribe(natsSubscription* subscription) const;

  // Creates the layout's stream and lease bucket where they do not exist
  // yet (any node may be first); retried until `timeout` while the cluster
  // has no quorum.
  absl::Status EnsureLayout(const ClusterLayout& layout, absl::Duration timeout);

  // The stream's last sequence (0 when empty), asked of its leader.
  absl::StatusOr<uint64_t> LastSequence(const std::string& stream) const;

 private:
  JetStream(natsConnection* connection, jsCtx* context)
      : connection_(connection), context_(context) {}
  natsConnection* const connection_;
  jsCtx* const context_;
};

}  // namespace sbd

#endif  // SBD_STORE_CLUSTER_JETSTREAM_H_
