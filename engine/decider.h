// Decider: the ledger's decision rules. It takes one command and the state
// the command's batch is decided against (engine/batch_state.h) and says what
// becomes of it: rejected with an error code, answered by an event it adds to
// the batch, or answered by an existing event (an idempotent replay).
//
// The rules, in the order they apply (API.md "Errors"): each field is
// canonicalised and validated in the command's own order; then a reused
// transaction_id is a replay (same parameters) or transaction_id_conflict;
// then the accounts must exist and the balances allow the move. The event is
// built from the command's own strings, moved, not copied.
//
// Pure: no threads, no futures, no I/O but BatchState's read of a committed
// transaction from the log. The clock and the random source (for UUIDs) are
// passed in, so a test decides with a fixed clock and a seeded generator.
//
// Thread-safety: none. The Ledger's writer thread owns its Decider; the
// random source it is given must be used by that thread only.
#ifndef SBD_ENGINE_DECIDER_H_
#define SBD_ENGINE_DECIDER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include "absl/random/bit_gen_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/batch_state.h"
#include "engine/command.h"
#include "engine/event.h"

namespace sbd {

// What the Decider decided for one command. Exactly one of the three answers
// is set: `rejection` (not OK), `event_index`, or `replayed_event`.
struct Decision {
  // Not OK: the command is rejected and added nothing to the batch.
  absl::Status rejection;
  // The batch's own event that answers the command (BatchState::events()):
  // the one it added, or, for a replay, the earlier one of the same batch.
  std::optional<size_t> event_index;
  // A replay of an event committed before, or of the batch ahead: this batch
  // commits only after it, so the answer is known now.
  std::optional<Event> replayed_event;
  // The answer is an earlier command's event (an idempotent replay).
  bool duplicate = false;

  bool accepted() const { return rejection.ok(); }
};

class Decider {
 public:
  // `clock_ms` gives the time of events whose command has no given
  // timestamp; `random` makes the UUIDs of transactions without an id.
  Decider(std::function<int64_t()> clock_ms, absl::BitGenRef random);

  Decider(const Decider&) = delete;
  Decider& operator=(const Decider&) = delete;

  // Decides `command` against `state`. It canonicalises the command's names
  // in place and moves its strings into the event it adds: the command is
  // spent once decided. Adds one event to `state` exactly when the decision
  // is a new event.
  Decision Decide(Command& command, BatchState& state);

 private:
  Decision DecideOpenAccount(OpenAccountCommand& command, BatchState& state);
  Decision DecideMint(MintCommand& command, BatchState& state);
  Decision DecideTransfer(TransferCommand& command, BatchState& state);
  Decision DecideSetNote(SetNoteCommand& command, BatchState& state);

  // The event's time: the trusted caller's given timestamp (engine/command.h)
  // if it set one and it is in range, else the clock.
  absl::StatusOr<int64_t> TimestampOf(const std::optional<int64_t>& given) const;

  // An event of `type` with its time, actor and transaction_id (a new UUID
  // if `transaction_id` is empty).
  Event NewEvent(EventType type, int64_t timestamp_ms, std::string actor,
                 std::string transaction_id);

  const std::function<int64_t()> clock_ms_;
  absl::BitGenRef random_;
};

}  // namespace sbd

#endif  // SBD_ENGINE_DECIDER_H_
