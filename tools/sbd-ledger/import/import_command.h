// `sbd-ledger import`: the origin's users collection into a fresh log
// (API.md, "Coming from Second Brain Database"; docs/IMPORT.md).
//
// In order, writing nothing until the last step: refuse a log that already
// holds events; read and parse the whole users file; plan the import; then
// open the log (or, for --dry-run, an in-memory one) and a Ledger on it, run
// the plan through the ledger, and check every balance against the plan.
//
// Thread-safety: each function runs on the calling thread.
#ifndef SBD_TOOLS_SBD_LEDGER_IMPORT_IMPORT_COMMAND_H_
#define SBD_TOOLS_SBD_LEDGER_IMPORT_IMPORT_COMMAND_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/sbd-ledger/import/import_plan.h"
#include "tools/sbd-ledger/import/origin_export.h"

namespace sbd {

struct ImportConfig {
  std::string db_path = "./data/ledger.db";
  std::string users_path;
  ExportFormat format = ExportFormat::kJsonLines;
  bool dry_run = false;
};

struct ImportTimings {
  double read_s = 0;   // The users file into memory.
  double parse_s = 0;  // Every document parsed and validated.
  double plan_s = 0;   // Pairing, ordering, reconciliation.
  double apply_s = 0;  // Log and ledger opened, every step applied, verified, closed.
};

struct ImportOutcome {
  // Non-empty: the input was refused ("FILE:LINE: reason", at most
  // kInputErrorsMax) and nothing was written.
  std::vector<std::string> input_errors;
  ImportSummary summary;
  ImportTimings timings;
};

// Runs the import. Errors: kFailedPrecondition if the log already holds
// events (nothing written); kNotFound / kPermissionDenied / kUnavailable if
// the users file or the log cannot be read or opened; a failure while
// applying (kUnavailable for a full disk, kInternal if the engine and the
// plan disagree) says that the log holds a partial import.
absl::StatusOr<ImportOutcome> ImportUsers(const ImportConfig& config);

// The command: ImportUsers, the report on stdout, errors and timings on
// stderr. Exit code 0 imported; 1 refused (malformed input, a log with
// events) or failed; 2 a file cannot be read or opened.
int RunImport(const ImportConfig& config);

}  // namespace sbd

#endif  // SBD_TOOLS_SBD_LEDGER_IMPORT_IMPORT_COMMAND_H_
