// Ledger: the sequencer. One writer thread owns the projection and decides
// every command; an append thread owns the log's append path. Callers on any
// thread submit commands and get their result via a callback or a future.
//
// A batch's stages (engine/batch.h): the writer takes up to batch_size_max
// commands and *decides* each against the projection plus the batch's
// earlier commands (engine/decider.h). The accepted events are *appended* in
// one transaction (group commit) on the append thread, while the writer
// already decides the next batch on top of this one's events. Once the
// append commits, the writer *applies* the batch to the projection,
// *publishes* it to the subscribers in seq order, and *answers* the callers.
// If the
// append fails, nothing of the batch is applied or published, every caller in
// it, and in the batch decided on top of it, gets kUnavailable
// (ErrorCode::kUnavailable), and the ledger keeps serving.
//
// Thread-safety: every public method may be called from any thread. Reads see
// committed state only. Done callbacks, Subscriber::OnEvents and on_commit
// run on the writer thread and must not block.
#ifndef SBD_ENGINE_LEDGER_H_
#define SBD_ENGINE_LEDGER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "engine/command.h"
#include "engine/event.h"
#include "engine/event_log.h"
#include "engine/limits.h"
#include "engine/subscriber.h"

namespace sbd {

class Ledger {
 public:
  struct Options {
    size_t batch_size_max = kBatchSizeMax;
    size_t queue_size_max = kCommandQueueSizeMax;
    size_t accounts_expected = kAccountsExpectedDefault;
    // Milliseconds since the Unix epoch; tests inject a fixed clock.
    std::function<int64_t()> clock_ms;
    // Called on the writer thread after every append attempt (metrics), with
    // the append's own duration (one transaction and its fsync).
    std::function<void(size_t batch_size, absl::Duration commit_latency, bool ok)> on_commit;
  };

  using Done = CommandDone;

  // Replays the whole log into a fresh projection (no notifications),
  // verifying the hash chain and every recorded balance; a broken log is
  // kDataLoss naming the first bad seq. Then starts the writer thread.
  static absl::StatusOr<std::unique_ptr<Ledger>> Open(std::unique_ptr<EventLog> log,
                                                      Options options);

  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;
  ~Ledger();  // Stop().

  // Adds a subscriber (not owned; must outlive the ledger or be removed).
  // It sees every batch committed after this returns.
  void AddSubscriber(Subscriber* subscriber);
  void RemoveSubscriber(Subscriber* subscriber);

  // Queues `command`; `done` is called exactly once: on the writer thread
  // with the result, or at once on this thread with kResourceExhausted when
  // the queue is full, or kUnavailable after Stop().
  void Submit(Command command, Done done);
  std::future<absl::StatusOr<CommandResult>> Submit(Command command);

  // Cluster mode, on a follower: `events` were decided by the cluster's
  // writer and are committed in the replicated stream. On the writer thread,
  // once no batch of commands is in flight, they are verified against the
  // projection (every recorded balance and rule, as a replay checks them),
  // then `append` writes them to the local log (the caller's replicated
  // append, which checks their hash chain), then they are published to the
  // subscribers like a decided batch; readers see none of it before the
  // append is done. `done` gets the outcome: kDataLoss naming the seq of an
  // event the projection contradicts or of a hash that does not continue
  // the log (nothing written; the ledger must not go on: the node stops),
  // kFailedPrecondition if the append failed otherwise (likewise), or
  // kUnavailable after Stop().
  using AppendFn = std::function<absl::Status(absl::Span<const Event> events)>;
  void SubmitReplicated(std::vector<Event> events, AppendFn append,
                        std::function<void(absl::Status)> done);

  // Stops accepting commands, finishes the queued ones, joins the writer.
  // Idempotent.
  void Stop();

  // --- Reads (committed state, any thread) ---

  int64_t LastSeq() const;

  // account_not_found for an unknown account (the name is canonicalised first;
  // invalid_username if it cannot be).
  absl::StatusOr<int64_t> Balance(std::string_view account) const;

  // A balance and the seq it is current at, read atomically: every event with
  // a greater seq is published to subscribers after this returns.
  struct AccountSnapshot {
    int64_t seq = 0;
    int64_t balance = 0;
  };
  absl::StatusOr<AccountSnapshot> Snapshot(std::string_view account) const;

  // The account's transfers and mints, newest first, skipping `skip`, at
  // most `limit`; each event's note is the account's own override if it set
  // one (PATCH .../note).
  absl::StatusOr<std::vector<Event>> History(std::string_view account, size_t skip,
                                             size_t limit) const;

  // The account's transfers and mints with after_seq < seq <= until_seq,
  // ascending, at most `limit` (for WebSocket resume).
  absl::StatusOr<std::vector<Event>> EventsAfter(std::string_view account, int64_t after_seq,
                                                 int64_t until_seq, size_t limit) const;

  // Total of all balances and of all mints (equal in a sound ledger).
  absl::int128 TotalBalance() const;
  absl::int128 TotalMinted() const;

  const EventLog& log() const;

 private:
  class Impl;
  explicit Ledger(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sbd

#endif  // SBD_ENGINE_LEDGER_H_
