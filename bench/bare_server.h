// The bare server: the ceiling `sbd-bench e2e --baseline` measures
// sbd-ledger against in the same run (docs/BENCHMARKS.md "End to end").
//
// A minimal Boost.Beast server written the way Beast's own examples are
// (one session per connection, one async_write at a time from a queue per
// WebSocket) that does the per-transfer work of the protocol and nothing
// else: it reads the same requests, verifies the same JWTs with the same
// TokenAuthority, parses the same send body with the same parser, answers a
// body of the same shape and size (the project's own encoders, fed a
// made-up event) and sends the same two WebSocket frames to the sender's and
// the receiver's connections. It keeps no ledger: no log, no balances, no
// fsync, no idempotency, no limits; every send "succeeds" with the next seq.
// What sbd-ledger spends beyond it is the ledger and everything around it.
//
// Routes (what the benchmarks send): POST /admin/accounts, POST /admin/mint
// (admin token), POST /sbd_tokens/send, GET /healthz, GET /ws?token=.
// Anything else is 404. Not a server for anything but the benchmark.
//
// Thread-safety: RunBareServer runs on the calling thread plus its pool.
#ifndef SBD_BENCH_BARE_SERVER_H_
#define SBD_BENCH_BARE_SERVER_H_

#include <cstddef>
#include <string>

namespace sbd::bench {

struct BareServerOptions {
  std::string listen = "127.0.0.1:0";  // HOST:PORT; port 0 picks a free one.
  size_t threads = 0;                  // I/O threads; 0: one per core, like serve.
  std::string secret;                  // The JWT secret (SBD_JWT_SECRET).
};

// Listens, prints "listening on HOST:PORT" on stdout (as `sbd-ledger serve`
// does, so ServerUnderTest starts either), serves until SIGTERM or SIGINT.
// Returns the process exit code.
int RunBareServer(const BareServerOptions& options);

}  // namespace sbd::bench

#endif  // SBD_BENCH_BARE_SERVER_H_
