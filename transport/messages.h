// The WebSocket messages of API.md ("WebSocket"), encoded once here and used
// by the Notifier (live and resumed delivery) and by sbd-replay
// --notifications, so both always say exactly the same bytes.
//
// Thread-safe: pure functions. Output JSON is written with JsonObjectWriter.
#ifndef SBD_TRANSPORT_MESSAGES_H_
#define SBD_TRANSPORT_MESSAGES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/event.h"

namespace sbd {

// {"type":"connected","seq":S,"data":{"username":U,"sbd_tokens":B}}
std::string EncodeConnected(int64_t seq, std::string_view username, int64_t balance);

// The message `event` produces for `account`, or nullopt if it produces none
// for that account:
//   transfer, account == from_account -> "sbd_tokens_sent"
//   transfer, account == to_account   -> "sbd_tokens_received"
//   mint,     account == to_account   -> "sbd_tokens_credited"
std::optional<std::string> EncodeNotification(const Event& event, std::string_view account);

// {"type":"pong"}
std::string EncodePong();

}  // namespace sbd

#endif  // SBD_TRANSPORT_MESSAGES_H_
