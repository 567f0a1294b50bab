#include "tools/sbd-ledger/import/import_command.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/ledger.h"
#include "store/sqlite_event_log.h"
#include "tools/sbd-ledger/import/dry_run_event_log.h"
#include "tools/sbd-ledger/import/import_report.h"
#include "tools/sbd-ledger/import/import_runner.h"

namespace sbd {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

absl::StatusOr<std::string> ReadUsersFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot read the users file ", path, ": ",
                     std::error_code(errno, std::generic_category()).message()));
  }
  std::string text;
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  if (size > 0) {
    text.resize(static_cast<size_t>(size));
    in.read(text.data(), size);
  }
  if (!in) return absl::UnavailableError(absl::StrCat("error reading the users file ", path));
  return text;
}

absl::Status LogHoldsEvents(const std::string& db_path, int64_t last_seq) {
  return absl::FailedPreconditionError(
      absl::StrCat(db_path, " already holds ", last_seq, " events (seq 1 to ", last_seq,
                   "); an import writes only into a new or empty log"));
}

// Refuses, before anything is read or written, a log that holds events. A
// missing or empty file is fine; nothing is created.
absl::Status CheckLogIsEmpty(const std::string& db_path) {
  std::error_code error;
  if (!std::filesystem::exists(db_path, error) || std::filesystem::file_size(db_path, error) == 0) {
    return absl::OkStatus();
  }
  SqliteEventLog::Options options;
  options.read_only = true;
  absl::StatusOr<std::unique_ptr<SqliteEventLog>> log = SqliteEventLog::Open(db_path, options);
  if (!log.ok()) {
    return absl::Status(log.status().code(),
                        absl::StrCat("cannot open ", db_path, ": ", log.status().message()));
  }
  if ((*log)->LastSeq() > 0) return LogHoldsEvents(db_path, (*log)->LastSeq());
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<EventLog>> OpenTargetLog(const ImportConfig& config, size_t events) {
  if (config.dry_run) return std::make_unique<DryRunEventLog>(events);
  const std::filesystem::path dir = std::filesystem::path(config.db_path).parent_path();
  if (!dir.empty()) {
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    if (error) {
      return absl::UnavailableError(
          absl::StrCat("cannot create the directory ", dir.string(), ": ", error.message()));
    }
  }
  absl::StatusOr<std::unique_ptr<SqliteEventLog>> log =
      SqliteEventLog::Open(config.db_path, SqliteEventLog::Options{});
  if (!log.ok()) {
    return absl::Status(log.status().code(),
                        absl::StrCat("cannot open ", config.db_path, ": ", log.status().message()));
  }
  // Checked again now that the log is ours: another process may have
  // written it since CheckLogIsEmpty.
  if ((*log)->LastSeq() > 0) return LogHoldsEvents(config.db_path, (*log)->LastSeq());
  return std::unique_ptr<EventLog>(*std::move(log));
}

std::vector<std::string> Located(const std::string& path, const std::vector<InputError>& errors) {
  std::vector<std::string> located;
  located.reserve(errors.size());
  for (const InputError& error : errors) {
    located.push_back(absl::StrCat(path, ":", error.line, ": ", error.reason));
  }
  return located;
}

}  // namespace

absl::StatusOr<ImportOutcome> ImportUsers(const ImportConfig& config) {
  if (absl::Status empty = CheckLogIsEmpty(config.db_path); !empty.ok()) return empty;
  ImportOutcome outcome;
  ParsedExport parsed;
  {
    Clock::time_point start = Clock::now();
    absl::StatusOr<std::string> text = ReadUsersFile(config.users_path);
    if (!text.ok()) return text.status();
    outcome.timings.read_s = SecondsSince(start);
    start = Clock::now();
    parsed = ParseOriginExport(*text, config.format);
    outcome.timings.parse_s = SecondsSince(start);
  }  // The file's text is no longer needed.
  if (!parsed.errors.empty()) {
    outcome.input_errors = Located(config.users_path, parsed.errors);
    return outcome;
  }
  Clock::time_point start = Clock::now();
  PlanResult planned = PlanImport(std::move(parsed.data), absl::ToUnixMillis(absl::Now()));
  outcome.timings.plan_s = SecondsSince(start);
  if (!planned.errors.empty()) {
    outcome.input_errors = Located(config.users_path, planned.errors);
    return outcome;
  }
  outcome.summary = std::move(planned.plan.summary);

  start = Clock::now();
  absl::StatusOr<std::unique_ptr<EventLog>> log = OpenTargetLog(config, outcome.summary.events);
  if (!log.ok()) return log.status();
  Ledger::Options options;
  options.accounts_expected = outcome.summary.final_balances.size();
  absl::StatusOr<std::unique_ptr<Ledger>> ledger = Ledger::Open(*std::move(log), options);
  if (!ledger.ok()) return ledger.status();
  absl::Status applied = ApplyImportPlan(**ledger, std::move(planned.plan.steps));
  if (applied.ok()) applied = VerifyImport(**ledger, outcome.summary);
  const int64_t last_seq = (*ledger)->LastSeq();
  ledger->reset();  // Stops the ledger and closes the log (a checkpoint).
  if (!applied.ok()) {
    if (config.dry_run || last_seq == 0) return applied;
    return absl::Status(applied.code(),
                        absl::StrCat(applied.message(), "; ", config.db_path,
                                     " holds a partial import (seq 1 to ", last_seq,
                                     "): delete it (with its -wal and -shm files) before "
                                     "importing again"));
  }
  outcome.timings.apply_s = SecondsSince(start);
  return outcome;
}

int RunImport(const ImportConfig& config) {
  absl::StatusOr<ImportOutcome> outcome = ImportUsers(config);
  if (!outcome.ok()) {
    std::fprintf(stderr, "sbd-ledger import: %s\n",
                 std::string(outcome.status().message()).c_str());
    const absl::StatusCode code = outcome.status().code();
    const bool unreadable =
        code == absl::StatusCode::kNotFound || code == absl::StatusCode::kPermissionDenied;
    return unreadable ? 2 : 1;
  }
  if (!outcome->input_errors.empty()) {
    for (const std::string& error : outcome->input_errors) {
      std::fprintf(stderr, "%s\n", error.c_str());
    }
    std::fprintf(stderr, "sbd-ledger import: %s refused%s; nothing was written\n",
                 config.users_path.c_str(),
                 outcome->input_errors.size() >= kInputErrorsMax ? " (first errors shown)" : "");
    return 1;
  }
  const std::string report = FormatImportReport(
      ReportHeader{config.users_path, config.db_path, config.dry_run}, outcome->summary);
  std::fwrite(report.data(), 1, report.size(), stdout);
  std::fflush(stdout);
  const ImportTimings& t = outcome->timings;
  std::fprintf(stderr,
               "sbd-ledger import: read in %.3f s, parsed %zu entries in %.3f s, planned in "
               "%.3f s, %s %zu events in %.3f s%s\n",
               t.read_s, outcome->summary.entries, t.parse_s, t.plan_s,
               config.dry_run ? "dry-ran" : "wrote", outcome->summary.events, t.apply_s,
               config.dry_run ? " (nothing written)" : "");
  return 0;
}

}  // namespace sbd
