// The WebSocket session's rules for what a client sends, apart from the
// session so that tests/fuzz/websocket_frames_fuzzer.cc runs these very
// functions on Beast's test stream instead of a copy of them.
//
// Thread-safety: pure functions, and a setup of a stream not yet shared.
#ifndef SBD_TRANSPORT_WEBSOCKET_SESSION_INTERNAL_H_
#define SBD_TRANSPORT_WEBSOCKET_SESSION_INTERNAL_H_

#include <boost/beast/websocket/stream.hpp>
#include <string_view>

#include "transport/limits.h"

namespace sbd::websocket_internal {

// True if `text` is {"type":"ping"} (any extra members are tolerated).
bool IsPing(std::string_view text);

// What the session does with one message a client sent (API.md: a client
// only ever sends pings).
enum class ClientMessageAction {
  kIgnore,           // Any other text.
  kPong,             // A ping: answer {"type":"pong"}.
  kCloseUnknownData  // A binary frame: close with 1003.
};
ClientMessageAction ClassifyClientMessage(bool binary, std::string_view text);

// The settings of a stream for a client's messages: text frames, each
// message at most kWebSocketClientMessageBytesMax (past it Beast closes with
// 1009).
template <typename NextLayer>
void ApplyClientMessageRules(boost::beast::websocket::stream<NextLayer>& ws) {
  ws.read_message_max(kWebSocketClientMessageBytesMax);
  ws.text(true);
}

}  // namespace sbd::websocket_internal

#endif  // SBD_TRANSPORT_WEBSOCKET_SESSION_INTERNAL_H_
