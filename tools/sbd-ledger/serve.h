// The two commands of the sbd-ledger binary, behind main's flag parsing:
// `serve` (open the log and the ledger, wire the notifier, serve HTTP and
// WebSocket until SIGINT/SIGTERM, shut down cleanly) and `token` (print a
// signed JWT).
//
// Thread-safety: each runs on the calling (main) thread and returns the
// process exit code.
#ifndef SBD_TOOLS_SBD_LEDGER_SERVE_H_
#define SBD_TOOLS_SBD_LEDGER_SERVE_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "tools/sbd-ledger/cluster_mode.h"
#include "tools/sbd-ledger/serving.h"
#include "transport/server_context.h"

namespace sbd {

struct ServeConfig {
  std::string db_path = "./data/ledger.db";
  bool durability_full = true;  // --durability full|normal.
  bool demo = false;
  ServingConfig serving;   // --listen, the token rules, the limits.
  ClusterConfig cluster;   // --cluster ...; no URLs: a single node.
};

// `sbd-ledger serve`. Prints "listening on HOST:PORT" once serving.
int RunServe(const ServeConfig& config);

// `sbd-ledger token`: prints a token for `user` with `role`, valid for ttl_s
// seconds.
int RunToken(const std::string& secret_file, const std::string& user, Role role, int64_t ttl_s);

}  // namespace sbd

#endif  // SBD_TOOLS_SBD_LEDGER_SERVE_H_
