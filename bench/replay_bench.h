// `sbd-bench replay`: builds a consistent log of N events (SyntheticLog,
// appended in batches through SqliteEventLog::Append), then times
//  - the real `sbd-replay --db` binary verifying it (hash chain, recorded
//    balances, invariants): the audit row;
//  - Ledger::Open on the same log (replay into a fresh projection, with
//    hash-chain checks): the startup row, and the RSS that projection costs.
//
// Thread-safety: RunReplayBench is called from one thread.
#ifndef SBD_BENCH_REPLAY_BENCH_H_
#define SBD_BENCH_REPLAY_BENCH_H_

#include <cstddef>
#include <filesystem>
#include <string>

#include "absl/status/statusor.h"
#include "bench/bench_report.h"

namespace sbd::bench {

struct ReplayBenchOptions {
  size_t events = 1'000'000;
  size_t accounts = 10'000;
  size_t runs = 1;
  std::string replay_binary;  // sbd-replay; empty skips that row.
  std::filesystem::path directory;
  // Keep the built log in `directory` (reused by a later run with the same
  // events and accounts) instead of deleting it.
  bool keep_log = false;
};

// Builds the log once, then measures `runs` times: one Metrics per run.
absl::StatusOr<std::vector<Metrics>> RunReplayBench(const ReplayBenchOptions& options);

}  // namespace sbd::bench

#endif  // SBD_BENCH_REPLAY_BENCH_H_
