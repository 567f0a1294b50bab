// `sbd-bench cluster`: what cluster mode costs, against the single node in
// the same run (docs/BENCHMARKS.md). It starts three nats-servers with
// JetStream clustered on 127.0.0.1 (tests/support/nats_cluster.h) and
// measures, each run:
//
// - the engine (`sbd-bench engine`'s workload, in-process) on the plain
//   SQLite log and on the replicated log (every batch published to the R3
//   stream and acknowledged by its quorum before the SQLite commit), one
//   after the other: transfers/s of each, their ratio, and the commit
//   latency p50/p99 of each (the difference is what replication adds);
// - failover: three `sbd-ledger serve --cluster` nodes; kill -9 of the
//   writer, then the time until a survivor answers a write with 200, over
//   several kills (the killed node restarts as a follower in between);
// - end to end (`sbd-bench e2e`'s workload) on a single node, then on the
//   three nodes through the writer and through a follower (whose writes are
//   forwarded and whose WebSocket messages come from its own apply: the
//   notification latency there includes the replication lag).
//
// Thread-safety: RunClusterBench is called from one thread.
#ifndef SBD_BENCH_CLUSTER_BENCH_H_
#define SBD_BENCH_CLUSTER_BENCH_H_

#include <cstddef>
#include <filesystem>
#include <string>

#include "absl/status/statusor.h"
#include "bench/bench_report.h"

namespace sbd::bench {

struct ClusterBenchOptions {
  size_t accounts = 10'000;
  size_t transfers = 200'000;
  // Kills of the writer whose failover is timed; 0 skips that part.
  size_t failovers = 3;
  // The writer lease of the nodes (`serve --lease-ms`).
  int64_t lease_ms = 2000;
  // The end-to-end part: its senders, receivers and seconds; 0 s skips it.
  size_t clients = 64;
  size_t websockets = 64;
  double e2e_duration_s = 5;
  std::string ledger_binary;
  std::filesystem::path directory;
};

absl::StatusOr<Metrics> RunClusterBench(const ClusterBenchOptions& options);

}  // namespace sbd::bench

#endif  // SBD_BENCH_CLUSTER_BENCH_H_
