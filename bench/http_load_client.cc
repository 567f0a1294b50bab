#include "bench/http_load_client.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>

#include "absl/strings/str_cat.h"
#include "engine/absl_compat.h"

namespace sbd::bench {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;

// A request the server has not answered after this long means it is stuck;
// the client gives up rather than hang the benchmark.
constexpr std::chrono::seconds kRequestTimeout{30};

}  // namespace

HttpLoadClient::HttpLoadClient(boost::asio::io_context& io, Callbacks callbacks,
                               Clock::duration interval)
    : socket_(io.get_executor()),
      timer_(io.get_executor()),
      watchdog_(io.get_executor()),
      callbacks_(std::move(callbacks)),
      interval_(interval) {}

void HttpLoadClient::Start(const boost::asio::ip::tcp::endpoint& server, Clock::time_point start) {
  due_ = start;
  deadline_ = Clock::now() + kRequestTimeout;
  Watch();
  socket_.async_connect(server, [self = shared_from_this()](beast::error_code error) {
    if (error) return self->Fail("connect", error);
    self->socket_.set_option(boost::asio::ip::tcp::no_delay(true));
    self->SendNext();
  });
}

void HttpLoadClient::Watch() {
  const Clock::time_point now = Clock::now();
  watchdog_.expires_at(deadline_ == Clock::time_point::max() ? now + kRequestTimeout : deadline_);
  watchdog_.async_wait([self = shared_from_this()](beast::error_code error) {
    if (error) return;  // Cancelled: the client is done.
    if (Clock::now() < self->deadline_) return self->Watch();
    self->Fail("timeout", boost::asio::error::timed_out);
    beast::error_code ignored;
    self->socket_.close(ignored);
  });
}

void HttpLoadClient::SendNext() {
  if (!callbacks_.next(request_)) {
    beast::error_code ignored;
    socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    watchdog_.cancel();
    return;
  }
  if (interval_ == Clock::duration::zero()) {
    due_ = Clock::now();
    return Send();
  }
  deadline_ = Clock::time_point::max();  // Waiting for our own schedule, not the server.
  timer_.expires_at(due_);
  timer_.async_wait([self = shared_from_this()](beast::error_code error) {
    if (error) return self->Fail("timer", error);
    self->Send();
  });
}

void HttpLoadClient::Send() {
  deadline_ = Clock::now() + kRequestTimeout;
  boost::asio::async_write(
      socket_, boost::asio::buffer(request_),
      [self = shared_from_this()](beast::error_code error, size_t) { self->OnWritten(error); });
}

void HttpLoadClient::OnWritten(beast::error_code error) {
  if (error) return Fail("write", error);
  response_ = Response();
  http::async_read(socket_, buffer_, response_,
                   [self = shared_from_this()](beast::error_code read_error, size_t) {
                     self->OnRead(read_error);
                   });
}

void HttpLoadClient::OnRead(beast::error_code error) {
  if (error) return Fail("read", error);
  callbacks_.on_answer(response_, due_);
  if (interval_ != Clock::duration::zero()) due_ += interval_;
  SendNext();
}

void HttpLoadClient::Fail(const char* what, beast::error_code error) {
  if (failed_) return;  // A timeout's close fails the pending operation too.
  failed_ = true;
  callbacks_.on_error(std::string(what) + ": " + error.message());
}

void FillRequest(HttpLoadClient::Request& request, http::verb method, std::string_view target,
                 std::string_view body, std::string_view authorization, std::string_view host) {
  request.clear();
  absl::StrAppend(&request, ToAbsl(http::to_string(method)), " ", ToAbsl(target),
                  " HTTP/1.1\r\nHost: ", ToAbsl(host), "\r\n");
  if (!authorization.empty()) {
    absl::StrAppend(&request, "Authorization: ", ToAbsl(authorization), "\r\n");
  }
  if (!body.empty()) {
    absl::StrAppend(&request, "Content-Type: application/json\r\nContent-Length: ", body.size(),
                    "\r\n");
  }
  absl::StrAppend(&request, "\r\n", ToAbsl(body));
}

}  // namespace sbd::bench
