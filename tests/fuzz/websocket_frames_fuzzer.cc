// Fuzz target: a WebSocket client's byte stream as the server reads it.
//
// transport/websocket_session.cc runs on a real tcp_stream, so this target
// runs the session's own rules (transport/websocket_session_internal.h: the
// stream settings, ApplyClientMessageRules, with the 4 KiB client message
// cap of transport/limits.h, and ClassifyClientMessage with the session's
// IsPing) on Beast's in-memory test stream: a server-role
// boost::beast::websocket::stream (no permessage-deflate), accepted with an
// upgrade request that was parsed first (as the HTTP session hands it over),
// then a read loop shaped as the session's: a binary frame starts a close
// with 1003, a text {"type":"ping"} queues a pong, anything else is ignored,
// and once a close has started the loop does not read again (async_close
// reads, and discards, up to the peer's close frame itself). With Boost 1.81
// a read beside async_close deadlocks when the bytes buffered behind the
// frame that triggered the close hold a protocol error (the read op holds
// the read lock and waits for the write lock to send its own close frame,
// the close op the reverse); regressions/websocket_frames/
// close-then-bad-frame-deadlock keeps that fixed in both.
//
// The first byte picks the handshake: even, a valid upgrade request built
// here and the rest of the input is the client's frames; odd, the rest is
// the raw bytes of the upgrade request and frames alike (Beast parses the
// request itself).
// Properties: nothing crashes, trips a sanitizer or hangs; the loop ends.
#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_input.h"
#include "transport/websocket_session_internal.h"

namespace sbd::fuzz {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

using sbd::websocket_internal::ClientMessageAction;

// The session's read side and its small write queue, on a test stream.
class Session {
 public:
  explicit Session(net::io_context& io) : ws_(io) {
    sbd::websocket_internal::ApplyClientMessageRules(ws_);
  }

  beast::test::stream& socket() { return ws_.next_layer(); }

  void AcceptParsed(http::request<http::string_body> upgrade) {
    upgrade_ = std::move(upgrade);
    ws_.async_accept(upgrade_, [this](beast::error_code ec) { OnAccept(ec); });
  }

  void AcceptRaw() {
    ws_.async_accept([this](beast::error_code ec) { OnAccept(ec); });
  }

  int messages() const { return messages_; }

 private:
  void OnAccept(beast::error_code ec) {
    if (ec) return;
    DoRead();
  }

  void DoRead() {
    ws_.async_read(buffer_, [this](beast::error_code ec, size_t) { OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec) return;  // Closed, or a protocol error Beast answered itself.
    ++messages_;
    const ClientMessageAction action = sbd::websocket_internal::ClassifyClientMessage(
        ws_.got_binary(), beast::buffers_to_string(buffer_.data()));
    if (action == ClientMessageAction::kCloseUnknownData) {
      Close(websocket::close_code::unknown_data);
      return;  // async_close reads until the peer's close frame.
    }
    if (action == ClientMessageAction::kPong) {
      outbox_.push_back(R"({"type":"pong"})");
      if (!writing_) DoWrite();
    }
    buffer_.consume(buffer_.size());
    DoRead();
  }

  void DoWrite() {
    if (outbox_.empty() || closing_) return;
    writing_ = true;
    ws_.async_write(net::buffer(outbox_.front()), [this](beast::error_code ec, size_t) {
      writing_ = false;
      outbox_.pop_front();
      if (!ec) DoWrite();
    });
  }

  void Close(websocket::close_code code) {
    if (closing_) return;
    closing_ = true;
    ws_.async_close(websocket::close_reason(code, "fuzz"), [](beast::error_code) {});
  }

  websocket::stream<beast::test::stream> ws_;
  http::request<http::string_body> upgrade_;
  beast::flat_buffer buffer_;
  std::deque<std::string> outbox_;
  bool writing_ = false;
  bool closing_ = false;
  int messages_ = 0;
};

http::request<http::string_body> UpgradeRequest() {
  http::request<http::string_body> request(http::verb::get, "/ws?token=t", 11);
  request.set(http::field::host, "localhost");
  request.set(http::field::upgrade, "websocket");
  request.set(http::field::connection, "Upgrade");
  request.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  request.set(http::field::sec_websocket_version, "13");
  return request;
}

}  // namespace
}  // namespace sbd::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sbd::fuzz;
  FuzzInput input(data, size);
  const bool raw_handshake = (input.Byte() & 1) != 0;
  const std::string_view bytes = input.Rest();

  net::io_context io;
  Session session(io);
  // The client end absorbs what the server writes (101, pongs, close).
  beast::test::stream client(io);
  client.connect(session.socket());
  session.socket().append(beast::string_view(bytes.data(), bytes.size()));
  // Then the client goes away: every read after the input sees end of file.
  session.socket().close_remote();
  if (raw_handshake) {
    session.AcceptRaw();
  } else {
    session.AcceptParsed(UpgradeRequest());
  }
  io.run();
  // Every input is at most libFuzzer's -max_len; a loop that did not end
  // would have hung io.run(). Each message needs at least a 2-byte header.
  if (static_cast<size_t>(session.messages()) > size) abort();
  return 0;
}
