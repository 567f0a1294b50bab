// `sbd-bench gateway`: what a gateway (`sbd-ledger gateway`, docs/CLUSTER.md
// "Gateways") costs per connection and how fast it delivers, each against a
// node measured the same way in the same run (docs/BENCHMARKS.md). Each run
// starts three nats-servers with JetStream clustered on 127.0.0.1
// (tests/support/nats_cluster.h), three `sbd-ledger serve --cluster` nodes
// and two gateways as child processes (all inheriting sbd-bench's open-file
// limit, raised to its hard maximum), opens `connections` accounts on the
// writer, then measures:
//
// - idle connections: gateway 0's VmRSS before and after `connections`
//   idle WebSockets (one per account, each open once it has its `connected`
//   message), (after - before) / connections in bytes; then the same on a
//   follower node (`serve`), and the ratio gateway / node;
// - fan-out: `connections` WebSockets over the two gateways (every other
//   connection on each), belonging to `fanout_accounts` accounts (each with
//   connections / fanout_accounts of them, half on either gateway); one
//   mint of 1 token per account, so that every connection gets exactly one
//   message. The time from the first mint's 200 to the last connection's
//   message; every connection must get exactly one message, its account's
//   `sbd_tokens_credited` with its mint's seq, or the run fails;
// - delivery latency: `sbd-bench e2e`'s workload paced at `rate` through
//   the writer, its receivers on gateway 0 (the writer's answer -> the
//   gateway's message), then the same with the receivers on the writer
//   itself (the node's own WebSocket): p50/p99 of both and how they compare.
//   A message lost, duplicated or misdelivered fails the run.
//
// Thread-safety: RunGatewayBench is called from one thread.
#ifndef SBD_BENCH_GATEWAY_BENCH_H_
#define SBD_BENCH_GATEWAY_BENCH_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "absl/status/statusor.h"
#include "bench/bench_report.h"

namespace sbd::bench {

struct GatewayBenchOptions {
  // Idle connections on one gateway (and on the node), and the fan-out's
  // connections over both gateways; also the accounts opened.
  size_t connections = 10'000;
  // The accounts the fan-out's connections belong to (one mint each).
  size_t fanout_accounts = 1'000;
  // WebSocket handshakes in flight at once while connecting.
  size_t connect_concurrency = 256;
  // HTTP connections sending the account openings and the mints.
  size_t senders = 16;
  // The latency part: offered transfers/s, seconds (0 skips it), senders
  // and WebSocket users (one receiver each).
  double rate = 10'000;
  double duration_s = 5;
  size_t clients = 64;
  size_t websockets = 64;
  int64_t lease_ms = 2000;  // The nodes' writer lease (`serve --lease-ms`).
  std::string ledger_binary;
  std::filesystem::path directory;
};

absl::StatusOr<Metrics> RunGatewayBench(const GatewayBenchOptions& options);

}  // namespace sbd::bench

#endif  // SBD_BENCH_GATEWAY_BENCH_H_
