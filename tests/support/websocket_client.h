// WebSocketClient: a blocking WebSocket client (Boost.Beast) for end-to-end
// tests of GET /ws.
//
// Every operation is bounded by a timeout: a server that does not answer is
// an error, never a hang. A Read that times out leaves its read pending, and
// the next Read continues it, so no message is ever lost to a timeout.
// Pings from the server are answered automatically while a Read runs.
//
// Thread-safety: none; one thread drives a client (each client has its own
// io_context, so many clients may run on many threads).
#ifndef SBD_TESTS_SUPPORT_WEBSOCKET_CLIENT_H_
#define SBD_TESTS_SUPPORT_WEBSOCKET_CLIENT_H_

#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sbd::testing {

struct WebSocketClientOptions {
  // Bound on the TCP connect plus the upgrade handshake.
  std::chrono::milliseconds connect_timeout{10000};
  // SO_RCVBUF set before connecting (0: the system default). A small value
  // makes a client that never reads fill the server's backlog quickly.
  int receive_buffer_bytes = 0;
};

class WebSocketClient {
 public:
  // Connects to 127.0.0.1:port and upgrades with GET `target` (e.g.
  // "/ws?token=...&since=5"). A refused upgrade is kPermissionDenied (401) or
  // kFailedPrecondition (any other status), with the status in the message;
  // see also HandshakeStatus.
  static absl::StatusOr<std::unique_ptr<WebSocketClient>> Connect(
      uint16_t port, std::string_view target, WebSocketClientOptions options = {});

  // Tries the upgrade and returns the HTTP status of the answer: 101 if it
  // was accepted (the connection is then closed again), else e.g. 401.
  static absl::StatusOr<int> HandshakeStatus(
      uint16_t port, std::string_view target,
      std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

  ~WebSocketClient();
  WebSocketClient(const WebSocketClient&) = delete;
  WebSocketClient& operator=(const WebSocketClient&) = delete;

  // The next message (text or binary payload). kDeadlineExceeded if none
  // arrived within `timeout` (the read stays pending for the next call);
  // kAborted once the server closed the connection (close_code() then says
  // how; nullopt if the TCP connection ended without a close frame);
  // kUnavailable on any other connection error.
  absl::StatusOr<std::string> Read(std::chrono::milliseconds timeout);

  // Read, then parse as JSON (kDataLoss if it is not JSON).
  absl::StatusOr<boost::json::value> ReadJson(std::chrono::milliseconds timeout);

  // Reads until the server's close frame and returns its code, discarding
  // messages, for at most `timeout` overall.
  absl::StatusOr<int> WaitForClose(std::chrono::milliseconds timeout);

  absl::Status SendText(std::string_view text,
                        std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  absl::Status SendBinary(std::string_view bytes,
                          std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

  // A clean close with 1000, waiting at most `timeout` for the server's reply.
  absl::Status Close(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

  // Drops the TCP connection without a close frame (a crashed client).
  void Kill();

  // The code of the server's close frame, once one was received.
  std::optional<int> close_code() const { return close_code_; }
  // Whether the connection is still usable.
  bool open() const;

 private:
  struct State;
  explicit WebSocketClient(std::unique_ptr<State> state);
  absl::Status Send(std::string_view bytes, bool binary, std::chrono::milliseconds timeout);

  std::unique_ptr<State> state_;
  std::optional<int> close_code_;
};

}  // namespace sbd::testing

#endif  // SBD_TESTS_SUPPORT_WEBSOCKET_CLIENT_H_
