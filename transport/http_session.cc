#include "transport/http_session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/absl_compat.h"
#include "transport/access_log.h"
#include "transport/limits.h"
#include "transport/rejection.h"
#include "transport/session_registry.h"
#include "transport/websocket_session.h"
#include "transport/write_forwarder.h"

namespace sbd {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

std::string_view PathOf(std::string_view target) { return target.substr(0, target.find('?')); }

// Appends `response` (its Content-Length set) as Beast's serializer would
// write it: status line, fields in order, blank line, body. One contiguous
// buffer is one send, without the serializer's generic buffer sequences.
void AppendWireFormat(const HttpResponse& response, std::string& out) {
  const unsigned version = response.version();
  absl::StrAppend(&out, "HTTP/", version / 10, ".", version % 10, " ", response.result_int(), " ",
                  ToAbsl(response.reason()), "\r\n");
  for (const auto& field : response) {
    absl::StrAppend(&out, ToAbsl(field.name_string()), ": ", ToAbsl(field.value()), "\r\n");
  }
  absl::StrAppend(&out, "\r\n", response.body());
}

}  // namespace

HttpSession::HttpSession(SessionSocket socket, const ServerContext& context, RequestHandler& handler,
                         SessionRegistry& registry)
    : socket_(std::move(socket)),
      watchdog_(socket_.get_executor()),
      context_(context),
      handler_(handler),
      registry_(registry) {}

HttpSession::~HttpSession() {
  if (registry_id_ != 0) registry_.Remove(registry_id_);
}

void HttpSession::Start(uint64_t registry_id) {
  registry_id_ = registry_id;
  asio::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->WaitForRequest(); });
}

void HttpSession::Shutdown() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->shutting_down_ = true;
    if (!self->busy_) self->Close();
  });
}

void HttpSession::WaitForRequest() {
  if (shutting_down_ || closed_) return Close();
  if (buffer_.size() > 0) return ReadHeader();  // A pipelined request is waiting.
  SetDeadline(context_.options.keep_alive_idle_timeout);
  socket_.async_read_some(buffer_.prepare(kHttpReadChunkBytes),
                          [self = shared_from_this()](beast::error_code error, size_t bytes) {
                            if (error) return self->Close();
                            self->buffer_.commit(bytes);
                            self->ReadHeader();
                          });
}

void HttpSession::ReadHeader() {
  if (shutting_down_ || closed_) return Close();
  request_started_ = std::chrono::steady_clock::now();
  access_method_ = "-";
  access_target_ = "-";
  cors_origin_.clear();
  SetDeadline(context_.options.request_read_timeout);
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(context_.options.request_header_bytes_max));
  parser_->body_limit(context_.options.request_body_bytes_max);
  http::async_read_header(
      socket_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code error, size_t) { self->OnHeader(error); });
}

void HttpSession::OnHeader(beast::error_code error) {
  if (!error || error == http::error::body_limit) {
    const auto& header = parser_->get();
    // Kept for the answer even to a request that is never read whole (413).
    if (context_.options.cors.enabled()) {
      auto origin = header.find(http::field::origin);
      if (origin != header.end() && context_.options.cors.Allows(origin->value())) {
        cors_origin_ = std::string(origin->value());
      }
    }
    // Kept only for the access log (of a request that is never read whole).
    if (context_.options.access_log) {
      access_method_ = std::string(header.method_string());
      access_target_ = std::string(PathOf(header.target()));
    }
  }
  if (error == http::error::header_limit) {
    HttpResponse response =
        RejectRequest(context_.metrics, ErrorCode::kPayloadTooLarge, "request header fields too large");
    response.result(http::status::request_header_fields_too_large);
    return Reject(std::move(response));
  }
  if (error == http::error::body_limit) {
    return Reject(RejectRequest(context_.metrics, ErrorCode::kPayloadTooLarge, "request body too large"));
  }
  if (error) return Close();  // Timeout, reset, or not HTTP: nothing to answer.
  if (parser_->is_done()) return OnRequest({});
  const auto& header = parser_->get();
  auto expect = header.find(http::field::expect);
  if (expect != header.end() && beast::iequals(expect->value(), "100-continue")) {
    asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                      [self = shared_from_this()](beast::error_code write_error, size_t) {
                        if (write_error) return self->Close();
                        self->ReadBody();
                      });
    return;
  }
  ReadBody();
}

void HttpSession::ReadBody() {
  http::async_read(
      socket_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code error, size_t) { self->OnRequest(error); });
}

void HttpSession::OnRequest(beast::error_code error) {
  if (error == http::error::body_limit) {
    return Reject(RejectRequest(context_.metrics, ErrorCode::kPayloadTooLarge, "request body too large"));
  }
  if (error) return Close();
  request_ = parser_->release();
  parser_.reset();
  busy_ = true;
  context_.metrics.CountHttpRequest();
  // The command may wait for a group commit; the write has its own timeout.
  deadline_ = kNoDeadline;
  if (IsWebSocketRequest(request_)) return UpgradeToWebSocket();
  handler_.Handle(
      request_, socket_.get_executor(),
      [self = shared_from_this()](HttpResponse response) { self->Write(std::move(response)); });
}

void HttpSession::UpgradeToWebSocket() {
  // Asynchronous only when the caller's account is opened on first use.
  handler_.AuthorizeWebSocket(
      request_, socket_.get_executor(),
      [self = shared_from_this()](std::variant<WebSocketGrant, HttpResponse> grant) {
        self->OnWebSocketGrant(std::move(grant));
      });
}

void HttpSession::OnWebSocketGrant(std::variant<WebSocketGrant, HttpResponse>&& grant) {
  if (HttpResponse* response = std::get_if<HttpResponse>(&grant)) {
    return Write(std::move(*response));
  }
  // Shut down while the account was being opened: the notifier has closed
  // every WebSocket already, so do not start another.
  if (shutting_down_) {
    return Write(RejectRequest(context_.metrics, ErrorCode::kUnavailable, "the server is shutting down"));
  }
  WebSocketGrant& ok = std::get<WebSocketGrant>(grant);
  LogAccess(101);
  closed_ = true;  // The WebSocket session owns the socket from here on.
  watchdog_.cancel();
  StartWebSocketSession(std::move(socket_), std::move(request_), std::move(ok.username),
                        std::move(ok.identity), ok.since, context_);
}

void HttpSession::Write(HttpResponse response) {
  if (closed_) return;
  const bool keep_alive = request_.keep_alive() && !shutting_down_;
  response.version(request_.version());
  response.keep_alive(keep_alive);
  if (!cors_origin_.empty()) {
    response.set(http::field::access_control_allow_origin, cors_origin_);
    response.set(http::field::vary, "Origin");
    response.set(http::field::access_control_expose_headers, CorsPolicy::kExposeHeaders);
  }
  // Cluster mode: how far this node is, for read-your-writes across nodes
  // (a forwarded write's answer gets this node's, not the writer's).
  if (context_.cluster != nullptr)
    response.set(kSeqHeader, std::to_string(context_.feed.LastSeq()));
  response.prepare_payload();
  // RFC 9110 §8.6: no Content-Length in a 204 (Beast sets "0").
  if (response.result() == http::status::no_content) response.erase(http::field::content_length);
  LogAccess(response.result_int());
  response_wire_.clear();
  AppendWireFormat(response, response_wire_);
  SetDeadline(kHttpWriteTimeout);
  asio::async_write(socket_, asio::buffer(response_wire_),
                    [self = shared_from_this(), close = !keep_alive](
                        beast::error_code error, size_t) { self->OnWrite(close, error); });
}

void HttpSession::OnWrite(bool close, beast::error_code error) {
  busy_ = false;
  if (error) return Close();
  if (close) return Linger();
  WaitForRequest();
}

void HttpSession::Reject(HttpResponse response) {
  busy_ = true;
  request_ = {};
  request_.version(11);
  request_.keep_alive(false);
  if (parser_.has_value() && parser_->is_header_done()) request_.version(parser_->get().version());
  parser_.reset();
  shutting_down_ = true;  // Never read after a request we did not read whole.
  Write(std::move(response));
}

void HttpSession::Linger() {
  if (closed_) return;
  beast::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  SetDeadline(kHttpLingerTimeout);
  socket_.async_read_some(asio::buffer(linger_buffer_),
                          [self = shared_from_this()](beast::error_code error, size_t bytes) {
                            self->lingered_bytes_ += bytes;
                            if (error || self->lingered_bytes_ > kHttpLingerBytesMax)
                              return self->Close();
                            self->Linger();
                          });
}

void HttpSession::SetDeadline(std::chrono::steady_clock::duration timeout) {
  deadline_ = std::chrono::steady_clock::now() + timeout;
  // The watchdog, armed at or before the deadline, checks it when it fires;
  // only a deadline earlier than its expiry re-arms it.
  if (!watchdog_armed_ || watchdog_.expiry() > deadline_) ArmWatchdog();
}

void HttpSession::ArmWatchdog() {
  watchdog_armed_ = true;
  watchdog_.expires_at(deadline_);
  watchdog_.async_wait([self = shared_from_this()](beast::error_code error) {
    if (!error) self->OnWatchdog();  // Else re-armed or cancelled.
  });
}

void HttpSession::OnWatchdog() {
  watchdog_armed_ = false;
  if (closed_ || deadline_ == kNoDeadline) return;
  if (std::chrono::steady_clock::now() < deadline_) return ArmWatchdog();
  // Timed out: closing fails the pending read or write, whose handler ends
  // the session.
  Close();
}

void HttpSession::Close() {
  if (closed_) return;
  closed_ = true;
  watchdog_.cancel();
  beast::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

void HttpSession::LogAccess(unsigned status) const {
  if (!context_.options.access_log || context_.log == nullptr) return;
  const double elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - request_started_)
          .count();
  std::string method = access_method_;
  std::string target = access_target_;
  if (request_.method() != http::verb::unknown || !request_.target().empty()) {
    method = std::string(request_.method_string());
    target = std::string(PathOf(request_.target()));
  }
  // Queued, never written here: a stderr nobody reads must not stall the
  // io thread (AccessLog).
  context_.log->Append(absl::StrFormat("%s %s %u %.3fms", method.empty() ? "-" : method,
                                       target.empty() ? "-" : target, status, elapsed_ms));
}

}  // namespace sbd
