#include "tools/sbd-ledger/import/import_plan.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <optional>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/numeric/int128.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/absl_compat.h"
#include "engine/event.h"
#include "engine/validation.h"

namespace sbd {
namespace {

constexpr int64_t kMicrosPerMilli = 1000;
// Reserved for the importer's own reconciliation ids: an origin id with it
// could collide with one.
constexpr std::string_view kReconciliationIdPrefix = "sbd-import-reconciliation:";
// A reconciliation reason lists transaction ids while it stays this short,
// leaving room under the note limit for the " and N more" that follows.
constexpr size_t kReasonBytesMax = kNoteLengthMax - 30;
// Ids kept per account for its reasons: more never fit in one.
constexpr size_t kReasonIdsMax = 8;

// One half of a transfer: an entry of a user's history.
struct HalfRef {
  uint32_t user = 0;
  uint32_t entry = 0;
  bool operator==(const HalfRef&) const = default;
};

struct IdSlot {
  HalfRef first;
  std::optional<HalfRef> second;  // Its twin, once found.
};

// What pairing found for one entry.
struct Twin {
  enum class Role : uint8_t { kNone, kFirst, kSecond };  // In file order.
  Role role = Role::kNone;
  HalfRef other;
};

struct Transfer {
  enum class Kind { kPaired, kNonUser, kMissingHalf };
  Kind kind = Kind::kPaired;
  HalfRef primary;              // The send if there is one, else the receive.
  std::optional<HalfRef> twin;  // A pair's receive half.
  uint32_t from = 0;            // Account ids.
  uint32_t to = 0;
  int64_t amount = 0;
  int64_t timestamp_us = 0;
  int64_t line = 0;  // The document of the first half in file order.
};

struct Account {
  std::string name;
  std::optional<uint32_t> user;          // Index in the export's users.
  absl::int128 net = 0;                  // Of every imported transfer.
  absl::int128 lowest = 0;               // The lowest running net (<= 0).
  std::optional<size_t> first_transfer;  // Index in the ordered transfers.
  // Transfers of this account whose half is missing from its own history
  // (only the counterparty's is there).
  size_t foreign = 0;
  std::vector<std::string> foreign_ids;  // The first kReasonIdsMax.
  int64_t opening = 0;                   // Credited before its first transfer.
  int64_t end_debit = 0;                 // Debited at the end.
  int64_t end_credit = 0;                // Credited at the end (a user no transfer names).
  int64_t balance = 0;                   // While the steps are emitted.
};

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

class Planner {
 public:
  Planner(OriginExport input, int64_t now_ms) : input_(std::move(input)), now_ms_(now_ms) {}

  PlanResult Run() && {
    IndexUsers();
    PairHalves();
    // Pairing and accounts rest on unique, well-named users and ids.
    if (!result_.errors.empty()) return Finish();
    CollectTransfers();
    std::stable_sort(
        transfers_.begin(), transfers_.end(),
        [](const Transfer& a, const Transfer& b) { return a.timestamp_us < b.timestamp_us; });
    Simulate();
    if (!result_.errors.empty()) return Finish();
    Emit();
    return Finish();
  }

 private:
  OriginUser& UserOf(HalfRef ref) { return input_.users[ref.user]; }
  size_t FlatIndex(HalfRef ref) const { return entry_base_[ref.user] + ref.entry; }
  OriginEntry& EntryOf(HalfRef ref) { return input_.users[ref.user].entries[ref.entry]; }

  bool Full() const { return result_.errors.size() >= kInputErrorsMax; }
  void Error(int64_t line, std::string reason) {
    if (!Full()) result_.errors.push_back({line, std::move(reason)});
  }

  PlanResult Finish() {
    std::stable_sort(result_.errors.begin(), result_.errors.end(),
                     [](const InputError& a, const InputError& b) { return a.line < b.line; });
    return std::move(result_);
  }

  std::string EntryName(HalfRef ref) {
    return absl::StrCat("sbd_tokens_transactions[", ref.entry, "]");
  }

  // Users are the first accounts, in file order; a name twice is an error.
  void IndexUsers() {
    account_index_.reserve(input_.users.size());
    accounts_.reserve(input_.users.size());
    for (uint32_t i = 0; i < input_.users.size(); ++i) {
      const OriginUser& user = input_.users[i];
      if (user.username == kReconciliationAccount) {
        Error(user.line,
              absl::StrCat("username ", QuoteForReason(user.username),
                           " is the importer's reconciliation account; rename the user"));
        continue;
      }
      auto [it, inserted] = account_index_.try_emplace(user.username, 0);
      if (!inserted) {
        Error(user.line, absl::StrCat("username ", QuoteForReason(user.username),
                                      " is also the username of the document on line ",
                                      input_.users[accounts_[it->second].user.value()].line,
                                      " (usernames compare lowercased)"));
        continue;
      }
      it->second = static_cast<uint32_t>(accounts_.size());
      Account& account = accounts_.emplace_back();
      account.name = user.username;
      account.user = i;
    }
  }

  // Whether `a` and `b` are the send and receive halves of one transfer.
  bool AreTwins(HalfRef a, HalfRef b) {
    const OriginEntry& first = EntryOf(a);
    const OriginEntry& second = EntryOf(b);
    if (first.type == second.type || first.amount != second.amount) return false;
    return first.counterparty == UserOf(b).username && second.counterparty == UserOf(a).username;
  }

  // Finds each entry's twin by transaction_id (twins_, by flat entry
  // index); an id shared otherwise is an error.
  void PairHalves() {
    // Keys view the entries' ids; gone before Emit moves them into the steps.
    absl::flat_hash_map<std::string_view, IdSlot> by_id;
    by_id.reserve(input_.entry_count);
    twins_.resize(input_.entry_count);
    entry_base_.reserve(input_.users.size());
    size_t base = 0;
    for (const OriginUser& user : input_.users) {
      entry_base_.push_back(base);
      base += user.entries.size();
    }
    for (uint32_t u = 0; u < input_.users.size() && !Full(); ++u) {
      const OriginUser& user = input_.users[u];
      for (uint32_t e = 0; e < user.entries.size(); ++e) {
        const OriginEntry& entry = user.entries[e];
        const HalfRef ref{u, e};
        if (entry.counterparty == kReconciliationAccount) {
          Error(user.line, absl::StrCat(EntryName(ref), ": the counterparty ",
                                        QuoteForReason(entry.counterparty),
                                        " is the importer's reconciliation account"));
          continue;
        }
        if (absl::StartsWith(entry.transaction_id, ToAbsl(kReconciliationIdPrefix))) {
          Error(user.line, absl::StrCat(EntryName(ref), ".transaction_id ",
                                        QuoteForReason(entry.transaction_id),
                                        " starts with the importer's reserved prefix ",
                                        ToAbsl(kReconciliationIdPrefix)));
          continue;
        }
        auto [it, inserted] = by_id.try_emplace(entry.transaction_id, IdSlot{ref, std::nullopt});
        if (inserted) continue;
        IdSlot& slot = it->second;
        if (slot.second) {
          Error(
              user.line,
              absl::StrCat(EntryName(ref), ".transaction_id ", QuoteForReason(entry.transaction_id),
                           " is already used by both halves of a transfer (lines ",
                           UserOf(slot.first).line, " and ", UserOf(*slot.second).line, ")"));
        } else if (!AreTwins(slot.first, ref)) {
          Error(user.line,
                absl::StrCat(EntryName(ref), ".transaction_id ",
                             QuoteForReason(entry.transaction_id), " is also used on line ",
                             UserOf(slot.first).line, " (", EntryName(slot.first), " of ",
                             QuoteForReason(UserOf(slot.first).username),
                             "), and the two are not the send and the receive of one transfer "
                             "(each user the other's counterparty, the same amount)"));
        } else {
          slot.second = ref;
          twins_[FlatIndex(slot.first)] = {Twin::Role::kFirst, ref};
          twins_[FlatIndex(ref)] = {Twin::Role::kSecond, slot.first};
        }
      }
    }
  }

  uint32_t AccountId(std::string_view name) {
    auto [it, inserted] = account_index_.try_emplace(name, 0);
    if (inserted) {
      it->second = static_cast<uint32_t>(accounts_.size());
      accounts_.emplace_back().name = std::string(name);
      result_.plan.summary.other_accounts.emplace_back(name);
    }
    return it->second;
  }

  // One transfer per pair or lone half, in file order of their first half.
  void CollectTransfers() {
    ImportSummary& summary = result_.plan.summary;
    transfers_.reserve(input_.entry_count);
    for (uint32_t u = 0; u < input_.users.size(); ++u) {
      const OriginUser& user = input_.users[u];
      for (uint32_t e = 0; e < user.entries.size(); ++e) {
        const HalfRef ref{u, e};
        const OriginEntry& entry = user.entries[e];
        if (entry.transaction_id_made_up) ++summary.entries_without_id;
        const Twin& twin = twins_[FlatIndex(ref)];
        if (twin.role == Twin::Role::kSecond) continue;  // Taken with its twin.
        Transfer transfer;
        transfer.line = user.line;
        transfer.amount = entry.amount;
        // Users are the first accounts, in file order (IndexUsers).
        const uint32_t owner = u;
        assert(accounts_[owner].user == u);
        const uint32_t other = AccountId(entry.counterparty);
        const bool send = entry.type == EntryType::kSend;
        transfer.from = send ? owner : other;
        transfer.to = send ? other : owner;
        if (twin.role == Twin::Role::kFirst) {
          transfer.kind = Transfer::Kind::kPaired;
          transfer.primary = send ? ref : twin.other;
          transfer.twin = send ? twin.other : ref;
          ++summary.transfers_paired;
          if (EntryOf(transfer.primary).timestamp_us / kMicrosPerMilli !=
              EntryOf(*transfer.twin).timestamp_us / kMicrosPerMilli) {
            ++summary.pairs_timestamps_differ;
          }
        } else {
          transfer.primary = ref;
          if (accounts_[other].user) {
            transfer.kind = Transfer::Kind::kMissingHalf;
            ++summary.transfers_missing_half;
            Account& lacking = accounts_[other];
            if (lacking.foreign++ < kReasonIdsMax)
              lacking.foreign_ids.push_back(entry.transaction_id);
            summary.missing_halves.push_back({entry.transaction_id, accounts_[transfer.from].name,
                                              accounts_[transfer.to].name, entry.amount, user.line,
                                              send});
          } else {
            transfer.kind = Transfer::Kind::kNonUser;
            ++summary.transfers_non_user;
          }
        }
        transfer.timestamp_us = EntryOf(transfer.primary).timestamp_us;
        transfers_.push_back(transfer);
      }
    }
    summary.transfers = transfers_.size();
  }

  // Runs the ordered transfers over every account to size the
  // reconciliations: the smallest opening balance that keeps each account at
  // or above 0, and for users what makes the end balance their sbd_tokens.
  void Simulate() {
    for (size_t i = 0; i < transfers_.size(); ++i) {
      const Transfer& transfer = transfers_[i];
      Account& from = accounts_[transfer.from];
      Account& to = accounts_[transfer.to];
      if (!from.first_transfer) from.first_transfer = i;
      if (!to.first_transfer) to.first_transfer = i;
      from.net -= transfer.amount;
      from.lowest = std::min(from.lowest, from.net);
      to.net += transfer.amount;
    }
    for (Account& account : accounts_) {
      const absl::int128 need = -account.lowest;
      absl::int128 opening = need;
      if (account.user) {
        const OriginUser& user = input_.users[*account.user];
        if (!account.first_transfer) {
          account.end_credit = user.sbd_tokens;
          continue;
        }
        opening = std::max(need, absl::int128(user.sbd_tokens) - account.net);
        account.end_debit = static_cast<int64_t>(opening + account.net - user.sbd_tokens);
      }
      if (opening > kAmountMax) {
        Error(account.user ? input_.users[*account.user].line
                           : transfers_[*account.first_transfer].line,
              absl::StrCat(QuoteForReason(account.name), " would need an opening balance of ",
                           Int128Text(opening), ", above 9007199254740991"));
        continue;
      }
      account.opening = static_cast<int64_t>(opening);
    }
  }

  // Appends "; 2 transfers are in the counterparty's history only: id, id"
  // (as many ids as fit under the note limit) when the account has such.
  static std::string WithForeignNote(std::string reason, const Account& account) {
    if (account.foreign == 0) return reason;
    absl::StrAppend(&reason, "; ", account.foreign,
                    account.foreign == 1 ? " transfer is" : " transfers are",
                    " in the counterparty's history only: ");
    size_t listed = 0;
    for (const std::string& id : account.foreign_ids) {
      if (reason.size() + id.size() + 2 > kReasonBytesMax) break;
      absl::StrAppend(&reason, listed == 0 ? "" : ", ", id);
      ++listed;
    }
    if (listed < account.foreign) {
      absl::StrAppend(&reason, listed == 0 ? "" : " and ", account.foreign - listed, " more");
    }
    return reason;
  }

  std::string OpeningReason(const Account& account) {
    if (!account.user) {
      return absl::StrCat("reconciliation: ", account.name,
                          " is not a user in the export, so no history explains the ",
                          account.opening,
                          " its transfers need; credited before its first transfer");
    }
    const OriginUser& user = input_.users[*account.user];
    if (account.end_debit == 0) {
      return WithForeignNote(
          absl::StrCat("reconciliation: ", account.name,
                       "'s history does not explain an opening balance of ", account.opening,
                       " (sbd_tokens ", user.sbd_tokens, ", imported transfers net ",
                       Int128Text(account.net), ")"),
          account);
    }
    return WithForeignNote(
        absl::StrCat("reconciliation: ", account.name, "'s imported transfers would take it to ",
                     Int128Text(account.lowest), "; an opening balance of ", account.opening,
                     " keeps it at or above 0 (sbd_tokens ", user.sbd_tokens,
                     ", the excess is debited at the end)"),
        account);
  }

  std::string DebitReason(const Account& account) {
    const OriginUser& user = input_.users[*account.user];
    return WithForeignNote(
        absl::StrCat("reconciliation: ", account.name, " ends the imported history with ",
                     user.sbd_tokens + account.end_debit, " but has sbd_tokens ", user.sbd_tokens,
                     "; debited the ", account.end_debit, " the history does not explain"),
        account);
  }

  std::string NoHistoryReason(const Account& account) {
    return absl::StrCat("reconciliation: ", account.name, " has sbd_tokens ",
                        input_.users[*account.user].sbd_tokens,
                        " and no history entry explains them");
  }

  int64_t NextSeq() const { return static_cast<int64_t>(result_.plan.steps.size()) + 1; }

  // Applies a step to the emitted balances; false (an error at `line`) if a
  // balance would leave 0..2^53-1.
  bool Move(std::optional<uint32_t> from, std::optional<uint32_t> to, int64_t amount,
            int64_t line) {
    if (to && accounts_[*to].balance > kAmountMax - amount) {
      Error(line, absl::StrCat("the imported transfers would take the balance of ",
                               QuoteForReason(accounts_[*to].name), " above 9007199254740991"));
      return false;
    }
    if (from) {
      accounts_[*from].balance -= amount;
      // The openings were sized so that this cannot happen.
      assert(accounts_[*from].balance >= 0 && "an opening balance was sized too small");
    }
    if (to) accounts_[*to].balance += amount;
    return true;
  }

  void AddReconciliation(PlanStep::Kind kind, uint32_t account, int64_t amount,
                         int64_t timestamp_ms, std::string reason) {
    PlanStep step;
    step.kind = kind;
    step.account = accounts_[account].name;
    if (kind == PlanStep::Kind::kDebit) step.counterparty = std::string(kReconciliationAccount);
    step.amount = amount;
    step.timestamp_ms = timestamp_ms;
    step.transaction_id = ReconciliationTransactionId(NextSeq());
    step.text = reason;
    ImportSummary& summary = result_.plan.summary;
    const bool credit = kind == PlanStep::Kind::kCredit;
    summary.reconciliations.push_back(
        {NextSeq(), accounts_[account].name, credit, amount, std::move(reason)});
    (credit ? summary.credited : summary.debited) += amount;
    result_.plan.steps.push_back(std::move(step));
  }

  // Writes the plan's steps: an open per account, the transfers in time
  // order (an account's opening credit just before its first), then the
  // reconciliations at the end, and the summary. Stops at the first balance
  // that would leave its range (an error).
  void Emit() {
    const int64_t first_ms =
        transfers_.empty() ? now_ms_ : transfers_.front().timestamp_us / kMicrosPerMilli;
    const int64_t last_ms =
        transfers_.empty() ? now_ms_ : transfers_.back().timestamp_us / kMicrosPerMilli;
    const bool debits = std::any_of(accounts_.begin(), accounts_.end(),
                                    [](const Account& a) { return a.end_debit > 0; });
    // Before the opens: the reconciliation account is opened with the rest.
    std::optional<uint32_t> reconciliation;
    if (debits) reconciliation = AccountId(kReconciliationAccount);
    // Per account an opening, a credit and an end step at most; per transfer a note.
    result_.plan.steps.reserve(accounts_.size() * 3 + transfers_.size() * 2);

    EmitOpens(first_ms);
    for (size_t i = 0; i < transfers_.size(); ++i) {
      if (!EmitTransfer(i)) return;
    }
    if (!EmitEndReconciliations(reconciliation, last_ms)) return;
    Summarize();
  }

  void EmitOpens(int64_t timestamp_ms) {
    for (const Account& account : accounts_) {
      PlanStep& open = result_.plan.steps.emplace_back();
      open.kind = PlanStep::Kind::kOpen;
      open.account = account.name;
      open.timestamp_ms = timestamp_ms;
    }
  }

  // The i-th transfer: the opening credits of parties it is the first of,
  // the transfer, and the receive half's note when it differs. Moves the
  // origin's id and notes into the steps.
  bool EmitTransfer(size_t i) {
    Transfer& transfer = transfers_[i];
    const int64_t timestamp_ms = transfer.timestamp_us / kMicrosPerMilli;
    for (uint32_t party : {transfer.from, transfer.to}) {
      Account& account = accounts_[party];
      if (account.first_transfer != i || account.opening == 0) continue;
      if (!Move(std::nullopt, party, account.opening, transfer.line)) return false;
      AddReconciliation(PlanStep::Kind::kCredit, party, account.opening, timestamp_ms,
                        OpeningReason(account));
    }
    if (!Move(transfer.from, transfer.to, transfer.amount, transfer.line)) return false;
    std::vector<PlanStep>& steps = result_.plan.steps;
    OriginEntry& primary = EntryOf(transfer.primary);
    PlanStep& step = steps.emplace_back();
    step.kind = PlanStep::Kind::kTransfer;
    step.account = accounts_[transfer.from].name;
    step.counterparty = accounts_[transfer.to].name;
    step.amount = transfer.amount;
    step.timestamp_ms = timestamp_ms;
    step.transaction_id = std::move(primary.transaction_id);
    step.text = std::move(primary.note);
    if (transfer.twin) {
      OriginEntry& twin = EntryOf(*transfer.twin);
      if (twin.note != step.text) {
        PlanStep note;
        note.kind = PlanStep::Kind::kNote;
        note.account = accounts_[transfer.to].name;
        note.timestamp_ms = timestamp_ms;
        note.transaction_id = step.transaction_id;
        note.text = std::move(twin.note);
        steps.push_back(std::move(note));
        ++result_.plan.summary.notes_set;
      }
    }
    return true;
  }

  // What the history leaves unexplained at the end: a debit of the excess
  // into `reconciliation`, or the sbd_tokens of a user no transfer names.
  bool EmitEndReconciliations(std::optional<uint32_t> reconciliation, int64_t timestamp_ms) {
    for (uint32_t id = 0; id < accounts_.size(); ++id) {
      Account& account = accounts_[id];
      if (account.end_debit > 0) {
        if (!Move(id, reconciliation, account.end_debit, input_.users[*account.user].line)) {
          return false;
        }
        AddReconciliation(PlanStep::Kind::kDebit, id, account.end_debit, timestamp_ms,
                          DebitReason(account));
      }
      if (account.end_credit > 0) {
        if (!Move(std::nullopt, id, account.end_credit, input_.users[*account.user].line)) {
          return false;
        }
        AddReconciliation(PlanStep::Kind::kCredit, id, account.end_credit, timestamp_ms,
                          NoHistoryReason(account));
      }
    }
    return true;
  }

  void Summarize() {
    ImportSummary& summary = result_.plan.summary;
    summary.users = input_.users.size();
    summary.entries = input_.entry_count;
    summary.events = result_.plan.steps.size();
    summary.total_minted = summary.credited;
    summary.final_balances.reserve(accounts_.size());
    for (const Account& account : accounts_) {
      assert((!account.user || account.balance == input_.users[*account.user].sbd_tokens) &&
             "a user's planned balance differs from sbd_tokens");
      summary.final_balances.push_back({account.name, account.balance});
    }
  }

  OriginExport input_;
  const int64_t now_ms_;
  PlanResult result_;
  // Views into input_'s usernames and counterparties, which never move.
  absl::flat_hash_map<std::string_view, uint32_t> account_index_;
  std::vector<Account> accounts_;
  std::vector<size_t> entry_base_;  // Per user: the flat index of its first entry.
  std::vector<Twin> twins_;         // Per entry, by flat index.
  std::vector<Transfer> transfers_;
};

}  // namespace

std::string ReconciliationTransactionId(int64_t seq) {
  return absl::StrCat(ToAbsl(kReconciliationIdPrefix), seq);
}

PlanResult PlanImport(OriginExport input, int64_t now_ms) {
  return Planner(std::move(input), now_ms).Run();
}

}  // namespace sbd
