// LogAuditor: streams an event log through a Projector and checks everything
// an audit can: the hash chain (verified by the log as it reads), every
// recorded balance and range (Projector::Apply, per event), and at the end the
// invariants over all accounts (no balance below 0, the balances sum to the
// total minted). It stops at the first violation and names its seq.
//
// Thread-safety: none; one audit per instance.
#ifndef SBD_TOOLS_SBD_REPLAY_LOG_AUDITOR_H_
#define SBD_TOOLS_SBD_REPLAY_LOG_AUDITOR_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/event.h"
#include "engine/event_log.h"
#include "engine/projector.h"

namespace sbd {

// The first thing wrong with a log.
struct Violation {
  int64_t seq = 0;
  std::string detail;
};

struct AuditResult {
  int64_t events_verified = 0;  // Also the last verified seq: the log is gapless.
  // The chain hash of the last verified event, 64 hex digits; empty if none
  // (two logs with the same seq and hash hold the same events).
  std::string last_hash;
  std::optional<Violation> violation;
};

class LogAuditor {
 public:
  // Called for every event that passed every check, after it is projected.
  using Visit = absl::FunctionRef<void(const Event& event, const Projector& projection)>;

  // Writes a progress line to `progress` at most every `progress_interval`.
  LogAuditor(std::ostream& progress, absl::Duration progress_interval);

  LogAuditor(const LogAuditor&) = delete;
  LogAuditor& operator=(const LogAuditor&) = delete;

  // Audits seqs 1..until_seq. A violation is a result, not an error; an
  // error is the log failing to be read (I/O).
  absl::StatusOr<AuditResult> Audit(const EventLog& log, int64_t until_seq, Visit visit);

  // The state after the last verified event.
  const Projector& projection() const { return projection_; }

 private:
  // The end-of-log invariants over every account: no balance below 0, and
  // the balances sum to the total minted. What is wrong, if anything.
  std::optional<std::string> CheckInvariants() const;
  void MaybeReportProgress(int64_t seq, int64_t last_seq);

  std::ostream& progress_;
  const absl::Duration progress_interval_;
  absl::Time next_progress_;
  Projector projection_;
};

}  // namespace sbd

#endif  // SBD_TOOLS_SBD_REPLAY_LOG_AUDITOR_H_
