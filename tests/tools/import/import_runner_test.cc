// ApplyImportPlan and VerifyImport on a real Ledger (over the dry run's
// in-memory log): the plan's events land at its seqs with the origin's
// timestamps and ids, and a plan the engine disagrees with stops the import.
#include "tools/sbd-ledger/import/import_runner.h"

#include <memory>
#include <string>
#include <vector>

#include "engine/error_code.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/sbd-ledger/import/dry_run_event_log.h"
#include "tools/sbd-ledger/import/origin_export.h"

namespace sbd {
namespace {

using ::testing::HasSubstr;

constexpr char kExport[] =
    R"({"username":"alice","sbd_tokens":70,"sbd_tokens_transactions":[)"
    R"({"type":"send","to":"bob","amount":50,"timestamp":"2024-05-01T12:00:00.123456+00:00","transaction_id":"t1","note":"lunch"},)"
    R"({"type":"receive","from":"sbd_ads","amount":10,"timestamp":"2024-05-02T12:00:00.999999+00:00","transaction_id":"ad-1"}]})"
    "\n"
    R"({"username":"bob","sbd_tokens":50,"sbd_tokens_transactions":[)"
    R"({"type":"receive","from":"alice","amount":50,"timestamp":"2024-05-01T12:00:00.123456+00:00","transaction_id":"t1","note":"thanks"}]})"
    "\n";

ImportPlan PlanOf(const std::string& text) {
  ParsedExport parsed = ParseOriginExport(text, ExportFormat::kJsonLines);
  EXPECT_TRUE(parsed.errors.empty());
  PlanResult planned = PlanImport(std::move(parsed.data), 0);
  EXPECT_TRUE(planned.errors.empty());
  return std::move(planned.plan);
}

std::unique_ptr<Ledger> FreshLedger() {
  absl::StatusOr<std::unique_ptr<Ledger>> ledger =
      Ledger::Open(std::make_unique<DryRunEventLog>(), Ledger::Options{});
  EXPECT_TRUE(ledger.ok()) << ledger.status();
  return *std::move(ledger);
}

TEST(ImportRunnerTest, ThePlanBecomesTheLedgersEventsAtItsSeqs) {
  ImportPlan plan = PlanOf(kExport);
  std::unique_ptr<Ledger> ledger = FreshLedger();
  ASSERT_TRUE(ApplyImportPlan(*ledger, plan.steps).ok());
  ASSERT_TRUE(VerifyImport(*ledger, plan.summary).ok());
  EXPECT_EQ(ledger->LastSeq(), static_cast<int64_t>(plan.steps.size()));
  EXPECT_EQ(*ledger->Balance("alice"), 70);
  EXPECT_EQ(*ledger->Balance("bob"), 50);

  absl::StatusOr<std::vector<Event>> alice = ledger->History("alice", 0, 10);
  ASSERT_TRUE(alice.ok());
  ASSERT_EQ(alice->size(), 3u);  // Newest first: the ad, the send, the opening credit.
  EXPECT_EQ((*alice)[0].transaction_id, "ad-1");
  EXPECT_EQ((*alice)[0].timestamp_ms, 1714651200999);  // Milliseconds, truncated.
  EXPECT_EQ((*alice)[1].transaction_id, "t1");
  EXPECT_EQ((*alice)[1].timestamp_ms, 1714564800123);
  EXPECT_EQ((*alice)[1].note, "lunch");
  EXPECT_EQ((*alice)[2].type, EventType::kTokensMinted);
  EXPECT_EQ((*alice)[2].actor, "import");
  absl::StatusOr<std::vector<Event>> bob = ledger->History("bob", 0, 10);
  ASSERT_TRUE(bob.ok());
  ASSERT_EQ(bob->size(), 1u);
  EXPECT_EQ((*bob)[0].note, "thanks");  // bob's own view of t1.
  EXPECT_EQ((*bob)[0].timestamp_ms, 1714564800123);
}

TEST(ImportRunnerTest, AStepTheEngineRefusesStopsTheImport) {
  std::vector<PlanStep> steps(3);
  steps[0].kind = PlanStep::Kind::kOpen;
  steps[0].account = "alice";
  steps[1].kind = PlanStep::Kind::kOpen;
  steps[1].account = "bob";
  steps[2].kind = PlanStep::Kind::kTransfer;  // alice has nothing to send.
  steps[2].account = "alice";
  steps[2].counterparty = "bob";
  steps[2].amount = 5;
  steps[2].transaction_id = "t1";
  std::unique_ptr<Ledger> ledger = FreshLedger();
  absl::Status status = ApplyImportPlan(*ledger, steps);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(status.message()), HasSubstr("refused the plan's event at seq 3"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("Insufficient sbd_tokens"));
}

TEST(ImportRunnerTest, OnlyAFreshLedger) {
  std::unique_ptr<Ledger> ledger = FreshLedger();
  ASSERT_TRUE(ledger->Submit(OpenAccountCommand{"admin", "zed"}).get().ok());
  EXPECT_EQ(ApplyImportPlan(*ledger, PlanOf(kExport).steps).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(ImportRunnerTest, VerifyCatchesABalanceOffThePlan) {
  ImportPlan plan = PlanOf(kExport);
  std::unique_ptr<Ledger> ledger = FreshLedger();
  ASSERT_TRUE(ApplyImportPlan(*ledger, plan.steps).ok());
  ImportSummary wrong = plan.summary;
  wrong.final_balances[1].balance += 1;
  absl::Status status = VerifyImport(*ledger, wrong);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(status.message()), HasSubstr("bob's balance is 50, the plan says 51"));
  wrong = plan.summary;
  wrong.events += 1;
  EXPECT_FALSE(VerifyImport(*ledger, wrong).ok());
}

// More steps than the in-flight window: the submitter waits for room and
// every event still lands in order.
TEST(ImportRunnerTest, ManyMoreStepsThanTheWindow) {
  std::string text;
  for (int i = 0; i < 6000; ++i) {
    text += R"({"username":"u)" + std::to_string(i) + R"(","sbd_tokens":)" + std::to_string(i % 7) +
            R"(,"sbd_tokens_transactions":[{"type":"send","to":"emotion_tracker_shop","amount":3,)"
            R"("timestamp":"2024-05-01T12:00:00Z","transaction_id":"s)" +
            std::to_string(i) + R"("}]})" + "\n";
  }
  ImportPlan plan = PlanOf(text);
  ASSERT_GT(plan.steps.size(), 4u * 4096);
  std::unique_ptr<Ledger> ledger = FreshLedger();
  ASSERT_TRUE(ApplyImportPlan(*ledger, plan.steps).ok());
  EXPECT_TRUE(VerifyImport(*ledger, plan.summary).ok());
  EXPECT_EQ(*ledger->Balance("emotion_tracker_shop"), 18000);
}

}  // namespace
}  // namespace sbd
