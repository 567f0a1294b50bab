// PlanImport as a pure function: tables of small exports and the exact steps
// they become, the refusals, and a seeded property check over random exports
// (no balance below 0 at any step, every user ends at sbd_tokens, every
// history entry a transfer with its own id).
#include "tools/sbd-ledger/import/import_plan.h"

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/event.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sbd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Kind = PlanStep::Kind;

constexpr int64_t kT = 1714564800;  // 2024-05-01T12:00:00Z, in seconds.
constexpr int64_t kNowMs = 1795705445123;

OriginEntry Entry(EntryType type, std::string counterparty, int64_t amount, int64_t at_s,
                  std::string id, std::string note = "") {
  OriginEntry entry;
  entry.type = type;
  entry.counterparty = std::move(counterparty);
  entry.amount = amount;
  entry.timestamp_us = at_s * 1'000'000;
  entry.transaction_id = std::move(id);
  entry.note = std::move(note);
  return entry;
}
OriginEntry Send(std::string to, int64_t amount, int64_t at_s, std::string id,
                 std::string note = "") {
  return Entry(EntryType::kSend, std::move(to), amount, at_s, std::move(id), std::move(note));
}
OriginEntry Receive(std::string from, int64_t amount, int64_t at_s, std::string id,
                    std::string note = "") {
  return Entry(EntryType::kReceive, std::move(from), amount, at_s, std::move(id), std::move(note));
}

// Users on lines 1, 2, 3, ... in the order given.
OriginExport Export(std::vector<std::pair<std::string, int64_t>> users,
                    std::map<std::string, std::vector<OriginEntry>> entries = {}) {
  OriginExport input;
  for (auto& [name, tokens] : users) {
    OriginUser& user = input.users.emplace_back();
    user.username = name;
    user.sbd_tokens = tokens;
    user.line = static_cast<int64_t>(input.users.size());
    user.entries = entries[name];
    for (size_t i = 0; i < user.entries.size(); ++i) user.entries[i].index = i;
    input.entry_count += user.entries.size();
  }
  return input;
}

PlanStep Step(Kind kind, std::string account, std::string counterparty, int64_t amount,
              int64_t at_ms, std::string id, std::string text) {
  return PlanStep{kind,  std::move(account), std::move(counterparty), amount,
                  at_ms, std::move(id),      std::move(text)};
}
PlanStep Open(std::string account, int64_t at_ms) {
  return Step(Kind::kOpen, std::move(account), "", 0, at_ms, "", "");
}

ImportPlan Plan(OriginExport input) {
  PlanResult result = PlanImport(std::move(input), kNowMs);
  EXPECT_TRUE(result.errors.empty()) << result.errors[0].reason;
  return std::move(result.plan);
}

std::vector<InputError> Errors(OriginExport input) {
  return PlanImport(std::move(input), kNowMs).errors;
}

// The plan's steps with the reasons blanked (checked on their own).
std::vector<PlanStep> WithoutReasons(std::vector<PlanStep> steps) {
  for (PlanStep& step : steps) {
    if (step.kind == Kind::kCredit || step.kind == Kind::kDebit) step.text = "";
  }
  return steps;
}

TEST(ImportPlanTest, PairedHalvesBecomeOneTransfer) {
  ImportPlan plan =
      Plan(Export({{"alice", 70}, {"bob", 50}}, {{"alice", {Send("bob", 50, kT, "t1", "hi")}},
                                                 {"bob", {Receive("alice", 50, kT, "t1", "hi")}}}));
  const int64_t ms = kT * 1000;
  EXPECT_THAT(
      WithoutReasons(plan.steps),
      ElementsAre(Open("alice", ms), Open("bob", ms),
                  Step(Kind::kCredit, "alice", "", 120, ms, "sbd-import-reconciliation:3", ""),
                  Step(Kind::kTransfer, "alice", "bob", 50, ms, "t1", "hi")));
  EXPECT_EQ(plan.summary.transfers, 1u);
  EXPECT_EQ(plan.summary.transfers_paired, 1u);
  EXPECT_EQ(plan.summary.notes_set, 0u);
  EXPECT_EQ(plan.summary.events, 4u);
  EXPECT_THAT(plan.summary.final_balances,
              ElementsAre(AccountBalance{"alice", 70}, AccountBalance{"bob", 50}));
  ASSERT_EQ(plan.summary.reconciliations.size(), 1u);
  EXPECT_EQ(plan.summary.reconciliations[0].reason,
            "reconciliation: alice's history does not explain an opening balance of 120 "
            "(sbd_tokens 70, imported transfers net -50)");
  EXPECT_EQ(plan.summary.total_minted, 120);
}

TEST(ImportPlanTest, AReceiveNoteThatDiffersIsSetOnTheReceiversView) {
  ImportPlan plan = Plan(Export(
      {{"alice", 0}, {"bob", 20}, {"carol", 10}},
      {{"alice", {Receive("bob", 20, kT, "t1", "for lunch"), Receive("carol", 10, kT + 1, "t2")}},
       {"bob", {Send("alice", 20, kT, "t1", "lunch")}},
       {"carol", {Send("alice", 10, kT + 1, "t2", "gift")}}}));
  std::vector<PlanStep> notes;
  for (const PlanStep& step : plan.steps) {
    if (step.kind == Kind::kNote || step.kind == Kind::kTransfer) notes.push_back(step);
  }
  // The transfer carries the send's note; the receiver's differing note
  // (also none at all) is its own view, set right after.
  EXPECT_THAT(
      notes, ElementsAre(Step(Kind::kTransfer, "bob", "alice", 20, kT * 1000, "t1", "lunch"),
                         Step(Kind::kNote, "alice", "", 0, kT * 1000, "t1", "for lunch"),
                         Step(Kind::kTransfer, "carol", "alice", 10, (kT + 1) * 1000, "t2", "gift"),
                         Step(Kind::kNote, "alice", "", 0, (kT + 1) * 1000, "t2", "")));
  EXPECT_EQ(plan.summary.notes_set, 2u);
}

TEST(ImportPlanTest, ASendWithoutItsReceiveIsReconciledOnTheReceiver) {
  // bob's sbd_tokens never counted t1 (the origin's second update was lost).
  ImportPlan plan =
      Plan(Export({{"alice", 50}, {"bob", 0}}, {{"alice", {Send("bob", 50, kT, "t1")}}}));
  const int64_t ms = kT * 1000;
  EXPECT_THAT(
      WithoutReasons(plan.steps),
      ElementsAre(Open("alice", ms), Open("bob", ms), Open("sbd_reconciliation", ms),
                  Step(Kind::kCredit, "alice", "", 100, ms, "sbd-import-reconciliation:4", ""),
                  Step(Kind::kTransfer, "alice", "bob", 50, ms, "t1", ""),
                  Step(Kind::kDebit, "bob", "sbd_reconciliation", 50, ms,
                       "sbd-import-reconciliation:6", "")));
  EXPECT_THAT(plan.summary.missing_halves,
              ElementsAre(MissingHalf{"t1", "alice", "bob", 50, 1, true}));
  EXPECT_EQ(plan.summary.transfers_missing_half, 1u);
  EXPECT_THAT(plan.summary.other_accounts, ElementsAre("sbd_reconciliation"));
  ASSERT_EQ(plan.summary.reconciliations.size(), 2u);
  EXPECT_EQ(plan.summary.reconciliations[1],
            (Reconciliation{6, "bob", false, 50,
                            "reconciliation: bob ends the imported history with 50 but has "
                            "sbd_tokens 0; debited the 50 the history does not explain; 1 "
                            "transfer is in the counterparty's history only: t1"}));
  EXPECT_EQ(plan.summary.debited, 50);
  EXPECT_THAT(plan.summary.final_balances,
              ElementsAre(AccountBalance{"alice", 50}, AccountBalance{"bob", 0},
                          AccountBalance{"sbd_reconciliation", 50}));
}

TEST(ImportPlanTest, AReceiveWithoutItsSendIsReconciledOnTheSender) {
  ImportPlan plan =
      Plan(Export({{"alice", 100}, {"bob", 50}}, {{"bob", {Receive("alice", 50, kT, "t1")}}}));
  ASSERT_EQ(plan.summary.reconciliations.size(), 1u);
  EXPECT_EQ(plan.summary.reconciliations[0].account, "alice");
  EXPECT_EQ(plan.summary.reconciliations[0].amount, 150);
  EXPECT_THAT(plan.summary.reconciliations[0].reason,
              HasSubstr("1 transfer is in the counterparty's history only: t1"));
  EXPECT_THAT(plan.summary.missing_halves,
              ElementsAre(MissingHalf{"t1", "alice", "bob", 50, 2, false}));
}

TEST(ImportPlanTest, CounterpartiesThatAreNotUsersBecomeAccounts) {
  ImportPlan plan = Plan(Export(
      {{"alice", 100}},
      {{"alice",
        {Receive("sbd_ads", 10, kT, "ad-1"), Send("emotion_tracker_shop", 30, kT + 60, "t2",
                                                  "Checkout cart for emotion_tracker_shop")}}}));
  const int64_t ms = kT * 1000;
  EXPECT_THAT(
      WithoutReasons(plan.steps),
      ElementsAre(Open("alice", ms), Open("sbd_ads", ms), Open("emotion_tracker_shop", ms),
                  // Before the first transfer of each: what the history needs.
                  Step(Kind::kCredit, "sbd_ads", "", 10, ms, "sbd-import-reconciliation:4", ""),
                  Step(Kind::kCredit, "alice", "", 120, ms, "sbd-import-reconciliation:5", ""),
                  Step(Kind::kTransfer, "sbd_ads", "alice", 10, ms, "ad-1", ""),
                  Step(Kind::kTransfer, "alice", "emotion_tracker_shop", 30, (kT + 60) * 1000, "t2",
                       "Checkout cart for emotion_tracker_shop")));
  EXPECT_THAT(plan.summary.other_accounts, ElementsAre("sbd_ads", "emotion_tracker_shop"));
  EXPECT_EQ(plan.summary.transfers_non_user, 2u);
  EXPECT_TRUE(plan.summary.missing_halves.empty());
  EXPECT_EQ(plan.summary.reconciliations[0].reason,
            "reconciliation: sbd_ads is not a user in the export, so no history explains the 10 "
            "its transfers need; credited before its first transfer");
  EXPECT_THAT(plan.summary.final_balances,
              ElementsAre(AccountBalance{"alice", 100}, AccountBalance{"sbd_ads", 0},
                          AccountBalance{"emotion_tracker_shop", 30}));
}

TEST(ImportPlanTest, AUserWithoutHistoryIsCreditedAtTheEnd) {
  ImportPlan plan = Plan(
      Export({{"alice", 0}, {"carol", 7}, {"dave", 0}, {"bob", 5}},
             {{"alice", {Send("bob", 5, kT, "t1")}}, {"bob", {Receive("alice", 5, kT, "t1")}}}));
  ASSERT_FALSE(plan.steps.empty());
  EXPECT_EQ(WithoutReasons({plan.steps.back()})[0],
            Step(Kind::kCredit, "carol", "", 7, kT * 1000, "sbd-import-reconciliation:7", ""));
  EXPECT_EQ(plan.summary.reconciliations.back().reason,
            "reconciliation: carol has sbd_tokens 7 and no history entry explains them");
  EXPECT_EQ(plan.summary.final_balances[2], (AccountBalance{"dave", 0}));
}

TEST(ImportPlanTest, TransfersRunInTimestampOrderTiesInFileOrder) {
  ImportPlan plan =
      Plan(Export({{"alice", 0}, {"bob", 0}},
                  {{"alice",
                    {Send("sbd_ads", 1, kT + 2, "a"), Send("sbd_ads", 1, kT, "b"),
                     Send("sbd_ads", 1, kT + 1, "c")}},
                   {"bob", {Send("sbd_ads", 1, kT, "d"), Send("sbd_ads", 1, kT + 1, "e")}}}));
  std::vector<std::string> order;
  for (const PlanStep& step : plan.steps) {
    if (step.kind == Kind::kTransfer) order.push_back(step.transaction_id);
  }
  EXPECT_THAT(order, ElementsAre("b", "d", "c", "e", "a"));
  // Opens carry the earliest time, end reconciliations the latest.
  EXPECT_EQ(plan.steps.front().timestamp_ms, kT * 1000);
  EXPECT_EQ(plan.steps.back().timestamp_ms, (kT + 2) * 1000);
}

TEST(ImportPlanTest, AHistoryThatOverdrawsIsFundedThenTheExcessDebited) {
  // alice spends 30 before receiving 10 and has 0: 30 up front, 10 back.
  ImportPlan plan =
      Plan(Export({{"alice", 0}, {"bob", 0}, {"carol", 30}},
                  {{"alice", {Send("carol", 30, kT, "t1"), Receive("bob", 10, kT + 1, "t2")}},
                   {"bob", {Send("alice", 10, kT + 1, "t2")}},
                   {"carol", {Receive("alice", 30, kT, "t1")}}}));
  ASSERT_GE(plan.summary.reconciliations.size(), 3u);
  EXPECT_EQ(plan.summary.reconciliations[0],
            (Reconciliation{5, "alice", true, 30,
                            "reconciliation: alice's imported transfers would take it to -30; "
                            "an opening balance of 30 keeps it at or above 0 (sbd_tokens 0, the "
                            "excess is debited at the end)"}));
  EXPECT_EQ(plan.summary.reconciliations.back().account, "alice");
  EXPECT_FALSE(plan.summary.reconciliations.back().credit);
  EXPECT_EQ(plan.summary.reconciliations.back().amount, 10);
  EXPECT_THAT(plan.summary.final_balances,
              ElementsAre(AccountBalance{"alice", 0}, AccountBalance{"bob", 0},
                          AccountBalance{"carol", 30}, AccountBalance{"sbd_reconciliation", 10}));
}

TEST(ImportPlanTest, AnExportWithoutHistoryIsTimedNow) {
  ImportPlan plan = Plan(Export({{"alice", 5}}));
  EXPECT_THAT(WithoutReasons(plan.steps),
              ElementsAre(Open("alice", kNowMs), Step(Kind::kCredit, "alice", "", 5, kNowMs,
                                                      "sbd-import-reconciliation:2", "")));
  EXPECT_TRUE(Plan(Export({})).steps.empty());
}

TEST(ImportPlanTest, DuplicateUsernamesNameBothLines) {
  EXPECT_THAT(Errors(Export({{"alice", 0}, {"bob", 0}, {"alice", 0}})),
              ElementsAre(InputError{3,
                                     "username 'alice' is also the username of the document "
                                     "on line 1 (usernames compare lowercased)"}));
}

TEST(ImportPlanTest, ATransactionIdSharedByEntriesThatAreNotTwinsIsRefused) {
  // Same id, but not each other's counterparty / not the same amount / both sends.
  for (auto bob_entry :
       {Receive("carol", 5, kT, "t1"), Receive("alice", 6, kT, "t1"), Send("alice", 5, kT, "t1")}) {
    std::vector<InputError> errors = Errors(Export(
        {{"alice", 0}, {"bob", 0}}, {{"alice", {Send("bob", 5, kT, "t1")}}, {"bob", {bob_entry}}}));
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].line, 2);
    EXPECT_THAT(errors[0].reason,
                HasSubstr("sbd_tokens_transactions[0].transaction_id 't1' is also used on line 1 "
                          "(sbd_tokens_transactions[0] of 'alice'), and the two are not the send "
                          "and the receive of one transfer"));
  }
  // A third use of a paired id.
  std::vector<InputError> errors = Errors(Export(
      {{"alice", 0}, {"bob", 0}}, {{"alice", {Send("bob", 5, kT, "t1"), Send("bob", 5, kT, "t1")}},
                                   {"bob", {Receive("alice", 5, kT, "t1")}}}));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].line, 1);  // alice's second send meets her first: not twins.
  errors = Errors(Export({{"alice", 0}, {"bob", 0}, {"carol", 0}},
                         {{"alice", {Send("bob", 5, kT, "t1")}},
                          {"bob", {Receive("alice", 5, kT, "t1")}},
                          {"carol", {Receive("alice", 5, kT, "t1")}}}));
  EXPECT_THAT(errors, ElementsAre(InputError{
                          3,
                          "sbd_tokens_transactions[0].transaction_id 't1' is already used by "
                          "both halves of a transfer (lines 1 and 2)"}));
}

TEST(ImportPlanTest, TheImportersOwnNamesAreRefusedInTheInput) {
  EXPECT_THAT(Errors(Export({{"sbd_reconciliation", 0}})),
              ElementsAre(InputError{1,
                                     "username 'sbd_reconciliation' is the importer's "
                                     "reconciliation account; rename the user"}));
  EXPECT_THAT(Errors(Export({{"alice", 0}}, {{"alice", {Send("sbd_reconciliation", 1, kT, "x")}}})),
              ElementsAre(InputError{1,
                                     "sbd_tokens_transactions[0]: the counterparty "
                                     "'sbd_reconciliation' is the importer's reconciliation "
                                     "account"}));
  std::vector<InputError> errors = Errors(
      Export({{"alice", 0}}, {{"alice", {Send("shop", 1, kT, "sbd-import-reconciliation:4")}}}));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].reason, HasSubstr("starts with the importer's reserved prefix"));
}

TEST(ImportPlanTest, BalancesAbove2To53AreRefused) {
  // alice's sbd_tokens at the cap and a history that spent 1: she would
  // need an opening balance above it.
  std::vector<InputError> errors =
      Errors(Export({{"alice", kAmountMax}}, {{"alice", {Send("shop", 1, kT, "t1")}}}));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].line, 1);
  EXPECT_THAT(errors[0].reason, HasSubstr("would need an opening balance of 9007199254740992"));
  // The shop receives more than the cap from two funded users.
  errors =
      Errors(Export({{"alice", 0}, {"bob", 0}}, {{"alice", {Send("shop", kAmountMax, kT, "t1")}},
                                                 {"bob", {Send("shop", 1, kT + 1, "t2")}}}));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].line, 2);
  EXPECT_THAT(errors[0].reason,
              HasSubstr("would take the balance of 'shop' above 9007199254740991"));
}

// Runs a plan's steps over plain balances, as the ledger would, checking
// every rule the engine enforces and every property API.md promises.
struct Replayed {
  std::map<std::string, int64_t> balances;
  std::map<std::string, PlanStep> transfers;  // By transaction_id.
};
Replayed ReplayPlan(const ImportPlan& plan) {
  Replayed replayed;
  std::set<std::string> ids;
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const PlanStep& step = plan.steps[i];
    const std::string where = absl::StrCat("step ", i + 1);
    switch (step.kind) {
      case Kind::kOpen:
        EXPECT_TRUE(replayed.balances.emplace(step.account, 0).second) << where;
        break;
      case Kind::kCredit:
        EXPECT_TRUE(replayed.balances.count(step.account)) << where;
        EXPECT_GT(step.amount, 0) << where;
        EXPECT_TRUE(ids.insert(step.transaction_id).second) << where;
        EXPECT_LE(step.text.size(), 500u) << where;
        replayed.balances[step.account] += step.amount;
        break;
      case Kind::kTransfer:
      case Kind::kDebit:
        EXPECT_TRUE(replayed.balances.count(step.account)) << where;
        EXPECT_TRUE(replayed.balances.count(step.counterparty)) << where;
        EXPECT_NE(step.account, step.counterparty) << where;
        EXPECT_GT(step.amount, 0) << where;
        EXPECT_TRUE(ids.insert(step.transaction_id).second) << where;
        EXPECT_GE(replayed.balances[step.account], step.amount) << where << ": overdrawn";
        replayed.balances[step.account] -= step.amount;
        replayed.balances[step.counterparty] += step.amount;
        if (step.kind == Kind::kTransfer) replayed.transfers[step.transaction_id] = step;
        break;
      case Kind::kNote:
        EXPECT_TRUE(ids.count(step.transaction_id)) << where;
        break;
    }
    if (i > 0) {
      EXPECT_GE(step.timestamp_ms, plan.steps[i - 1].timestamp_ms) << where;
    }
  }
  return replayed;
}

TEST(ImportPlanTest, RandomExportsKeepEveryPromise) {
  std::mt19937_64 random(20261127);
  for (int round = 0; round < 200; ++round) {
    const int users = 1 + static_cast<int>(random() % 6);
    std::vector<std::pair<std::string, int64_t>> names;
    std::map<std::string, std::vector<OriginEntry>> entries;
    for (int u = 0; u < users; ++u) {
      names.emplace_back(absl::StrCat("u", u), static_cast<int64_t>(random() % 100));
    }
    const int transfers = static_cast<int>(random() % 12);
    for (int t = 0; t < transfers; ++t) {
      const std::string id = absl::StrCat("t", t);
      const int64_t amount = 1 + static_cast<int64_t>(random() % 40);
      const int64_t at = kT + static_cast<int64_t>(random() % 5);
      const std::string from = names[random() % users].first;
      const std::string to = random() % 4 == 0 ? "sbd_ads" : names[random() % users].first;
      if (from == to) continue;
      const unsigned halves = static_cast<unsigned>(random() % 4);  // 0: both.
      if (to == "sbd_ads" || halves != 1) entries[from].push_back(Send(to, amount, at, id, "n"));
      if (to != "sbd_ads" && halves != 2) {
        entries[to].push_back(Receive(from, amount, at, id, halves == 3 ? "other" : "n"));
      }
    }
    OriginExport input = Export(names, entries);
    const OriginExport copy = input;
    PlanResult result = PlanImport(std::move(input), kNowMs);
    ASSERT_TRUE(result.errors.empty()) << "round " << round << ": " << result.errors[0].reason;
    SCOPED_TRACE(absl::StrCat("round ", round));
    Replayed replayed = ReplayPlan(result.plan);
    EXPECT_EQ(result.plan.steps.size(), result.plan.summary.events);
    for (const OriginUser& user : copy.users) {
      EXPECT_EQ(replayed.balances[user.username], user.sbd_tokens) << user.username;
      for (const OriginEntry& entry : user.entries) {
        ASSERT_TRUE(replayed.transfers.count(entry.transaction_id)) << entry.transaction_id;
        const PlanStep& transfer = replayed.transfers[entry.transaction_id];
        EXPECT_EQ(transfer.amount, entry.amount);
        EXPECT_EQ(entry.type == EntryType::kSend ? transfer.account : transfer.counterparty,
                  user.username);
        EXPECT_EQ(entry.type == EntryType::kSend ? transfer.counterparty : transfer.account,
                  entry.counterparty);
      }
    }
    for (const AccountBalance& balance : result.plan.summary.final_balances) {
      EXPECT_EQ(replayed.balances[balance.account], balance.balance) << balance.account;
    }
    int64_t credited = 0;
    for (const Reconciliation& reconciliation : result.plan.summary.reconciliations) {
      const PlanStep& step = result.plan.steps[reconciliation.seq - 1];
      EXPECT_EQ(step.kind, reconciliation.credit ? Kind::kCredit : Kind::kDebit);
      EXPECT_EQ(step.amount, reconciliation.amount);
      EXPECT_EQ(step.text, reconciliation.reason);
      if (reconciliation.credit) credited += reconciliation.amount;
    }
    EXPECT_EQ(result.plan.summary.total_minted, credited);
  }
}

}  // namespace
}  // namespace sbd
