// What the two serving commands of sbd-ledger share (`serve`, a node, and
// `gateway`, docs/CLUSTER.md "Gateways"): the HTTP and WebSocket front's
// configuration, the signing secret and the token rules it checks, and
// starting the HttpServer. Each command adds what is its own (a node its
// log and ledger, a gateway its stream feed).
//
// Thread-safety: called on the main thread, at start-up.
#ifndef SBD_TOOLS_SBD_LEDGER_SERVING_H_
#define SBD_TOOLS_SBD_LEDGER_SERVING_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "transport/access_log.h"
#include "transport/http_server.h"
#include "transport/notifier.h"
#include "transport/request_handler.h"
#include "transport/revocation_watcher.h"
#include "transport/revoked_tokens.h"
#include "transport/server_context.h"
#include "transport/token_authority.h"

namespace sbd {

// After SIGTERM, how long answers in flight and WebSocket close handshakes
// may take before the io threads are stopped regardless.
inline constexpr std::chrono::seconds kShutdownGrace{5};

struct ServingConfig {
  std::string listen = "127.0.0.1:8080";  // HOST:PORT; port 0 = ephemeral.
  size_t threads = 0;                     // 0: one per core.
  std::string secret_file;                // Empty: SBD_JWT_SECRET.
  bool permanent_tokens = false;          // --permanent-tokens.
  std::string revoked_tokens_path;        // --revoked-tokens; empty: none.
  ServerOptions server;                   // Limits and the access log.
};

// The signing secret: --secret-file's contents (one trailing newline
// stripped) if given, else $SBD_JWT_SECRET. kNotFound if neither is set,
// kInvalidArgument if empty.
absl::StatusOr<std::string> LoadSecret(const std::string& secret_file);

int64_t NowSeconds();

// Whether config.listen is "HOST:PORT" or "[V6]:PORT"; if not, says so on
// stderr after `command`.
bool ListenIsHostPort(std::string_view command, const ServingConfig& config);

// The tokens a server accepts: signed with the secret, under the
// --permanent-tokens and --revoked-tokens rules; with a revoked list, the
// watcher that re-reads it (on SIGHUP and when it changes) and then has
// every open WebSocket re-check its token.
class AcceptedTokens {
 public:
  // Null (the reason printed, after `command`) if --revoked-tokens cannot
  // be read. `access_log` and `notifier` must outlive the rules.
  static std::unique_ptr<AcceptedTokens> Open(std::string_view command, const std::string& secret,
                                          const ServingConfig& config, AccessLog& access_log,
                                          Notifier& notifier);

  const TokenAuthority& authority() const { return authority_; }
  // Null without --revoked-tokens.
  RevocationWatcher* watcher() { return watcher_ ? &*watcher_ : nullptr; }
  // Stops the watcher (it calls into the notifier); before the notifier goes.
  void StopWatching() { watcher_.reset(); }

 private:
  AcceptedTokens(const std::string& secret, const ServingConfig& config,
             std::unique_ptr<RevokedTokens> revoked)
      : revoked_(std::move(revoked)),
        authority_(secret, {.permanent_tokens = config.permanent_tokens, .revoked = revoked_.get()}) {}

  std::unique_ptr<RevokedTokens> revoked_;
  TokenAuthority authority_;
  std::optional<RevocationWatcher> watcher_;
};

// Creates the server on config.listen (ListenIsHostPort: the command
// checked it first) with `handler` and starts its
// listener and io threads (SIGHUP reloads the revoked tokens when `tokens`
// has a watcher). Null (the reason printed, after `command`) if it cannot
// listen.
std::unique_ptr<HttpServer> StartServer(std::string_view command, const ServerContext& context,
                                        std::unique_ptr<RequestHandler> handler,
                                        const ServingConfig& config, AcceptedTokens& tokens);

}  // namespace sbd

#endif  // SBD_TOOLS_SBD_LEDGER_SERVING_H_
