// The TCP teardown of a WebSocket on SessionStream: what Beast's websocket
// stream calls to end the connection after the close handshake, and after
// every failure it closes on (1009 message too big, 1002 protocol errors).
//
// Why our own: Beast 1.81's TCP teardown (boost/beast/websocket/impl/
// teardown.hpp, teardown_tcp_op) drops the result of its read_some and tests
// the coroutine's own `bytes_transferred` parameter, which is 0 there, so it
// leaves the drain loop after the first 2 KiB it reads and closes the socket
// with the peer's data still unread. The kernel then answers with a reset
// (RFC 1122 4.2.2.13), and a peer still writing (the client whose message was
// too big is exactly that peer) fails with "broken pipe" and never reads the
// close frame sent just before.
//
// How it is chosen: SessionStream's rate policy is SessionRatePolicy, a type
// of namespace sbd, so sbd is an associated namespace of the stream and
// Beast's unqualified call `async_teardown(role, stream, handler)` finds the
// overload below by argument-dependent lookup. It is more specialized than
// Beast's template for any basic_stream, so it wins for every close path of
// websocket::stream<SessionStream>. Any file that instantiates that stream
// sees it, because session_strand.h (which defines SessionStream) includes
// this header.
//
// What it does (server role): shut down the send side, so a FIN follows our
// close frame and the peer's read ends cleanly; then read and discard what
// the peer still sends until its FIN, at most kWebSocketTeardownBytesMax
// bytes and for at most kWebSocketTeardownTimeout; then close. A peer still
// sending past either bound is cut off (then the reset is deserved).
//
// Thread-safety: as any operation on the stream: started on the stream's
// strand (Beast does), at most one at a time per stream.
#ifndef SBD_TRANSPORT_WEBSOCKET_TEARDOWN_H_
#define SBD_TRANSPORT_WEBSOCKET_TEARDOWN_H_

#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/rate_policy.hpp>
#include <boost/beast/core/role.hpp>
#include <cassert>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

#include "transport/limits.h"

namespace sbd {

// No rate limit (exactly beast::unlimited_rate_policy); a type of our own only
// so that async_teardown below is found for SessionStream.
struct SessionRatePolicy : boost::beast::unlimited_rate_policy {};

namespace websocket_teardown_internal {

// Bytes read per step of the drain (discarded). Allocated once per teardown,
// so holding it costs nothing while the connection is open.
inline constexpr size_t kDrainChunkBytes = 4096;

// The composed operation behind async_teardown.
template <class Executor>
class DrainOp {
 public:
  using Stream = boost::beast::basic_stream<boost::asio::ip::tcp, Executor, SessionRatePolicy>;

  explicit DrainOp(Stream& stream)
      : stream_(stream), chunk_(std::make_unique<char[]>(kDrainChunkBytes)) {}

  // Start.
  template <class Self>
  void operator()(Self& self) {
    boost::beast::error_code ec;
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
    if (ec) {
      // E.g. the peer reset already. Completing here would call the handler
      // from inside the initiating function; go through the executor.
      boost::asio::post(stream_.get_executor(),
                        boost::beast::bind_front_handler(std::move(self), ec, size_t{0}));
      return;
    }
    // basic_stream's deadline covers every read after it: one bound for the
    // whole drain, and on expiry the stream closes the socket itself.
    stream_.expires_after(kWebSocketTeardownTimeout);
    ReadSome(self);
  }

  // A read finished (or the shutdown above failed).
  template <class Self>
  void operator()(Self& self, boost::beast::error_code ec, size_t bytes) {
    drained_bytes_ += bytes;
    if (!ec && drained_bytes_ < kWebSocketTeardownBytesMax) {
      ReadSome(self);
      return;
    }
    if (ec == boost::asio::error::eof) {
      ec = {};  // The peer's FIN: the clean end.
    } else if (!ec) {
      ec = boost::asio::error::message_size;  // Still sending past the bound.
    }
    boost::beast::error_code ignored;
    stream_.socket().close(ignored);
    self.complete(ec);
  }

 private:
  template <class Self>
  void ReadSome(Self& self) {
    stream_.async_read_some(boost::asio::buffer(chunk_.get(), kDrainChunkBytes), std::move(self));
  }

  Stream& stream_;
  std::unique_ptr<char[]> chunk_;
  size_t drained_bytes_ = 0;
};

}  // namespace websocket_teardown_internal

// Found by Beast's websocket stream through ADL (see the top of this file);
// not meant to be called directly. Completes with no error when the peer
// closed its side in time; beast::error::timeout, message_size (past the
// byte bound) or the socket's error otherwise. The socket is closed either way.
template <class Executor, class TeardownHandler>
void async_teardown(
    [[maybe_unused]] boost::beast::role_type role,
    boost::beast::basic_stream<boost::asio::ip::tcp, Executor, SessionRatePolicy>& stream,
    TeardownHandler&& handler) {
  // SessionStream carries server connections only; a client would drain
  // first and shut down after (RFC 6455 7.1.1: the server closes first).
  assert(role == boost::beast::role_type::server && "SessionStream is a server's stream");
  // async_compose takes the handler by reference and moves it in (Beast
  // hands us an rvalue).
  boost::asio::async_compose<std::decay_t<TeardownHandler>, void(boost::beast::error_code)>(
      websocket_teardown_internal::DrainOp<Executor>(stream), handler, stream);
}

}  // namespace sbd

#endif  // SBD_TRANSPORT_WEBSOCKET_TEARDOWN_H_
