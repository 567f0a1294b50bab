#include "bench/engine_bench.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <chrono>
#include <filesystem>
#include <latch>
#include <optional>
#include <random>
#include <semaphore>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bench/latency_recorder.h"
#include "bench/process_stats.h"
#include "bench/progress_line.h"
#include "bench/sqlite_baselines.h"
#include "bench/synthetic_log.h"
#include "engine/absl_compat.h"
#include "engine/ledger.h"
#include "engine/mutex.h"
#include "engine/subscriber.h"
#include "transport/messages.h"

namespace sbd::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Setup commands (opens, mints) in flight at once: enough to fill batches,
// well under the ledger's queue limit.
constexpr size_t kSetupInFlightMax = 16 * 1024;
constexpr int64_t kKib = 1024;
constexpr uint64_t kSeed = 20261126;

int64_t Nanoseconds(Clock::duration duration) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count();
}

double Seconds(Clock::duration duration) { return std::chrono::duration<double>(duration).count(); }

// The notifier stand-in: encodes both messages of every transfer, as the
// Notifier does once per event before posting them to sessions.
class EncodingSubscriber : public Subscriber {
 public:
  void OnEvents(absl::Span<const Event> events) override {
    for (const Event& event : events) {
      if (event.type != EventType::kTokensTransferred) continue;
      for (const std::string* account : {&event.from_account, &event.to_account}) {
        std::optional<std::string> message = EncodeNotification(event, *account);
        if (message.has_value()) {
          ++messages_;
          bytes_ += static_cast<int64_t>(message->size());
        }
      }
    }
  }
  // Read after the ledger stopped (its writer thread joined).
  int64_t messages() const { return messages_; }
  int64_t bytes() const { return bytes_; }

 private:
  int64_t messages_ = 0;
  int64_t bytes_ = 0;
};

// What on_commit saw while transfers were measured. Written on the writer
// thread; read after the ledger stopped.
struct CommitStats {
  std::atomic<bool> measuring{false};
  LatencyRecorder latency;
  std::vector<size_t> batch_sizes;
  int64_t failed = 0;
};

// Collects the first failure of any command, from any thread.
class Failures {
 public:
  void Add(const absl::Status& status) {
    MutexLock lock(mutex_);
    if (count_++ == 0) first_ = status;
  }
  absl::Status Result(std::string_view what) const {
    MutexLock lock(mutex_);
    if (count_ == 0) return absl::OkStatus();
    return absl::Status(first_.code(), absl::StrCat(count_, " ", ToAbsl(what),
                                                    " failed; first: ", first_.message()));
  }

 private:
  mutable Mutex mutex_;
  int64_t count_ ABSL_GUARDED_BY(mutex_) = 0;
  absl::Status first_ ABSL_GUARDED_BY(mutex_);
};

// Submits make_command(i) for i in [0, count), at most kSetupInFlightMax at
// once, and waits for every answer.
template <typename MakeCommand>
absl::Status SubmitAll(Ledger& ledger, size_t count, MakeCommand make_command,
                       std::string_view what) {
  std::counting_semaphore<> window(kSetupInFlightMax);
  std::latch done(static_cast<std::ptrdiff_t>(count));
  Failures failures;
  for (size_t i = 0; i < count; ++i) {
    window.acquire();
    ledger.Submit(make_command(i), [&](absl::StatusOr<CommandResult> result) {
      if (!result.ok()) failures.Add(result.status());
      window.release();
      done.count_down();
    });
  }
  done.wait();
  return failures.Result(what);
}

absl::Status OpenAndFund(Ledger& ledger, const std::vector<std::string>& names) {
  if (absl::Status status = SubmitAll(
          ledger, names.size(),
          [&](size_t i) -> Command {
            return OpenAccountCommand{"admin", names[i]};
          },
          "account opens");
      !status.ok()) {
    return status;
  }
  return SubmitAll(
      ledger, names.size(),
      [&](size_t i) -> Command {
        return MintCommand{"admin", names[i], AmountField::Integer(kStartingBalance), "", ""};
      },
      "mints");
}

// One client thread's share of the transfers.
struct ClientResult {
  std::vector<int64_t> ack_ns;  // Submit (or scheduled time) -> answer.
};

void RunClient(Ledger& ledger, const std::vector<std::string>& names, size_t thread_index,
               size_t count, size_t window_size, const EngineBenchOptions& options,
               Clock::time_point start, ProgressLine& progress, Failures& failures,
               ClientResult& result) {
  std::mt19937_64 random(kSeed + thread_index);
  std::counting_semaphore<> window(static_cast<std::ptrdiff_t>(window_size));
  result.ack_ns.assign(count, 0);
  const size_t accounts = names.size();
  const double threads = static_cast<double>(options.client_threads);
  for (size_t i = 0; i < count; ++i) {
    Clock::time_point scheduled;
    if (options.rate > 0) {
      // This thread's i-th slot of the global schedule, interleaved with the
      // other threads' so the offered load is smooth.
      const double at_s =
          (static_cast<double>(i) * threads + static_cast<double>(thread_index)) / options.rate;
      scheduled =
          start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(at_s));
      std::this_thread::sleep_until(scheduled);
      window.acquire();
    } else {
      window.acquire();
      scheduled = Clock::now();
    }
    const size_t from = random() % accounts;
    const size_t to = (from + 1 + random() % (accounts - 1)) % accounts;
    ledger.Submit(TransferCommand{names[from], names[to], AmountField::Integer(1), "", ""},
                  [&, i, scheduled](absl::StatusOr<CommandResult> answer) {
                    result.ack_ns[i] = Nanoseconds(Clock::now() - scheduled);
                    if (!answer.ok()) failures.Add(answer.status());
                    progress.Advance(1);
                    window.release();
                  });
  }
  // Every answer is in once the whole window is back.
  for (size_t i = 0; i < window_size; ++i) window.acquire();
}

void RemoveDatabase(const std::filesystem::path& path) {
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path.string() + suffix, ignored);
  }
}

// Opens a fresh log at `db_path` and a Ledger on it whose on_commit records
// each batch into `commits` while commits.measuring is set.
absl::StatusOr<std::unique_ptr<Ledger>> OpenMeasuredLedger(const std::filesystem::path& db_path,
                                                           const EngineBenchOptions& options,
                                                           CommitStats& commits) {
  SqliteEventLog::Options log_options;
  log_options.durability = options.durability;
  absl::StatusOr<std::unique_ptr<SqliteEventLog>> log =
      SqliteEventLog::Open(db_path.string(), log_options);
  if (!log.ok()) return log.status();

  commits.batch_sizes.reserve(options.transfers);
  commits.latency.Reserve(options.transfers);
  Ledger::Options ledger_options;
  ledger_options.batch_size_max = options.batch_size_max;
  ledger_options.accounts_expected = options.accounts;
  ledger_options.on_commit = [&commits](size_t batch_size, absl::Duration latency, bool ok) {
    if (!commits.measuring.load(std::memory_order_acquire)) return;
    if (!ok) ++commits.failed;
    commits.latency.Record(absl::ToInt64Nanoseconds(latency));
    commits.batch_sizes.push_back(batch_size);
  };
  if (!options.wrap_log) return Ledger::Open(*std::move(log), std::move(ledger_options));
  absl::StatusOr<std::unique_ptr<EventLog>> wrapped = options.wrap_log(*std::move(log));
  if (!wrapped.ok()) return wrapped.status();
  return Ledger::Open(*std::move(wrapped), std::move(ledger_options));
}

// The measured phase: options.transfers transfers split over
// options.client_threads client threads. Returns its wall time, from the
// first submit to the last answer.
Clock::duration RunClients(Ledger& ledger, const std::vector<std::string>& names,
                           const EngineBenchOptions& options, Failures& failures,
                           std::vector<ClientResult>& client_results) {
  client_results.resize(options.client_threads);
  const size_t window_size = options.in_flight_max / options.client_threads;
  ProgressLine progress("engine", "transfers", static_cast<int64_t>(options.transfers));
  std::vector<std::thread> clients;
  const Clock::time_point start = Clock::now();
  for (size_t t = 0; t < options.client_threads; ++t) {
    const size_t count = options.transfers / options.client_threads +
                         (t < options.transfers % options.client_threads ? 1 : 0);
    clients.emplace_back([&, t, count] {
      RunClient(ledger, names, t, count, window_size, options, start, progress, failures,
                client_results[t]);
    });
  }
  for (std::thread& client : clients) client.join();
  return Clock::now() - start;
}

// What the run measured besides the commits and the answers.
struct RunFigures {
  double elapsed_s = 0;
  double setup_s = 0;
  int64_t rss_kib = 0;
  int64_t peak_rss_kib = 0;
  int64_t messages = 0;
};

Metrics EngineMetrics(const EngineBenchOptions& options, CommitStats& commits,
                      const std::vector<ClientResult>& client_results, const RunFigures& run) {
  const double transfers_per_s = static_cast<double>(options.transfers) / run.elapsed_s;
  LatencyRecorder acks;
  acks.Reserve(options.transfers);
  for (const ClientResult& client : client_results) {
    for (int64_t ns : client.ack_ns) acks.Record(ns);
  }
  std::vector<double> batch_sizes(commits.batch_sizes.begin(), commits.batch_sizes.end());
  double batch_mean = 0;
  for (double size : batch_sizes) batch_mean += size;
  if (!batch_sizes.empty()) batch_mean /= static_cast<double>(batch_sizes.size());
  const double batch_max =
      batch_sizes.empty() ? 0 : *std::max_element(batch_sizes.begin(), batch_sizes.end());

  Metrics metrics = {
      {"transfers_per_s", "engine transfers/s", transfers_per_s, ""},
      {"elapsed_s", "engine elapsed", run.elapsed_s, "s"},
      {"commit_p50_ms", "commit latency p50", commits.latency.PercentileMs(50), "ms"},
      {"commit_p99_ms", "commit latency p99", commits.latency.PercentileMs(99), "ms"},
      {"commit_p999_ms", "commit latency p99.9", commits.latency.PercentileMs(99.9), "ms"},
      {"commit_max_ms", "commit latency max", commits.latency.MaxMs(), "ms"},
      {"ack_p50_ms", "submit->answer p50", acks.PercentileMs(50), "ms"},
      {"ack_p99_ms", "submit->answer p99", acks.PercentileMs(99), "ms"},
      {"ack_p999_ms", "submit->answer p99.9", acks.PercentileMs(99.9), "ms"},
      {"batches", "batches committed", static_cast<double>(batch_sizes.size()), ""},
      {"batch_mean", "batch size mean", batch_mean, ""},
      {"batch_p50", "batch size p50", Median(batch_sizes), ""},
      {"batch_max", "batch size max", batch_max, ""},
      {"messages_per_transfer", "messages encoded per transfer",
       static_cast<double>(run.messages) / static_cast<double>(options.transfers), ""},
      {"rss_mib", "RSS after transfers", static_cast<double>(run.rss_kib) / kKib, "MiB"},
      {"peak_rss_mib", "peak RSS so far", static_cast<double>(run.peak_rss_kib) / kKib, "MiB"},
      {"setup_s", "setup (open + mint accounts)", run.setup_s, "s"},
  };
  if (options.rate > 0) {
    metrics.push_back({"offered_per_s", "offered transfers/s", options.rate, ""});
  }
  return metrics;
}

// The raw-SQLite baselines over the very rows the engine wrote after
// `setup_last_seq`: (a) one bulk transaction, (b) one transaction per row.
// Closes `ledger` first (the baselines write files of their own).
absl::Status AddBaselines(const EngineBenchOptions& options, std::unique_ptr<Ledger>& ledger,
                          int64_t setup_last_seq, double transfers_per_s, Metrics& metrics) {
  std::vector<Event> rows;
  rows.reserve(options.transfers);
  if (absl::Status status = ledger->log().Read(setup_last_seq + 1, ledger->LastSeq(),
                                               [&rows](const Event& event) {
                                                 rows.push_back(event);
                                                 return absl::OkStatus();
                                               });
      !status.ok()) {
    return status;
  }
  ledger.reset();
  const std::filesystem::path bulk_path = options.directory / "baseline-bulk.db";
  absl::StatusOr<double> bulk =
      BulkInsertRowsPerSecond(bulk_path.string(), rows, options.durability);
  RemoveDatabase(bulk_path);
  if (!bulk.ok()) return bulk.status();
  const std::filesystem::path naive_path = options.directory / "baseline-naive.db";
  absl::StatusOr<double> naive =
      RowPerTransactionRowsPerSecond(naive_path.string(), rows, options.naive_rows);
  RemoveDatabase(naive_path);
  if (!naive.ok()) return naive.status();
  metrics.push_back({"bulk_rows_per_s", "(a) one-transaction bulk insert rows/s", *bulk, ""});
  metrics.push_back({"naive_rows_per_s", "(b) transaction per transfer rows/s (FULL)", *naive, ""});
  metrics.push_back({"ratio_vs_bulk", "engine / (a)", transfers_per_s / *bulk, "x"});
  metrics.push_back({"ratio_vs_naive", "engine / (b)", transfers_per_s / *naive, "x"});
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Metrics> RunEngineBench(const EngineBenchOptions& options) {
  if (options.accounts < 2) return absl::InvalidArgumentError("--accounts must be at least 2");
  if (options.transfers == 0) return absl::InvalidArgumentError("--transfers must be positive");
  if (options.client_threads == 0 || options.in_flight_max < options.client_threads) {
    return absl::InvalidArgumentError("--in-flight must be at least --threads, which must be > 0");
  }
  assert(!(options.baselines && options.wrap_log) && "the baselines read the SQLite log");
  std::filesystem::create_directories(options.directory);
  const std::filesystem::path db_path = options.directory / "engine.db";
  RemoveDatabase(db_path);

  CommitStats commits;
  absl::StatusOr<std::unique_ptr<Ledger>> ledger = OpenMeasuredLedger(db_path, options, commits);
  if (!ledger.ok()) return ledger.status();

  std::vector<std::string> names;
  names.reserve(options.accounts);
  for (size_t i = 0; i < options.accounts; ++i) names.push_back(AccountName(i));
  RunFigures run;
  const auto setup_start = Clock::now();
  if (absl::Status status = OpenAndFund(**ledger, names); !status.ok()) return status;
  run.setup_s = Seconds(Clock::now() - setup_start);
  const int64_t setup_last_seq = (*ledger)->LastSeq();

  EncodingSubscriber notifier;
  (*ledger)->AddSubscriber(&notifier);
  commits.measuring.store(true, std::memory_order_release);

  Failures failures;
  std::vector<ClientResult> client_results;
  run.elapsed_s = Seconds(RunClients(**ledger, names, options, failures, client_results));
  (*ledger)->Stop();
  commits.measuring.store(false, std::memory_order_release);
  run.rss_kib = CurrentRssKib(getpid());
  run.peak_rss_kib = PeakRssKib();
  if (absl::Status status = failures.Result("transfers"); !status.ok()) return status;
  run.messages = notifier.messages();

  Metrics metrics = EngineMetrics(options, commits, client_results, run);
  if (options.baselines) {
    const double transfers_per_s = static_cast<double>(options.transfers) / run.elapsed_s;
    if (absl::Status status =
            AddBaselines(options, *ledger, setup_last_seq, transfers_per_s, metrics);
        !status.ok()) {
      return status;
    }
  }
  ledger->reset();
  RemoveDatabase(db_path);
  return metrics;
}

}  // namespace sbd::bench
