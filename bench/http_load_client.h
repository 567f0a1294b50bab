// HttpLoadClient: one keep-alive HTTP/1.1 connection (Boost.Beast, async)
// sending requests one after another as fast as answers come back, or paced
// to a fixed interval (the --rate of sbd-bench e2e). Requests are given as
// text; answers are parsed by Beast.
//
// The owner supplies `next` (fills the next request; false when there is no
// more work) and `on_answer` (called with each answer and when its request
// was due); errors end the client through `on_error`.
//
// Thread-safety: runs on the io_context it was made with; the callbacks run
// there too. With one thread running that io_context nothing needs a lock.
#ifndef SBD_BENCH_HTTP_LOAD_CLIENT_H_
#define SBD_BENCH_HTTP_LOAD_CLIENT_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace sbd::bench {

class HttpLoadClient : public std::enable_shared_from_this<HttpLoadClient> {
 public:
  using Clock = std::chrono::steady_clock;
  // A whole request as its bytes on the wire (start line, fields, body).
  using Request = std::string;
  using Response = boost::beast::http::response<boost::beast::http::string_body>;

  struct Callbacks {
    std::function<bool(Request&)> next;
    // `due`: when the request was scheduled (paced) or sent (unpaced).
    std::function<void(const Response&, Clock::time_point due)> on_answer;
    std::function<void(const std::string& what)> on_error;
  };

  // `interval` zero: closed loop. Else request n is due at start + n*interval
  // (start given to Start), and the latency counts from then, so a server
  // that falls behind is charged for the wait (no coordinated omission).
  HttpLoadClient(boost::asio::io_context& io, Callbacks callbacks, Clock::duration interval);

  void Start(const boost::asio::ip::tcp::endpoint& server, Clock::time_point start);

 private:
  void SendNext();
  void Send();
  void OnWritten(boost::beast::error_code error);
  void OnRead(boost::beast::error_code error);
  // Gives up once deadline_ passes; re-arms itself while it moves on.
  void Watch();
  void Fail(const char* what, boost::beast::error_code error);

  // A plain socket with one lazily re-armed watchdog rather than
  // beast::tcp_stream, whose per-operation timer costs the client CPU that
  // the server under test shares; the concrete executor avoids
  // any_io_executor's type-erased copies.
  using Executor = boost::asio::io_context::executor_type;
  using Timer = boost::asio::basic_waitable_timer<Clock, boost::asio::wait_traits<Clock>, Executor>;
  boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor> socket_;
  Timer timer_;  // Pacing.
  Timer watchdog_;
  // When the operation in flight (connect, request) must have finished;
  // max while waiting for a paced request's due time.
  Clock::time_point deadline_ = Clock::time_point::max();
  bool failed_ = false;
  boost::beast::flat_buffer buffer_;
  Callbacks callbacks_;
  const Clock::duration interval_;
  Clock::time_point due_;
  Request request_;
  Response response_;
};

// Writes a keep-alive HTTP/1.1 request's bytes into `request`, reusing its
// capacity (Authorization only when given, a JSON Content-Type with a body).
void FillRequest(HttpLoadClient::Request& request, boost::beast::http::verb method,
                 std::string_view target, std::string_view body, std::string_view authorization,
                 std::string_view host);

}  // namespace sbd::bench

#endif  // SBD_BENCH_HTTP_LOAD_CLIENT_H_
