// NodeQueryResponder: a node's end of the node query protocol
// (node_query_protocol.h). It answers gateways' queries from the node's
// Ledger, in ClusterLayout's query_queue group on its query_subject, so that
// each query is answered by one node. Each answer is computed at once from
// the Ledger's committed state (its reads are in memory, or a short read of
// the local log); nothing here waits for the writer, the stream or another
// node, so a query is answered in the time of one read whatever the node is
// doing. A node behind the stream answers with what it has applied (a page
// stops at its LastSeq, as EventsPage allows); the gateway asks again.
//
// Queries are answered one at a time, on the subscription's NATS thread.
//
// Thread-safety: Start and Stop from one thread (the node's owner); the
// counters from any.
#ifndef SBD_STORE_CLUSTER_NODE_QUERY_RESPONDER_H_
#define SBD_STORE_CLUSTER_NODE_QUERY_RESPONDER_H_

#include <nats/nats.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "engine/ledger.h"
#include "engine/mutex.h"
#include "store/cluster/jetstream.h"

namespace sbd {

class NodeQueryResponder {
 public:
  struct Options {
    // The most events one page holds, whatever limit a query asks for: a
    // gateway's sessions page a `since` in pages of this order, and a page
    // of this many rows (a few hundred bytes each) fits in reply_bytes_max.
    size_t page_events_max = 1000;
    // The most bytes of one reply: half of nats-server's default
    // max_payload (1 MiB, ClusterLayout::max_message_bytes), which a reply
    // must not exceed or the server drops it and the gateway times out.
    size_t reply_bytes_max = 512 * 1024;
  };

  // `jetstream` and `ledger` must outlive the responder.
  NodeQueryResponder(JetStream& jetstream, const ClusterLayout& layout, const Ledger& ledger,
                     Options options);
  ~NodeQueryResponder();  // Stop().
  NodeQueryResponder(const NodeQueryResponder&) = delete;
  NodeQueryResponder& operator=(const NodeQueryResponder&) = delete;

  // Joins the queue group; once this returns OK, a gateway's queries may
  // reach this node (the servers know of the subscription if the connection
  // is up; else from when it is back). Once at most.
  absl::Status Start();

  // Leaves the group. Returns once no answer is being computed and none
  // will be: the Ledger is not touched after this. Idempotent.
  void Stop();

  // Queries answered (errors included), and requests dropped because they
  // had no reply subject or the reply could not be sent.
  uint64_t answered() const { return answered_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  static void OnMessage(natsConnection* connection, natsSubscription* subscription,
                        natsMsg* message, void* closure);
  static void OnComplete(void* closure);
  // The reply body for the query in `body`.
  std::string Answer(std::string_view body) const;

  JetStream& jetstream_;
  const ClusterLayout layout_;
  const Ledger& ledger_;
  const Options options_;
  natsSubscription* subscription_ = nullptr;  // Start and Stop only.
  std::atomic<uint64_t> answered_{0};
  std::atomic<uint64_t> dropped_{0};

  // nats.c's OnComplete: the subscription's handler has returned for the
  // last time.
  Mutex mutex_;
  CondVar completed_signal_;
  bool completed_ ABSL_GUARDED_BY(mutex_) = false;
};

}  // namespace sbd

#endif  // SBD_STORE_CLUSTER_NODE_QUERY_RESPONDER_H_
