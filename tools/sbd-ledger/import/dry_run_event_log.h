// DryRunEventLog: an EventLog in memory, for `sbd-ledger import --dry-run`:
// the import runs through a real Ledger (every command validated and
// "appended" exactly as it would be) and nothing reaches a disk.
//
// It keeps the EventLog contract (all-or-nothing appends of gapless seqs,
// reads of a committed prefix) but computes no hash chain: nothing it holds
// outlives the process.
//
// Thread-safety: every method is thread-safe (one mutex).
#ifndef SBD_TOOLS_SBD_LEDGER_IMPORT_DRY_RUN_EVENT_LOG_H_
#define SBD_TOOLS_SBD_LEDGER_IMPORT_DRY_RUN_EVENT_LOG_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "engine/event_log.h"
#include "engine/mutex.h"

namespace sbd {

class DryRunEventLog : public EventLog {
 public:
  // Reserves room for `events_expected` events (the plan knows how many).
  explicit DryRunEventLog(size_t events_expected = 0);

  absl::Status Append(absl::Span<const Event> events) override;
  int64_t LastSeq() const override;
  absl::Status Read(int64_t from_seq, int64_t to_seq,
                    absl::FunctionRef<absl::Status(const Event&)> visit) const override;
  absl::StatusOr<std::vector<Event>> ReadSeqs(absl::Span<const int64_t> seqs) const override;

 private:
  mutable Mutex mutex_;
  std::vector<Event> events_ ABSL_GUARDED_BY(mutex_);  // Seq i at index i-1.
};

}  // namespace sbd

#endif  // SBD_TOOLS_SBD_LEDGER_IMPORT_DRY_RUN_EVENT_LOG_H_
