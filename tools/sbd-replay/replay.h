// RunReplay: the sbd-replay tool behind its flags. Opens the log read-only
// (safe on a live log), audits it with LogAuditor and writes the report the
// options ask for. docs/EVENT_LOG.md ("sbd-replay") documents every output
// format and exit code.
//
// Thread-safety: pure apart from the file it reads and the streams it writes.
#ifndef SBD_TOOLS_SBD_REPLAY_REPLAY_H_
#define SBD_TOOLS_SBD_REPLAY_REPLAY_H_

#include <cstdint>
#include <limits>
#include <ostream>
#include <string>

#include "absl/time/time.h"

namespace sbd {

// Exit codes of sbd-replay (API.md, "Tools").
inline constexpr int kReplayExitClean = 0;
inline constexpr int kReplayExitViolation = 1;  // The first violating seq is named.
inline constexpr int kReplayExitError = 2;      // Usage or I/O error.

enum class ReplayFormat { kTable, kJson, kCsv };

struct ReplayOptions {
  std::string db_path;
  // Audit seqs 1..until_seq only.
  int64_t until_seq = std::numeric_limits<int64_t>::max();
  // Non-empty: a statement of this account (or, with notifications, only its
  // messages) instead of the summary.
  std::string account;
  // The WebSocket messages each event produced, as JSON lines.
  bool notifications = false;
  ReplayFormat format = ReplayFormat::kTable;
  // Long logs get a progress line on stderr this often.
  absl::Duration progress_interval = absl::Seconds(1);
};

// Runs the audit; the report goes to `out`, progress and errors to `err`.
// Returns the process exit code.
int RunReplay(const ReplayOptions& options, std::ostream& out, std::ostream& err);

}  // namespace sbd

#endif  // SBD_TOOLS_SBD_REPLAY_REPLAY_H_
