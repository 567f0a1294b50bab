#include "tests/support/http_client.h"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <optional>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace sbd::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  auto it = headers.find(absl::AsciiStrToLower(std::string(name)));
  return it == headers.end() ? std::string() : it->second;
}

boost::json::value HttpResponse::Json() const {
  boost::system::error_code error;
  boost::json::value value = boost::json::parse(body, error);
  if (error) return nullptr;
  return value;
}

struct HttpClient::State {
  asio::io_context io;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  // Runs the io_context until `done` or the timeout; on a timeout the
  // connection is closed (which completes the pending operation).
  bool Run(const bool& done, std::chrono::milliseconds timeout) {
    io.restart();
    io.run_for(timeout);
    if (!done) {
      if (stream) stream->socket().close();
      io.restart();
      io.run_for(std::chrono::seconds(1));  // Let the cancelled handler run.
      return false;
    }
    return true;
  }
};

HttpClient::HttpClient(uint16_t port, std::chrono::milliseconds timeout)
    : state_(std::make_unique<State>()), port_(port), timeout_(timeout) {}

HttpClient::~HttpClient() { Close(); }

bool HttpClient::connected() const {
  return state_->stream.has_value() && state_->stream->socket().is_open();
}

void HttpClient::Close() {
  if (state_->stream) {
    boost::system::error_code ignored;
    state_->stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
    state_->stream->socket().close(ignored);
    state_->stream.reset();
  }
  state_->buffer.clear();
}

absl::Status HttpClient::Connect() {
  Close();
  state_->stream.emplace(state_->io);
  bool done = false;
  boost::system::error_code result;
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port_);
  state_->stream->async_connect(endpoint, [&](boost::system::error_code error) {
    result = error;
    done = true;
  });
  if (!state_->Run(done, timeout_)) {
    Close();
    return absl::DeadlineExceededError("connect timed out");
  }
  if (result) {
    Close();
    return absl::UnavailableError(absl::StrCat("connect: ", result.message()));
  }
  ++connections_opened_;
  return absl::OkStatus();
}

absl::Status HttpClient::SendRaw(std::string_view bytes) {
  if (!connected()) {
    absl::Status status = Connect();
    if (!status.ok()) return status;
  }
  bool done = false;
  boost::system::error_code result;
  asio::async_write(state_->stream->socket(), asio::buffer(bytes.data(), bytes.size()),
                    [&](boost::system::error_code error, size_t) {
                      result = error;
                      done = true;
                    });
  if (!state_->Run(done, timeout_)) return absl::DeadlineExceededError("write timed out");
  if (result) return absl::UnavailableError(absl::StrCat("write: ", result.message()));
  return absl::OkStatus();
}

absl::StatusOr<HttpResponse> HttpClient::ReadResponse() {
  if (!connected()) return absl::FailedPreconditionError("not connected");
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  bool done = false;
  boost::system::error_code result;
  http::async_read(*state_->stream, state_->buffer, parser,
                   [&](boost::system::error_code error, size_t) {
                     result = error;
                     done = true;
                   });
  if (!state_->Run(done, timeout_)) {
    Close();
    return absl::DeadlineExceededError("read timed out");
  }
  if (result) {
    Close();
    return absl::UnavailableError(absl::StrCat("read: ", result.message()));
  }
  http::response<http::string_body> message = parser.release();
  HttpResponse response;
  response.status = static_cast<int>(message.result_int());
  for (const auto& field : message) {
    response.headers[absl::AsciiStrToLower(std::string(field.name_string()))] =
        std::string(field.value());
  }
  response.body = std::move(message.body());
  if (!message.keep_alive()) Close();
  return response;
}

absl::StatusOr<std::string> HttpClient::ReadUntilClosed() {
  if (!connected()) return absl::FailedPreconditionError("not connected");
  std::string data(static_cast<const char*>(state_->buffer.data().data()), state_->buffer.size());
  state_->buffer.clear();
  bool closed = false;
  bool done = false;
  auto deadline = std::chrono::steady_clock::now() + timeout_;
  while (!closed && std::chrono::steady_clock::now() < deadline) {
    char chunk[4096];
    done = false;
    boost::system::error_code result;
    size_t got = 0;
    state_->stream->socket().async_read_some(asio::buffer(chunk),
                                             [&](boost::system::error_code error, size_t n) {
                                               result = error;
                                               got = n;
                                               done = true;
                                             });
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (!state_->Run(done, std::max(left, std::chrono::milliseconds(1)))) break;
    data.append(chunk, got);
    if (result) closed = true;  // EOF or reset: the server closed.
  }
  Close();
  if (!closed) return absl::DeadlineExceededError("server did not close the connection");
  return data;
}

absl::StatusOr<HttpResponse> HttpClient::Request(std::string_view method, std::string_view target,
                                                 std::string_view body, std::string_view token,
                                                 const Headers& headers) {
  http::request<http::string_body> request;
  request.method_string(method);
  request.target(target);
  request.version(11);
  request.set(http::field::host, absl::StrCat("127.0.0.1:", port_));
  if (!token.empty())
    request.set(http::field::authorization, absl::StrCat("Bearer ", std::string(token)));
  if (!body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = std::string(body);
  }
  for (const auto& [name, value] : headers) request.set(name, value);
  request.prepare_payload();
  std::string bytes;
  {
    std::ostringstream out;
    out << request;
    bytes = out.str();
  }
  // A keep-alive connection the server closed while idle: retry once on a
  // fresh one.
  const bool reused = connected();
  absl::Status sent = SendRaw(bytes);
  absl::StatusOr<HttpResponse> response =
      sent.ok() ? ReadResponse() : absl::StatusOr<HttpResponse>(sent);
  if (!response.ok() && reused && !absl::IsDeadlineExceeded(response.status())) {
    Close();
    sent = SendRaw(bytes);
    if (!sent.ok()) return sent;
    return ReadResponse();
  }
  return response;
}

}  // namespace sbd::testing
