#include "tools/sbd-ledger/import/import_runner.h"

#include <cassert>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "engine/absl_compat.h"
#include "engine/command.h"
#include "engine/limits.h"
#include "engine/mutex.h"

namespace sbd {
namespace {

// Commands submitted and not yet answered. Four of the ledger's batches:
// while one is appended and the next decided, two more wait queued, so the
// writer never runs dry; far below the queue's bound (kCommandQueueSizeMax),
// so a submit is never refused as a full queue.
constexpr size_t kInFlightMax = 4 * kBatchSizeMax;
static_assert(kInFlightMax <= kCommandQueueSizeMax);

Command ToCommand(PlanStep& step) {
  switch (step.kind) {
    case PlanStep::Kind::kOpen: {
      OpenAccountCommand open{std::string(kImportActor), std::move(step.account)};
      open.given_timestamp_ms = step.timestamp_ms;
      return open;
    }
    case PlanStep::Kind::kCredit: {
      MintCommand mint{std::string(kImportActor), std::move(step.account),
                       AmountField::Integer(step.amount), std::move(step.text),
                       std::move(step.transaction_id)};
      mint.given_timestamp_ms = step.timestamp_ms;
      return mint;
    }
    case PlanStep::Kind::kTransfer:
    case PlanStep::Kind::kDebit: {
      TransferCommand transfer{std::move(step.account), std::move(step.counterparty),
                               AmountField::Integer(step.amount), std::move(step.text),
                               std::move(step.transaction_id)};
      transfer.given_timestamp_ms = step.timestamp_ms;
      return transfer;
    }
    case PlanStep::Kind::kNote: {
      SetNoteCommand note{std::move(step.account), std::move(step.transaction_id),
                          std::move(step.text)};
      note.given_timestamp_ms = step.timestamp_ms;
      return note;
    }
  }
  assert(false && "unknown plan step");
  return OpenAccountCommand{};
}

// What the submitting thread and the ledger's writer thread (running the
// Done callbacks) share.
class Flight {
 public:
  // Blocks until fewer than kInFlightMax are in flight or one failed; false
  // if one failed.
  bool Reserve() {
    MutexLock lock(mutex_);
    while (in_flight_ >= kInFlightMax && error_.ok()) room_.Wait(mutex_);
    if (!error_.ok()) return false;
    ++in_flight_;
    return true;
  }

  void Done(absl::Status status) {
    MutexLock lock(mutex_);
    assert(in_flight_ > 0 && "Done without a Reserve");
    if (!status.ok() && error_.ok()) error_ = std::move(status);
    --in_flight_;
    // Wake the submitter only when it has something to do: half the window
    // free, the end, or a failure.
    if (in_flight_ == kInFlightMax / 2 || in_flight_ == 0 || !error_.ok()) room_.Signal();
  }

  absl::Status AwaitAll() {
    MutexLock lock(mutex_);
    while (in_flight_ != 0) room_.Wait(mutex_);
    return error_;
  }

 private:
  Mutex mutex_;
  CondVar room_;
  size_t in_flight_ ABSL_GUARDED_BY(mutex_) = 0;
  absl::Status error_ ABSL_GUARDED_BY(mutex_);
};

absl::Status Check(const absl::StatusOr<CommandResult>& result, int64_t seq) {
  if (!result.ok()) {
    if (result.status().code() == absl::StatusCode::kUnavailable) return result.status();
    return absl::InternalError(absl::StrCat("the ledger refused the plan's event at seq ", seq,
                                            ": ", result.status().ToString()));
  }
  if (result->duplicate || result->event.seq != seq) {
    return absl::InternalError(absl::StrCat("the plan's event for seq ", seq, " became ",
                                            result->duplicate ? "a duplicate of " : "", "seq ",
                                            result->event.seq));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyImportPlan(Ledger& ledger, std::vector<PlanStep> steps) {
  if (ledger.LastSeq() != 0) {
    return absl::FailedPreconditionError(absl::StrCat("the ledger holds ", ledger.LastSeq(),
                                                      " events; an import needs a fresh one"));
  }
  Flight flight;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (!flight.Reserve()) break;
    const int64_t seq = static_cast<int64_t>(i) + 1;
    ledger.Submit(ToCommand(steps[i]), [&flight, seq](const absl::StatusOr<CommandResult>& result) {
      flight.Done(Check(result, seq));
    });
  }
  return flight.AwaitAll();
}

absl::Status VerifyImport(const Ledger& ledger, const ImportSummary& summary) {
  if (ledger.LastSeq() != static_cast<int64_t>(summary.events)) {
    return absl::InternalError(absl::StrCat("the ledger's last seq is ", ledger.LastSeq(),
                                            ", the plan has ", summary.events, " events"));
  }
  for (const AccountBalance& expected : summary.final_balances) {
    absl::StatusOr<int64_t> balance = ledger.Balance(expected.account);
    if (!balance.ok() || *balance != expected.balance) {
      return absl::InternalError(absl::StrCat(
          expected.account, "'s balance is ",
          balance.ok() ? absl::StrCat(*balance) : std::string(balance.status().message()),
          ", the plan says ", expected.balance));
    }
  }
  if (ledger.TotalBalance() != ledger.TotalMinted() ||
      ledger.TotalMinted() != summary.total_minted) {
    return absl::InternalError(
        "the ledger's total balance, total minted and the plan's credits differ");
  }
  return absl::OkStatus();
}

}  // namespace sbd
