// The WebSocket endpoint (API.md "WebSocket"): GET /ws?token=<jwt>[&since=S].
//
// The HTTP session authenticates the upgrade request (401 before any upgrade
// on a bad token) and parses `since`, then hands the socket over here. From
// then on the WebSocket session owns the connection: it registers with the
// Notifier, sends `connected`, replays missed messages when `since` is given,
// then streams live ones, answers pings, enforces `exp` (1008), the backlog
// limit (1013), binary frames (1003) and the client message cap (1009). The
// TCP teardown after any close is websocket_teardown.h's.
//
// Thread-safety: StartWebSocketSession may be called from any io thread; the
// session runs on its own strand.
#ifndef SBD_TRANSPORT_WEBSOCKET_SESSION_H_
#define SBD_TRANSPORT_WEBSOCKET_SESSION_H_

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "transport/server_context.h"
#include "transport/session_strand.h"
#include "transport/token_authority.h"

namespace sbd {

// `username` is the canonical account name of the verified token; `since` is
// the parsed `since` query parameter if present. The session runs on the
// socket's strand.
void StartWebSocketSession(SessionSocket socket,
                           boost::beast::http::request<boost::beast::http::string_body> upgrade,
                           std::string username, Identity identity, std::optional<int64_t> since,
                           const ServerContext& context);

}  // namespace sbd

#endif  // SBD_TRANSPORT_WEBSOCKET_SESSION_H_
