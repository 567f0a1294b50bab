// EventLog: the interface of the durable, append-only event log.
//
// The engine depends on this interface only; store/ implements it on SQLite
// and tests implement it in memory (with injected faults).
//
// Thread-safety: Append is called from one thread at a time (the ledger's
// append thread). Every read may be called from any thread, concurrently with Append,
// and sees a committed prefix of the log.
#ifndef SBD_ENGINE_EVENT_LOG_H_
#define SBD_ENGINE_EVENT_LOG_H_

#include <cstdint>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "engine/event.h"

namespace sbd {

class EventLog {
 public:
  virtual ~EventLog() = default;

  // Appends `events` (seq must continue LastSeq() without a gap) in one
  // transaction. On OK every event is durable (per the log's durability
  // setting); on error none is in the log and the log stays usable.
  // A full disk or an I/O error is kUnavailable.
  virtual absl::Status Append(absl::Span<const Event> events) = 0;

  // The seq of the last committed event; 0 for an empty log.
  virtual int64_t LastSeq() const = 0;

  // Calls `visit` for each committed event with from_seq <= seq <= to_seq in
  // seq order, streaming (not all in memory), verifying the hash chain as it
  // goes: a break is kDataLoss naming the seq. A non-OK return from `visit`
  // stops the read and is returned.
  virtual absl::Status Read(int64_t from_seq, int64_t to_seq,
                            absl::FunctionRef<absl::Status(const Event&)> visit) const = 0;

  // The events with the given seqs, in the order given. A seq that is not in
  // the log is kNotFound.
  virtual absl::StatusOr<std::vector<Event>> ReadSeqs(absl::Span<const int64_t> seqs) const = 0;
};

}  // namespace sbd

#endif  // SBD_ENGINE_EVENT_LOG_H_
