#include "tools/sbd-ledger/gateway.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "store/cluster/gateway_feed.h"
#include "store/cluster/jetstream.h"
#include "transport/access_log.h"
#include "transport/gateway_routes.h"
#include "transport/http_server.h"
#include "transport/metrics.h"
#include "transport/notifier.h"

namespace sbd {
namespace {

constexpr std::string_view kCommand = "sbd-ledger gateway";

std::string Message(const absl::Status& status) { return std::string(status.message()); }

}  // namespace

int RunGateway(const GatewayConfig& config) {
  if (!ListenIsHostPort(kCommand, config.serving)) return 2;
  absl::StatusOr<std::string> secret = LoadSecret(config.serving.secret_file);
  if (!secret.ok()) {
    std::fprintf(stderr, "sbd-ledger gateway: %s (refusing to start without a signing secret)\n",
                 Message(secret.status()).c_str());
    return 2;
  }
  absl::StatusOr<std::unique_ptr<JetStream>> jetstream =
      JetStream::Connect(config.cluster_urls, absl::StrCat("sbd-ledger gateway ", config.node_id));
  if (!jetstream.ok()) {
    std::fprintf(stderr, "sbd-ledger gateway: --cluster: %s\n", Message(jetstream.status()).c_str());
    return 1;
  }
  Metrics metrics;
  // Every line for stderr goes through the AccessLog, never blocking an io
  // thread (as a node's); declared first, so it outlives everything below.
  AccessLog access_log({.fd = STDERR_FILENO,
                        .buffer_bytes_max = config.serving.server.access_log_buffer_bytes_max,
                        .metrics = &metrics});
  Notifier notifier(metrics);
  // A gateway that lost its place in the stream (a gap it would fan out)
  // stops as SIGTERM would, and exits with 1.
  std::atomic<bool> failed{false};
  GatewayFeed feed(**jetstream, notifier,
                   {.node_id = config.node_id,
                    .layout = ClusterLayout{},
                    .window = {.events_max = config.window_events,
                               .bytes_max = config.window_bytes},
                    .queries = NodeQueryClient::Options{},
                    .on_fatal = [&failed, &access_log](const absl::Status& status) {
                      access_log.Append(absl::StrCat("sbd-ledger gateway: stream: ",
                                                     Message(status), "; stopping"));
                      failed = true;
                      std::raise(SIGTERM);
                    }});
  if (absl::Status started = feed.Start(); !started.ok()) {
    std::fprintf(stderr, "sbd-ledger gateway: --cluster: %s\n", Message(started).c_str());
    return 1;
  }
  std::unique_ptr<AcceptedTokens> tokens =
      AcceptedTokens::Open(kCommand, *secret, config.serving, access_log, notifier);
  if (tokens == nullptr) return 2;
  const ServerContext context{.feed = feed,
                              .notifier = notifier,
                              .metrics = metrics,
                              .tokens = tokens->authority(),
                              .log = &access_log,
                              .options = config.serving.server,
                              .cluster = nullptr,
                              .now_s = NowSeconds};
  std::unique_ptr<HttpServer> server = StartServer(
      kCommand, context, std::make_unique<GatewayRoutes>(context, feed), config.serving, *tokens);
  if (server == nullptr) return 1;
  std::printf("listening on %s\n", server->address().c_str());
  std::fflush(stdout);

  const int signal = server->WaitForSignal();
  access_log.Append(absl::StrCat("sbd-ledger gateway: signal ", signal, ", shutting down"));
  server->StopAccepting();
  notifier.CloseAll();  // WebSockets close with 1001.
  server->CloseConnections();
  server->Join(kShutdownGrace);
  // Every answer still owed to a session is given (unavailable) while the
  // server's executors exist, and the notifier is not called after this.
  feed.Stop();
  server.reset();
  tokens->StopWatching();  // Before the notifier it calls into.
  access_log.Append("sbd-ledger gateway: stopped");
  return failed ? 1 : 0;  // ~AccessLog flushes, for a bounded time.
}

}  // namespace sbd
