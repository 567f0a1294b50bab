// The report `sbd-ledger import` prints (docs/IMPORT.md, "The report"):
// counts, the transfers with a missing half, and every reconciliation with
// its seq, account, amount and reason. The same for a dry run and a real one
// but for the line saying nothing was written.
//
// Thread-safety: a pure function.
#ifndef SBD_TOOLS_SBD_LEDGER_IMPORT_IMPORT_REPORT_H_
#define SBD_TOOLS_SBD_LEDGER_IMPORT_IMPORT_REPORT_H_

#include <string>
#include <string_view>

#include "tools/sbd-ledger/import/import_plan.h"

namespace sbd {

struct ReportHeader {
  std::string_view users_path;
  std::string_view db_path;
  bool dry_run = false;
};

std::string FormatImportReport(const ReportHeader& header, const ImportSummary& summary);

}  // namespace sbd

#endif  // SBD_TOOLS_SBD_LEDGER_IMPORT_IMPORT_REPORT_H_
