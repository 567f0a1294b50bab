// ReplayReport: writes what sbd-replay prints, in one of three shapes chosen
// by the options: the summary (balances and totals), an account statement
// with the running balance, or the notification lines. Statement and
// notification lines are streamed as events arrive, so a long log is never
// held in memory. The formats are documented in docs/EVENT_LOG.md.
//
// Thread-safety: none; one report per instance.
#ifndef SBD_TOOLS_SBD_REPLAY_REPLAY_REPORT_H_
#define SBD_TOOLS_SBD_REPLAY_REPLAY_REPORT_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "engine/event.h"
#include "engine/projector.h"
#include "tools/sbd-replay/log_auditor.h"
#include "tools/sbd-replay/replay.h"

namespace sbd {

class ReplayReport {
 public:
  ReplayReport(const ReplayOptions& options, std::ostream& out);

  ReplayReport(const ReplayReport&) = delete;
  ReplayReport& operator=(const ReplayReport&) = delete;

  // Before the first event.
  void Begin();
  // For each verified event, after it is projected.
  void OnEvent(const Event& event, const Projector& projection);
  // After the audit, with the state after the last verified event.
  void Finish(const AuditResult& result, const Projector& projection);

 private:
  enum class Shape { kSummary, kStatement, kNotifications };

  void WriteNotification(const Event& event, const std::string& account);
  void WriteStatementEntry(const Event& event, const Projector& projection);
  void FinishSummary(const AuditResult& result, const Projector& projection);
  void FinishStatement(const AuditResult& result, const Projector& projection);

  const ReplayOptions& options_;
  std::ostream& out_;
  const Shape shape_;
  bool first_entry_ = true;  // JSON statement: no comma before the first entry.
};

}  // namespace sbd

#endif  // SBD_TOOLS_SBD_REPLAY_REPLAY_REPORT_H_
