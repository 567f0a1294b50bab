// GatewayFeed: the engine of a cluster gateway (docs/CLUSTER.md
// "Gateways"). It follows the committed stream from its last message on
// (StreamFollower), keeps the recent events in an EventWindow, and hands
// every batch to its subscriber (the gateway's Notifier) after the window
// holds it. As the AccountFeed of the gateway's WebSocket sessions it
// answers from the window when the window can, and asks a node
// (NodeQueryClient) when it cannot:
//
// - Snapshot: a user with an event in the window gets the balance of its
//   latest one, at the window's seq G. Otherwise a node's snapshot {S, b}
//   is joined to the window: once G >= S (waited for, bounded), the user's
//   latest event in (S, G] if any, else b, at seq G. If the window no
//   longer reaches back to S the node is asked again.
// - EventsAfter: from the window if it covers `after`, else a node's page;
//   a node that has not applied past `after` yet is asked again shortly
//   (bounded), so every page moves the caller on.
//
// Both answer at seq G, so the window's seq is the only one a session sees:
// everything after it is published after the answer (Append under the
// lock, publish after), and the session drops what it has covered.
//
// A batch that does not continue the window (a skipped seq) is fatal
// (`on_fatal`): a gateway that fanned out a gap would lose messages.
//
// Thread-safety: AccountFeed and GatewayView methods may be called from any
// thread; the subscriber is called on the follower's thread; dones run on
// the caller's thread (window answers), a NATS thread or the retry thread.
#ifndef SBD_STORE_CLUSTER_GATEWAY_FEED_H_
#define SBD_STORE_CLUSTER_GATEWAY_FEED_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "engine/account_feed.h"
#include "engine/event_window.h"
#include "engine/gateway_view.h"
#include "engine/mutex.h"
#include "engine/subscriber.h"
#include "store/cluster/delayed_calls.h"
#include "store/cluster/jetstream.h"
#include "store/cluster/node_query_client.h"
#include "store/cluster/stream_follower.h"

namespace sbd {

class GatewayFeed : public AccountFeed, public GatewayView {
 public:
  struct Options {
    std::string node_id;
    ClusterLayout layout;
    EventWindow::Limits window;
    NodeQueryClient::Options queries;
    // How long an answer may wait for the window or a node to catch up
    // before the session is told unavailable.
    std::chrono::milliseconds catch_up_max{2000};
    std::chrono::milliseconds retry_every{10};
    std::chrono::milliseconds lag_poll_every{500};
    std::function<void(const absl::Status&)> on_fatal;
  };

  // `jetstream` and `subscriber` must outlive the feed.
  GatewayFeed(JetStream& jetstream, Subscriber& subscriber, Options options);
  ~GatewayFeed() override;  // Stop().
  GatewayFeed(const GatewayFeed&) = delete;
  GatewayFeed& operator=(const GatewayFeed&) = delete;

  // Starts following the stream at its last message (or its start, when it
  // is empty) and the queries to the nodes. Once.
  absl::Status Start();
  // Stops following; every answer still owed is given (unavailable). After
  // it the subscriber is not called again.
  void Stop();

  // AccountFeed.
  int64_t LastSeq() const override { return applied_seq(); }
  void Snapshot(std::string_view account, SnapshotDone done) const override;
  void EventsAfter(std::string_view account, int64_t after, int64_t until, size_t limit,
                   PageDone done) const override;

  // GatewayView.
  const std::string& node_id() const override { return options_.node_id; }
  int64_t applied_seq() const override { return applied_seq_.load(std::memory_order_acquire); }
  int64_t stream_lag() const override { return lag_.load(std::memory_order_relaxed); }
  bool following() const override;
  size_t window_events() const override;
  size_t window_bytes() const override;

 private:
  using Clock = std::chrono::steady_clock;

  absl::Status OnBatch(StreamBatch batch, int64_t stream_seq);
  void PollLag();
  // Snapshot once the window has an answer: from it alone, or joined with
  // a node's {seq, balance}; nullopt: the window cannot answer (yet).
  std::optional<FeedSnapshot> SnapshotFromWindow(const std::string& account) const;
  void AskNodeSnapshot(std::string account, Clock::time_point deadline, SnapshotDone done) const;
  void JoinNodeSnapshot(std::string account, FeedSnapshot node, Clock::time_point deadline,
                        SnapshotDone done) const;
  void AskNodePage(std::string account, int64_t after, int64_t until, size_t limit,
                   Clock::time_point deadline, PageDone done) const;

  JetStream& jetstream_;
  Subscriber& subscriber_;
  const Options options_;
  // Mutable: answers are const (AccountFeed) but queue queries and retries.
  mutable NodeQueryClient queries_;
  mutable DelayedCalls retries_;
  std::unique_ptr<StreamFollower> follower_;

  mutable Mutex mutex_;
  EventWindow window_ ABSL_GUARDED_BY(mutex_);
  // False until the first batch told the window where the stream is (a
  // non-empty stream is followed from its last message).
  bool positioned_ ABSL_GUARDED_BY(mutex_) = false;

  std::atomic<int64_t> applied_seq_{0};
  std::atomic<int64_t> lag_{0};
  std::atomic<bool> stream_reachable_{false};
  std::atomic<bool> fatal_{false};
  std::atomic<bool> stopped_{false};  // Stop began: owed answers are given at once.

  Mutex poll_mutex_;
  CondVar poll_wakeup_;
  bool stopping_ ABSL_GUARDED_BY(poll_mutex_) = false;
  std::thread lag_poller_;
};

}  // namespace sbd

#endif  // SBD_STORE_CLUSTER_GATEWAY_FEED_H_
