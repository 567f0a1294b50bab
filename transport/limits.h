// The server's limits (API.md "Default limits"), each with why, all in one
// place (docs/ARCHITECTURE.md "Limits" lists them too). Most are defaults of
// ServerOptions, overridable by a flag of `sbd-ledger serve`; the few that are
// not say why next to them.
//
// Thread-safety: constants only.
#ifndef SBD_TRANSPORT_LIMITS_H_
#define SBD_TRANSPORT_LIMITS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace sbd {

// Open TCP connections (HTTP and WebSocket). Each costs a socket and a few
// KiB; 10k keeps the server well inside a default fd limit raised to 16k.
inline constexpr size_t kConnectionsMax = 10'000;

// After an accept error (out of file descriptors, ...), the listener waits
// this long before accepting again instead of spinning. Not a flag: short
// enough to be unnoticeable once descriptors free up, long enough not to burn
// a core while they do not.
inline constexpr std::chrono::milliseconds kAcceptRetryDelay{50};

// Bytes an HTTP session asks for per read while waiting for a request: a
// whole request with a JWT (< 1 KiB) fits in one. Not a flag: a buffer size.
inline constexpr size_t kHttpReadChunkBytes = 4096;

// After answering a request it will not read (413, 431), the session lets
// the client finish sending: it discards at most this much, for at most
// kHttpLingerTimeout, so the client sees the answer instead of a reset. Not
// flags: they only bound what a refused client may still cost.
inline constexpr uint64_t kHttpLingerBytesMax = 1 << 20;
inline constexpr std::chrono::seconds kHttpLingerTimeout{2};

// A response that cannot be written in this long goes to a dead client
// (the connection is closed). Not a flag: our answers are small, and only a
// peer that stopped reading reaches it.
inline constexpr std::chrono::seconds kHttpWriteTimeout{30};

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
// and it is dropped as dead. (ServerOptions has it; no flag yet.)
inline constexpr std::chrono::seconds kWebSocketPingInterval{20};

// Close handshakes the server starts (1001, 1003, 1008, 1011, 1013) wait this
// long for the peer's close frame, then the connection is dropped: a client
// that stopped reading may never let our close frame through. Beast's server
// default is the same 30 s. Flag --ws-close-timeout (a deployment behind slow
// links may want longer, one shedding dead clients at shutdown shorter).
inline constexpr std::chrono::seconds kWebSocketCloseTimeout{30};
// The flag's range: an hour is far past any close handshake, and keeps the
// deadline far from overflowing the timer clock.
inline constexpr std::chrono::seconds kWebSocketCloseTimeoutMax{3600};

// The upgrade answer (101 and a few headers, < 300 bytes) must be written
// within this long. Not a flag: the request was already bounded by the HTTP
// read timeout, and only a peer that stopped reading at once can reach this.
inline constexpr std::chrono::seconds kWebSocketAcceptTimeout{10};

// The longest a WebSocket's token-expiry timer is set for: ~100 years, in
// seconds, far below where steady_clock's nanoseconds overflow (a token valid
// longer is closed after a century). Not a flag: a representation bound.
inline constexpr int64_t kWebSocketExpiryTimerSecondsMax = int64_t{100} * 365 * 24 * 60 * 60;
static_assert(kWebSocketExpiryTimerSecondsMax < std::chrono::duration_cast<std::chrono::seconds>(
                                                    std::chrono::steady_clock::duration::max())
                                                    .count(),
              "the expiry timer must not overflow the clock");

// Client messages. A client only ever sends {"type":"ping"} (API.md); a small
// cap keeps a hostile client from making the server buffer megabytes. Past it
// the connection is closed with 1009. Not a flag: raising it would only let
// clients make the server hold more, and the API gives them nothing larger.
inline constexpr size_t kWebSocketClientMessageBytesMax = 4096;

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

// Nesting depth of a field's value in a JSON request body (the body's own
// object not counted); deeper is 400 invalid_json. Ours are flat; 64 levels
// leaves room for clients that send extra structured fields while bounding
// the parser's recursive walk (and so its stack). Not a flag: no valid
// request comes near it.
inline constexpr size_t kRequestBodyDepthMax = 64;

// Events read from the log per step of a `since` resume, so a client far
// behind never makes the server hold its whole history in memory. Not a
// flag: a step size, invisible to clients and operators alike.
inline constexpr size_t kResumeEventsPerRead = 1024;

// A cluster gateway's /healthz answers 503 once it is this many stream
// messages behind the stream's last (a few seconds of a loaded writer's
// batches): a load balancer then sends new clients to another gateway.
inline constexpr int64_t kGatewayLagMessagesMax = 1000;

// Access-log bytes held in memory while stderr is not draining (a stalled
// log collector). A line is ~40 bytes, so 1 MiB holds ~25k lines: about a
// second at the server's full rate, so a collector that pauses for less
// loses nothing; past it lines are dropped and counted instead of making an
// io thread wait on the pipe. At most twice this is held (one buffer
// filling while the other is written).
inline constexpr size_t kAccessLogBufferBytesMax = 1024 * 1024;

// How long the access log's writer lets lines gather after the first one
// before it writes them out: one wake-up and one write(2) per interval at
// full load instead of one per line (which cost ~14% of e2e throughput on
// 2 cores, docs/BENCHMARKS.md). Short enough that a tail -f sees lines at
// once to a human, and the buffer (~25k lines) cannot fill within it.
inline constexpr std::chrono::milliseconds kAccessLogGatherInterval{20};

// How often the access log's writer, waiting for a full pipe to take more,
// looks whether the shutdown deadline has passed. Not a flag: it only bounds
// how late the writer notices a shutdown.
inline constexpr std::chrono::milliseconds kAccessLogPollTimeout{100};

// At shutdown, how long the access log's writer keeps writing before the
// rest is dropped (and counted): a reader that has taken nothing for a second
// is not reading, and the process must not hang on it. Not a flag: shutdown
// is already bounded by the server's grace period.
inline constexpr std::chrono::seconds kAccessLogShutdownFlushTimeout{1};

// How often the revocation watcher checks the --revoked-tokens file's stamp:
// well inside API.md's "closed within a second of the reload", and a stat()
// five times a second costs nothing. Not a flag: SIGHUP reloads at once.
inline constexpr std::chrono::milliseconds kRevocationPollInterval{200};

// GET /sbd_tokens/transactions: limit 1..100, default 5. Not flags: API.md
// fixes them.
inline constexpr size_t kHistoryLimitDefault = 5;
inline constexpr size_t kHistoryLimitMax = 100;

// How the limits above depend on each other.
static_assert(kWebSocketCloseTimeout <= kWebSocketCloseTimeoutMax,
              "the default close timeout must be one the flag accepts");
static_assert(kWebSocketTeardownBytesMax >= kWebSocketClientMessageBytesMax,
              "the teardown must let a client finish a message it may send");
static_assert(kHistoryLimitDefault >= 1 && kHistoryLimitDefault <= kHistoryLimitMax,
              "the default history page must be one a client may ask for");
static_assert(kRequestBodyBytesMax >= 4 * 1024, "the largest valid body (< 4 KiB) must fit");
static_assert(kHttpReadChunkBytes <= kRequestHeaderBytesMax,
              "a read chunk never holds more than one request header may be");

}  // namespace sbd

#endif  // SBD_TRANSPORT_LIMITS_H_
