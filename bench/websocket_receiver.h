// WebSocketReceiver: one client WebSocket (Boost.Beast, async) on
// /ws?token=...; hands every text message to `on_message` with the time it
// arrived, the first one (`connected`) to `on_connected`.
//
// Thread-safety: runs on the io_context it was made with, like its callbacks.
#ifndef SBD_BENCH_WEBSOCKET_RECEIVER_H_
#define SBD_BENCH_WEBSOCKET_RECEIVER_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace sbd::bench {

class WebSocketReceiver : public std::enable_shared_from_this<WebSocketReceiver> {
 public:
  using Clock = std::chrono::steady_clock;

  struct Callbacks {
    std::function<void()> on_connected;
    std::function<void(std::string_view message, Clock::time_point at)> on_message;
    std::function<void(const std::string& what)> on_error;
  };

  WebSocketReceiver(boost::asio::io_context& io, Callbacks callbacks);

  void Start(const boost::asio::ip::tcp::endpoint& server, std::string host, std::string target);
  // Ends the read loop; errors after this are not reported.
  void Close();

 private:
  void Read();
  void Fail(const char* what, boost::beast::error_code error);

  // tcp_stream's timeouts on io_context's own executor type, not
  // any_io_executor: no type-erased executor copy per frame read.
  boost::beast::websocket::stream<
      boost::beast::basic_stream<boost::asio::ip::tcp, boost::asio::io_context::executor_type>>
      socket_;
  boost::beast::flat_buffer buffer_;
  Callbacks callbacks_;
  bool connected_ = false;
  bool closing_ = false;
};

}  // namespace sbd::bench

#endif  // SBD_BENCH_WEBSOCKET_RECEIVER_H_
