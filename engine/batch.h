// Batch: one group commit on its way through the Ledger's pipeline — the
// commands taken from the queue together, the Decider's decision for each,
// the BatchState their events overlay the projection with, and how the
// append went. The stages (engine/ledger.cc) are: Decide, Append, then
// Finish, which is Apply, Publish and Answer. This file says what a batch is
// and how its callers are answered; the Ledger says when.
//
// Thread-safety: the Ledger's writer thread creates a batch, decides it,
// records its commit and answers it. From its hand-off to the append stage
// until its commit is recorded, the batch is read-only: the append thread
// reads events(), and the next batch's BatchState reads this one's.
#ifndef SBD_ENGINE_BATCH_H_
#define SBD_ENGINE_BATCH_H_

#include <cassert>
#include <cstddef>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "engine/batch_state.h"
#include "engine/command.h"
#include "engine/decider.h"
#include "engine/event.h"
#include "engine/event_log.h"
#include "engine/projector.h"

namespace sbd {

// A command waiting in the Ledger's queue, with the callback that answers it.
struct QueuedCommand {
  Command command;
  CommandDone done;
};

// How a batch's append went.
struct CommitResult {
  // OK: every event of the batch is durable. Otherwise none is in the log.
  absl::Status status;
  // The append's own duration; unset if no append ran (a batch with no
  // events, or one that failed with the batch it was decided on top of).
  std::optional<absl::Duration> latency;
};

class Batch {
 public:
  // `ahead` is the batch ahead in the pipeline (see BatchState), or null.
  Batch(std::vector<QueuedCommand> commands, const Projector& projection, const EventLog& log,
        const Batch* ahead);

  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;

  // Decides every command, in queue order, each on top of the ones before.
  // Once only, before anything else.
  void Decide(Decider& decider);

  size_t size() const { return commands_.size(); }
  // The accepted commands' events, in seq order: what the append writes.
  const std::vector<Event>& events() const { return state_.events(); }

  // Records the append's result, once, after Decide.
  void RecordCommit(CommitResult result);
  bool committed() const { return commit_.has_value(); }
  const CommitResult& commit() const {
    assert(commit_.has_value() && "the batch's append is not over");
    return *commit_;
  }

  // Calls every caller's callback exactly once: its event, its replay, its
  // rejection, or kUnavailable for all if the append failed. Once only,
  // after RecordCommit and after the events were applied and published: it
  // moves the events into the answers, so it spends the batch (no batch may
  // be decided on top of it afterwards).
  void Answer();

 private:
  std::vector<QueuedCommand> commands_;
  std::vector<Decision> decisions_;  // decisions_[i] is commands_[i]'s.
  BatchState state_;
  std::optional<CommitResult> commit_;
  bool answered_ = false;
};

}  // namespace sbd

#endif  // SBD_ENGINE_BATCH_H_
