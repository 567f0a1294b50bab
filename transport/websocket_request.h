// WebSocketRequest: the checks of GET /ws?token=<jwt>[&since=S] that need
// no account (API.md "WebSocket"), shared by the server's Routes and a
// gateway's GatewayRoutes so both refuse the same requests the same way:
// the Origin guard, the method, one non-empty token that verifies (the
// same secret and token rules, revocation included), a canonical username,
// a non-negative `since`. What is left to each handler is whether the
// account exists, then that the request is an upgrade (CheckUpgrade), in
// that order.
//
// Thread-safety: pure functions of the request and the context.
#ifndef SBD_TRANSPORT_WEBSOCKET_REQUEST_H_
#define SBD_TRANSPORT_WEBSOCKET_REQUEST_H_

#include <optional>
#include <string>
#include <variant>

#include "transport/http_message.h"
#include "transport/request_handler.h"
#include "transport/server_context.h"

namespace sbd {

struct WebSocketRequest {
  WebSocketGrant grant;  // username, identity and since checked.
  std::string token;     // As the query carried it.
};

// The request's grant, or the counted rejection to answer instead.
std::variant<WebSocketRequest, HttpResponse> CheckWebSocketRequest(const HttpRequest& request,
                                                                   const ServerContext& context);

// The rejection of a GET /ws that is not a WebSocket upgrade, if it is not.
std::optional<HttpResponse> CheckUpgrade(const HttpRequest& request, const ServerContext& context);

}  // namespace sbd

#endif  // SBD_TRANSPORT_WEBSOCKET_REQUEST_H_
