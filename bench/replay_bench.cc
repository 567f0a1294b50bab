#include "bench/replay_bench.h"

#include <malloc.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/child_process.h"
#include "bench/process_stats.h"
#include "bench/progress_line.h"
#include "bench/synthetic_log.h"
#include "engine/ledger.h"
#include "engine/limits.h"
#include "store/sqlite_event_log.h"

namespace sbd::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Events per Append while building: the ledger's own batch bound.
constexpr size_t kBuildBatchSize = kBatchSizeMax;
constexpr uint64_t kSeed = 20261127;
constexpr double kBytesPerMib = 1024.0 * 1024.0;
constexpr double kKibPerMib = 1024.0;
// sbd-replay on 10M events takes seconds; an hour means something hangs.
constexpr std::chrono::minutes kReplayTimeout{60};

double Seconds(Clock::duration duration) { return std::chrono::duration<double>(duration).count(); }

// Bytes malloc has handed out: small chunks from the arenas plus the large
// blocks it mmaps separately (a big hash table's slot array is one).
int64_t HeapInUseBytes() {
  const struct mallinfo2 info = mallinfo2();
  return static_cast<int64_t>(info.uordblks + info.hblkhd);
}

// Appends events until the log holds `events` (resuming a kept log).
absl::Status BuildLog(const std::string& path, const ReplayBenchOptions& options) {
  SqliteEventLog::Options log_options;
  // Building is setup, not measured: a power cut may lose it.
  log_options.durability = Durability::kNormal;
  absl::StatusOr<std::unique_ptr<SqliteEventLog>> log = SqliteEventLog::Open(path, log_options);
  if (!log.ok()) return log.status();
  const int64_t target = static_cast<int64_t>(options.events);
  if ((*log)->LastSeq() == target) return absl::OkStatus();
  if ((*log)->LastSeq() != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " holds ", (*log)->LastSeq(), " events, not ", target, ": delete it"));
  }
  SyntheticLog generator(options.accounts, kSeed);
  ProgressLine progress("building the log", "events", target);
  std::vector<Event> batch;
  while (generator.last_seq() < target) {
    const size_t count =
        std::min<size_t>(kBuildBatchSize, static_cast<size_t>(target - generator.last_seq()));
    generator.NextBatch(count, batch);
    if (absl::Status status = (*log)->Append(batch); !status.ok()) return status;
    progress.Set(generator.last_seq());
  }
  return absl::OkStatus();
}

absl::StatusOr<double> TimeReplayBinary(const std::string& binary, const std::string& db_path,
                                        const std::filesystem::path& directory) {
  ChildProcess::Options child;
  child.argv = {binary, "--db", db_path};
  child.stdout_path = (directory / "sbd-replay.out").string();
  const auto start = Clock::now();
  absl::StatusOr<std::unique_ptr<ChildProcess>> process = ChildProcess::Start(child);
  if (!process.ok()) return process.status();
  absl::StatusOr<int> code = (*process)->Wait(kReplayTimeout);
  const double seconds = Seconds(Clock::now() - start);
  if (!code.ok()) return code.status();
  if (*code != 0) {
    return absl::InternalError(absl::StrCat(binary, " --db ", db_path, " exited with ", *code,
                                            " (its output: ", child.stdout_path, ")"));
  }
  return seconds;
}

struct OpenMeasure {
  double seconds = 0;
  int64_t rss_growth_kib = 0;
  int64_t heap_growth_bytes = 0;
};

absl::StatusOr<OpenMeasure> TimeLedgerOpen(const std::string& db_path, size_t accounts) {
  // Given back what earlier runs freed, so each run's growth is its own.
  malloc_trim(0);
  const int64_t rss_before = CurrentRssKib(getpid());
  const int64_t heap_before = HeapInUseBytes();
  const auto start = Clock::now();
  SqliteEventLog::Options log_options;
  absl::StatusOr<std::unique_ptr<SqliteEventLog>> log = SqliteEventLog::Open(db_path, log_options);
  if (!log.ok()) return log.status();
  Ledger::Options ledger_options;
  // As the server would be configured for this many accounts.
  ledger_options.accounts_expected = accounts;
  absl::StatusOr<std::unique_ptr<Ledger>> ledger =
      Ledger::Open(*std::move(log), std::move(ledger_options));
  if (!ledger.ok()) return ledger.status();
  OpenMeasure measure;
  measure.seconds = Seconds(Clock::now() - start);
  measure.rss_growth_kib = CurrentRssKib(getpid()) - rss_before;
  measure.heap_growth_bytes = HeapInUseBytes() - heap_before;
  return measure;
}

}  // namespace

absl::StatusOr<std::vector<Metrics>> RunReplayBench(const ReplayBenchOptions& options) {
  if (options.accounts < 2 || options.events < 2 * options.accounts) {
    return absl::InvalidArgumentError(
        "--events must cover opening and minting every account (2 x --accounts), and "
        "--accounts must be at least 2");
  }
  std::filesystem::create_directories(options.directory);
  const std::filesystem::path db_path =
      options.directory / absl::StrCat("replay-", options.events, "-", options.accounts, ".db");
  const auto build_start = Clock::now();
  if (absl::Status status = BuildLog(db_path.string(), options); !status.ok()) return status;
  const double build_s = Seconds(Clock::now() - build_start);
  const double events = static_cast<double>(options.events);
  std::error_code ignored;
  const double file_mib =
      static_cast<double>(std::filesystem::file_size(db_path, ignored)) / kBytesPerMib;

  std::vector<Metrics> runs;
  for (size_t run = 0; run < options.runs; ++run) {
    Metrics metrics;
    if (!options.replay_binary.empty()) {
      absl::StatusOr<double> replay_s =
          TimeReplayBinary(options.replay_binary, db_path.string(), options.directory);
      if (!replay_s.ok()) return replay_s.status();
      metrics.push_back(
          {"replay_events_per_s", "sbd-replay verification events/s", events / *replay_s, ""});
      metrics.push_back({"replay_s", "sbd-replay verification time", *replay_s, "s"});
    }
    absl::StatusOr<OpenMeasure> open = TimeLedgerOpen(db_path.string(), options.accounts);
    if (!open.ok()) return open.status();
    metrics.push_back({"open_s", "Ledger::Open (startup) time", open->seconds, "s"});
    metrics.push_back({"open_events_per_s", "Ledger::Open events/s", events / open->seconds, ""});
    metrics.push_back({"projection_rss_mib", "RSS growth of Ledger::Open",
                       static_cast<double>(open->rss_growth_kib) / kKibPerMib, "MiB"});
    metrics.push_back({"projection_heap_mib", "heap growth of Ledger::Open",
                       static_cast<double>(open->heap_growth_bytes) / kBytesPerMib, "MiB"});
    metrics.push_back({"build_s", "log build time (not measured work)", build_s, "s"});
    metrics.push_back({"file_mib", "log file size", file_mib, "MiB"});
    runs.push_back(std::move(metrics));
  }
  if (!options.keep_log) {
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(db_path.string() + suffix, ignored);
    }
  }
  return runs;
}

}  // namespace sbd::bench
