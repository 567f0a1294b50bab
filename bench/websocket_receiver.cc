#include "bench/websocket_receiver.h"

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket.hpp>

namespace sbd::bench {
namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;

// Connect and upgrade; thousands at once on a busy 2-core box can be slow.
constexpr std::chrono::seconds kHandshakeTimeout{60};

}  // namespace

WebSocketReceiver::WebSocketReceiver(boost::asio::io_context& io, Callbacks callbacks)
    : socket_(io.get_executor()), callbacks_(std::move(callbacks)) {}

void WebSocketReceiver::Start(const boost::asio::ip::tcp::endpoint& server, std::string host,
                              std::string target) {
  beast::get_lowest_layer(socket_).expires_after(kHandshakeTimeout);
  beast::get_lowest_layer(socket_).async_connect(
      server, [self = shared_from_this(), host = std::move(host),
               target = std::move(target)](beast::error_code error) {
        if (error) return self->Fail("connect", error);
        beast::get_lowest_layer(self->socket_)
            .socket()
            .set_option(boost::asio::ip::tcp::no_delay(true));
        self->socket_.async_handshake(host, target, [self](beast::error_code handshake_error) {
          if (handshake_error) return self->Fail("handshake", handshake_error);
          // From here the websocket's own timeouts apply (none while idle:
          // an idle receiver is what `connections` measures).
          beast::get_lowest_layer(self->socket_).expires_never();
          self->socket_.set_option(
              websocket::stream_base::timeout::suggested(beast::role_type::client));
          self->Read();
        });
      });
}

void WebSocketReceiver::Close() {
  closing_ = true;
  beast::error_code ignored;
  beast::get_lowest_layer(socket_).socket().close(ignored);
}

void WebSocketReceiver::Read() {
  socket_.async_read(buffer_, [self = shared_from_this()](beast::error_code error, size_t) {
    if (error) return self->Fail("read", error);
    const auto at = Clock::now();
    const auto data = self->buffer_.cdata();
    const std::string_view message(static_cast<const char*>(data.data()), data.size());
    if (!self->connected_) {
      self->connected_ = true;
      self->callbacks_.on_connected();
    } else {
      self->callbacks_.on_message(message, at);
    }
    self->buffer_.consume(self->buffer_.size());
    self->Read();
  });
}

void WebSocketReceiver::Fail(const char* what, beast::error_code error) {
  if (closing_) return;
  callbacks_.on_error(std::string(what) + ": " + error.message());
}

}  // namespace sbd::bench
