#include "tools/sbd-replay/log_auditor.h"

#include <sstream>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/store/test_ledger.h"

namespace sbd {
namespace {

using ::sbd::testing::TestLedger;
using ::testing::HasSubstr;

// Serves `events`, then fails with `failure` (if set) after `fail_after` of them.
class ScriptedLog : public EventLog {
 public:
  ScriptedLog(std::vector<Event> events, absl::Status failure, size_t fail_after)
      : events_(std::move(events)), failure_(std::move(failure)), fail_after_(fail_after) {}

  absl::Status Append(absl::Span<const Event>) override {
    return absl::UnimplementedError("read-only");
  }
  int64_t LastSeq() const override { return static_cast<int64_t>(events_.size()); }
  absl::Status Read(int64_t from_seq, int64_t to_seq,
                    absl::FunctionRef<absl::Status(const Event&)> visit) const override {
    for (const Event& event : events_) {
      if (event.seq < from_seq || event.seq > to_seq) continue;
      if (!failure_.ok() && static_cast<size_t>(event.seq) > fail_after_) return failure_;
      if (absl::Status status = visit(event); !status.ok()) return status;
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<Event>> ReadSeqs(absl::Span<const int64_t>) const override {
    return absl::UnimplementedError("not used by the auditor");
  }

 private:
  std::vector<Event> events_;
  absl::Status failure_;
  size_t fail_after_;
};

std::vector<Event> Transfers(int count) {
  TestLedger ledger;
  ledger.Open("alice");
  ledger.Open("bob");
  ledger.Mint("alice", 1'000'000);
  while (static_cast<int>(ledger.events().size()) < count) ledger.Transfer("alice", "bob", 1);
  return ledger.events();
}

TEST(LogAuditorTest, CleanLogVisitsEveryEventAndReportsProgress) {
  ScriptedLog log(Transfers(10'000), absl::OkStatus(), 0);
  std::ostringstream progress;
  LogAuditor auditor(progress, absl::ZeroDuration());
  int64_t visited = 0;
  absl::StatusOr<AuditResult> result =
      auditor.Audit(log, INT64_MAX, [&](const Event&, const Projector&) { ++visited; });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->violation.has_value());
  EXPECT_EQ(result->events_verified, 10'000);
  EXPECT_EQ(visited, 10'000);
  EXPECT_EQ(auditor.projection().Balance("bob"), 9'997);
  EXPECT_EQ(progress.str(),
            "sbd-replay: verified seq 4096 of 10000 (40%)\n"
            "sbd-replay: verified seq 8192 of 10000 (81%)\n");
}

TEST(LogAuditorTest, NoProgressLineBeforeTheInterval) {
  ScriptedLog log(Transfers(10'000), absl::OkStatus(), 0);
  std::ostringstream progress;
  LogAuditor auditor(progress, absl::Hours(1));
  ASSERT_TRUE(auditor.Audit(log, INT64_MAX, [](const Event&, const Projector&) {}).ok());
  EXPECT_EQ(progress.str(), "");
}

TEST(LogAuditorTest, DataLossFromTheLogIsAViolationAtTheNextSeq) {
  ScriptedLog log(Transfers(10), absl::DataLossError("hash chain broken at seq 7"), 6);
  std::ostringstream progress;
  LogAuditor auditor(progress, absl::Seconds(1));
  absl::StatusOr<AuditResult> result =
      auditor.Audit(log, INT64_MAX, [](const Event&, const Projector&) {});
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->violation.has_value());
  EXPECT_EQ(result->violation->seq, 7);
  EXPECT_EQ(result->violation->detail, "hash chain broken at seq 7");
  EXPECT_EQ(result->events_verified, 6);
}

TEST(LogAuditorTest, AnIoErrorIsAnErrorNotAViolation) {
  ScriptedLog log(Transfers(10), absl::UnavailableError("disk I/O error"), 4);
  std::ostringstream progress;
  LogAuditor auditor(progress, absl::Seconds(1));
  absl::StatusOr<AuditResult> result =
      auditor.Audit(log, INT64_MAX, [](const Event&, const Projector&) {});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
}

TEST(LogAuditorTest, AContradictionStopsBeforeTheBadEventIsVisited) {
  std::vector<Event> events = Transfers(10);
  events[7].from_balance = 5;  // seq 8.
  ScriptedLog log(events, absl::OkStatus(), 0);
  std::ostringstream progress;
  LogAuditor auditor(progress, absl::Seconds(1));
  int64_t last_visited = 0;
  absl::StatusOr<AuditResult> result = auditor.Audit(
      log, INT64_MAX, [&](const Event& event, const Projector&) { last_visited = event.seq; });
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->violation.has_value());
  EXPECT_EQ(result->violation->seq, 8);
  EXPECT_THAT(result->violation->detail, HasSubstr("seq 8"));
  EXPECT_EQ(last_visited, 7);
  EXPECT_EQ(auditor.projection().last_seq(), 7);
}

}  // namespace
}  // namespace sbd
