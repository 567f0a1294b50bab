// `sbd-bench engine`: the Ledger in-process on a real SQLite file, driven by
// client threads with a bounded in-flight window, with a notifier stand-in
// that encodes both WebSocket messages of every transfer; then the two
// SQLite baselines (sqlite_baselines.h) on the rows the engine committed.
//
// Thread-safety: RunEngineBench is called from one thread; it starts and
// joins its own.
#ifndef SBD_BENCH_ENGINE_BENCH_H_
#define SBD_BENCH_ENGINE_BENCH_H_

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "bench/bench_report.h"
#include "engine/limits.h"
#include "store/sqlite_event_log.h"

namespace sbd::bench {

struct EngineBenchOptions {
  size_t accounts = 10'000;
  size_t transfers = 1'000'000;
  size_t batch_size_max = kBatchSizeMax;
  Durability durability = Durability::kFull;
  // Offered transfers per second, spread over the client threads (open
  // loop, latency counted from each transfer's scheduled time); 0 submits as
  // fast as the window allows (closed loop).
  double rate = 0;
  size_t client_threads = 4;
  // Transfers submitted but not yet answered, over all client threads.
  // Twice a full batch: the writer can commit one while the next fills.
  size_t in_flight_max = 2 * kBatchSizeMax;
  // Rows of baseline (b); one fsync each makes the full set take minutes.
  size_t naive_rows = 20'000;
  bool baselines = true;
  // Where the databases go (created; emptied of this run's files after).
  std::filesystem::path directory;
  // The log the Ledger runs on, made from the fresh SQLite log: unset, the
  // SQLite log itself; `sbd-bench cluster` wraps it in a replicated one.
  // The SQLite baselines need the SQLite log: unset `baselines` with it.
  std::function<absl::StatusOr<std::unique_ptr<EventLog>>(std::unique_ptr<SqliteEventLog>)>
      wrap_log;
};

// One run: the metrics in report order. Fails if any transfer failed.
absl::StatusOr<Metrics> RunEngineBench(const EngineBenchOptions& options);

}  // namespace sbd::bench

#endif  // SBD_BENCH_ENGINE_BENCH_H_
