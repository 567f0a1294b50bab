#include "bench/gateway_bench.h"

#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "bench/child_process.h"
#include "bench/cluster_nodes.h"
#include "bench/e2e_bench.h"
#include "bench/http_load_client.h"
#include "bench/latency_recorder.h"
#include "bench/process_stats.h"
#include "bench/server_under_test.h"
#include "bench/synthetic_log.h"
#include "bench/websocket_receiver.h"
#include "engine/absl_compat.h"
#include "tests/support/nats_cluster.h"

namespace sbd::bench {
namespace {

namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;
using Request = HttpLoadClient::Request;
using Response = HttpLoadClient::Response;

// A gateway connects to NATS and creates its consumer before it listens.
constexpr std::chrono::seconds kGatewayStartTimeout{60};
constexpr std::chrono::seconds kStopTimeout{30};
// Until a gateway follows the stream, and until a gateway or node has
// applied the writer's last seq: a healthy one takes milliseconds.
constexpr std::chrono::seconds kFollowTimeout{60};
// Opening the accounts, connecting the WebSockets, sending the mints.
constexpr std::chrono::seconds kPhaseTimeout{300};
// After the last mint's answer, how long the fan-out's messages may take.
constexpr std::chrono::seconds kDeliverTimeout{30};
// Once every connection has its message, how long a duplicate is waited for.
constexpr std::chrono::milliseconds kDuplicateWindow{500};
// Before each RSS reading: the sessions just opened or closed settle.
constexpr std::chrono::seconds kSettle{1};
constexpr std::chrono::milliseconds kPoll{20};
// Sockets beyond `connections` that a gateway or node (--connections-max)
// and sbd-bench (its open-file limit) must have room for: setup and e2e
// clients, /healthz polls, sessions of closed connections not yet reaped.
constexpr size_t kConnectionsHeadroom = 1024;
constexpr std::string_view kListeningPrefix = "listening on ";
constexpr size_t kGateways = 2;
constexpr double kKibPerMib = 1024.0;
constexpr double kBytesPerKib = 1024.0;

double Seconds(Clock::duration duration) { return std::chrono::duration<double>(duration).count(); }
double Milliseconds(Clock::duration duration) {
  return std::chrono::duration<double, std::milli>(duration).count();
}

// Runs `io` until `done()`; false if `timeout` passed first.
bool RunUntil(boost::asio::io_context& io, const std::function<bool()>& done,
              Clock::duration timeout) {
  const auto deadline = Clock::now() + timeout;
  io.restart();
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    if (io.run_one_for(kPoll) == 0 && io.stopped()) {
      std::this_thread::sleep_for(kPoll);  // Out of work: only time can help.
      io.restart();
    }
  }
  return true;
}

// Runs `io` for `duration` (the handlers due meanwhile).
void RunFor(boost::asio::io_context& io, Clock::duration duration) {
  RunUntil(
      io, [] { return false; }, duration);
}

// The integer member `key` of JSON object text; nullopt if absent or not one.
std::optional<int64_t> IntegerMember(const boost::json::value& json, std::string_view key) {
  if (!json.is_object()) return std::nullopt;
  const boost::json::value* member = json.as_object().if_contains(key);
  if (member == nullptr) return std::nullopt;
  if (member->is_int64()) return member->as_int64();
  if (member->is_uint64()) return static_cast<int64_t>(member->as_uint64());
  return std::nullopt;
}

boost::json::value ParseJson(std::string_view text) {
  boost::system::error_code error;
  boost::json::value json = boost::json::parse(text, error);
  return error ? boost::json::value() : json;
}

struct Health {
  int status = 0;
  int64_t seq = -1;
  bool following = false;  // A gateway's; a node says nothing.
};

absl::StatusOr<Health> ReadHealth(const ServerUnderTest& server) {
  absl::StatusOr<std::pair<int, std::string>> answer =
      HttpCall(server.endpoint(), http::verb::get, "/healthz", "", "");
  if (!answer.ok()) return answer.status();
  Health health;
  health.status = answer->first;
  const boost::json::value body = ParseJson(answer->second);
  health.seq = IntegerMember(body, "seq").value_or(-1);
  if (const boost::json::value* following =
          body.is_object() ? body.as_object().if_contains("following") : nullptr;
      following != nullptr && following->is_bool()) {
    health.following = following->as_bool();
  }
  return health;
}

// Polls `server`'s /healthz until `ready` says so; kDeadlineExceeded after
// kFollowTimeout, naming `what` and the last answer.
absl::Status AwaitHealth(const ServerUnderTest& server,
                         const std::function<bool(const Health&)>& ready, std::string_view what) {
  const auto deadline = Clock::now() + kFollowTimeout;
  std::string last = "no answer";
  while (Clock::now() < deadline) {
    absl::StatusOr<Health> health = ReadHealth(server);
    if (health.ok() && ready(*health)) return absl::OkStatus();
    last = health.ok() ? absl::StrCat("HTTP ", health->status, " seq ", health->seq)
                       : std::string(health.status().message());
    std::this_thread::sleep_for(kPoll);
  }
  return absl::DeadlineExceededError(absl::StrCat(ToAbsl(what), " at ", server.host(), " within ",
                                                  kFollowTimeout.count(),
                                                  " s; last /healthz: ", last));
}

absl::Status AwaitSeq(const ServerUnderTest& server, int64_t seq, std::string_view name) {
  return AwaitHealth(
      server, [seq](const Health& health) { return health.status == 200 && health.seq >= seq; },
      absl::StrCat(ToAbsl(name), " did not reach seq ", seq));
}

// One `sbd-ledger gateway` child process on 127.0.0.1, signing secret
// ClusterNodes::kSecret, started and followed the stream; SIGTERM (then
// SIGKILL) when destroyed.
class GatewayProcess {
 public:
  static absl::StatusOr<std::unique_ptr<GatewayProcess>> Start(const std::string& binary,
                                                               const std::string& urls,
                                                               const std::string& name,
                                                               size_t connections_max) {
    ChildProcess::Options child;
    child.argv = {binary,
                  "gateway",
                  "--cluster",
                  urls,
                  "--node-id",
                  name,
                  "--listen",
                  "127.0.0.1:0",
                  "--no-access-log",
                  "--connections-max",
                  std::to_string(connections_max)};
    child.environment = {{"SBD_JWT_SECRET", ClusterNodes::kSecret}};
    absl::StatusOr<std::unique_ptr<ChildProcess>> process = ChildProcess::Start(child);
    if (!process.ok()) return process.status();
    auto gateway = std::unique_ptr<GatewayProcess>(new GatewayProcess(*std::move(process)));
    const auto deadline = Clock::now() + kGatewayStartTimeout;
    std::string address;
    while (address.empty()) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      absl::StatusOr<std::string> line = gateway->process_->ReadLine(left);
      if (!line.ok()) {
        return absl::UnavailableError(absl::StrCat(name, " did not say '", ToAbsl(kListeningPrefix),
                                                   "HOST:PORT': ", line.status().message()));
      }
      if (absl::StartsWith(*line, ToAbsl(kListeningPrefix))) {
        address = line->substr(kListeningPrefix.size());
      }
    }
    ServerOptions target;
    target.target = address;
    target.secret = ClusterNodes::kSecret;
    absl::StatusOr<std::unique_ptr<ServerUnderTest>> server = ServerUnderTest::Start(target);
    if (!server.ok()) return server.status();
    gateway->server_ = *std::move(server);
    if (absl::Status following = AwaitHealth(
            *gateway->server_,
            [](const Health& health) { return health.status == 200 && health.following; },
            absl::StrCat(name, " did not follow the stream"));
        !following.ok()) {
      return following;
    }
    return gateway;
  }

  ~GatewayProcess() { process_->Terminate(kStopTimeout).IgnoreError(); }

  pid_t pid() const { return process_->pid(); }
  const ServerUnderTest& server() const { return *server_; }
  // As a --target for the e2e workload's receivers.
  ServerOptions Target() const {
    ServerOptions target;
    target.target = server_->host();
    target.secret = ClusterNodes::kSecret;
    return target;
  }

 private:
  explicit GatewayProcess(std::unique_ptr<ChildProcess> process) : process_(std::move(process)) {}

  std::unique_ptr<ChildProcess> process_;
  std::unique_ptr<ServerUnderTest> server_;  // Its address and tokens; no process of its own.
};

// Sends requests 0..count-1 to `server` over `connections` keep-alive
// connections (whichever is free takes the next): `make` writes request i,
// `answer` sees its answer and when it came. Runs `io` until every request
// is answered; kUnavailable if a connection failed.
absl::Status SendAll(boost::asio::io_context& io, const ServerUnderTest& server, size_t count,
                     size_t connections, const std::function<void(size_t, Request&)>& make,
                     const std::function<void(size_t, const Response&, Clock::time_point)>& answer,
                     std::string_view what) {
  struct State {
    size_t next = 0;
    size_t running = 0;
    std::string error;
  };
  auto state = std::make_shared<State>();
  state->running = std::clamp<size_t>(connections, 1, std::max<size_t>(count, 1));
  const size_t clients = state->running;
  for (size_t c = 0; c < clients; ++c) {
    auto current = std::make_shared<size_t>(0);
    HttpLoadClient::Callbacks callbacks;
    callbacks.next = [state, current, count, &make](Request& request) {
      if (state->next >= count) {
        --state->running;
        return false;
      }
      *current = state->next++;
      make(*current, request);
      return true;
    };
    callbacks.on_answer = [current, &answer](const Response& response, Clock::time_point) {
      answer(*current, response, Clock::now());
    };
    callbacks.on_error = [state](const std::string& error) {
      if (state->error.empty()) state->error = error;
    };
    std::make_shared<HttpLoadClient>(io, std::move(callbacks), Clock::duration::zero())
        ->Start(server.endpoint(), Clock::now());
  }
  const bool finished = RunUntil(
      io, [&state] { return state->running == 0 || !state->error.empty(); }, kPhaseTimeout);
  if (!state->error.empty()) {
    return absl::UnavailableError(absl::StrCat(ToAbsl(what), ": ", state->error));
  }
  if (!finished) {
    return absl::DeadlineExceededError(absl::StrCat(ToAbsl(what), ": ", state->next, " of ", count,
                                                    " sent in ", kPhaseTimeout.count(), " s"));
  }
  return absl::OkStatus();
}

// Idle WebSocket clients: connection i on /ws?token=... of its server. Each
// counts as connected once it has its `connected` message; every later
// message goes to `on_message`. Lives while `io` runs its handlers.
class WebSocketSet {
 public:
  using OnMessage =
      std::function<void(size_t connection, std::string_view message, Clock::time_point at)>;
  struct Target {
    const ServerUnderTest* server;
    const std::string* token;
  };

  WebSocketSet(boost::asio::io_context& io, OnMessage on_message)
      : io_(io), on_message_(std::move(on_message)) {}
  ~WebSocketSet() { Close(); }

  // Opens one connection per target, at most `concurrency` handshakes at a
  // time, and runs `io` until every one is connected.
  absl::Status Connect(std::vector<Target> targets, size_t concurrency) {
    targets_ = std::move(targets);
    receivers_.reserve(targets_.size());
    for (size_t i = 0; i < std::max<size_t>(concurrency, 1); ++i) StartNext();
    const bool finished = RunUntil(
        io_, [this] { return connected_ == targets_.size() || !error_.empty(); }, kPhaseTimeout);
    if (!error_.empty()) return absl::UnavailableError(error_);
    if (!finished) {
      return absl::DeadlineExceededError(absl::StrCat(connected_, " of ", targets_.size(),
                                                      " WebSockets connected in ",
                                                      kPhaseTimeout.count(), " s"));
    }
    return absl::OkStatus();
  }

  // Connections that failed or that their server closed, and the first's why.
  size_t error_count() const { return error_count_; }
  const std::string& error() const { return error_; }

  void Close() {
    for (const auto& receiver : receivers_) receiver->Close();
    receivers_.clear();
    io_.restart();
    io_.poll();  // The aborted reads end; the receivers go.
  }

 private:
  void StartNext() {
    if (receivers_.size() == targets_.size()) return;
    const size_t index = receivers_.size();
    const Target& target = targets_[index];
    WebSocketReceiver::Callbacks callbacks;
    callbacks.on_connected = [this] {
      ++connected_;
      StartNext();
    };
    callbacks.on_message = [this, index](std::string_view message, Clock::time_point at) {
      on_message_(index, message, at);
    };
    callbacks.on_error = [this, index, host = target.server->host()](const std::string& what) {
      if (error_count_++ == 0) error_ = absl::StrCat("WebSocket ", index, " to ", host, ": ", what);
    };
    auto receiver = std::make_shared<WebSocketReceiver>(io_, std::move(callbacks));
    receiver->Start(target.server->endpoint(), target.server->host(),
                    absl::StrCat("/ws?token=", *target.token));
    receivers_.push_back(std::move(receiver));
  }

  boost::asio::io_context& io_;
  OnMessage on_message_;
  std::vector<Target> targets_;
  std::vector<std::shared_ptr<WebSocketReceiver>> receivers_;
  size_t connected_ = 0;
  size_t error_count_ = 0;
  std::string error_;
};

// The accounts of a run, opened on the writer: names, each one's token (for
// /ws?token=) and the admin's Authorization header.
struct Accounts {
  std::vector<std::string> names;
  std::vector<std::string> tokens;
  std::string admin;
};

absl::StatusOr<Accounts> OpenAccounts(const ServerUnderTest& writer, size_t count, size_t senders) {
  Accounts accounts;
  absl::StatusOr<std::string> admin = writer.Token("bench-admin", true);
  if (!admin.ok()) return admin.status();
  accounts.admin = absl::StrCat("Bearer ", *admin);
  accounts.names.reserve(count);
  accounts.tokens.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    accounts.names.push_back(AccountName(i));
    absl::StatusOr<std::string> token = writer.Token(accounts.names.back(), false);
    if (!token.ok()) return token.status();
    accounts.tokens.push_back(*std::move(token));
  }
  boost::asio::io_context io;
  std::string refused;
  absl::Status sent = SendAll(
      io, writer, count, senders,
      [&](size_t i, Request& request) {
        FillRequest(request, http::verb::post, "/admin/accounts",
                    absl::StrCat(R"({"username":")", accounts.names[i], R"("})"), accounts.admin,
                    writer.host());
      },
      [&](size_t i, const Response& response, Clock::time_point) {
        const unsigned status = response.result_int();
        if (status != 201 && status != 409 && refused.empty()) {
          refused =
              absl::StrCat("opening ", accounts.names[i], ": HTTP ", status, " ", response.body());
        }
      },
      "opening the accounts");
  if (!sent.ok()) return sent;
  if (!refused.empty()) return absl::UnavailableError(refused);
  return accounts;
}

// Idle connections on one server: its VmRSS before and after.
struct IdleMeasured {
  int64_t before_kib = 0;
  int64_t after_kib = 0;
  double connect_s = 0;
};

absl::StatusOr<IdleMeasured> MeasureIdle(const ServerUnderTest& server, pid_t pid,
                                         const std::vector<std::string>& tokens,
                                         size_t concurrency) {
  IdleMeasured measured;
  std::this_thread::sleep_for(kSettle);
  measured.before_kib = CurrentRssKib(pid);
  boost::asio::io_context io;
  size_t messages = 0;  // An idle connection gets none; counted, not required.
  WebSocketSet sockets(io,
                       [&messages](size_t, std::string_view, Clock::time_point) { ++messages; });
  std::vector<WebSocketSet::Target> targets;
  targets.reserve(tokens.size());
  for (const std::string& token : tokens) targets.push_back({&server, &token});
  const Clock::time_point start = Clock::now();
  if (absl::Status connected = sockets.Connect(std::move(targets), concurrency); !connected.ok()) {
    return connected;
  }
  measured.connect_s = Seconds(Clock::now() - start);
  std::this_thread::sleep_for(kSettle);
  measured.after_kib = CurrentRssKib(pid);
  RunFor(io, std::chrono::milliseconds(0));  // Anything the server said meanwhile.
  if (measured.before_kib < 0 || measured.after_kib < 0) {
    return absl::UnavailableError(absl::StrCat("cannot read VmRSS of pid ", pid));
  }
  if (sockets.error_count() > 0) {
    return absl::UnavailableError(
        absl::StrCat(sockets.error_count(), " idle WebSockets failed; first: ", sockets.error()));
  }
  return measured;
}

void AddIdleMetrics(const std::string& key, const std::string& name, const IdleMeasured& measured,
                    size_t connections, Metrics& out) {
  out.push_back({absl::StrCat(key, "_rss_before_mib"), absl::StrCat(name, ": RSS before"),
                 static_cast<double>(measured.before_kib) / kKibPerMib, "MiB"});
  out.push_back({absl::StrCat(key, "_rss_after_mib"),
                 absl::StrCat(name, ": RSS with ", connections, " idle WebSockets"),
                 static_cast<double>(measured.after_kib) / kKibPerMib, "MiB"});
  out.push_back({absl::StrCat(key, "_connect_s"), absl::StrCat(name, ": time to open them"),
                 measured.connect_s, "s"});
  out.push_back({absl::StrCat(key, "_rss_per_connection_bytes"),
                 absl::StrCat(name, ": RSS per idle connection"),
                 static_cast<double>(measured.after_kib - measured.before_kib) * kBytesPerKib /
                     static_cast<double>(connections),
                 "B"});
}

// Gateway 0 first, then the follower node, the same way.
absl::Status MeasureIdleConnections(const GatewayBenchOptions& options,
                                    const GatewayProcess& gateway, const ClusterNodes& nodes,
                                    size_t follower, const Accounts& accounts, Metrics& out) {
  absl::StatusOr<IdleMeasured> on_gateway =
      MeasureIdle(gateway.server(), gateway.pid(), accounts.tokens, options.connect_concurrency);
  if (!on_gateway.ok()) return on_gateway.status();
  absl::StatusOr<IdleMeasured> on_node =
      MeasureIdle(nodes.node(follower), *nodes.node(follower).pid(), accounts.tokens,
                  options.connect_concurrency);
  if (!on_node.ok()) return on_node.status();
  AddIdleMetrics("gateway", "idle, gateway", *on_gateway, options.connections, out);
  AddIdleMetrics("node", "idle, node (follower)", *on_node, options.connections, out);
  const double gateway_bytes = MetricValue(out, "gateway_rss_per_connection_bytes");
  const double node_bytes = MetricValue(out, "node_rss_per_connection_bytes");
  out.push_back({"gateway_vs_node_rss_per_connection", "idle: gateway / node per connection",
                 node_bytes != 0 ? gateway_bytes / node_bytes : 0, "x"});
  return absl::OkStatus();
}

// What one fan-out connection received.
struct FanoutReceipt {
  int32_t count = 0;
  Clock::time_point first_at;
  std::string first_message;
};

absl::Status MeasureFanout(const GatewayBenchOptions& options, const ServerUnderTest& writer,
                           const std::vector<std::unique_ptr<GatewayProcess>>& gateways,
                           const Accounts& accounts, Metrics& out) {
  const size_t connections = options.connections;
  const size_t account_count = std::min(options.fanout_accounts, connections);
  // Connection i: gateway i % 2, account (i / 2) % A, so every account has
  // its connections split between the two gateways.
  const auto gateway_of = [](size_t i) { return i % kGateways; };
  const auto account_of = [account_count](size_t i) { return (i / kGateways) % account_count; };
  boost::asio::io_context io;
  std::vector<FanoutReceipt> receipts(connections);
  size_t delivered = 0;
  WebSocketSet sockets(io, [&](size_t i, std::string_view message, Clock::time_point at) {
    FanoutReceipt& receipt = receipts[i];
    if (receipt.count++ == 0) {
      receipt.first_at = at;
      receipt.first_message = message;
      ++delivered;
    }
  });
  std::vector<WebSocketSet::Target> targets;
  targets.reserve(connections);
  for (size_t i = 0; i < connections; ++i) {
    targets.push_back({&gateways[gateway_of(i)]->server(), &accounts.tokens[account_of(i)]});
  }
  const Clock::time_point connect_start = Clock::now();
  if (absl::Status connected = sockets.Connect(std::move(targets), options.connect_concurrency);
      !connected.ok()) {
    return connected;
  }
  const double connect_s = Seconds(Clock::now() - connect_start);

  // One mint per account.
  std::vector<Clock::time_point> answered(account_count);
  std::vector<int64_t> mint_seq(account_count, -1);
  std::string refused;
  absl::Status minted = SendAll(
      io, writer, account_count, options.senders,
      [&](size_t a, Request& request) {
        FillRequest(request, http::verb::post, "/admin/mint",
                    absl::StrCat(R"({"username":")", accounts.names[a], R"(","amount":1})"),
                    accounts.admin, writer.host());
      },
      [&](size_t a, const Response& response, Clock::time_point at) {
        answered[a] = at;
        const std::optional<int64_t> seq = IntegerMember(ParseJson(response.body()), "seq");
        if (response.result_int() == 200 && seq.has_value()) {
          mint_seq[a] = *seq;
        } else if (refused.empty()) {
          refused = absl::StrCat("mint to ", accounts.names[a], ": HTTP ", response.result_int(),
                                 " ", response.body());
        }
      },
      "the fan-out's mints");
  if (!minted.ok()) return minted;
  if (!refused.empty()) return absl::UnavailableError(refused);
  RunUntil(
      io, [&] { return delivered == connections; }, kDeliverTimeout);
  RunFor(io, kDuplicateWindow);
  if (sockets.error_count() > 0) {
    return absl::UnavailableError(
        absl::StrCat(sockets.error_count(),
                     " fan-out WebSockets failed or were closed; first: ", sockets.error()));
  }

  // Every connection: exactly one message, its account's credit.
  size_t missing = 0;
  size_t duplicated = 0;
  size_t wrong = 0;
  std::string first_problem;
  const auto note = [&](size_t i, const std::string& what) {
    if (!first_problem.empty()) return;
    first_problem = absl::StrCat("connection ", i, " (gateway ", gateway_of(i), ", ",
                                 accounts.names[account_of(i)], ", mint seq ",
                                 mint_seq[account_of(i)], "): ", what);
  };
  const Clock::time_point first_answer = *std::min_element(answered.begin(), answered.end());
  const Clock::time_point last_answer = *std::max_element(answered.begin(), answered.end());
  std::vector<Clock::time_point> last_at(kGateways, first_answer);
  LatencyRecorder latency;
  latency.Reserve(connections);
  for (size_t i = 0; i < connections; ++i) {
    const FanoutReceipt& receipt = receipts[i];
    if (receipt.count == 0) {
      ++missing;
      note(i, "no message");
      continue;
    }
    if (receipt.count > 1) {
      ++duplicated;
      note(i, absl::StrCat(receipt.count, " messages"));
    }
    const boost::json::value message = ParseJson(receipt.first_message);
    const boost::json::value* type =
        message.is_object() ? message.as_object().if_contains("type") : nullptr;
    if (type == nullptr || !type->is_string() || type->as_string() != "sbd_tokens_credited" ||
        IntegerMember(message, "seq") != mint_seq[account_of(i)]) {
      ++wrong;
      note(i, absl::StrCat("got ", receipt.first_message));
      continue;
    }
    last_at[gateway_of(i)] = std::max(last_at[gateway_of(i)], receipt.first_at);
    latency.Record(std::chrono::duration_cast<std::chrono::nanoseconds>(receipt.first_at -
                                                                        answered[account_of(i)])
                       .count());
  }
  if (missing + duplicated + wrong > 0) {
    return absl::DataLossError(absl::StrCat("fan-out over ", connections, " connections: ", missing,
                                            " got no message, ", duplicated, " more than one, ",
                                            wrong, " a wrong one; first: ", first_problem));
  }
  const Clock::time_point last = *std::max_element(last_at.begin(), last_at.end());
  out.push_back({"fanout_connections", "fan-out: connections (half on each gateway)",
                 static_cast<double>(connections), ""});
  out.push_back({"fanout_accounts", "fan-out: accounts (one mint each)",
                 static_cast<double>(account_count), ""});
  out.push_back({"fanout_connect_s", "fan-out: time to open the connections", connect_s, "s"});
  out.push_back({"fanout_writes_ms", "fan-out: first mint's 200 -> last mint's 200",
                 Milliseconds(last_answer - first_answer), "ms"});
  out.push_back({"fanout_time_to_last_ms", "fan-out: first mint's 200 -> last connection's message",
                 Milliseconds(last - first_answer), "ms"});
  for (size_t g = 0; g < kGateways; ++g) {
    out.push_back({absl::StrCat("fanout_gateway", g, "_time_to_last_ms"),
                   absl::StrCat("fan-out: ... to gateway ", g, "'s last"),
                   Milliseconds(last_at[g] - first_answer), "ms"});
  }
  out.push_back({"fanout_deliver_p50_ms", "fan-out: own mint's 200 -> message p50",
                 latency.PercentileMs(50), "ms"});
  out.push_back({"fanout_deliver_p99_ms", "fan-out: own mint's 200 -> message p99",
                 latency.PercentileMs(99), "ms"});
  return absl::OkStatus();
}

// The e2e workload through the writer at options.rate, the receivers on
// the gateway, then on the writer itself.
absl::Status MeasureLatency(const GatewayBenchOptions& options, const ClusterNodes& nodes,
                            size_t writer, const GatewayProcess& gateway, Metrics& out) {
  E2eBenchOptions e2e;
  e2e.clients = options.clients;
  e2e.websockets = options.websockets;
  e2e.duration_s = options.duration_s;
  e2e.rate = options.rate;
  e2e.server = nodes.Target(writer);
  std::vector<std::pair<std::string, Metrics>> measured;
  for (const bool on_gateway : {true, false}) {
    e2e.receivers_server =
        on_gateway ? std::optional<ServerOptions>(gateway.Target()) : std::nullopt;
    const std::string name = on_gateway ? "gateway" : "node";
    absl::StatusOr<Metrics> metrics = RunE2eBench(e2e);
    if (!metrics.ok()) return metrics.status();
    for (const char* key : {"messages_lost", "messages_duplicated", "messages_misdelivered"}) {
      if (const double count = MetricValue(*metrics, key); count != 0) {
        return absl::DataLossError(
            absl::StrCat("latency, receivers on the ", name, ": ", key, " ", count));
      }
    }
    measured.emplace_back(name, *std::move(metrics));
  }
  out.push_back({"latency_offered_per_s", "latency: offered transfers/s", options.rate, ""});
  for (const auto& [name, metrics] : measured) {
    const std::string where =
        name == "gateway" ? "receivers on a gateway" : "receivers on the writer";
    out.push_back({absl::StrCat(name, "_achieved_per_s"),
                   absl::StrCat("latency, ", where, ": achieved transfers/s"),
                   MetricValue(metrics, "transfers_per_s"), ""});
    out.push_back({absl::StrCat(name, "_http_p99_ms"),
                   absl::StrCat("latency, ", where, ": HTTP p99"),
                   MetricValue(metrics, "http_p99_ms"), "ms"});
    for (const char* quantile : {"p50", "p99"}) {
      out.push_back({absl::StrCat(name, "_notify_", quantile, "_ms"),
                     absl::StrCat("latency, ", where, ": writer's 200 -> message ", quantile),
                     MetricValue(metrics, absl::StrCat("notify_", quantile, "_ms")), "ms"});
    }
    out.push_back({absl::StrCat(name, "_messages_unanswered"),
                   absl::StrCat("latency, ", where, ": messages for no answered transfer"),
                   MetricValue(metrics, "messages_unanswered"), ""});
  }
  for (const char* quantile : {"p50", "p99"}) {
    const double via_gateway = MetricValue(out, absl::StrCat("gateway_notify_", quantile, "_ms"));
    const double via_node = MetricValue(out, absl::StrCat("node_notify_", quantile, "_ms"));
    out.push_back({absl::StrCat("gateway_added_notify_", quantile, "_ms"),
                   absl::StrCat("latency: gateway - node, ", quantile), via_gateway - via_node,
                   "ms"});
  }
  return absl::OkStatus();
}

absl::Status CheckOptions(const GatewayBenchOptions& options) {
  if (options.connections < kGateways || options.fanout_accounts == 0) {
    return absl::InvalidArgumentError(
        "--connections must be at least 2, --fanout-accounts positive");
  }
  if (options.senders == 0 || options.connect_concurrency == 0) {
    return absl::InvalidArgumentError("--senders and --connect-concurrency must be positive");
  }
  if (options.duration_s > 0 &&
      (options.rate <= 0 || options.clients == 0 || options.websockets < 2)) {
    return absl::InvalidArgumentError(
        "the latency part needs --rate > 0, --clients > 0 and --ws >= 2 (or --duration 0)");
  }
  if (options.ledger_binary.empty()) {
    return absl::FailedPreconditionError("no sbd-ledger binary: pass --server PATH");
  }
  // Children inherit this process's limit: each gateway and node holds up
  // to `connections` sockets, as does sbd-bench.
  RaiseOpenFileLimit();
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
      limit.rlim_cur < options.connections + kConnectionsHeadroom) {
    return absl::FailedPreconditionError(
        absl::StrCat("--connections ", options.connections, " needs ",
                     options.connections + kConnectionsHeadroom,
                     " open files; the hard limit (ulimit -Hn) is ", limit.rlim_cur));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Metrics> RunGatewayBench(const GatewayBenchOptions& options) {
  if (absl::Status valid = CheckOptions(options); !valid.ok()) return valid;
  std::filesystem::create_directories(options.directory / "nats");
  absl::StatusOr<std::unique_ptr<testing::NatsCluster>> nats =
      testing::NatsCluster::Start((options.directory / "nats").string());
  if (!nats.ok()) return nats.status();
  const size_t connections_max = options.connections + kConnectionsHeadroom;
  ClusterNodes nodes({.ledger_binary = options.ledger_binary,
                      .directory = options.directory,
                      .urls = (*nats)->ClientUrls(),
                      .lease_ms = options.lease_ms,
                      .connections_max = connections_max});
  for (size_t i = 0; i < 3; ++i) {
    if (absl::Status status = nodes.Start(i); !status.ok()) return status;
  }
  absl::StatusOr<size_t> writer = nodes.AwaitWriter();
  if (!writer.ok()) return writer.status();
  const size_t follower = (*writer + 1) % nodes.size();
  std::vector<std::unique_ptr<GatewayProcess>> gateways;
  for (size_t g = 0; g < kGateways; ++g) {
    absl::StatusOr<std::unique_ptr<GatewayProcess>> gateway = GatewayProcess::Start(
        options.ledger_binary, (*nats)->ClientUrls(), absl::StrCat("gateway", g), connections_max);
    if (!gateway.ok()) return gateway.status();
    gateways.push_back(*std::move(gateway));
  }
  const ServerUnderTest& writer_node = nodes.node(*writer);
  absl::StatusOr<Accounts> accounts =
      OpenAccounts(writer_node, options.connections, options.senders);
  if (!accounts.ok()) return accounts.status();
  // Everyone measured has applied the openings before it is measured.
  absl::StatusOr<Health> written = ReadHealth(writer_node);
  if (!written.ok()) return written.status();
  for (size_t g = 0; g < kGateways; ++g) {
    if (absl::Status status =
            AwaitSeq(gateways[g]->server(), written->seq, absl::StrCat("gateway", g));
        !status.ok()) {
      return status;
    }
  }
  if (absl::Status status = AwaitSeq(nodes.node(follower), written->seq, "the follower");
      !status.ok()) {
    return status;
  }

  Metrics metrics;
  if (absl::Status status =
          MeasureIdleConnections(options, *gateways[0], nodes, follower, *accounts, metrics);
      !status.ok()) {
    return status;
  }
  if (absl::Status status = MeasureFanout(options, writer_node, gateways, *accounts, metrics);
      !status.ok()) {
    return status;
  }
  if (options.duration_s > 0) {
    if (absl::Status status = MeasureLatency(options, nodes, *writer, *gateways[0], metrics);
        !status.ok()) {
      return status;
    }
  }
  gateways.clear();  // Before the nodes and the nats-servers they follow.
  std::error_code ignored;
  std::filesystem::remove_all(options.directory, ignored);
  return metrics;
}

}  // namespace sbd::bench
