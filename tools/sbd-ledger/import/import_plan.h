// ImportPlan: the origin's users turned into the exact sequence of ledger
// commands that reproduces them, decided before anything is written.
//
// PlanImport is a pure function of the parsed export. It pairs the two
// halves of each transfer by transaction_id, orders the transfers by
// timestamp (ties: file order), and adds the reconciliation events that make
// up what the history cannot explain, so that no balance is ever negative and
// every user ends with exactly their sbd_tokens. docs/IMPORT.md states every
// rule; import_runner.h submits the steps to a Ledger.
//
// Thread-safety: pure function; a plan is a plain value.
#ifndef SBD_TOOLS_SBD_LEDGER_IMPORT_IMPORT_PLAN_H_
#define SBD_TOOLS_SBD_LEDGER_IMPORT_IMPORT_PLAN_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/numeric/int128.h"
#include "tools/sbd-ledger/import/input_error.h"
#include "tools/sbd-ledger/import/origin_export.h"

namespace sbd {

// The account reconciliation debits go to (a transfer keeps total = minted).
inline constexpr std::string_view kReconciliationAccount = "sbd_reconciliation";
// The actor of the importer's account openings and reconciliation credits.
inline constexpr std::string_view kImportActor = "import";

// One command of the plan; the step at index i becomes the event at seq i+1.
struct PlanStep {
  enum class Kind {
    kOpen,      // OpenAccountCommand: `account`.
    kCredit,    // MintCommand (reconciliation): `amount` to `account`, reason `text`.
    kTransfer,  // TransferCommand: `account` -> `counterparty`, note `text`.
    kDebit,     // TransferCommand (reconciliation): `account` -> kReconciliationAccount.
    kNote,      // SetNoteCommand: `account` sets `text` on transaction_id.
  };
  Kind kind = Kind::kOpen;
  std::string account;
  std::string counterparty;
  int64_t amount = 0;
  int64_t timestamp_ms = 0;
  std::string transaction_id;
  std::string text;

  friend bool operator==(const PlanStep&, const PlanStep&) = default;
};

// One reconciliation event, for the report.
struct Reconciliation {
  int64_t seq = 0;
  std::string account;
  bool credit = true;  // Else a debit to kReconciliationAccount.
  int64_t amount = 0;
  std::string reason;

  friend bool operator==(const Reconciliation&, const Reconciliation&) = default;
};

// A transfer only one of whose halves is in the export although both
// parties are users: the other user's balance is reconciled for it.
struct MissingHalf {
  std::string transaction_id;
  std::string from;
  std::string to;
  int64_t amount = 0;
  int64_t line = 0;           // The document holding the half that is there.
  bool send_present = false;  // Which half is there.

  friend bool operator==(const MissingHalf&, const MissingHalf&) = default;
};

struct AccountBalance {
  std::string account;
  int64_t balance = 0;

  friend bool operator==(const AccountBalance&, const AccountBalance&) = default;
};

// What the import does, in numbers (the report prints it).
struct ImportSummary {
  size_t users = 0;
  size_t entries = 0;
  size_t entries_without_id = 0;  // Given MadeUpTransactionId.
  size_t transfers = 0;
  size_t transfers_paired = 0;              // Both halves found: one event.
  size_t transfers_non_user = 0;            // One half; the counterparty is no user.
  size_t transfers_missing_half = 0;        // One half; the other user lacks it.
  size_t pairs_timestamps_differ = 0;       // The send's timestamp was used.
  size_t notes_set = 0;                     // A receive half's note differing from the send's.
  std::vector<std::string> other_accounts;  // Not users: counterparties, then the system account.
  size_t events = 0;
  std::vector<Reconciliation> reconciliations;
  std::vector<MissingHalf> missing_halves;
  absl::int128 credited = 0;
  absl::int128 debited = 0;
  absl::int128 total_minted = 0;  // Every token in the ledger was minted by a credit.
  // Every account's balance after the import, in the order opened (users:
  // their sbd_tokens).
  std::vector<AccountBalance> final_balances;
};

struct ImportPlan {
  std::vector<PlanStep> steps;
  ImportSummary summary;
};

struct PlanResult {
  ImportPlan plan;
  // Set: the input is refused (at most kInputErrorsMax, in line order) and
  // `plan` is incomplete.
  std::vector<InputError> errors;
};

// `now_ms` times the openings and end-of-import reconciliations only when
// the export has no history entry at all (otherwise they take the earliest
// and the latest entry's time, so an import is reproducible).
PlanResult PlanImport(OriginExport input, int64_t now_ms);

// "sbd-import:reconciliation:<seq>": the transaction_id of a reconciliation.
std::string ReconciliationTransactionId(int64_t seq);

}  // namespace sbd

#endif  // SBD_TOOLS_SBD_LEDGER_IMPORT_IMPORT_PLAN_H_
