// HttpSession: one HTTP/1.1 connection. Reads one request at a time
// (pipelined requests wait in the buffer and are answered in order), asks
// its RequestHandler for the answer, writes it, and loops while keep-alive holds.
//
// Limits (ServerOptions): request header bytes (431, then close), body bytes
// (413 payload_too_large, then close; `Expect: 100-continue` is answered only
// for a body within the limit), the read timeout for a started request
// (slowloris: the connection is dropped), and the keep-alive idle timeout
// between requests. GET /ws is authorised by the handler and, on success, the
// socket is handed to StartWebSocketSession.
//
// One access-log line per request ("method target status ms"), queued on
// the context's AccessLog (which writes stderr) when options.access_log.
//
// Thread-safety: all of a session's work runs on its strand (the socket's
// executor, kept by a WebSocket it upgrades to); Shutdown may be called from
// any thread.
#ifndef SBD_TRANSPORT_HTTP_SESSION_H_
#define SBD_TRANSPORT_HTTP_SESSION_H_

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <variant>

#include "transport/request_handler.h"
#include "transport/server_context.h"
#include "transport/session_strand.h"

namespace sbd {

class SessionRegistry;

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(SessionSocket socket, const ServerContext& context, RequestHandler& handler,
              SessionRegistry& registry);
  ~HttpSession();
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  // Starts reading; `registry_id` is this session's id in the registry.
  void Start(uint64_t registry_id);

  // Closes the connection once the request in progress (if any) is
  // answered; an idle connection is closed at once.
  void Shutdown();

 private:
  void WaitForRequest();
  void ReadHeader();
  void OnHeader(boost::system::error_code error);
  void ReadBody();
  void OnRequest(boost::system::error_code error);
  void UpgradeToWebSocket();
  void OnWebSocketGrant(std::variant<WebSocketGrant, HttpResponse>&& grant);
  void Write(HttpResponse response);
  void OnWrite(bool close, boost::system::error_code error);
  // Answers with `response` and closes (the request is not read further).
  void Reject(HttpResponse response);
  // Half-closes, discards what the client still sends (bounded), closes.
  void Linger();
  void Close();
  void LogAccess(unsigned status) const;

  // Timeouts: the read or write in progress must finish within `timeout`
  // from now, else the connection is closed. One timer per session, re-armed
  // only when a deadline comes earlier than its expiry (a keep-alive request
  // costs no timer operation), instead of beast::tcp_stream's arm, cancel
  // and aborted handler per read and per write.
  void SetDeadline(std::chrono::steady_clock::duration timeout);
  void ArmWatchdog();
  void OnWatchdog();

  static constexpr std::chrono::steady_clock::time_point kNoDeadline =
      std::chrono::steady_clock::time_point::max();

  SessionSocket socket_;
  boost::asio::basic_waitable_timer<
      std::chrono::steady_clock, boost::asio::wait_traits<std::chrono::steady_clock>, SessionStrand>
      watchdog_;
  bool watchdog_armed_ = false;
  std::chrono::steady_clock::time_point deadline_ = kNoDeadline;  // Strand state.
  boost::beast::flat_buffer buffer_;
  const ServerContext& context_;
  RequestHandler& handler_;
  SessionRegistry& registry_;
  uint64_t registry_id_ = 0;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  HttpRequest request_;
  // The answer being written, as its bytes on the wire; reused so a
  // keep-alive connection does not allocate per response.
  std::string response_wire_;
  // The request's Origin when the CORS policy allows it, else "": every
  // answer to it carries Access-Control-Allow-Origin (errors too).
  std::string cors_origin_;
  std::string access_method_;
  std::string access_target_;
  std::chrono::steady_clock::time_point request_started_;
  // Strand state.
  bool busy_ = false;           // A request is being answered.
  bool shutting_down_ = false;  // Close after the current answer.
  bool closed_ = false;
  uint64_t lingered_bytes_ = 0;
  std::array<char, 4096> linger_buffer_;
};

}  // namespace sbd

#endif  // SBD_TRANSPORT_HTTP_SESSION_H_
