// `sbd-ledger gateway` (docs/CLUSTER.md "Gateways"): a cluster gateway. No
// log, no ledger: it follows the cluster's committed stream (GatewayFeed),
// fans every event out to its WebSocket connections with the server's own
// Notifier and sessions, and serves /ws, /healthz and /metrics
// (GatewayRoutes) until SIGINT/SIGTERM.
//
// Thread-safety: runs on the calling (main) thread and returns the process
// exit code.
#ifndef SBD_TOOLS_SBD_LEDGER_GATEWAY_H_
#define SBD_TOOLS_SBD_LEDGER_GATEWAY_H_

#include <cstddef>
#include <string>
#include <vector>

#include "tools/sbd-ledger/serving.h"

namespace sbd {

struct GatewayConfig {
  std::vector<std::string> cluster_urls;  // --cluster, split at commas.
  std::string node_id;                    // --node-id.
  // --window-events and --window-bytes: the recent events held in memory
  // (a `since` they cover is served without asking a node). 100000 events
  // are about a minute at the cluster's rated write rate; their bytes,
  // counted as EventWindow estimates them, stay well under the default
  // byte bound.
  size_t window_events = 100000;
  size_t window_bytes = size_t{256} << 20;
  ServingConfig serving;  // --listen, the token rules, the limits.
};

// Prints "listening on HOST:PORT" once serving.
int RunGateway(const GatewayConfig& config);

}  // namespace sbd

#endif  // SBD_TOOLS_SBD_LEDGER_GATEWAY_H_
