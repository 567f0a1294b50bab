// The server's limits (API.md "Default limits"), each with why. Every one is a
// default of ServerOptions and overridable by a flag of `sbd-ledger serve`.
#ifndef SBD_TRANSPORT_LIMITS_H_
#define SBD_TRANSPORT_LIMITS_H_

#include <chrono>
#include <cstddef>

namespace sbd {

// Open TCP connections (HTTP and WebSocket). Each costs a socket and a few
// KiB; 10k keeps the server well inside a default fd limit raised to 16k.
inline constexpr size_t kConnectionsMax = 10'000;

// Request body. The largest valid body (note 500 chars, id 128) is < 4 KiB;
// 64 KiB leaves room without letting one request pin memory.
inline constexpr size_t kRequestBodyBytesMax = 64 * 1024;

// Request line plus headers. Ours are < 1 KiB with the JWT; 8 KiB is what
// nginx allows. It is also the only bound on a token's size (TokenAuthority
// has none): the origin app's tokens grow with their tenant_memberships, and
// an operator whose tokens do not fit raises --header-limit.
inline constexpr size_t kRequestHeaderBytesMax = 8 * 1024;

// An idle keep-alive connection is closed after this long.
inline constexpr std::chrono::seconds kKeepAliveIdleTimeout{30};

// A request whose headers and body have not all arrived after this long is
// dropped (slowloris).
inline constexpr std::chrono::seconds kRequestReadTimeout{10};

// Unsent WebSocket messages per connection; past either bound the
// connection is closed with 1013 (the client resumes with `since`).
inline constexpr size_t kWebSocketBacklogMessagesMax = 4096;
inline constexpr size_t kWebSocketBacklogBytesMax = 4 * 1024 * 1024;

// An idle WebSocket is pinged this often; no pong within one more interval
// and it is dropped as dead.
inline constexpr std::chrono::seconds kWebSocketPingInterval{20};

// Events read from the log per step of a `since` resume, so a client far
// behind never makes the server hold its whole history in memory.
inline constexpr size_t kResumeEventsPerRead = 1024;

// Access-log bytes held in memory while stderr is not draining (a stalled
// log collector). A line is ~40 bytes, so 1 MiB holds ~25k lines: about a
// second at the server's full rate, so a collector that pauses for less
// loses nothing; past it lines are dropped and counted instead of making an
// io thread wait on the pipe. At most twice this is held (one buffer
// filling while the other is written).
inline constexpr size_t kAccessLogBufferBytesMax = 1024 * 1024;

// GET /sbd_tokens/transactions: limit 1..100, default 5 (API.md).
inline constexpr size_t kHistoryLimitDefault = 5;
inline constexpr size_t kHistoryLimitMax = 100;

}  // namespace sbd

#endif  // SBD_TRANSPORT_LIMITS_H_
