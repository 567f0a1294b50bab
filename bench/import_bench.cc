#include "bench/import_bench.h"

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/synthetic_export.h"
#include "engine/limits.h"
#include "store/sqlite_event_log.h"
#include "tools/sbd-ledger/import/import_command.h"
#include "tools/sbd-ledger/import/origin_export.h"

namespace sbd::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kSeed = 20261201;
constexpr double kBytesPerMib = 1024.0 * 1024.0;
// Events per Append in the bare-append baseline: the ledger's own batch bound.
constexpr size_t kAppendBatch = kBatchSizeMax;

double Seconds(Clock::duration duration) { return std::chrono::duration<double>(duration).count(); }

void RemoveLog(const std::filesystem::path& path) {
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path.string() + suffix, ignored);
  }
}

absl::StatusOr<double> TimeParseOnly(const std::string& users_path, size_t entries) {
  std::ifstream in(users_path, std::ios::binary);
  const std::string text(std::istreambuf_iterator<char>(in), {});
  const auto start = Clock::now();
  ParsedExport parsed = ParseOriginExport(text, ExportFormat::kJsonLines);
  const double seconds = Seconds(Clock::now() - start);
  if (!parsed.errors.empty() || parsed.data.entry_count != entries) {
    return absl::InternalError("the synthetic export did not parse cleanly");
  }
  return seconds;
}

// Appends the events of `from` to a fresh log at `to`, timing the appends only.
absl::StatusOr<double> TimeBareAppends(const std::filesystem::path& from,
                                       const std::filesystem::path& to) {
  SqliteEventLog::Options read_options;
  read_options.read_only = true;
  absl::StatusOr<std::unique_ptr<SqliteEventLog>> source =
      SqliteEventLog::Open(from.string(), read_options);
  if (!source.ok()) return source.status();
  RemoveLog(to);
  // The importer's durability: the default (FULL).
  absl::StatusOr<std::unique_ptr<SqliteEventLog>> target =
      SqliteEventLog::Open(to.string(), SqliteEventLog::Options{});
  if (!target.ok()) return target.status();
  const int64_t last = (*source)->LastSeq();
  std::vector<Event> batch;
  batch.reserve(kAppendBatch);
  Clock::duration appending{};
  for (int64_t first = 1; first <= last; first += static_cast<int64_t>(kAppendBatch)) {
    batch.clear();
    absl::Status read = (*source)->Read(
        first, std::min<int64_t>(last, first + static_cast<int64_t>(kAppendBatch) - 1),
        [&batch](const Event& event) {
          batch.push_back(event);
          return absl::OkStatus();
        });
    if (!read.ok()) return read;
    const auto start = Clock::now();
    if (absl::Status appended = (*target)->Append(batch); !appended.ok()) return appended;
    appending += Clock::now() - start;
  }
  target->reset();
  RemoveLog(to);
  return Seconds(appending);
}

// The synthetic export every run imports, written once.
struct ExportFile {
  std::filesystem::path path;
  SyntheticExportStats stats;
  double generate_s = 0;  // Making and writing it (not measured work).
  double file_mib = 0;
};

absl::StatusOr<ExportFile> WriteExport(const ImportBenchOptions& options) {
  ExportFile file;
  file.path =
      options.directory / absl::StrCat("users-", options.users, "-", options.entries, ".json");
  const auto generate_start = Clock::now();
  {
    const std::string text =
        MakeSyntheticExport(options.users, options.entries, kSeed, &file.stats);
    std::ofstream out(file.path, std::ios::binary);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", file.path.string()));
  }
  file.generate_s = Seconds(Clock::now() - generate_start);
  std::error_code ignored;
  file.file_mib =
      static_cast<double>(std::filesystem::file_size(file.path, ignored)) / kBytesPerMib;
  return file;
}

// One run's report: the import's time and stages, and the baselines.
Metrics ImportMetrics(const ExportFile& file, const ImportOutcome& outcome, double import_s,
                      double parse_only_s, double append_s) {
  const ImportTimings& t = outcome.timings;
  const double events = static_cast<double>(outcome.summary.events);
  const double entries = static_cast<double>(file.stats.entries);
  Metrics metrics;
  metrics.push_back({"import_s", "import time (read, parse, plan, write, verify)", import_s, "s"});
  metrics.push_back({"entries_per_s", "history entries imported/s", entries / import_s, ""});
  metrics.push_back({"read_s", "  read the file", t.read_s, "s"});
  metrics.push_back({"parse_s", "  parse and validate", t.parse_s, "s"});
  metrics.push_back({"plan_s", "  plan (pair, order, reconcile)", t.plan_s, "s"});
  metrics.push_back({"apply_s", "  write through the Ledger and verify", t.apply_s, "s"});
  metrics.push_back({"apply_events_per_s", "events/s through the Ledger", events / t.apply_s, ""});
  metrics.push_back({"parse_only_s", "baseline: parse only", parse_only_s, "s"});
  metrics.push_back(
      {"import_vs_parse", "import time / parse-only time", import_s / parse_only_s, "x"});
  metrics.push_back(
      {"append_events_per_s", "baseline: bare appends, events/s", events / append_s, ""});
  metrics.push_back({"ledger_vs_append", "Ledger events/s / bare append events/s",
                     (events / t.apply_s) / (events / append_s), "x"});
  metrics.push_back({"events", "events written", events, ""});
  metrics.push_back({"reconciliations", "reconciliation events",
                     static_cast<double>(outcome.summary.reconciliations.size()), ""});
  metrics.push_back({"entries", "history entries", entries, ""});
  metrics.push_back(
      {"pairs", "transfers with both halves", static_cast<double>(file.stats.pairs), ""});
  metrics.push_back({"file_mib", "export file size", file.file_mib, "MiB"});
  metrics.push_back({"generate_s", "export generation (not measured work)", file.generate_s, "s"});
  return metrics;
}

// Imports `file` into a fresh log, timed, then times the two baselines on
// the same data; the log is removed after.
absl::StatusOr<Metrics> MeasureImport(const ImportBenchOptions& options, const ExportFile& file) {
  const std::filesystem::path db = options.directory / "import.db";
  RemoveLog(db);
  ImportConfig config;
  config.db_path = db.string();
  config.users_path = file.path.string();
  const auto start = Clock::now();
  absl::StatusOr<ImportOutcome> outcome = ImportUsers(config);
  const double import_s = Seconds(Clock::now() - start);
  if (!outcome.ok()) return outcome.status();
  if (!outcome->input_errors.empty()) {
    return absl::InternalError(
        absl::StrCat("the import refused the synthetic export: ", outcome->input_errors.front()));
  }
  absl::StatusOr<double> parse_only_s = TimeParseOnly(config.users_path, file.stats.entries);
  if (!parse_only_s.ok()) return parse_only_s.status();
  absl::StatusOr<double> append_s = TimeBareAppends(db, options.directory / "appends.db");
  if (!append_s.ok()) return append_s.status();
  RemoveLog(db);
  return ImportMetrics(file, *outcome, import_s, *parse_only_s, *append_s);
}

}  // namespace

absl::StatusOr<std::vector<Metrics>> RunImportBench(const ImportBenchOptions& options) {
  if (options.users < 2 || options.entries < 1) {
    return absl::InvalidArgumentError("--users must be at least 2 and --entries at least 1");
  }
  std::filesystem::create_directories(options.directory);
  absl::StatusOr<ExportFile> file = WriteExport(options);
  if (!file.ok()) return file.status();
  std::vector<Metrics> runs;
  for (size_t run = 0; run < options.runs; ++run) {
    absl::StatusOr<Metrics> metrics = MeasureImport(options, *file);
    if (!metrics.ok()) return metrics.status();
    runs.push_back(*std::move(metrics));
  }
  std::error_code ignored;
  if (!options.keep_export) std::filesystem::remove(file->path, ignored);
  return runs;
}

}  // namespace sbd::bench
