// ClusterLoad: paced client traffic on every node of a cluster, for the
// failover tests (tests/cluster/cluster_failover_test.cc): what a real
// client population does while a machine dies.
//
// - Senders: threads that each send transfers between a handful of funded
//   accounts (POST /sbd_tokens/send, a token of the sender's own), one at a
//   time, paced, starting on node (sender index mod nodes). A send that
//   gets a 503 or no answer is retried with the SAME transaction_id (on the
//   next node: its own may be the one that died) until it gets an answer
//   or `retry_for` passes. Every send is recorded: how many attempts, its
//   last answer and which node gave it.
// - Receivers: one WebSocket connection each (GET /ws) for an account on a
//   node, recording its `connected` seq and every message after it, in
//   arrival order, until the connection ends or the receivers stop.
//
// Thread-safety: the methods are for the one test thread; the senders and
// receivers run on threads of their own and record under a mutex, and
// every accessor returns a copy taken under it.
#ifndef SBD_TESTS_CLUSTER_CLUSTER_LOAD_H_
#define SBD_TESTS_CLUSTER_CLUSTER_LOAD_H_

#include <atomic>
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "engine/mutex.h"

namespace sbd::testing {

class WebSocketClient;

class ClusterLoad {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    std::vector<uint16_t> ports;        // Every node's HTTP port, by node index.
    std::vector<std::string> accounts;  // Open and funded; at least two.
    int senders = 3;
    // Between one sender's sends (after the answer).
    std::chrono::milliseconds pace{40};
    // One attempt's bound: a writer's publish retries for seconds across a
    // stream election, so this is longer than a healthy answer by far.
    std::chrono::milliseconds request_timeout{5000};
    // How long a send is retried after 503s and unanswered attempts.
    std::chrono::milliseconds retry_for{25000};
    uint32_t seed = 13;
    // Begins every transaction_id: two loads on one cluster need two, or
    // the second's sends are the first's again (answered, not applied).
    std::string transaction_prefix = "load";
  };

  // One send and what became of it.
  struct Send {
    std::string transaction_id;
    std::string from;
    std::string to;
    int64_t amount = 0;
    int attempts = 0;
    // An attempt before the last got a 503 or no answer: the send was in
    // flight across a failure, and retried.
    bool retried = false;
    // The last attempt's HTTP status; 0 if it got no answer.
    int status = 0;
    int node = -1;  // Which node gave the last answer.
    boost::json::object answer;
    // When the last attempt was sent, and when its answer came.
    Clock::time_point attempt_started;
    Clock::time_point answered_at;
  };

  // One receiver's view.
  struct Receiver {
    int node = -1;
    std::string account;
    int64_t connected_seq = -1;
    std::vector<boost::json::object> messages;  // After `connected`, as they came.
    bool closed = false;                        // The connection ended (its node died).
  };

  explicit ClusterLoad(Options options);
  ~ClusterLoad();  // StopSenders, StopReceivers.
  ClusterLoad(const ClusterLoad&) = delete;
  ClusterLoad& operator=(const ClusterLoad&) = delete;

  // Connects a receiver for `account` on `node` and waits (bounded) for its
  // `connected` message before its thread starts reading.
  absl::Status AddReceiver(int node, const std::string& account);
  // A node's port changed (it was restarted), or a node joined (`node` ==
  // the number of nodes so far): senders use it from their next attempt.
  void SetPort(int node, uint16_t port);

  // Starts the senders (again, after StopSenders: their transaction_ids
  // then differ from the earlier ones').
  void StartSenders();
  // No sender starts another send; each finishes the one it has (bounded
  // by retry_for). Returns once they have all stopped.
  void StopSenders();
  void StopReceivers();

  std::vector<Send> Sends() const;
  std::vector<Receiver> Receivers() const;
  // How many sends got a 200 to an attempt sent at or after `since`.
  int64_t AckedSince(Clock::time_point since) const;
  // Waits (bounded) until AckedSince(since) >= count.
  bool AwaitAcked(int64_t count, Clock::time_point since, std::chrono::milliseconds within) const;
  // The first 200 to an attempt sent at or after `since`: when it came.
  std::optional<Clock::time_point> FirstAckSince(Clock::time_point since) const;
  // Waits (bounded) until receiver `index` has `count` messages.
  bool AwaitReceived(size_t index, size_t count, std::chrono::milliseconds within) const;

 private:
  struct Connection;
  void SendLoop(int generation, int sender);
  void Receive(Connection* connection);
  uint16_t Port(int node) const;

  const Options options_;
  std::atomic<bool> stop_senders_{false};
  std::atomic<bool> stop_receivers_{false};
  std::vector<std::thread> senders_;
  int generation_ = 0;                                    // How many times StartSenders ran.
  std::vector<std::unique_ptr<Connection>> connections_;  // Test thread only.

  mutable Mutex mutex_;
  std::vector<uint16_t> ports_ ABSL_GUARDED_BY(mutex_);
  std::vector<Send> sends_ ABSL_GUARDED_BY(mutex_);
  std::vector<Receiver> receivers_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace sbd::testing

#endif  // SBD_TESTS_CLUSTER_CLUSTER_LOAD_H_
