// BatchState: what a batch of commands is decided against. The committed
// projection, plus the events of the batch ahead of it in the pipeline
// (decided, still being appended), plus the batch's own earlier events.
//
// The overlay keys are string_views into the batch's own events, which never
// move: the event vector is reserved for the batch's size up front.
//
// Thread-safety: the Ledger's writer thread builds it; once the batch is
// handed to the append stage it is read-only, and both the append stage and
// the next batch's BatchState may read it concurrently.
#ifndef SBD_ENGINE_BATCH_STATE_H_
#define SBD_ENGINE_BATCH_STATE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "engine/event.h"
#include "engine/event_log.h"
#include "engine/projector.h"

namespace sbd {

class BatchState {
 public:
  // `previous` is the batch ahead in the pipeline (null if none): decided on
  // the same projection, not yet committed, and alive while this one is
  // decided. Every batch before it must already be applied to `projector`.
  // `events_max` bounds Add() calls (one per command).
  BatchState(const Projector& projector, const EventLog& log, const BatchState* previous,
             size_t events_max);

  BatchState(const BatchState&) = delete;
  BatchState& operator=(const BatchState&) = delete;

  // The account's balance; nullopt if it does not exist.
  std::optional<int64_t> Balance(std::string_view account) const;

  // A transfer or mint found by its transaction_id.
  struct Transaction {
    Event event;
    // Set when the event is this batch's own (answered once it commits).
    std::optional<size_t> own_index;
  };
  // nullopt if no event carries `transaction_id`; an error if the log cannot
  // be read.
  absl::StatusOr<std::optional<Transaction>> FindTransaction(std::string_view transaction_id) const;

  // Whether `account` took part in `transaction`: was its sender or its
  // receiver (the event names both, committed or not).
  static bool IsParty(std::string_view account, const Transaction& transaction);

  // Records `event` at the next seq; returns its index in events().
  size_t Add(Event event);

  const std::vector<Event>& events() const { return events_; }

  // The events, to be moved into the callers' answers once the batch is
  // applied and published. Moving from them spends this state: its overlay
  // keys view the events, so no later batch may be decided on top of it.
  std::vector<Event>& events_to_answer() { return events_; }

 private:
  // This batch's or the previous batch's event under `transaction_id`.
  const Event* FindUncommitted(std::string_view transaction_id,
                               std::optional<size_t>* own_index) const;

  const Projector& projector_;
  const EventLog& log_;
  const BatchState* const previous_;
  int64_t next_seq_;
  std::vector<Event> events_;
  absl::flat_hash_map<std::string_view, int64_t> balances_;
  absl::flat_hash_map<std::string_view, size_t> index_by_transaction_;
};

}  // namespace sbd

#endif  // SBD_ENGINE_BATCH_STATE_H_
