#include "tools/sbd-ledger/import/dry_run_event_log.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace sbd {

DryRunEventLog::DryRunEventLog(size_t events_expected) { events_.reserve(events_expected); }

absl::Status DryRunEventLog::Append(absl::Span<const Event> events) {
  MutexLock lock(mutex_);
  int64_t next = static_cast<int64_t>(events_.size()) + 1;
  for (const Event& event : events) {
    if (event.seq != next++) {
      return absl::FailedPreconditionError(
          absl::StrCat("append of seq ", event.seq, " does not continue seq ", events_.size()));
    }
  }
  events_.insert(events_.end(), events.begin(), events.end());
  return absl::OkStatus();
}

int64_t DryRunEventLog::LastSeq() const {
  MutexLock lock(mutex_);
  return static_cast<int64_t>(events_.size());
}

absl::Status DryRunEventLog::Read(int64_t from_seq, int64_t to_seq,
                                  absl::FunctionRef<absl::Status(const Event&)> visit) const {
  std::vector<Event> range;
  {
    MutexLock lock(mutex_);
    const int64_t last = std::min<int64_t>(to_seq, static_cast<int64_t>(events_.size()));
    for (int64_t seq = std::max<int64_t>(from_seq, 1); seq <= last; ++seq) {
      range.push_back(events_[static_cast<size_t>(seq - 1)]);
    }
  }
  // Visited outside the lock: `visit` may read the log again.
  for (const Event& event : range) {
    if (absl::Status status = visit(event); !status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Event>> DryRunEventLog::ReadSeqs(absl::Span<const int64_t> seqs) const {
  MutexLock lock(mutex_);
  std::vector<Event> found;
  found.reserve(seqs.size());
  for (int64_t seq : seqs) {
    if (seq < 1 || seq > static_cast<int64_t>(events_.size())) {
      return absl::NotFoundError(absl::StrCat("seq ", seq, " is not in the log"));
    }
    found.push_back(events_[static_cast<size_t>(seq - 1)]);
  }
  return found;
}

}  // namespace sbd
