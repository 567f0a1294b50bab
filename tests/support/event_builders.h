// Hand-built events for tests that feed a Projector, a Decider or a Notifier
// directly, without a Ledger to number and balance them (tests/store/test_ledger.h
// builds whole consistent logs; these build one event each, written one per
// line). Fields not named stay at their defaults (a transfer's actor is its
// sender, a mint's and an open's "admin").
//
// Thread-safety: pure functions.
#ifndef SBD_TESTS_SUPPORT_EVENT_BUILDERS_H_
#define SBD_TESTS_SUPPORT_EVENT_BUILDERS_H_

#include <cstdint>
#include <string>
#include <utility>

#include "engine/event.h"

namespace sbd::testing {

inline Event Opened(int64_t seq, std::string account) {
  Event event;
  event.seq = seq;
  event.type = EventType::kAccountOpened;
  event.actor = "admin";
  event.to_account = std::move(account);
  return event;
}

// `reason` is stored as the note.
inline Event Minted(int64_t seq, std::string account, int64_t amount, int64_t balance,
                    std::string transaction_id = "", std::string reason = "") {
  Event event = Opened(seq, std::move(account));
  event.type = EventType::kTokensMinted;
  event.amount = amount;
  event.to_balance = balance;
  event.transaction_id = std::move(transaction_id);
  event.note = std::move(reason);
  return event;
}

inline Event Transferred(int64_t seq, std::string from, std::string to, int64_t amount,
                         int64_t from_balance, int64_t to_balance, std::string transaction_id = "",
                         std::string note = "") {
  Event event;
  event.seq = seq;
  event.type = EventType::kTokensTransferred;
  event.actor = from;
  event.from_account = std::move(from);
  event.to_account = std::move(to);
  event.amount = amount;
  event.from_balance = from_balance;
  event.to_balance = to_balance;
  event.transaction_id = std::move(transaction_id);
  event.note = std::move(note);
  return event;
}

inline Event NoteSet(int64_t seq, std::string actor, std::string transaction_id, std::string note) {
  Event event;
  event.seq = seq;
  event.type = EventType::kTransactionNoteSet;
  event.actor = std::move(actor);
  event.transaction_id = std::move(transaction_id);
  event.note = std::move(note);
  return event;
}

}  // namespace sbd::testing

#endif  // SBD_TESTS_SUPPORT_EVENT_BUILDERS_H_
