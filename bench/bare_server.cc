#include "bench/bare_server.h"

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/url/parse.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <deque>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/server_under_test.h"
#include "engine/absl_compat.h"
#include "engine/command.h"
#include "engine/error_code.h"
#include "engine/event.h"
#include "engine/mutex.h"
#include "transport/answers.h"
#include "transport/http_message.h"
#include "transport/messages.h"
#include "transport/request_parser.h"
#include "transport/token_authority.h"

namespace sbd::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

// The balance every answer and frame carries: the bare server keeps none,
// and a 7-digit number is what the benchmark's users hold.
constexpr int64_t kShownBalance = 1'000'000;
constexpr size_t kBodyLimit = 64 * 1024;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class WebSocketConnection;

// What every connection shares: the token check, the seq counter and who is
// connected as whom.
class BareState {
 public:
  explicit BareState(std::string secret) : tokens_(std::move(secret)) {}

  absl::StatusOr<Identity> Verify(std::string_view token) const {
    return tokens_.Verify(token, static_cast<int64_t>(std::time(nullptr)));
  }

  // The event a send or a mint "commits": the next seq, a transaction id of
  // a UUID's length, now.
  Event NextEvent(EventType type) {
    Event event;
    event.seq = seq_.fetch_add(1, std::memory_order_relaxed) + 1;
    event.type = type;
    event.timestamp_ms = NowMs();
    event.transaction_id = absl::StrFormat("%08x-0000-4000-8000-%012x", event.seq, event.seq);
    event.from_balance = kShownBalance;
    event.to_balance = kShownBalance;
    return event;
  }

  int64_t seq() const { return seq_.load(std::memory_order_relaxed); }

  void Add(const std::string& user, const std::shared_ptr<WebSocketConnection>& connection) {
    MutexLock lock(mutex_);
    connections_[user].push_back(connection);
  }

  void Remove(const std::string& user, const WebSocketConnection* connection) {
    MutexLock lock(mutex_);
    auto found = connections_.find(user);
    if (found == connections_.end()) return;
    std::erase_if(found->second,
                  [connection](const auto& held) { return held.get() == connection; });
    if (found->second.empty()) connections_.erase(found);
  }

  // `event`'s frame for `account` to each of its connections.
  void Notify(const Event& event, const std::string& account);

 private:
  TokenAuthority tokens_;
  std::atomic<int64_t> seq_{0};
  Mutex mutex_;
  absl::flat_hash_map<std::string, std::vector<std::shared_ptr<WebSocketConnection>>> connections_
      ABSL_GUARDED_BY(mutex_);
};

// One WebSocket: the `connected` frame, then every frame queued for it,
// written one at a time (Beast's websocket_chat example's queue). What the
// client sends is read and dropped.
class WebSocketConnection : public std::enable_shared_from_this<WebSocketConnection> {
 public:
  WebSocketConnection(tcp::socket socket, BareState& state, std::string user)
      : socket_(std::move(socket)), state_(state), user_(std::move(user)) {}

  void Accept(HttpRequest request) {
    socket_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    socket_.async_accept(request, [self = shared_from_this()](beast::error_code error) {
      if (error) return;
      self->state_.Add(self->user_, self);
      self->Send(EncodeConnected(self->state_.seq(), self->user_, kShownBalance));
      self->Read();
    });
  }

  // Any thread.
  void Send(std::string frame) {
    asio::post(socket_.get_executor(),
               [self = shared_from_this(), frame = std::move(frame)]() mutable {
                 self->queue_.push_back(std::move(frame));
                 if (self->queue_.size() == 1) self->WriteFront();
               });
  }

 private:
  void Read() {
    socket_.async_read(buffer_, [self = shared_from_this()](beast::error_code error, size_t) {
      if (error) return self->state_.Remove(self->user_, self.get());
      self->buffer_.consume(self->buffer_.size());
      self->Read();
    });
  }

  void WriteFront() {
    socket_.text(true);
    socket_.async_write(asio::buffer(queue_.front()),
                        [self = shared_from_this()](beast::error_code error, size_t) {
                          if (error) return self->state_.Remove(self->user_, self.get());
                          self->queue_.pop_front();
                          if (!self->queue_.empty()) self->WriteFront();
                        });
  }

  websocket::stream<beast::tcp_stream> socket_;
  BareState& state_;
  const std::string user_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;  // On the strand; front() is being written.
};

void BareState::Notify(const Event& event, const std::string& account) {
  std::optional<std::string> frame = EncodeNotification(event, account);
  if (!frame.has_value()) return;
  std::vector<std::shared_ptr<WebSocketConnection>> targets;
  {
    MutexLock lock(mutex_);
    auto found = connections_.find(account);
    if (found == connections_.end()) return;
    targets = found->second;
  }
  for (const auto& target : targets) target->Send(*frame);
}

// One keep-alive HTTP connection (Beast's http_server_async example).
class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
 public:
  HttpConnection(tcp::socket socket, BareState& state)
      : stream_(std::move(socket)), state_(state) {}

  void Read() {
    parser_.emplace();
    parser_->body_limit(kBodyLimit);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code error, size_t) {
                       if (error) return;
                       self->Handle(self->parser_->release());
                     });
  }

 private:
  void Handle(HttpRequest request) {
    if (websocket::is_upgrade(request)) return Upgrade(std::move(request));
    response_ = Answer(request);
    response_.keep_alive(request.keep_alive());
    response_.prepare_payload();
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code error, size_t) {
                        if (error || !self->response_.keep_alive()) return;
                        self->Read();
                      });
  }

  void Upgrade(HttpRequest request) {
    boost::system::result<boost::urls::url_view> target =
        boost::urls::parse_origin_form(request.target());
    if (!target.has_value() || target->path() != "/ws") return Refuse(request);
    auto token = target->params().find("token");
    if (token == target->params().end()) return Refuse(request);
    absl::StatusOr<Identity> identity = state_.Verify((*token).value);
    if (!identity.ok()) return Refuse(request);
    std::make_shared<WebSocketConnection>(stream_.release_socket(), state_, identity->subject)
        ->Accept(std::move(request));
  }

  void Refuse(const HttpRequest& request) {
    response_ = ErrorAnswer(ErrorCode::kUnauthorized, "no valid token");
    response_.keep_alive(false);
    response_.version(request.version());
    response_.prepare_payload();
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code, size_t) {});
  }

  absl::StatusOr<Identity> Caller(const HttpRequest& request) const {
    constexpr std::string_view kBearer = "Bearer ";
    auto header = request.find(http::field::authorization);
    if (header == request.end() || !absl::StartsWith(ToAbsl(header->value()), ToAbsl(kBearer))) {
      return MakeError(ErrorCode::kUnauthorized, "no bearer token");
    }
    return state_.Verify(header->value().substr(kBearer.size()));
  }

  HttpResponse Answer(const HttpRequest& request) {
    const std::string_view target = request.target();
    if (request.method() == http::verb::get && target == "/healthz") {
      return HealthAnswer(state_.seq(), nullptr);
    }
    if (request.method() != http::verb::post) return ErrorAnswer(ErrorCode::kNotFound, "");
    absl::StatusOr<Identity> caller = Caller(request);
    if (!caller.ok())
      return ErrorAnswer(ErrorCode::kUnauthorized, ToStd(caller.status().message()));
    if (target == "/sbd_tokens/send") return Send(request.body(), caller->subject);
    if (!caller->admin) return ErrorAnswer(ErrorCode::kForbidden, "admin only");
    if (target == "/admin/accounts") {
      absl::StatusOr<OpenAccountCommand> open =
          ParseOpenAccountBody(request.body(), caller->subject);
      if (!open.ok()) return ErrorAnswer(ErrorCode::kInvalidJson, ToStd(open.status().message()));
      Event event = state_.NextEvent(EventType::kAccountOpened);
      event.to_account = open->account;
      return AccountOpenedAnswer({event});
    }
    if (target == "/admin/mint") {
      absl::StatusOr<MintCommand> mint = ParseMintBody(request.body(), caller->subject);
      if (!mint.ok()) return ErrorAnswer(ErrorCode::kInvalidJson, ToStd(mint.status().message()));
      Event event = state_.NextEvent(EventType::kTokensMinted);
      event.actor = caller->subject;
      event.to_account = mint->account;
      event.amount = mint->amount.value;
      state_.Notify(event, event.to_account);
      return MintAnswer({event});
    }
    return ErrorAnswer(ErrorCode::kNotFound, "");
  }

  HttpResponse Send(std::string_view body, const std::string& from) {
    absl::StatusOr<TransferCommand> send = ParseSendBody(body, from);
    if (!send.ok()) return ErrorAnswer(ErrorCode::kInvalidJson, ToStd(send.status().message()));
    Event event = state_.NextEvent(EventType::kTokensTransferred);
    event.actor = from;
    event.from_account = from;
    event.to_account = send->to_account;
    event.amount = send->amount.value;
    event.note = send->note;
    state_.Notify(event, event.from_account);
    state_.Notify(event, event.to_account);
    return TransferAnswer({event});
  }

  beast::tcp_stream stream_;
  BareState& state_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpResponse response_;
};

class Acceptor {
 public:
  Acceptor(asio::io_context& io, const tcp::endpoint& at, BareState& state)
      : io_(io), acceptor_(io, at), state_(state) {}

  tcp::endpoint endpoint() const { return acceptor_.local_endpoint(); }

  void Accept() {
    acceptor_.async_accept(asio::make_strand(io_),
                           [this](beast::error_code error, tcp::socket socket) {
                             if (error == asio::error::operation_aborted) return;
                             if (!error) {
                               socket.set_option(tcp::no_delay(true));
                               std::make_shared<HttpConnection>(std::move(socket), state_)->Read();
                             }
                             Accept();
                           });
  }

 private:
  asio::io_context& io_;
  tcp::acceptor acceptor_;
  BareState& state_;
};

}  // namespace

int RunBareServer(const BareServerOptions& options) {
  absl::StatusOr<tcp::endpoint> at = ParseEndpoint(options.listen);
  if (!at.ok()) {
    std::cerr << "sbd-bench bare-server: " << at.status() << "\n";
    return 2;
  }
  if (options.secret.empty()) {
    std::cerr << "sbd-bench bare-server: SBD_JWT_SECRET is empty\n";
    return 2;
  }
  const size_t threads =
      options.threads > 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  asio::io_context io(static_cast<int>(threads));
  BareState state(options.secret);
  Acceptor acceptor(io, *at, state);
  acceptor.Accept();
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&io](beast::error_code, int) { io.stop(); });
  const tcp::endpoint bound = acceptor.endpoint();
  std::printf("listening on %s:%u\n", bound.address().to_string().c_str(), bound.port());
  std::fflush(stdout);
  std::vector<std::thread> pool;
  for (size_t i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
  io.run();
  for (std::thread& thread : pool) thread.join();
  return 0;
}

}  // namespace sbd::bench
