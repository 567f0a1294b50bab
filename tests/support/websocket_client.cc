#include "tests/support/websocket_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sbd::testing {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

// Runs `ioc` until `done` is set or `timeout` passes; false on timeout.
bool RunUntil(net::io_context& ioc, const bool& done, std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  while (!done) {
    if (Clock::now() >= deadline) return false;
    if (ioc.stopped()) ioc.restart();
    if (ioc.run_one_until(deadline) == 0 && ioc.stopped() && !done) {
      // Out of work without finishing: nothing can complete any more.
      return false;
    }
  }
  return true;
}

std::string ErrorText(const beast::error_code& ec) { return ec.message(); }

}  // namespace

struct WebSocketClient::State {
  net::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer buffer;
  bool read_pending = false;
  bool read_done = false;
  beast::error_code read_ec;
  bool broken = false;

  // Drops the connection and lets every pending operation complete (with
  // operation_aborted) so none outlives a timed-out call.
  void Abandon() {
    broken = true;
    beast::error_code ignored;
    beast::get_lowest_layer(ws).socket().close(ignored);
    if (ioc.stopped()) ioc.restart();
    ioc.run_for(std::chrono::milliseconds(200));
  }

  // TCP connect plus the upgrade handshake; `response` gets the server's
  // answer either way.
  absl::Status Open(uint16_t port, std::string_view target, const WebSocketClientOptions& options,
                    websocket::response_type& response) {
    const Clock::time_point start = Clock::now();
    auto remaining = [&] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(options.connect_timeout -
                                                                   (Clock::now() - start));
    };
    tcp::socket& socket = beast::get_lowest_layer(ws).socket();
    beast::error_code ec;
    socket.open(tcp::v4(), ec);
    if (ec) return absl::UnavailableError(absl::StrCat("open: ", ErrorText(ec)));
    if (options.receive_buffer_bytes > 0) {
      socket.set_option(net::socket_base::receive_buffer_size(options.receive_buffer_bytes), ec);
    }
    bool done = false;
    socket.async_connect(tcp::endpoint(net::ip::make_address_v4("127.0.0.1"), port),
                         [&](beast::error_code result) {
                           ec = result;
                           done = true;
                         });
    if (!RunUntil(ioc, done, remaining())) {
      Abandon();
      return absl::DeadlineExceededError("connect timed out");
    }
    if (ec) return absl::UnavailableError(absl::StrCat("connect: ", ErrorText(ec)));

    done = false;
    ws.async_handshake(response, absl::StrCat("127.0.0.1:", port), std::string(target),
                       [&](beast::error_code result) {
                         ec = result;
                         done = true;
                       });
    if (!RunUntil(ioc, done, remaining())) {
      Abandon();
      return absl::DeadlineExceededError("handshake timed out");
    }
    if (ec == websocket::error::upgrade_declined) {
      broken = true;
      const int status = response.result_int();
      std::string message =
          absl::StrCat("upgrade declined with HTTP ", status, ": ", response.body());
      if (status == 401) return absl::PermissionDeniedError(message);
      return absl::FailedPreconditionError(message);
    }
    if (ec) return absl::UnavailableError(absl::StrCat("handshake: ", ErrorText(ec)));
    return absl::OkStatus();
  }
};

WebSocketClient::WebSocketClient(std::unique_ptr<State> state) : state_(std::move(state)) {}

WebSocketClient::~WebSocketClient() {
  if (state_ != nullptr && !state_->broken) state_->Abandon();
}

absl::StatusOr<std::unique_ptr<WebSocketClient>> WebSocketClient::Connect(
    uint16_t port, std::string_view target, WebSocketClientOptions options) {
  auto state = std::make_unique<State>();
  websocket::response_type response;
  absl::Status opened = state->Open(port, target, options, response);
  if (!opened.ok()) return opened;
  return std::unique_ptr<WebSocketClient>(new WebSocketClient(std::move(state)));
}

absl::StatusOr<int> WebSocketClient::HandshakeStatus(uint16_t port, std::string_view target,
                                                     std::chrono::milliseconds timeout) {
  State state;
  websocket::response_type response;
  WebSocketClientOptions options;
  options.connect_timeout = timeout;
  absl::Status opened = state.Open(port, target, options, response);
  if (opened.ok() || absl::IsPermissionDenied(opened) || absl::IsFailedPrecondition(opened)) {
    state.Abandon();
    return response.result_int();
  }
  return opened;
}

bool WebSocketClient::open() const {
  return !state_->broken && !close_code_.has_value() && state_->ws.is_open();
}

absl::StatusOr<std::string> WebSocketClient::Read(std::chrono::milliseconds timeout) {
  State& s = *state_;
  if (s.broken && !s.read_pending) return absl::AbortedError("connection closed");
  if (!s.read_pending) {
    s.buffer.clear();
    s.read_done = false;
    s.read_pending = true;
    s.ws.async_read(s.buffer, [&s](beast::error_code ec, size_t) {
      s.read_ec = ec;
      s.read_done = true;
    });
  }
  if (!RunUntil(s.ioc, s.read_done, timeout)) {
    return absl::DeadlineExceededError("no message within the timeout");
  }
  s.read_pending = false;
  if (s.read_ec) {
    s.broken = true;
    if (s.read_ec == websocket::error::closed) {
      close_code_ = s.ws.reason().code;
      return absl::AbortedError(absl::StrCat("closed by the server with ", *close_code_, " ",
                                             s.ws.reason().reason.c_str()));
    }
    if (s.read_ec == net::error::eof || s.read_ec == net::error::connection_reset ||
        s.read_ec == beast::error::timeout) {
      return absl::AbortedError(absl::StrCat("connection ended: ", ErrorText(s.read_ec)));
    }
    return absl::UnavailableError(absl::StrCat("read: ", ErrorText(s.read_ec)));
  }
  std::string message = beast::buffers_to_string(s.buffer.data());
  s.buffer.clear();
  return message;
}

absl::StatusOr<boost::json::value> WebSocketClient::ReadJson(std::chrono::milliseconds timeout) {
  absl::StatusOr<std::string> message = Read(timeout);
  if (!message.ok()) return message.status();
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(*message, ec);
  if (ec) return absl::DataLossError(absl::StrCat("not JSON: ", *message));
  return value;
}

absl::StatusOr<int> WebSocketClient::WaitForClose(std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  while (true) {
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (remaining.count() <= 0) return absl::DeadlineExceededError("no close frame in time");
    absl::StatusOr<std::string> message = Read(remaining);
    if (message.ok()) continue;
    if (absl::IsAborted(message.status())) {
      if (close_code_.has_value()) return *close_code_;
      return absl::AbortedError(
          absl::StrCat("connection ended without a close frame: ", message.status().message()));
    }
    return message.status();
  }
}

absl::Status WebSocketClient::Send(std::string_view bytes, bool binary,
                                   std::chrono::milliseconds timeout) {
  State& s = *state_;
  if (s.broken) return absl::AbortedError("connection closed");
  s.ws.binary(binary);
  bool done = false;
  beast::error_code ec;
  s.ws.async_write(net::buffer(bytes.data(), bytes.size()), [&](beast::error_code result, size_t) {
    ec = result;
    done = true;
  });
  if (!RunUntil(s.ioc, done, timeout)) {
    s.Abandon();
    return absl::DeadlineExceededError("write timed out");
  }
  if (ec) return absl::UnavailableError(absl::StrCat("write: ", ErrorText(ec)));
  return absl::OkStatus();
}

absl::Status WebSocketClient::SendText(std::string_view text, std::chrono::milliseconds timeout) {
  return Send(text, /*binary=*/false, timeout);
}

absl::Status WebSocketClient::SendBinary(std::string_view bytes,
                                         std::chrono::milliseconds timeout) {
  return Send(bytes, /*binary=*/true, timeout);
}

absl::Status WebSocketClient::Close(std::chrono::milliseconds timeout) {
  State& s = *state_;
  if (s.broken) return absl::OkStatus();
  bool done = false;
  beast::error_code ec;
  s.ws.async_close(websocket::close_code::normal, [&](beast::error_code result) {
    ec = result;
    done = true;
  });
  const bool finished = RunUntil(s.ioc, done, timeout);
  s.Abandon();
  if (!finished) return absl::DeadlineExceededError("close timed out");
  if (ec) return absl::UnavailableError(absl::StrCat("close: ", ErrorText(ec)));
  return absl::OkStatus();
}

void WebSocketClient::Kill() {
  State& s = *state_;
  beast::error_code ignored;
  // Linger 0: a reset, like a process that died, not an orderly FIN.
  beast::get_lowest_layer(s.ws).socket().set_option(net::socket_base::linger(true, 0), ignored);
  s.Abandon();
}

}  // namespace sbd::testing
