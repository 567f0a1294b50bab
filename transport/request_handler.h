// RequestHandler: what an HTTP session asks what a request means. The
// server's Routes (every endpoint of API.md) is one; a cluster gateway's
// GatewayRoutes (GET /ws, /healthz, /metrics; docs/CLUSTER.md "Gateways")
// is the other. The session owns the connection (reading, limits,
// keep-alive, writing, the WebSocket upgrade); the handler owns the answers.
//
// Thread-safety: one handler serves every session; Handle and
// AuthorizeWebSocket may be called from any io thread concurrently.
#ifndef SBD_TRANSPORT_REQUEST_HANDLER_H_
#define SBD_TRANSPORT_REQUEST_HANDLER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "absl/functional/any_invocable.h"
#include "transport/http_message.h"
#include "transport/session_strand.h"
#include "transport/token_authority.h"

namespace sbd {

// The WebSocket endpoint's path.
inline constexpr std::string_view kWebSocketPath = "/ws";

// What StartWebSocketSession needs once GET /ws is authorised.
struct WebSocketGrant {
  std::string username;  // Canonical.
  Identity identity;
  std::optional<int64_t> since;
};

// Whether the request's path is kWebSocketPath (and it is not a preflight,
// which is answered like one of any other path).
bool IsWebSocketRequest(const HttpRequest& request);

class RequestHandler {
 public:
  // Called exactly once with the response (status, headers and body set;
  // the session sets version, keep-alive and Content-Length).
  using Respond = absl::AnyInvocable<void(HttpResponse) &&>;
  using GrantDone = absl::AnyInvocable<void(std::variant<WebSocketGrant, HttpResponse>) &&>;

  virtual ~RequestHandler() = default;

  // Answers `request`, which must not be a WebSocket request (the session
  // upgrades those). `respond` runs either before Handle returns or later,
  // posted onto `executor`. `request` must stay valid until it has run.
  virtual void Handle(const HttpRequest& request, const SessionStrand& executor,
                      Respond respond) = 0;

  // GET /ws?token=<jwt>[&since=S]: the grant, or the error response to send
  // instead of upgrading (401 for a missing, invalid or expired token, 400
  // for a bad `since`, 404 for an unknown account, ...). `done` runs before
  // this returns or later, posted onto `executor`; `request` must stay
  // valid until it has run.
  virtual void AuthorizeWebSocket(const HttpRequest& request, const SessionStrand& executor,
                                  GrantDone done) = 0;
};

}  // namespace sbd

#endif  // SBD_TRANSPORT_REQUEST_HANDLER_H_
