// Runs an ImportPlan through a Ledger: every step becomes the command it
// names, submitted in order through Ledger::Submit (the same validation and
// group-commit append path as every HTTP request), with a bounded number in
// flight so the ledger's batches stay full. Then checks what the ledger holds
// against what the plan says it must.
//
// Thread-safety: call from one thread; the ledger must be fresh (LastSeq 0)
// and fed by nobody else meanwhile.
#ifndef SBD_TOOLS_SBD_LEDGER_IMPORT_IMPORT_RUNNER_H_
#define SBD_TOOLS_SBD_LEDGER_IMPORT_IMPORT_RUNNER_H_

#include <cstddef>
#include <vector>

#include "absl/status/status.h"
#include "engine/ledger.h"
#include "tools/sbd-ledger/import/import_plan.h"

namespace sbd {

// Submits `steps` (consumed: their strings move into the commands). Every
// command must succeed as a new event at the seq the plan gave it (step i at
// seq i+1); the first that does not stops the submitting and is returned
// (kInternal for a rejection or a seq off the plan: the plan and the engine
// disagree; the ledger's own code, e.g. kUnavailable, for a failed append).
// The commands already submitted are finished before it returns.
absl::Status ApplyImportPlan(Ledger& ledger, std::vector<PlanStep> steps);

// kInternal unless the ledger's last seq is `summary.events`, every account
// has its planned final balance, and total balance = total minted = the
// plan's credits.
absl::Status VerifyImport(const Ledger& ledger, const ImportSummary& summary);

}  // namespace sbd

#endif  // SBD_TOOLS_SBD_LEDGER_IMPORT_IMPORT_RUNNER_H_
