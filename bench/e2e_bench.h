// The end-to-end benchmarks, against a real sbd-ledger server over
// 127.0.0.1 (server_under_test.h):
//  - `sbd-bench e2e`: C keep-alive HTTP senders and W WebSocket receivers
//    (one per user; every transfer goes between two of those users, so each
//    yields two WebSocket messages). Reports transfers/s, HTTP latency,
//    notification latency (HTTP answer -> WebSocket receipt) and every
//    message lost, duplicated or misdelivered, checked by seq against what
//    the HTTP answers said, the server's last seq against the answers, and
//    the server process's CPU per transfer. With --baseline, the same run
//    against the bare server (bare_server.h) too, and the ratios.
//  - `sbd-bench connections`: N idle WebSocket connections (one per user);
//    the server's RSS per connection (VmRSS before and after), then one mint
//    per user and the time until every connection has its message.
// All client sockets run on one io_context on the calling thread.
//
// Thread-safety: each function is called from one thread.
#ifndef SBD_BENCH_E2E_BENCH_H_
#define SBD_BENCH_E2E_BENCH_H_

#include <cstddef>
#include <optional>

#include "absl/status/statusor.h"
#include "bench/bench_report.h"
#include "bench/server_under_test.h"

namespace sbd::bench {

struct E2eBenchOptions {
  size_t clients = 16;     // HTTP senders, one keep-alive connection each.
  size_t websockets = 16;  // Users, each with one WebSocket receiver.
  double duration_s = 10;
  // Offered transfers/s over all senders (each paced at rate / clients);
  // 0: each sends its next request as soon as the last is answered.
  double rate = 0;
  ServerOptions server;
  // Where the WebSocket receivers connect, if not to `server`: another node
  // of a cluster (a target), so that the notification latency is the time
  // from the writer's answer to the follower's message (`sbd-bench cluster`).
  std::optional<ServerOptions> receivers_server;
};

absl::StatusOr<Metrics> RunE2eBench(const E2eBenchOptions& options);

// `sbd-bench e2e --baseline`: RunE2eBench against `bare` (the bare server,
// bare_server.h) and against options.server, one after the other in the
// order `bare_first` says; sbd-ledger's rows, then the bare server's
// ("bare_" names), then the ratios sbd-ledger / bare of transfers/s and of
// server CPU per transfer.
absl::StatusOr<Metrics> RunE2eBaselineBench(const E2eBenchOptions& options,
                                            const ServerOptions& bare, bool bare_first);

struct ConnectionsBenchOptions {
  size_t websockets = 1000;
  // Connections sending the setup requests and the mints.
  size_t senders = 16;
  // WebSocket handshakes in flight at once while connecting.
  size_t connect_concurrency = 256;
  ServerOptions server;
};

absl::StatusOr<Metrics> RunConnectionsBench(const ConnectionsBenchOptions& options);

}  // namespace sbd::bench

#endif  // SBD_BENCH_E2E_BENCH_H_
