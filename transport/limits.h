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

// Request line plus headers. A JWT is < 1 KiB; 8 KiB is what nginx allows.
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

// After the close frame is out (a close either side started, or a failure
// such as 1009) the server shuts down its send side and reads and discards
// what the peer still sends until the peer's FIN, so the socket is never
// closed with unread data (the kernel would answer with a reset, and a peer
// still writing would never read the close frame). Both bounds cut off a
// peer that keeps sending instead (websocket_teardown.h). Not flags: Beast
// reaches the teardown with the stream alone (no ServerOptions), and neither
// is a deployment choice.
//
// Bytes: lets a client that was mid-way through an oversized message (up to
// 32 MiB) finish writing it and read its 1009; the drain reads into one fixed
// 4 KiB chunk, so the bound costs bandwidth and CPU, never memory.
inline constexpr size_t kWebSocketTeardownBytesMax = 32 * 1024 * 1024;
// Time: a well-behaved peer answers our FIN within a round trip; 5 s also
// lets a client push the rest of an oversized message over a ~50 Mbit/s link,
// yet a peer trickling bytes to hold the socket open is dropped soon.
inline constexpr std::chrono::seconds kWebSocketTeardownTimeout{5};

// Events read from the log per step of a `since` resume, so a client far
// behind never makes the server hold its whole history in memory.
inline constexpr size_t kResumeEventsPerRead = 1024;

// GET /sbd_tokens/transactions: limit 1..100, default 5 (API.md).
inline constexpr size_t kHistoryLimitDefault = 5;
inline constexpr size_t kHistoryLimitMax = 100;

}  // namespace sbd

#endif  // SBD_TRANSPORT_LIMITS_H_
