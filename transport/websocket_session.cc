#include "transport/websocket_session.h"

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/version.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>
#include <cassert>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/account_feed.h"
#include "engine/error_code.h"
#include "transport/limits.h"
#include "transport/messages.h"
#include "transport/notifier.h"
#include "transport/websocket_session_internal.h"

namespace sbd {

namespace websocket_internal {

bool IsPing(std::string_view text) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(text, ec);
  if (ec || !value.is_object()) return false;
  const boost::json::value* type = value.as_object().if_contains("type");
  return type != nullptr && type->is_string() && type->as_string() == "ping";
}

ClientMessageAction ClassifyClientMessage(bool binary, std::string_view text) {
  if (binary) return ClientMessageAction::kCloseUnknownData;
  return IsPing(text) ? ClientMessageAction::kPong : ClientMessageAction::kIgnore;
}

}  // namespace websocket_internal

namespace {

using websocket_internal::ClientMessageAction;

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

// One WebSocket connection. Every member below is touched on the strand only
// (the one the socket's executor is), except `strand_` and the immutable
// identity fields, which Deliver/GoAway read from other threads.
class WebSocketSession : public NotificationSink,
                         public std::enable_shared_from_this<WebSocketSession> {
 public:
  WebSocketSession(SessionSocket socket, std::string username, Identity identity,
                   std::optional<int64_t> since, const ServerContext& context)
      : strand_(socket.get_executor()),
        ws_(std::move(socket)),
        context_(context),
        username_(std::move(username)),
        identity_(std::move(identity)),
        since_(since),
        expiry_timer_(strand_),
        close_deadline_(strand_) {
    assert(context_.now_s && "ServerContext::now_s is required");
  }

  void Start(http::request<http::string_body> upgrade) {
    upgrade_ = std::move(upgrade);
    net::dispatch(strand_, [self = shared_from_this()] { self->Accept(); });
  }

  // NotificationSink; writer thread.
  void Deliver(std::vector<Notification> notifications) override {
    net::post(strand_, [self = shared_from_this(), batch = std::move(notifications)]() mutable {
      self->OnLive(std::move(batch));
    });
  }

  // NotificationSink; any thread.
  void RecheckToken() override {
    net::post(strand_, [self = shared_from_this()] {
      if (self->context_.tokens.IsRevoked(self->identity_)) {
        self->Close(websocket::close_code::policy_error, "token revoked");
      }
    });
  }

  // NotificationSink; any thread.
  void GoAway() override {
    net::post(strand_, [self = shared_from_this()] {
      self->Close(websocket::close_code::going_away, "server shutting down");
    });
  }

 private:
  enum class Phase {
    kAccepting,     // Handshake not finished; not registered yet.
    kSnapshotting,  // Registered, waiting for the feed's snapshot; live messages are held.
    kReplaying,     // `since` replay running; live messages are held back.
    kLive,       // Live messages go straight to the outbox.
    kClosing,    // A close was started; nothing more is queued.
    kDone,       // The read loop ended; the session is finished.
  };

  struct Outgoing {
    std::shared_ptr<const std::string> text;
    bool counted = false;  // Part of the backlog the limit bounds (live and pongs).
  };

  void Accept() {
    websocket::stream_base::timeout timeouts =
        websocket::stream_base::timeout::suggested(beast::role_type::server);
    timeouts.handshake_timeout = kWebSocketAcceptTimeout;
    // Beast pings after half the idle timeout without incoming data and drops
    // the connection at the full timeout: "ping every interval, dead after
    // one more interval without a pong".
    timeouts.idle_timeout = 2 * context_.options.websocket_ping_interval;
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& response) {
      response.set(http::field::server, "sbd-ledger");
    }));
    websocket_internal::ApplyClientMessageRules(ws_);
    ws_.async_accept(upgrade_,
                     beast::bind_front_handler(&WebSocketSession::OnAccept, shared_from_this()));
  }

  void OnAccept(beast::error_code ec) {
    upgrade_ = {};
    if (ec) {
      phase_ = Phase::kDone;
      return;
    }
    // Handshake done: from now on the close handshake needs its own deadline.
    websocket::stream_base::timeout timeouts;
    ws_.get_option(timeouts);
    timeouts.handshake_timeout = context_.options.websocket_close_timeout;
    ws_.set_option(timeouts);

    DoRead();
    // Register BEFORE the snapshot: every event after the snapshot's seq is
    // then published while we are registered, so none is missed; the ones
    // at or before it that still arrive are dropped in OnLive.
    registered_ = context_.notifier.Register(username_, shared_from_this());
    if (!registered_) {
      Close(websocket::close_code::going_away, "server shutting down");
      return;
    }
    const int64_t ttl_s = identity_.expires_at_s - context_.now_s();
    if (ttl_s <= 0) {
      Close(websocket::close_code::policy_error, "token expired");
      return;
    }
    if (identity_.expires_at_s != kNeverExpires) {
      // Capped so the clock's nanoseconds cannot overflow; a token valid for
      // a century is closed after one.
      expiry_timer_.expires_after(
          std::chrono::seconds(std::min(ttl_s, kWebSocketExpiryTimerSecondsMax)));
      expiry_timer_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
        if (!wait_ec) self->Close(websocket::close_code::policy_error, "token expired");
      });
    }

    phase_ = Phase::kSnapshotting;
    context_.feed.Snapshot(username_, [self = shared_from_this()](
                                          absl::StatusOr<FeedSnapshot> snapshot) mutable {
      // At once on the strand when the feed answered inline (the server's
      // own ledger), else posted there from the feed's thread.
      net::dispatch(self->strand_, [self, snapshot = std::move(snapshot)]() mutable {
        self->OnSnapshot(std::move(snapshot));
      });
    });
  }

  void OnSnapshot(absl::StatusOr<FeedSnapshot> snapshot) {
    if (phase_ != Phase::kSnapshotting) return;  // Closed meanwhile.
    if (!snapshot.ok()) {
      if (ErrorCodeOf(snapshot.status()) == ErrorCode::kAccountNotFound) {
        Close(websocket::close_code::policy_error, "account_not_found");
      } else {
        // The account's source cannot be reached now (a gateway's node):
        // the client retries, as after a backlog close.
        Close(websocket::close_code::try_again_later, "account unavailable");
      }
      return;
    }
    snapshot_seq_ = snapshot->seq;
    // Live messages that arrived while the snapshot was taken: the ones it
    // covers leave the backlog they were counted into.
    std::erase_if(held_, [this](const Notification& held) {
      if (held.seq > snapshot_seq_) return false;
      backlog_messages_--;
      backlog_bytes_ -= held.text->size();
      return true;
    });
    Enqueue(std::make_shared<const std::string>(
                EncodeConnected(snapshot->seq, username_, snapshot->balance)),
            /*counted=*/false);
    if (since_.has_value()) {
      context_.metrics.CountResume();
      replay_cursor_ = std::max<int64_t>(*since_, 0);
    }
    if (since_.has_value() && replay_cursor_ < snapshot_seq_) {
      phase_ = Phase::kReplaying;
      ReplayNextChunk();
    } else {
      GoLive();
    }
  }

  // Asks for the next page of missed events (at most kResumeEventsPerRead)
  // once the outbox has drained, so a client far behind never makes us hold
  // its history in memory. Runs on the strand, off the ledger's writer
  // thread; one page at a time.
  void ReplayNextChunk() {
    if (phase_ != Phase::kReplaying || replay_pending_ || !outbox_.empty()) return;
    replay_pending_ = true;
    context_.feed.EventsAfter(
        username_, replay_cursor_, snapshot_seq_, kResumeEventsPerRead,
        [self = shared_from_this()](absl::StatusOr<EventsPage> page) mutable {
          net::dispatch(self->strand_, [self, page = std::move(page)]() mutable {
            self->OnReplayPage(std::move(page));
          });
        });
  }

  void OnReplayPage(absl::StatusOr<EventsPage> page) {
    assert(replay_pending_);
    replay_pending_ = false;
    if (phase_ != Phase::kReplaying) return;  // Closed meanwhile.
    if (!page.ok()) {
      Close(websocket::close_code::internal_error, "resume failed");
      return;
    }
    assert(page->through > replay_cursor_ && "a feed's page moves the cursor on");
    for (const Event& event : page->events) {
      assert(event.seq > replay_cursor_ && event.seq <= page->through);
      std::optional<std::string> text = EncodeNotification(event, username_);
      if (text.has_value()) {
        Enqueue(std::make_shared<const std::string>(std::move(*text)), /*counted=*/false);
      }
    }
    replay_cursor_ = page->through;
    if (replay_cursor_ >= snapshot_seq_) {
      GoLive();
    } else {
      // A page with nothing to send: ask for the next at once (else the
      // write loop, when the outbox drains).
      ReplayNextChunk();
    }
  }

  // Replay complete (or none asked for): the held live messages (all seq >
  // snapshot) follow what is queued (all seq <= snapshot) in the outbox.
  void GoLive() {
    phase_ = Phase::kLive;
    // Counted into the backlog when they arrived (OnLive).
    for (Notification& held : held_) Enqueue(std::move(held.text), /*counted=*/true);
    held_.clear();
  }

  void OnLive(std::vector<Notification> batch) {
    if (phase_ != Phase::kSnapshotting && phase_ != Phase::kReplaying && phase_ != Phase::kLive) {
      return;
    }
    for (Notification& notification : batch) {
      // Covered by `connected`'s seq (and so by the replay up to it); while
      // the snapshot is taken its seq is not known yet, so all are held.
      if (phase_ != Phase::kSnapshotting && notification.seq <= snapshot_seq_) continue;
      backlog_messages_++;
      backlog_bytes_ += notification.text->size();
      if (phase_ != Phase::kLive) {
        held_.push_back(std::move(notification));
      } else {
        Enqueue(std::move(notification.text), /*counted=*/true);
      }
    }
    if (backlog_messages_ > context_.options.websocket_backlog_messages_max ||
        backlog_bytes_ > context_.options.websocket_backlog_bytes_max) {
      context_.metrics.CountSlowConsumerDisconnect();
      Close(websocket::close_code::try_again_later, "backlog limit");
    }
    // The queue bound: past either limit the session is closing (and its
    // queues are dropped).
    assert(phase_ == Phase::kClosing ||
           (backlog_messages_ <= context_.options.websocket_backlog_messages_max &&
            backlog_bytes_ <= context_.options.websocket_backlog_bytes_max));
  }

  // Nothing is queued once a close has started (Close dropped the queue).
  bool Queueing() const {
    return phase_ == Phase::kAccepting || phase_ == Phase::kSnapshotting ||
           phase_ == Phase::kReplaying || phase_ == Phase::kLive;
  }

  // Queues `text`; `counted`: it is part of the backlog the limit bounds, and
  // the caller has counted it in already (OnLive on arrival, a pong here).
  void Enqueue(std::shared_ptr<const std::string> text, bool counted) {
    assert(Queueing() && "nothing is queued after a close started");
    assert(text != nullptr);
    outbox_.push_back({std::move(text), counted});
    if (!writing_) DoWrite();
  }

  void DoWrite() {
    assert(!writing_ && "Beast allows one write in flight");
    assert(!outbox_.empty());
    assert(Queueing() && "nothing is written after a close started");
    writing_ = true;
    // Moved out of the outbox so that clearing it (close) never frees the
    // buffer Beast is writing from.
    in_flight_ = std::move(outbox_.front());
    outbox_.pop_front();
    ws_.async_write(net::buffer(*in_flight_.text),
                    beast::bind_front_handler(&WebSocketSession::OnWrite, shared_from_this()));
  }

  void OnWrite(beast::error_code ec, size_t /*bytes*/) {
    assert(writing_ && in_flight_.text != nullptr && "a write completed that was not started");
    writing_ = false;
    Outgoing sent = std::move(in_flight_);
    if (ec) {
      // The read loop sees the dead socket and finishes the session.
      Abort();
      return;
    }
    context_.metrics.CountMessagesSent(1);
    if (sent.counted) {
      assert(backlog_messages_ >= 1 && backlog_bytes_ >= sent.text->size() &&
             "a counted message leaves the backlog once");
      backlog_messages_--;
      backlog_bytes_ -= sent.text->size();
    }
    if (phase_ != Phase::kReplaying && phase_ != Phase::kLive) return;  // Closing.
    // Live with nothing queued: the backlog is empty (every counted message
    // counted once, and uncounted once when sent).
    assert(!(phase_ == Phase::kLive && outbox_.empty()) ||
           (backlog_messages_ == 0 && backlog_bytes_ == 0));
    if (outbox_.empty() && phase_ == Phase::kReplaying) ReplayNextChunk();
    if (!outbox_.empty() && !writing_) DoWrite();
  }

  void DoRead() {
    ws_.async_read(read_buffer_,
                   beast::bind_front_handler(&WebSocketSession::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t /*bytes*/) {
    if (ec) {
      Finish();
      return;
    }
    const ClientMessageAction action = websocket_internal::ClassifyClientMessage(
        ws_.got_binary(), beast::buffers_to_string(read_buffer_.data()));
    if (action == ClientMessageAction::kCloseUnknownData) {
      Close(websocket::close_code::unknown_data, "binary frames are not accepted");
    } else if (action == ClientMessageAction::kPong &&
               (phase_ == Phase::kReplaying || phase_ == Phase::kLive)) {
      auto pong = std::make_shared<const std::string>(EncodePong());
      backlog_messages_++;
      backlog_bytes_ += pong->size();
      Enqueue(std::move(pong), /*counted=*/true);
    }
    read_buffer_.consume(read_buffer_.size());
    // Once closing, async_close reads up to the peer's close frame itself; a
    // read of ours beside it could wait on it forever (Boost 1.81, a bad
    // frame behind a binary one).
    if (phase_ == Phase::kClosing) return;
    DoRead();
  }

  // Starts the close handshake with `code`. Queued messages are dropped (the
  // client resumes with `since`); the one being written finishes first.
  void Close(websocket::close_code code, std::string_view reason) {
    if (phase_ == Phase::kClosing || phase_ == Phase::kDone) return;
    phase_ = Phase::kClosing;
    Unregister();
    expiry_timer_.cancel();
    held_.clear();
    outbox_.clear();
    assert(!registered_ && held_.empty() && outbox_.empty());
    close_deadline_.expires_after(context_.options.websocket_close_timeout);
    close_deadline_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
      if (!wait_ec) self->Abort();
    });
    ws_.async_close(websocket::close_reason(code, reason),
                    [self = shared_from_this()](beast::error_code) { self->Finish(); });
  }

  // Drops the TCP connection at once; pending operations complete with an
  // error and the read loop finishes the session.
  void Abort() {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

  void Finish() {
    phase_ = Phase::kDone;
    Unregister();
    expiry_timer_.cancel();
    close_deadline_.cancel();
    outbox_.clear();
    held_.clear();
    Abort();
  }

  void Unregister() {
    if (!registered_) return;
    registered_ = false;
    context_.notifier.Unregister(username_, this);
  }

  const SessionStrand strand_;
  websocket::stream<SessionStream> ws_;
  const ServerContext context_;
  const std::string username_;
  const Identity identity_;
  const std::optional<int64_t> since_;

  http::request<http::string_body> upgrade_;
  net::steady_timer expiry_timer_;
  net::steady_timer close_deadline_;
  beast::flat_buffer read_buffer_;

  Phase phase_ = Phase::kAccepting;
  bool registered_ = false;
  int64_t snapshot_seq_ = 0;       // `connected`'s seq: live messages up to it are dropped.
  int64_t replay_cursor_ = 0;      // Every missed event up to it is queued.
  bool replay_pending_ = false;    // A page was asked for and has not come back.
  std::deque<Notification> held_;  // Live messages waiting for the replay to end.
  std::deque<Outgoing> outbox_;    // Waiting for the write in flight.
  Outgoing in_flight_;             // Being written when writing_.
  bool writing_ = false;
  // Live messages and pongs in held_ or outbox_ (the API's unsent backlog).
  size_t backlog_messages_ = 0;
  size_t backlog_bytes_ = 0;
};

}  // namespace

void StartWebSocketSession(SessionSocket socket, http::request<http::string_body> upgrade,
                           std::string username, Identity identity, std::optional<int64_t> since,
                           const ServerContext& context) {
  auto session = std::make_shared<WebSocketSession>(std::move(socket), std::move(username),
                                                    std::move(identity), since, context);
  session->Start(std::move(upgrade));
}

}  // namespace sbd
