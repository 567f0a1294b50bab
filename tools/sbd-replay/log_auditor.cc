#include "tools/sbd-replay/log_auditor.h"

#include <algorithm>
#include <sstream>
#include <string_view>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/absl_compat.h"

namespace sbd {
namespace {

// Checking the clock is cheap but not free; once per this many events keeps
// it out of the profile of a multi-million-event replay.
constexpr int64_t kProgressCheckEvery = 4096;

}  // namespace

LogAuditor::LogAuditor(std::ostream& progress, absl::Duration progress_interval)
    : progress_(progress),
      progress_interval_(progress_interval),
      next_progress_(absl::Now() + progress_interval) {}

absl::StatusOr<AuditResult> LogAuditor::Audit(const EventLog& log, int64_t until_seq, Visit visit) {
  AuditResult result;
  const int64_t last_seq = std::min(log.LastSeq(), until_seq);
  projection_.ReserveForEvents(last_seq - projection_.last_seq());
  absl::Status status = log.Read(1, until_seq, [&](const Event& event) {
    if (absl::Status applied = projection_.Apply(event); !applied.ok()) {
      result.violation = Violation{event.seq, std::string(applied.message())};
      return applied;
    }
    result.events_verified = event.seq;
    visit(event, projection_);
    if (event.seq % kProgressCheckEvery == 0) MaybeReportProgress(event.seq, last_seq);
    return absl::OkStatus();
  });
  if (result.violation.has_value()) return result;
  if (status.code() == absl::StatusCode::kDataLoss) {
    // The log checks each event before handing it over, so what it refused
    // is the event after the last one verified.
    result.violation = Violation{result.events_verified + 1, std::string(status.message())};
    return result;
  }
  if (!status.ok()) return status;
  if (std::optional<std::string> broken = CheckInvariants()) {
    result.violation = Violation{result.events_verified, *std::move(broken)};
  }
  return result;
}

std::optional<std::string> LogAuditor::CheckInvariants() const {
  // Summed here, independently of the Projector's running totals, so a slip
  // in its bookkeeping shows up too.
  absl::int128 sum = 0;
  std::optional<std::string> negative;
  projection_.ForEachAccount([&](std::string_view account, int64_t balance) {
    sum += balance;
    if (balance < 0 && !negative.has_value()) {
      negative = absl::StrCat("balance of ", ToAbsl(account), " is ", balance);
    }
  });
  if (negative.has_value()) return negative;
  if (sum != projection_.total_minted()) {
    std::ostringstream detail;
    detail << "sum of balances " << sum << " differs from total minted "
           << projection_.total_minted();
    return detail.str();
  }
  return std::nullopt;
}

void LogAuditor::MaybeReportProgress(int64_t seq, int64_t last_seq) {
  const absl::Time now = absl::Now();
  if (now < next_progress_) return;
  next_progress_ = now + progress_interval_;
  progress_ << "sbd-replay: verified seq " << seq << " of " << last_seq << " ("
            << (last_seq > 0 ? seq * 100 / last_seq : 100) << "%)" << std::endl;
}

}  // namespace sbd
