#include "tools/sbd-replay/replay.h"

#include <memory>

#include "absl/strings/ascii.h"
#include "store/event_hash.h"
#include "store/sqlite_event_log.h"
#include "tools/sbd-replay/log_auditor.h"
#include "tools/sbd-replay/replay_report.h"

namespace sbd {

int RunReplay(const ReplayOptions& options, std::ostream& out, std::ostream& err) {
  absl::StatusOr<std::unique_ptr<SqliteEventLog>> log =
      SqliteEventLog::Open(options.db_path, {.read_only = true});
  if (!log.ok()) {
    err << "sbd-replay: " << log.status().message() << "\n";
    return kReplayExitError;
  }
  // Usernames are canonical lowercase (API.md, "Identity").
  ReplayOptions canonical = options;
  canonical.account = absl::AsciiStrToLower(options.account);

  ReplayReport report(canonical, out);
  LogAuditor auditor(err, options.progress_interval);
  report.Begin();
  absl::StatusOr<AuditResult> result = auditor.Audit(
      **log, options.until_seq,
      [&](const Event& event, const Projector& projection) { report.OnEvent(event, projection); });
  if (!result.ok()) {
    err << "sbd-replay: " << result.status().message() << "\n";
    return kReplayExitError;
  }
  if (result->events_verified > 0) {
    absl::StatusOr<EventHash> hash = (*log)->RecordedHash(result->events_verified);
    if (!hash.ok()) {
      err << "sbd-replay: " << hash.status().message() << "\n";
      return kReplayExitError;
    }
    result->last_hash = HashHex(*hash);
  }
  report.Finish(*result, auditor.projection());
  out.flush();
  if (result->violation.has_value()) {
    err << "sbd-replay: violation at seq " << result->violation->seq << ": "
        << result->violation->detail << "\n";
    return kReplayExitViolation;
  }
  if (!canonical.account.empty() && !auditor.projection().HasAccount(canonical.account)) {
    err << "sbd-replay: no account " << canonical.account << " in the log up to seq "
        << result->events_verified << "\n";
    return kReplayExitError;
  }
  return kReplayExitClean;
}

}  // namespace sbd
