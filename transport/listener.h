// Listener: accepts TCP connections and starts an HttpSession for each, up to
// ServerOptions::connections_max open connections, HTTP and WebSocket
// together (beyond that a new connection is closed at once: HTTP has no room
// for an error before the request is read). Each session it starts goes
// into the SessionRegistry, so a shutdown can close the idle ones and let the
// busy ones finish their response. WebSocket connections leave the registry
// when the session hands the socket to the WebSocket side; from then on the
// Notifier counts them.
//
// Thread-safety: Stop may be called from any thread; accepting runs on the
// listener's strand.
#ifndef SBD_TRANSPORT_LISTENER_H_
#define SBD_TRANSPORT_LISTENER_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "transport/request_handler.h"
#include "transport/server_context.h"
#include "transport/session_registry.h"
#include "transport/session_strand.h"

namespace sbd {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // Binds and listens on `endpoint` (port 0: an ephemeral port).
  // `sessions` must outlive the io_context: sessions still queued in it
  // remove themselves when it destroys them.
  static absl::StatusOr<std::shared_ptr<Listener>> Create(
      boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint,
      const ServerContext& context, RequestHandler& handler, SessionRegistry& sessions);

  // The bound address (the real port when 0 was asked for).
  boost::asio::ip::tcp::endpoint local_endpoint() const { return local_endpoint_; }

  // Starts accepting.
  void Run();
  // Stops accepting (the acceptor is closed on its strand).
  void Stop();
  Listener(boost::asio::io_context& io, const ServerContext& context, RequestHandler& handler,
           SessionRegistry& sessions);

 private:
  void Accept();
  void OnAccept(boost::system::error_code error, SessionSocket socket);

  boost::asio::io_context& io_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  boost::asio::ip::tcp::endpoint local_endpoint_;
  const ServerContext& context_;
  RequestHandler& handler_;
  SessionRegistry& sessions_;
};

}  // namespace sbd

#endif  // SBD_TRANSPORT_LISTENER_H_
