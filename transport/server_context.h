// ServerContext: what every session of the server shares, wired by
// sbd-ledger's main and handed to the listener: the account feed the
// WebSocket sessions read (the server's ledger, or a gateway's stream), the
// notifier, the metrics and the token authority (required references: every
// session may use any of them, so none is ever null), the access log and
// the cluster view (optional), the options and the clock. ServerOptions: every limit an operator may
// set.
//
// Thread-safety: immutable once built; what it refers to is thread-safe
// (each says so) and outlives every session.
#ifndef SBD_TRANSPORT_SERVER_CONTEXT_H_
#define SBD_TRANSPORT_SERVER_CONTEXT_H_

#include <chrono>
#include <cstddef>
#include <functional>

#include "engine/cluster_view.h"
#include "engine/account_feed.h"
#include "transport/cors_policy.h"
#include "transport/limits.h"
#include "transport/metrics.h"
#include "transport/token_authority.h"

namespace sbd {

class AccessLog;
class Notifier;

// Every limit an operator may change with a flag of `sbd-ledger serve`.
struct ServerOptions {
  size_t connections_max = kConnectionsMax;
  size_t request_body_bytes_max = kRequestBodyBytesMax;
  size_t request_header_bytes_max = kRequestHeaderBytesMax;
  std::chrono::seconds keep_alive_idle_timeout = kKeepAliveIdleTimeout;
  std::chrono::seconds request_read_timeout = kRequestReadTimeout;
  size_t websocket_backlog_messages_max = kWebSocketBacklogMessagesMax;
  size_t websocket_backlog_bytes_max = kWebSocketBacklogBytesMax;
  std::chrono::seconds websocket_ping_interval = kWebSocketPingInterval;
  std::chrono::seconds websocket_close_timeout = kWebSocketCloseTimeout;
  double rate_limit_per_s = 0;  // Sends per second per user; 0 = off. Burst 2N.
  bool access_log = true;       // One line per request on stderr.
  // Access-log bytes buffered while stderr is not draining; past it lines
  // are dropped and counted (AccessLog).
  size_t access_log_buffer_bytes_max = kAccessLogBufferBytesMax;
  CorsPolicy cors;  // --cors-origins; off by default.
  // --open-accounts-on-first-use: a user token whose `sub` has no account
  // opens it (balance 0) before its first request is served, instead of 404.
  bool open_accounts_on_first_use = false;
};

// Built with designated initializers; the references have no default.
struct ServerContext {
  // Where WebSocket sessions take `connected` and their `since` replay
  // from, and the seq X-SBD-Seq reports.
  const AccountFeed& feed;
  Notifier& notifier;
  Metrics& metrics;
  const TokenAuthority& tokens;
  // Where the io threads' log lines go (requests, if options.access_log, and
  // accept errors) without waiting on stderr; null: nowhere (tests, which
  // have no stderr writer thread to spare).
  AccessLog* log = nullptr;
  ServerOptions options;
  // Cluster mode's role and writer (docs/CLUSTER.md); null on a single node.
  const ClusterView* cluster = nullptr;
  // Unix seconds; required (tests inject a fixed clock).
  std::function<int64_t()> now_s;
};

}  // namespace sbd

#endif  // SBD_TRANSPORT_SERVER_CONTEXT_H_
