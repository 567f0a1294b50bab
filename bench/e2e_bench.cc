#include "bench/e2e_bench.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/http_load_client.h"
#include "bench/latency_recorder.h"
#include "bench/process_stats.h"
#include "bench/progress_line.h"
#include "bench/synthetic_log.h"
#include "bench/websocket_receiver.h"
#include "engine/absl_compat.h"

namespace sbd::bench {
namespace {

namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;
using Request = HttpLoadClient::Request;
using Response = HttpLoadClient::Response;

// After the last answer, how long notifications may take to arrive before
// the missing ones count as lost.
constexpr std::chrono::seconds kDrainTimeout{10};
constexpr std::chrono::milliseconds kDrainPoll{10};
// Beyond the measured phase, the longest setup or drain may take before the
// benchmark gives up (a hung server must not hang it).
constexpr std::chrono::seconds kPhaseTimeout{300};
// Setup requests (open, mint) in flight at once: enough for full batches.
constexpr size_t kSetupConnections = 32;
constexpr double kKibPerMib = 1024.0;

int64_t Nanoseconds(Clock::duration duration) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count();
}

double Seconds(Clock::duration duration) { return std::chrono::duration<double>(duration).count(); }

// The integer after `"key":` in a JSON text the server wrote; nullopt if
// absent. The server's messages have fixed shapes, and the bodies sent here
// carry no note that could hold such text, so a scan is exact and keeps the
// client's CPU (shared with the server on this box) small.
std::optional<int64_t> IntegerField(std::string_view json, std::string_view key) {
  const std::string pattern = absl::StrCat("\"", ToAbsl(key), "\":");
  const size_t at = json.find(pattern);
  if (at == std::string_view::npos) return std::nullopt;
  int64_t value = 0;
  const char* begin = json.data() + at + pattern.size();
  const auto [end, error] = std::from_chars(begin, json.data() + json.size(), value);
  if (error != std::errc() || end == begin) return std::nullopt;
  return value;
}

std::string_view TypeField(std::string_view json) {
  constexpr std::string_view kPattern = "\"type\":\"";
  const size_t at = json.find(kPattern);
  if (at == std::string_view::npos) return {};
  const size_t begin = at + kPattern.size();
  const size_t end = json.find('"', begin);
  if (end == std::string_view::npos) return {};
  return json.substr(begin, end - begin);
}

// Runs a set of HttpLoadClients over a shared list of `count` requests and
// calls `on_done` once every client has run out of work. Must outlive the
// io_context's run.
class RequestPool {
 public:
  using Make = std::function<void(size_t index, Request&)>;
  using Answer = std::function<void(size_t index, const Response&, Clock::time_point due)>;

  RequestPool(boost::asio::io_context& io, size_t count, Make make, Answer answer,
              std::function<void()> on_done, std::function<void(const std::string&)> on_error)
      : io_(io),
        count_(count),
        make_(std::move(make)),
        answer_(std::move(answer)),
        on_done_(std::move(on_done)),
        on_error_(std::move(on_error)) {}

  void Start(const boost::asio::ip::tcp::endpoint& server, size_t connections,
             Clock::duration interval = Clock::duration::zero()) {
    running_ = std::max<size_t>(1, connections);
    const Clock::time_point start = Clock::now();
    for (size_t c = 0; c < running_; ++c) {
      auto current = std::make_shared<size_t>(0);
      HttpLoadClient::Callbacks callbacks;
      callbacks.next = [this, current](Request& request) {
        if (next_ >= count_) {
          if (--running_ == 0) on_done_();
          return false;
        }
        *current = next_++;
        make_(*current, request);
        return true;
      };
      callbacks.on_answer = [this, current](const Response& response, Clock::time_point due) {
        answer_(*current, response, due);
      };
      callbacks.on_error = on_error_;
      auto client = std::make_shared<HttpLoadClient>(io_, std::move(callbacks), interval);
      // Paced clients start spread over one interval, not all at once.
      client->Start(server,
                    start + interval * static_cast<int64_t>(c) / static_cast<int64_t>(running_));
    }
  }

  // Ends the work list: each client stops after its current request.
  void Stop() { count_ = next_; }

 private:
  boost::asio::io_context& io_;
  size_t count_;
  size_t next_ = 0;
  size_t running_ = 0;
  Make make_;
  Answer answer_;
  std::function<void()> on_done_;
  std::function<void(const std::string&)> on_error_;
};

// Runs `io` until `finished` is set or `timeout` passes; kDeadlineExceeded then.
absl::Status RunUntil(boost::asio::io_context& io, const bool& finished,
                      std::chrono::seconds timeout, std::string_view what) {
  const auto deadline = Clock::now() + timeout;
  io.restart();
  while (!finished) {
    if (Clock::now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(ToAbsl(what), " did not finish within ", timeout.count(), " s"));
    }
    if (io.run_one_for(std::chrono::milliseconds(100)) == 0 && io.stopped()) {
      return absl::InternalError(absl::StrCat(ToAbsl(what), " ran out of work unfinished"));
    }
  }
  return absl::OkStatus();
}

// Opens every account of `names` and mints each kStartingBalance, through
// concurrent keep-alive connections (so the ledger batches them). An account
// that exists already (a --target server used before) is fine.
absl::Status OpenAndFund(boost::asio::io_context& io, const ServerUnderTest& server,
                         const std::vector<std::string>& names, const std::string& admin) {
  for (const bool mint : {false, true}) {
    bool finished = false;
    std::string error;
    RequestPool pool(
        io, names.size(),
        [&](size_t i, Request& request) {
          FillRequest(request, http::verb::post, mint ? "/admin/mint" : "/admin/accounts",
                      mint ? absl::StrCat(R"({"username":")", names[i], R"(","amount":)",
                                          kStartingBalance, "}")
                           : absl::StrCat(R"({"username":")", names[i], R"("})"),
                      admin, server.host());
        },
        [&](size_t i, const Response& response, Clock::time_point) {
          const int status = static_cast<int>(response.result_int());
          const bool ok = mint ? status == 200 : (status == 201 || status == 409);
          if (!ok && error.empty()) {
            error = absl::StrCat(mint ? "mint for " : "opening ", names[i], ": HTTP ", status, " ",
                                 response.body());
          }
        },
        [&] { finished = true; },
        [&](const std::string& what) {
          if (error.empty()) error = what;
          finished = true;
        });
    pool.Start(server.endpoint(), kSetupConnections);
    if (absl::Status status = RunUntil(io, finished, kPhaseTimeout, "account setup");
        !status.ok()) {
      return status;
    }
    if (!error.empty()) return absl::UnavailableError(absl::StrCat("setup: ", error));
  }
  return absl::OkStatus();
}

// GET /healthz's seq: the server's last committed seq.
absl::StatusOr<int64_t> LastSeq(boost::asio::io_context& io, const ServerUnderTest& server) {
  bool finished = false;
  std::optional<int64_t> seq;
  std::string error;
  RequestPool pool(
      io, 1,
      [&](size_t, Request& request) {
        FillRequest(request, http::verb::get, "/healthz", "", "", server.host());
      },
      [&](size_t, const Response& response, Clock::time_point) {
        seq = IntegerField(response.body(), "seq");
      },
      [&] { finished = true; },
      [&](const std::string& what) {
        error = what;
        finished = true;
      });
  pool.Start(server.endpoint(), 1);
  if (absl::Status status = RunUntil(io, finished, kPhaseTimeout, "GET /healthz"); !status.ok()) {
    return status;
  }
  if (!seq.has_value()) return absl::UnavailableError(absl::StrCat("GET /healthz: ", error));
  return *seq;
}

std::vector<std::string> UserNames(size_t count) {
  std::vector<std::string> names;
  names.reserve(count);
  for (size_t i = 0; i < count; ++i) names.push_back(AccountName(i));
  return names;
}

absl::StatusOr<std::vector<std::string>> Authorizations(const ServerUnderTest& server,
                                                        const std::vector<std::string>& names) {
  std::vector<std::string> authorizations;
  authorizations.reserve(names.size());
  for (const std::string& name : names) {
    absl::StatusOr<std::string> token = server.Token(name, false);
    if (!token.ok()) return token.status();
    authorizations.push_back(absl::StrCat("Bearer ", *token));
  }
  return authorizations;
}

// What happened to one transfer, by seq: its HTTP answer and its two
// WebSocket messages.
struct TransferRecord {
  int64_t answered_ns = -1;  // Since the run's start; -1: no answer seen.
  int32_t from = -1;
  int32_t to = -1;
  int64_t sent_ns = -1;      // First sbd_tokens_sent receipt.
  int64_t received_ns = -1;  // First sbd_tokens_received receipt.
  int32_t sent_count = 0;
  int32_t received_count = 0;
  bool misdelivered = false;  // A message reached a user not party to it.
};

// Checks notifications against the HTTP answers. Single-threaded (the
// io_context's thread).
class DeliveryTracker {
 public:
  DeliveryTracker(int64_t base_seq, Clock::time_point start) : base_seq_(base_seq), start_(start) {}

  void OnAnswer(int64_t seq, int32_t from, int32_t to, Clock::time_point at) {
    TransferRecord* record = Record(seq);
    if (record == nullptr) return;
    record->answered_ns = Nanoseconds(at - start_);
    record->from = from;
    record->to = to;
    ++answered_;
  }

  void OnMessage(int32_t user, std::string_view message, Clock::time_point at) {
    const std::string_view type = TypeField(message);
    const std::optional<int64_t> seq = IntegerField(message, "seq");
    TransferRecord* record = seq.has_value() ? Record(*seq) : nullptr;
    if (record == nullptr || (type != "sbd_tokens_sent" && type != "sbd_tokens_received")) {
      ++unexpected_;
      return;
    }
    ++messages_;
    const int64_t at_ns = Nanoseconds(at - start_);
    if (type == "sbd_tokens_sent") {
      if (record->sent_count++ == 0) record->sent_ns = at_ns;
      receipts_.push_back({seq.value(), user, true});
    } else {
      if (record->received_count++ == 0) record->received_ns = at_ns;
      receipts_.push_back({seq.value(), user, false});
    }
  }

  int64_t answered() const { return answered_; }
  int64_t messages() const { return messages_; }

  struct Result {
    int64_t lost = 0;
    int64_t duplicated = 0;
    int64_t misdelivered = 0;
    int64_t unanswered = 0;  // Messages for a seq no HTTP answer named.
    LatencyRecorder notify;  // Answer -> receipt, both messages.
  };

  Result Check() {
    for (const Receipt& receipt : receipts_) {
      TransferRecord& record = *Record(receipt.seq);
      if (record.answered_ns < 0) continue;
      const int32_t expected = receipt.sent ? record.from : record.to;
      if (receipt.user != expected) record.misdelivered = true;
    }
    Result result;
    result.unanswered = unexpected_;
    result.notify.Reserve(2 * records_.size());
    for (const TransferRecord& record : records_) {
      if (record.answered_ns < 0) {
        result.unanswered += record.sent_count + record.received_count;
        continue;
      }
      result.lost += (record.sent_count == 0) + (record.received_count == 0);
      result.duplicated +=
          std::max(0, record.sent_count - 1) + std::max(0, record.received_count - 1);
      result.misdelivered += record.misdelivered;
      if (record.sent_ns >= 0) result.notify.Record(record.sent_ns - record.answered_ns);
      if (record.received_ns >= 0) result.notify.Record(record.received_ns - record.answered_ns);
    }
    return result;
  }

 private:
  struct Receipt {
    int64_t seq;
    int32_t user;
    bool sent;
  };

  // The record of `seq`, growing the table; null for a seq at or before the
  // base (not one of this run's transfers).
  TransferRecord* Record(int64_t seq) {
    if (seq <= base_seq_) return nullptr;
    const size_t index = static_cast<size_t>(seq - base_seq_ - 1);
    if (index >= records_.size()) records_.resize(index + 1);
    return &records_[index];
  }

  const int64_t base_seq_;
  const Clock::time_point start_;
  std::vector<TransferRecord> records_;
  std::vector<Receipt> receipts_;
  int64_t answered_ = 0;
  int64_t messages_ = 0;
  int64_t unexpected_ = 0;
};

// The WebSocket receivers of one run, one per user, and what they report.
// Lives until the io_context's last run: the receivers' callbacks point here.
class ReceiverGroup {
 public:
  using OnMessage = std::function<void(int32_t user, std::string_view, Clock::time_point)>;

  ReceiverGroup(boost::asio::io_context& io, OnMessage on_message)
      : io_(io), on_message_(std::move(on_message)) {}

  // Connects one receiver per token (at most `concurrency` handshakes at
  // once) and runs the io_context until all have their `connected` message.
  absl::Status Connect(const ServerUnderTest& server, std::vector<std::string> tokens,
                       size_t concurrency) {
    tokens_ = std::move(tokens);
    receivers_.reserve(tokens_.size());
    for (size_t i = 0; i < concurrency; ++i) StartNext(server);
    const auto deadline = Clock::now() + kPhaseTimeout;
    io_.restart();
    while (connected_ < tokens_.size() && error_.empty() && Clock::now() < deadline) {
      io_.run_one_for(std::chrono::milliseconds(100));
    }
    if (!error_.empty()) return absl::UnavailableError(error_);
    if (connected_ < tokens_.size()) {
      return absl::DeadlineExceededError(
          absl::StrCat(connected_, " of ", tokens_.size(), " WebSockets connected in time"));
    }
    return absl::OkStatus();
  }

  // Receivers that failed or were closed by the server, and the first's why.
  size_t error_count() const { return error_count_; }
  const std::string& error() const { return error_; }

  void Close() {
    for (const auto& receiver : receivers_) receiver->Close();
  }

 private:
  void StartNext(const ServerUnderTest& server) {
    if (receivers_.size() == tokens_.size()) return;
    const auto user = static_cast<int32_t>(receivers_.size());
    WebSocketReceiver::Callbacks callbacks;
    callbacks.on_connected = [this, &server] {
      ++connected_;
      StartNext(server);
    };
    callbacks.on_message = [this, user](std::string_view message, Clock::time_point at) {
      on_message_(user, message, at);
    };
    callbacks.on_error = [this, user](const std::string& what) {
      if (error_count_++ == 0) error_ = absl::StrCat("WebSocket of user ", user, ": ", what);
    };
    auto receiver = std::make_shared<WebSocketReceiver>(io_, std::move(callbacks));
    receiver->Start(server.endpoint(), server.host(),
                    absl::StrCat("/ws?token=", tokens_[static_cast<size_t>(user)]));
    receivers_.push_back(std::move(receiver));
  }

  boost::asio::io_context& io_;
  OnMessage on_message_;
  std::vector<std::string> tokens_;
  std::vector<std::shared_ptr<WebSocketReceiver>> receivers_;
  size_t connected_ = 0;
  size_t error_count_ = 0;
  std::string error_;
};

// The users a run works with: `count` accounts opened and funded on
// `server`, with each one's Authorization header and the admin's.
struct BenchUsers {
  std::string admin;
  std::vector<std::string> names;
  std::vector<std::string> authorizations;
};

absl::StatusOr<BenchUsers> PrepareUsers(boost::asio::io_context& io, const ServerUnderTest& server,
                                        size_t count) {
  absl::StatusOr<std::string> admin_token = server.Token("bench-admin", true);
  if (!admin_token.ok()) return admin_token.status();
  BenchUsers users;
  users.admin = absl::StrCat("Bearer ", *admin_token);
  users.names = UserNames(count);
  absl::StatusOr<std::vector<std::string>> authorizations = Authorizations(server, users.names);
  if (!authorizations.ok()) return authorizations.status();
  users.authorizations = std::move(*authorizations);
  if (absl::Status status = OpenAndFund(io, server, users.names, users.admin); !status.ok()) {
    return status;
  }
  return users;
}

std::vector<std::string> RawTokens(const std::vector<std::string>& authorizations) {
  std::vector<std::string> tokens;
  tokens.reserve(authorizations.size());
  constexpr std::string_view kBearer = "Bearer ";
  for (const std::string& authorization : authorizations) {
    tokens.push_back(authorization.substr(kBearer.size()));
  }
  return tokens;
}

// Runs `io` until `done` or kDrainTimeout passes: the notifications still on
// their way when the requests are answered get this long to arrive.
void Drain(boost::asio::io_context& io, const std::function<bool()>& done) {
  const auto drain_deadline = Clock::now() + kDrainTimeout;
  io.restart();
  while (!done() && Clock::now() < drain_deadline) {
    io.run_one_for(kDrainPoll);
  }
}

// Closes every receiver and lets the closes run. Returns how many receivers
// failed or were closed by the server (the first one's why goes to stderr).
size_t CloseReceivers(boost::asio::io_context& io, ReceiverGroup& receivers) {
  const size_t websocket_errors = receivers.error_count();
  if (websocket_errors > 0) std::cerr << "sbd-bench: " << receivers.error() << "\n";
  receivers.Close();
  io.restart();
  io.poll();
  return websocket_errors;
}

absl::Status CheckE2eOptions(const E2eBenchOptions& options) {
  if (options.websockets < 2) {
    return absl::InvalidArgumentError("--ws must be at least 2 (transfers go between them)");
  }
  if (options.clients == 0 || options.duration_s <= 0) {
    return absl::InvalidArgumentError("--clients and --duration must be positive");
  }
  return absl::OkStatus();
}

// Each sender's pacing for the offered --rate; zero (closed loop) without one.
Clock::duration SenderInterval(const E2eBenchOptions& options) {
  if (options.rate <= 0) return Clock::duration::zero();
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(static_cast<double>(options.clients) / options.rate));
}

// What the transfer senders of an e2e run saw.
struct SenderResult {
  LatencyRecorder http_latency;  // Due -> answer, every answer.
  int64_t http_errors = 0;       // Answers not 200 or without a seq.
  std::string first_http_error;
  double elapsed_s = 0;  // First request started -> last answer.
};

// Sends 1-token transfers between the users over options.clients
// connections for options.duration_s, telling `tracker` what each answer
// said. kUnavailable if a connection failed.
absl::StatusOr<SenderResult> RunSenders(boost::asio::io_context& io, const ServerUnderTest& server,
                                        const BenchUsers& users, const E2eBenchOptions& options,
                                        Clock::time_point origin, DeliveryTracker& tracker,
                                        ProgressLine& progress) {
  const size_t user_count = options.websockets;
  SenderResult result;
  std::string client_error;
  bool senders_done = false;
  // Request i is sent by user i % W (whichever connection is free takes
  // it) to the other users in turn.
  struct Parties {
    int32_t from;
    int32_t to;
  };
  std::vector<Parties> by_request;
  const size_t requests_max = static_cast<size_t>(1) << 40;  // Stopped by time, not count.
  Clock::time_point last_answer = origin;
  RequestPool pool(
      io, requests_max,
      [&](size_t index, Request& request) {
        const int32_t from = static_cast<int32_t>(index % user_count);
        const int32_t to = static_cast<int32_t>(
            (static_cast<size_t>(from) + 1 + (index / user_count) % (user_count - 1)) % user_count);
        if (by_request.size() <= index) by_request.resize(index + 1);
        by_request[index] = {from, to};
        FillRequest(request, http::verb::post, "/sbd_tokens/send",
                    absl::StrCat(R"({"to_user":")", users.names[static_cast<size_t>(to)],
                                 R"(","amount":1})"),
                    users.authorizations[static_cast<size_t>(from)], server.host());
      },
      [&](size_t index, const Response& response, Clock::time_point due) {
        const Clock::time_point now = Clock::now();
        last_answer = now;
        result.http_latency.Record(Nanoseconds(now - due));
        const std::optional<int64_t> seq = IntegerField(response.body(), "seq");
        if (response.result_int() != 200 || !seq.has_value()) {
          if (result.http_errors++ == 0) {
            result.first_http_error =
                absl::StrCat("HTTP ", response.result_int(), " ", response.body());
          }
          return;
        }
        tracker.OnAnswer(*seq, by_request[index].from, by_request[index].to, now);
        progress.Advance(1);
      },
      [&] { senders_done = true; },
      [&](const std::string& what) {
        if (client_error.empty()) client_error = what;
        senders_done = true;
      });

  const Clock::time_point start = Clock::now();
  pool.Start(server.endpoint(), options.clients, SenderInterval(options));
  boost::asio::steady_timer stop_timer(io);
  stop_timer.expires_at(start + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(options.duration_s)));
  stop_timer.async_wait([&pool](boost::system::error_code) { pool.Stop(); });
  const auto duration_s = static_cast<int64_t>(options.duration_s) + 1;
  if (absl::Status status =
          RunUntil(io, senders_done, std::chrono::seconds(duration_s) + kPhaseTimeout, "senders");
      !status.ok()) {
    return status;
  }
  if (!client_error.empty()) return absl::UnavailableError(client_error);
  result.elapsed_s = Seconds(last_answer - start);
  return result;
}

// What was read of the server process over a run; -1 when unknown (a
// --target server).
struct ServerReadings {
  int64_t rss_kib = -1;  // At the end.
  double cpu_s = -1;     // User + system from the first send to the drain's end.
};

// The e2e report. `seq_advance`: how far the server's last seq moved during
// the run.
Metrics E2eMetrics(const E2eBenchOptions& options, SenderResult& sent,
                   DeliveryTracker::Result& delivery, int64_t answered_count, int64_t seq_advance,
                   size_t websocket_errors, const ServerReadings& server) {
  const auto answered = static_cast<double>(answered_count);
  Metrics metrics = {
      {"transfers_per_s", "transfers/s (HTTP 200)", answered / sent.elapsed_s, ""},
      {"transfers", "transfers answered", answered, ""},
      {"http_p50_ms", "HTTP latency p50", sent.http_latency.PercentileMs(50), "ms"},
      {"http_p99_ms", "HTTP latency p99", sent.http_latency.PercentileMs(99), "ms"},
      {"http_p999_ms", "HTTP latency p99.9", sent.http_latency.PercentileMs(99.9), "ms"},
      {"notify_p50_ms", "notification latency p50 (answer->WS)", delivery.notify.PercentileMs(50),
       "ms"},
      {"notify_p99_ms", "notification latency p99", delivery.notify.PercentileMs(99), "ms"},
      {"notify_p999_ms", "notification latency p99.9", delivery.notify.PercentileMs(99.9), "ms"},
      {"messages_lost", "messages lost", static_cast<double>(delivery.lost), ""},
      {"messages_duplicated", "messages duplicated", static_cast<double>(delivery.duplicated), ""},
      {"messages_misdelivered", "messages to the wrong user",
       static_cast<double>(delivery.misdelivered), ""},
      {"messages_unanswered", "messages for no answered transfer",
       static_cast<double>(delivery.unanswered), ""},
      {"http_errors", "HTTP errors (non-200)", static_cast<double>(sent.http_errors), ""},
      {"websocket_errors", "WebSockets failed or closed", static_cast<double>(websocket_errors),
       ""},
      {"log_seq_gap", "server last seq - answered transfers",
       static_cast<double>(seq_advance) - answered, ""},
  };
  if (options.rate > 0)
    metrics.push_back({"offered_per_s", "offered transfers/s", options.rate, ""});
  if (server.rss_kib >= 0) {
    metrics.push_back({"server_rss_mib", "server RSS at end",
                       static_cast<double>(server.rss_kib) / kKibPerMib, "MiB"});
  }
  if (server.cpu_s >= 0 && answered > 0) {
    metrics.push_back({"server_cpu_us_per_transfer", "server CPU (user+sys) per transfer",
                       server.cpu_s * 1e6 / answered, "us"});
    metrics.push_back(
        {"server_cores", "server CPU / sending time", server.cpu_s / sent.elapsed_s, "cores"});
  }
  return metrics;
}

// A server for the connections bench: started here (its RSS is read), with
// room for every WebSocket.
absl::StatusOr<std::unique_ptr<ServerUnderTest>> StartConnectionsServer(
    const ConnectionsBenchOptions& options) {
  ServerOptions server_options = options.server;
  if (server_options.connections_max == 0) {
    // Room for every WebSocket plus the senders: the default (10,000) would
    // refuse the last few at --ws 10000.
    server_options.connections_max = options.websockets + options.senders + 16;
  }
  absl::StatusOr<std::unique_ptr<ServerUnderTest>> server = ServerUnderTest::Start(server_options);
  if (!server.ok()) return server.status();
  if (!(*server)->pid().has_value()) {
    return absl::FailedPreconditionError(
        "connections reads the server's RSS: start it here (--server), not --target");
  }
  return server;
}

// When each user's one sbd_tokens_credited message arrived, and how many
// other or duplicate messages came. Single-threaded (the io_context's
// thread).
struct CreditReceipts {
  CreditReceipts(size_t users, Clock::time_point origin) : receipt_ns(users, -1), origin(origin) {}

  void OnMessage(int32_t user, std::string_view message, Clock::time_point at) {
    int64_t& slot = receipt_ns[static_cast<size_t>(user)];
    if (TypeField(message) != "sbd_tokens_credited" || slot >= 0) {
      ++unexpected;
      return;
    }
    slot = Nanoseconds(at - origin);
    ++delivered;
  }

  std::vector<int64_t> receipt_ns;  // Per user, since `origin`; -1: none yet.
  int64_t unexpected = 0;
  size_t delivered = 0;
  Clock::time_point origin;
};

// The answers to one mint per user, in nanoseconds since the run's origin.
struct MintAnswers {
  int64_t first_sent_ns = 0;       // When the mints started.
  std::vector<int64_t> answer_ns;  // Per user; -1: no answer.
};

// Mints 1 token to each user (one message per connection) through `senders`
// connections. kUnavailable if a mint failed.
absl::StatusOr<MintAnswers> MintOneEach(boost::asio::io_context& io, const ServerUnderTest& server,
                                        const BenchUsers& users, size_t senders,
                                        Clock::time_point origin) {
  MintAnswers answers;
  answers.answer_ns.assign(users.names.size(), -1);
  bool senders_done = false;
  std::string error;
  RequestPool pool(
      io, users.names.size(),
      [&](size_t i, Request& request) {
        FillRequest(request, http::verb::post, "/admin/mint",
                    absl::StrCat(R"({"username":")", users.names[i], R"(","amount":1})"),
                    users.admin, server.host());
      },
      [&](size_t i, const Response& response, Clock::time_point) {
        if (response.result_int() != 200 && error.empty()) {
          error = absl::StrCat("mint: HTTP ", response.result_int(), " ", response.body());
        }
        answers.answer_ns[i] = Nanoseconds(Clock::now() - origin);
      },
      [&] { senders_done = true; },
      [&](const std::string& what) {
        if (error.empty()) error = what;
        senders_done = true;
      });
  answers.first_sent_ns = Nanoseconds(Clock::now() - origin);
  pool.Start(server.endpoint(), senders);
  if (absl::Status status = RunUntil(io, senders_done, kPhaseTimeout, "mints"); !status.ok()) {
    return status;
  }
  if (!error.empty()) return absl::UnavailableError(error);
  return answers;
}

// What a connections run measured besides its messages.
struct ConnectionsMeasured {
  double connect_s = 0;
  int64_t rss_before_kib = 0;  // Server RSS before the WebSockets opened...
  int64_t rss_after_kib = 0;   // ...and with all of them open.
  size_t websocket_errors = 0;
};

// The connections report.
Metrics ConnectionsMetrics(const ConnectionsMeasured& measured, const CreditReceipts& receipts,
                           const MintAnswers& minted) {
  LatencyRecorder latency;
  int64_t last_receipt_ns = minted.first_sent_ns;
  for (size_t i = 0; i < receipts.receipt_ns.size(); ++i) {
    if (receipts.receipt_ns[i] < 0) continue;
    latency.Record(receipts.receipt_ns[i] - minted.answer_ns[i]);
    last_receipt_ns = std::max(last_receipt_ns, receipts.receipt_ns[i]);
  }
  const auto connections = static_cast<double>(receipts.receipt_ns.size());
  return Metrics{
      {"connections", "WebSocket connections held", connections, ""},
      {"connect_s", "time to open them all", measured.connect_s, "s"},
      {"server_rss_before_mib", "server RSS before",
       static_cast<double>(measured.rss_before_kib) / kKibPerMib, "MiB"},
      {"server_rss_after_mib", "server RSS with them open",
       static_cast<double>(measured.rss_after_kib) / kKibPerMib, "MiB"},
      {"rss_per_connection_kib", "server RSS per connection",
       static_cast<double>(measured.rss_after_kib - measured.rss_before_kib) / connections, "KiB"},
      {"deliver_all_ms", "one message to each: first mint sent -> last received",
       static_cast<double>(last_receipt_ns - minted.first_sent_ns) / 1e6, "ms"},
      {"deliver_p50_ms", "mint answer -> WS receipt p50", latency.PercentileMs(50), "ms"},
      {"deliver_p99_ms", "mint answer -> WS receipt p99", latency.PercentileMs(99), "ms"},
      {"messages_lost", "messages lost", connections - static_cast<double>(receipts.delivered), ""},
      {"messages_unexpected", "other or duplicate messages",
       static_cast<double>(receipts.unexpected), ""},
      {"websocket_errors", "WebSockets failed or closed",
       static_cast<double>(measured.websocket_errors), ""},
  };
}

}  // namespace

absl::StatusOr<Metrics> RunE2eBench(const E2eBenchOptions& options) {
  if (absl::Status valid = CheckE2eOptions(options); !valid.ok()) return valid;
  RaiseOpenFileLimit();
  absl::StatusOr<std::unique_ptr<ServerUnderTest>> server = ServerUnderTest::Start(options.server);
  if (!server.ok()) return server.status();
  std::unique_ptr<ServerUnderTest> receivers_at;
  if (options.receivers_server.has_value()) {
    absl::StatusOr<std::unique_ptr<ServerUnderTest>> started =
        ServerUnderTest::Start(*options.receivers_server);
    if (!started.ok()) return started.status();
    receivers_at = *std::move(started);
  }
  boost::asio::io_context io;
  absl::StatusOr<BenchUsers> users = PrepareUsers(io, **server, options.websockets);
  if (!users.ok()) return users.status();
  absl::StatusOr<int64_t> base_seq = LastSeq(io, **server);
  if (!base_seq.ok()) return base_seq.status();

  const Clock::time_point origin = Clock::now();
  DeliveryTracker tracker(*base_seq, origin);
  ReceiverGroup receivers(io,
                          [&tracker](int32_t user, std::string_view message, Clock::time_point at) {
                            tracker.OnMessage(user, message, at);
                          });
  if (absl::Status status = receivers.Connect(receivers_at != nullptr ? *receivers_at : **server,
                                              RawTokens(users->authorizations), options.websockets);
      !status.ok()) {
    return status;
  }

  const std::optional<pid_t> pid = (*server)->pid();
  const double cpu_before_s = pid.has_value() ? CpuSeconds(*pid) : -1;
  ProgressLine progress("e2e", "transfers", 0);
  absl::StatusOr<SenderResult> sent =
      RunSenders(io, **server, *users, options, origin, tracker, progress);
  if (!sent.ok()) return sent.status();
  // Drain: wait for the notifications of every answered transfer.
  Drain(io, [&tracker] { return tracker.messages() >= 2 * tracker.answered(); });
  ServerReadings readings;
  if (pid.has_value() && cpu_before_s >= 0) {
    const double cpu_after_s = CpuSeconds(*pid);
    if (cpu_after_s >= 0) readings.cpu_s = cpu_after_s - cpu_before_s;
  }
  absl::StatusOr<int64_t> last_seq = LastSeq(io, **server);
  if (!last_seq.ok()) return last_seq.status();
  const size_t websocket_errors = CloseReceivers(io, receivers);

  DeliveryTracker::Result delivery = tracker.Check();
  if (pid.has_value()) readings.rss_kib = CurrentRssKib(*pid);
  Metrics metrics = E2eMetrics(options, *sent, delivery, tracker.answered(), *last_seq - *base_seq,
                               websocket_errors, readings);
  if (sent->http_errors > 0) {
    return absl::InternalError(
        absl::StrCat(sent->http_errors, " HTTP errors; first: ", sent->first_http_error));
  }
  return metrics;
}

absl::StatusOr<Metrics> RunE2eBaselineBench(const E2eBenchOptions& options,
                                            const ServerOptions& bare, bool bare_first) {
  E2eBenchOptions against_bare = options;
  against_bare.server = bare;
  absl::StatusOr<Metrics> bare_metrics;
  absl::StatusOr<Metrics> ledger_metrics;
  if (bare_first) bare_metrics = RunE2eBench(against_bare);
  ledger_metrics = RunE2eBench(options);
  if (!bare_first) bare_metrics = RunE2eBench(against_bare);
  if (!bare_metrics.ok()) {
    return absl::Status(bare_metrics.status().code(),
                        absl::StrCat("bare server: ", bare_metrics.status().message()));
  }
  if (!ledger_metrics.ok()) return ledger_metrics.status();
  Metrics metrics = *std::move(ledger_metrics);
  for (const Metric& metric : *bare_metrics) {
    metrics.push_back({absl::StrCat("bare_", metric.key), absl::StrCat("bare: ", metric.label),
                       metric.value, metric.unit});
  }
  const double bare_rate = MetricValue(*bare_metrics, "transfers_per_s");
  const double bare_cpu = MetricValue(*bare_metrics, "server_cpu_us_per_transfer");
  metrics.push_back({"vs_bare_transfers_per_s", "transfers/s: sbd-ledger / bare",
                     MetricValue(metrics, "transfers_per_s") / bare_rate, "x"});
  metrics.push_back({"vs_bare_cpu_per_transfer", "server CPU per transfer: sbd-ledger / bare",
                     MetricValue(metrics, "server_cpu_us_per_transfer") / bare_cpu, "x"});
  return metrics;
}

absl::StatusOr<Metrics> RunConnectionsBench(const ConnectionsBenchOptions& options) {
  if (options.websockets == 0) return absl::InvalidArgumentError("--ws must be positive");
  RaiseOpenFileLimit();
  absl::StatusOr<std::unique_ptr<ServerUnderTest>> server = StartConnectionsServer(options);
  if (!server.ok()) return server.status();
  const pid_t pid = *(*server)->pid();
  boost::asio::io_context io;
  absl::StatusOr<BenchUsers> users = PrepareUsers(io, **server, options.websockets);
  if (!users.ok()) return users.status();
  ConnectionsMeasured measured;
  // Let the setup connections' sessions close and their memory settle.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  measured.rss_before_kib = CurrentRssKib(pid);

  const Clock::time_point origin = Clock::now();
  CreditReceipts receipts(options.websockets, origin);
  ReceiverGroup receivers(
      io, [&receipts](int32_t user, std::string_view message, Clock::time_point at) {
        receipts.OnMessage(user, message, at);
      });
  const Clock::time_point connect_start = Clock::now();
  if (absl::Status status = receivers.Connect(**server, RawTokens(users->authorizations),
                                              options.connect_concurrency);
      !status.ok()) {
    return status;
  }
  measured.connect_s = Seconds(Clock::now() - connect_start);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  measured.rss_after_kib = CurrentRssKib(pid);

  absl::StatusOr<MintAnswers> minted = MintOneEach(io, **server, *users, options.senders, origin);
  if (!minted.ok()) return minted.status();
  Drain(io, [&] { return receipts.delivered >= options.websockets; });
  measured.websocket_errors = CloseReceivers(io, receivers);
  return ConnectionsMetrics(measured, receipts, *minted);
}

}  // namespace sbd::bench
