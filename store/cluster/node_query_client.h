// NodeQueryClient: a gateway's end of the node query protocol
// (node_query_protocol.h): it asks a node, any node (the nodes answer in a
// queue group), for an account's snapshot or a page of its events, without
// blocking the caller. Each query is published with a reply subject of its
// own under one inbox this client subscribes to (`<inbox>.<id>`), and waits
// in a table of pending queries until its reply arrives or its deadline
// passes.
//
// Every `done` is called exactly once: with the node's answer (the value,
// or the very status the node's Ledger returned, rebuilt by MakeError), or
// with kDataLoss for a reply that is not the protocol's, or with
// unavailable (MakeError(ErrorCode::kUnavailable, ...)) when no node
// answers: the servers report that no node is subscribed (at once), the
// connection is down when the query would be sent (at once), too many
// queries are pending already (at once), no reply arrives within
// Options::timeout (a lost connection included), or the client stops with
// the query still pending. A reply arriving after its query timed out is
// dropped.
//
// Thread-safety: Snapshot and EventsAfter may be called from any thread;
// Start and Stop from the owner's. A `done` runs inline (refused at once),
// on the inbox's NATS thread (a reply), on the sweeper thread (a timeout) or
// on the thread calling Stop, never under this client's lock; it must not
// block, and must not destroy the client.
#ifndef SBD_STORE_CLUSTER_NODE_QUERY_CLIENT_H_
#define SBD_STORE_CLUSTER_NODE_QUERY_CLIENT_H_

#include <nats/nats.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "engine/account_feed.h"
#include "engine/mutex.h"
#include "store/cluster/jetstream.h"
#include "store/cluster/node_query_protocol.h"

namespace sbd {

class NodeQueryClient {
 public:
  struct Options {
    // How long a query waits for its reply. A node answers in the time of
    // one read, so this bounds a node that is gone or hangs; a gateway's
    // session asks again (maybe another node) rather than wait longer.
    absl::Duration timeout = absl::Seconds(2);
    // The most queries waiting for replies: beyond it a query fails at once
    // (unavailable), rather than queue without bound behind nodes that do
    // not answer. Far above a gateway's healthy load: a query is answered
    // in milliseconds.
    size_t pending_max = 4096;
  };

  // `jetstream` must outlive the client.
  NodeQueryClient(JetStream& jetstream, const ClusterLayout& layout, Options options);
  ~NodeQueryClient();  // Stop().
  NodeQueryClient(const NodeQueryClient&) = delete;
  NodeQueryClient& operator=(const NodeQueryClient&) = delete;

  // Subscribes to the inbox and starts the sweeper thread. Queries before
  // Start (or after one that failed) are refused as unavailable. Once at
  // most.
  absl::Status Start();

  // Refuses new queries, unsubscribes, stops the sweeper, and fails every
  // query still pending as unavailable: when this returns every `done` has
  // been called, and none runs again. Idempotent.
  void Stop();

  // AccountFeed::Snapshot and AccountFeed::EventsAfter, asked of a node.
  // EventsAfter's page is checked against the query (node_query_protocol.h
  // DecodePageReply). after >= 0, until >= 0, limit > 0.
  void Snapshot(std::string account, AccountFeed::SnapshotDone done);
  void EventsAfter(std::string account, int64_t after, int64_t until, size_t limit,
                   AccountFeed::PageDone done);

  // Queries waiting for their replies.
  size_t pending() const;

 private:
  using Clock = std::chrono::steady_clock;
  // A query waiting for its reply: one of the two dones is set.
  struct Pending {
    Clock::time_point deadline;
    AccountFeed::SnapshotDone snapshot_done;
    AccountFeed::PageDone page_done;
    EventsAfterQuery page_query;  // What a page must answer.
  };
  enum class State { kIdle, kRunning, kStopped };

  static void OnMessage(natsConnection* connection, natsSubscription* subscription,
                        natsMsg* message, void* closure);
  static void OnComplete(void* closure);
  // Adds `pending` to the table and publishes `query`; or fails it at once.
  void Send(const NodeQuery& query, Pending pending);
  // The pending query `id`, taken out of the table (nullopt: it is not
  // there, answered or timed out already). Who takes it calls its done.
  std::optional<Pending> Take(uint64_t id);
  // Calls `pending`'s done with `status` (not OK).
  static void Fail(Pending& pending, const absl::Status& status);
  void Sweep();

  JetStream& jetstream_;
  const ClusterLayout layout_;
  const Options options_;
  // Set by Start, before any query is accepted; read-only afterwards.
  std::string inbox_;
  natsSubscription* subscription_ = nullptr;  // Start and Stop only.
  std::thread sweeper_;

  mutable Mutex mutex_;
  State state_ ABSL_GUARDED_BY(mutex_) = State::kIdle;
  uint64_t next_id_ ABSL_GUARDED_BY(mutex_) = 1;
  // By id. Ids are given in the order deadlines are set, all with the same
  // timeout: the first entry is always the next to expire.
  std::map<uint64_t, Pending> pending_ ABSL_GUARDED_BY(mutex_);
  // The sweeper's wakeup: a first pending query, or Stop.
  CondVar sweeper_signal_;
  // nats.c's OnComplete: the inbox's handler has returned for the last time.
  bool completed_ ABSL_GUARDED_BY(mutex_) = false;
  CondVar completed_signal_;
};

}  // namespace sbd

#endif  // SBD_STORE_CLUSTER_NODE_QUERY_CLIENT_H_
