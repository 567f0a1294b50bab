#include "tools/sbd-ledger/import/import_report.h"

#include <limits>
#include <sstream>

#include "absl/numeric/int128.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/absl_compat.h"

namespace sbd {
namespace {

// Names of the other accounts printed before "and N more": the report is
// read by a person; the accounts themselves are in the log.
constexpr size_t kOtherAccountsListedMax = 20;

std::string Int128Text(absl::int128 value) {
  // Sums of int64_t amounts nearly always fit one; ostringstream is slow.
  if (value >= std::numeric_limits<int64_t>::min() &&
      value <= std::numeric_limits<int64_t>::max()) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  std::ostringstream text;
  text << value;
  return text.str();
}

void Row(std::string& out, std::string_view label, std::string_view value) {
  absl::StrAppendFormat(&out, "%-27s %s\n", ToAbsl(label), ToAbsl(value));
}

std::string Plural(size_t count, std::string_view one, std::string_view many) {
  return absl::StrCat(count, " ", ToAbsl(count == 1 ? one : many));
}

}  // namespace

std::string FormatImportReport(const ReportHeader& header, const ImportSummary& summary) {
  std::string out = absl::StrCat("sbd-ledger import: ", ToAbsl(header.users_path), " -> ",
                                 ToAbsl(header.db_path), "\n");
  if (header.dry_run) out += "dry run: nothing was written\n";
  Row(out, "users", absl::StrCat(summary.users));
  std::string entries = absl::StrCat(summary.entries);
  if (summary.entries_without_id > 0) {
    absl::StrAppend(&entries, " (", summary.entries_without_id,
                    " without a transaction_id, given sbd-import:<user>:<index>)");
  }
  Row(out, "history entries", entries);
  Row(out, "transfers", absl::StrCat(summary.transfers));
  Row(out, "  paired (both halves)", absl::StrCat(summary.transfers_paired));
  Row(out, "  counterparty not a user", absl::StrCat(summary.transfers_non_user));
  Row(out, "  other user's half missing", absl::StrCat(summary.transfers_missing_half));
  Row(out, "  halves timed apart",
      absl::StrCat(summary.pairs_timestamps_differ, " (the send's timestamp is used)"));
  Row(out, "notes set",
      absl::StrCat(summary.notes_set, " (receive halves whose note differs from the send's)"));
  std::string accounts =
      absl::StrCat(summary.final_balances.size(), ": ", Plural(summary.users, "user", "users"));
  if (!summary.other_accounts.empty()) {
    absl::StrAppend(&accounts, ", ", Plural(summary.other_accounts.size(), "other", "others"), ":");
    for (size_t i = 0; i < summary.other_accounts.size() && i < kOtherAccountsListedMax; ++i) {
      absl::StrAppend(&accounts, i == 0 ? " " : ", ", summary.other_accounts[i]);
    }
    if (summary.other_accounts.size() > kOtherAccountsListedMax) {
      absl::StrAppend(&accounts, " and ", summary.other_accounts.size() - kOtherAccountsListedMax,
                      " more");
    }
  }
  Row(out, "accounts", accounts);
  Row(out, "events",
      summary.events == 0 ? "0" : absl::StrCat(summary.events, " (seq 1 to ", summary.events, ")"));
  size_t credits = 0;
  for (const Reconciliation& reconciliation : summary.reconciliations) {
    credits += reconciliation.credit ? 1 : 0;
  }
  const size_t debits = summary.reconciliations.size() - credits;
  Row(out, "reconciliations",
      absl::StrCat(summary.reconciliations.size(), ": ", Plural(credits, "credit", "credits"), " (",
                   Int128Text(summary.credited), " tokens), ", Plural(debits, "debit", "debits"),
                   " (", Int128Text(summary.debited), " tokens)"));
  Row(out, "total minted", Int128Text(summary.total_minted));
  if (!summary.missing_halves.empty()) {
    out += "\ntransfers with a missing half (the other user's balance is reconciled):\n";
    for (const MissingHalf& half : summary.missing_halves) {
      absl::StrAppend(&out, "  ", half.transaction_id, ": ", half.from, " -> ", half.to, ", ",
                      half.amount, ": the ", half.send_present ? "send" : "receive", " is on line ",
                      half.line, ", ", half.send_present ? half.to : half.from, "'s ",
                      half.send_present ? "receive" : "send", " is missing\n");
    }
  }
  if (!summary.reconciliations.empty()) {
    out += "\nreconciliations:\n";
    for (const Reconciliation& reconciliation : summary.reconciliations) {
      absl::StrAppend(&out, "  seq ", reconciliation.seq, ": ",
                      reconciliation.credit ? "credit " : "debit ", reconciliation.amount,
                      reconciliation.credit ? " to " : " from ", reconciliation.account, ": ",
                      reconciliation.reason, "\n");
    }
  }
  return out;
}

}  // namespace sbd
