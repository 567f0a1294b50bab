// Event: one row of the append-only log, the ledger's source of truth.
//
// An Event is a plain value. It records what happened and the balances the
// event produced, so an audit can check every step without re-deriving it.
// The on-disk row format and the hash chain are written down in
// docs/EVENT_LOG.md; this header is the in-memory form.
//
// Thread-safety: plain values with no shared state; the timestamp functions
// are pure and may be called from any thread.
#ifndef SBD_ENGINE_EVENT_H_
#define SBD_ENGINE_EVENT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sbd {

// Largest amount or balance: 2^53 - 1, the largest integer a JavaScript client
// holds exactly.
inline constexpr int64_t kAmountMax = (int64_t{1} << 53) - 1;

// Stored as an integer in the log: never renumber.
enum class EventType : int {
  kAccountOpened = 1,       // to_account opened with balance 0.
  kTokensMinted = 2,        // amount credited to to_account by actor (an admin).
  kTokensTransferred = 3,   // amount moved from_account -> to_account.
  kTransactionNoteSet = 4,  // actor set `note` on its view of transaction_id.
};

std::string_view EventTypeName(EventType type);

struct Event {
  int64_t seq = 0;  // 1, 2, 3, ... gapless.
  EventType type = EventType::kAccountOpened;
  int64_t timestamp_ms = 0;  // Unix epoch milliseconds, UTC.
  // Who issued the command: the sender (a send), the service's or admin's
  // `sub` (an admin transfer, a mint), the note setter.
  std::string actor;
  std::string from_account;    // Transfer: the sender. Empty otherwise.
  std::string to_account;      // Transfer: recipient; mint: holder; open: the account.
  int64_t amount = 0;          // Transfer and mint; 0 otherwise.
  int64_t from_balance = 0;    // Transfer: sender's balance after this event.
  int64_t to_balance = 0;      // Transfer, mint, open: to_account's balance after.
  std::string transaction_id;  // Idempotency key; for a note: the transaction it annotates.
  std::string note;            // Transfer note, mint reason, or the note set.
  // Why a service or admin moved the tokens (POST /admin/transfer's
  // `reason`); empty otherwise. Schema version 2 (docs/EVENT_LOG.md).
  std::string reason;

  friend bool operator==(const Event&, const Event&) = default;
};

// The timestamps an event may carry: from the Unix epoch to the last
// millisecond FormatTimestamp can write in its four-digit year.
inline constexpr int64_t kTimestampMsMin = 0;
inline constexpr int64_t kTimestampMsMax = 253402300799999;  // 9999-12-31T23:59:59.999Z

// "2026-11-26T15:04:05.123Z": the wire form of timestamp_ms.
std::string FormatTimestamp(int64_t timestamp_ms);

// FormatTimestamp without allocating: writes its kTimestampLength characters
// at `out` and returns the end.
inline constexpr size_t kTimestampLength = 24;
char* FormatTimestampTo(int64_t timestamp_ms, char* out);

}  // namespace sbd

#endif  // SBD_ENGINE_EVENT_H_
