// Cluster gateways end to end (docs/CLUSTER.md "Gateways"): three
// sbd-ledger nodes on a real 3-server JetStream cluster and real
// `sbd-ledger gateway` processes on the same stream, driven as clients
// would: transfers over HTTP to the nodes (ClusterLoad's senders, which
// retry across nodes), WebSocket receivers on the gateways.
//
// What a gateway's client gets is checked against the log itself: at the
// end of each test every node has applied the writer's last seq, and each
// receiver got exactly its account's messages after where it started,
// in seq order, each once, with bodies identical to what sbd-replay
// --notifications derives from a node's log (the node's own messages).
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "engine/mutex.h"
#include "tests/cluster/cluster_load.h"
#include "tests/cluster/ledger_cluster.h"
#include "tests/support/accounts.h"
#include "tests/support/http_client.h"
#include "tests/support/json_fields.h"
#include "tests/support/tokens.h"
#include "tests/support/websocket_client.h"

namespace sbd::testing {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kAccounts = 6;
constexpr int64_t kFunds = 1'000'000;
// Bound on a receiver's `connected` message after its upgrade (a snapshot
// may be a node's answer).
constexpr seconds kConnectedTimeout{10};
// How long a receiver may take to get the messages the log says it is owed
// once the load stopped.
constexpr seconds kCatchUpTimeout{15};

std::string Account(int k) { return absl::StrCat("u", k); }

int64_t Millis(Clock::duration duration) {
  return std::chrono::duration_cast<milliseconds>(duration).count();
}

int64_t SeqOf(const json::object& message) { return JsonInt(message, "seq"); }

std::string WsTarget(const std::string& account, std::optional<int64_t> since = std::nullopt) {
  std::string target = absl::StrCat("/ws?token=", MakeToken(account));
  if (since.has_value()) absl::StrAppend(&target, "&since=", *since);
  return target;
}

// The value of the Prometheus sample `name` (a line "name VALUE") in
// `text`; -1 if there is none.
int64_t MetricValue(const std::string& text, absl::string_view name) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, name) || !absl::ConsumePrefix(&line, " ")) continue;
    int64_t value = -1;
    double as_double = 0;
    if (absl::SimpleAtoi(line, &value)) return value;
    if (absl::SimpleAtod(line, &as_double)) return static_cast<int64_t>(as_double);
  }
  return -1;
}

// The messages of `notifications` (sbd-replay --notifications of one
// node's log) that go to `account`, with seq > `after`, in order.
std::vector<json::object> MessagesFor(const std::vector<json::object>& notifications,
                                      const std::string& account, int64_t after) {
  std::vector<json::object> messages;
  for (const json::object& line : notifications) {
    if (line.at("to") != json::value(account)) continue;
    const json::object& message = line.at("message").as_object();
    if (SeqOf(message) > after) messages.push_back(message);
  }
  return messages;
}

// One user's WebSocket view of a gateway, as a well-behaved client keeps
// it: a connection read on a thread of its own, recording every message
// after `connected`; once a connection ended (its gateway killed, a 1013),
// Resume connects again, to any port, with since = the last seq it saw
// (the last message's, or, before any, where the connection started).
// Messages() is everything every connection got, in arrival order.
//
// Thread-safety: the methods are for the one test thread; the reading
// thread records under mutex_, and accessors return copies.
class Receiver {
 public:
  explicit Receiver(std::string account) : account_(std::move(account)) {}
  ~Receiver() { Stop(); }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  const std::string& account() const { return account_; }

  // Connects (GET /ws, with `since` if given), waits for `connected` and
  // starts reading.
  absl::Status Connect(uint16_t port, std::optional<int64_t> since = std::nullopt) {
    Stop();
    absl::StatusOr<std::unique_ptr<WebSocketClient>> socket =
        WebSocketClient::Connect(port, WsTarget(account_, since));
    if (!socket.ok()) return socket.status();
    absl::StatusOr<json::value> connected = (*socket)->ReadJson(kConnectedTimeout);
    if (!connected.ok()) return connected.status();
    if (!connected->is_object() || connected->as_object().if_contains("type") == nullptr ||
        connected->at("type") != "connected") {
      return absl::InternalError(
          absl::StrCat(account_, ": not a connected message: ", json::serialize(*connected)));
    }
    {
      MutexLock lock(mutex_);
      const int64_t seq = SeqOf(connected->as_object());
      if (connecteds_.empty()) from_seq_ = since.value_or(seq);
      // A connection without `since` sends what comes after its seq; one
      // with it, what comes after `since` (the replay first).
      cursor_ = since.value_or(seq);
      connecteds_.push_back(std::move(connected->as_object()));
      ended_ = false;
      close_code_.reset();
    }
    socket_ = *std::move(socket);
    stop_ = false;
    thread_ = std::thread([this] { ReadLoop(); });
    return absl::OkStatus();
  }

  // Connects again with since = Cursor() (after the last connection ended,
  // or to move it).
  absl::Status Resume(uint16_t port) {
    Stop();
    return Connect(port, Cursor());
  }

  // Stops reading and drops the connection.
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    socket_.reset();
  }

  // Where the first connection started: its `since`, else its seq. The
  // receiver is owed every message of its account after it.
  int64_t from_seq() const {
    MutexLock lock(mutex_);
    return from_seq_;
  }
  int64_t Cursor() const {
    MutexLock lock(mutex_);
    return cursor_;
  }
  std::vector<json::object> Messages() const {
    MutexLock lock(mutex_);
    return messages_;
  }
  std::vector<json::object> Connecteds() const {
    MutexLock lock(mutex_);
    return connecteds_;
  }
  // The current connection ended (the server closed it or it broke).
  bool ended() const {
    MutexLock lock(mutex_);
    return ended_;
  }
  std::optional<int> close_code() const {
    MutexLock lock(mutex_);
    return close_code_;
  }

  // Waits (bounded) until the current connection ended.
  bool AwaitEnded(milliseconds within) const {
    const auto until = Clock::now() + within;
    while (!ended()) {
      if (Clock::now() >= until) return false;
      std::this_thread::sleep_for(milliseconds(10));
    }
    return true;
  }

  // Waits (bounded) until `count` messages arrived in all; false if the
  // connection ended first or time ran out.
  bool AwaitMessages(size_t count, milliseconds within) const {
    const auto until = Clock::now() + within;
    for (;;) {
      {
        MutexLock lock(mutex_);
        if (messages_.size() >= count) return true;
        if (ended_) return false;
      }
      if (Clock::now() >= until) return false;
      std::this_thread::sleep_for(milliseconds(10));
    }
  }

 private:
  void ReadLoop() {
    while (!stop_) {
      absl::StatusOr<json::value> message = socket_->ReadJson(milliseconds(200));
      if (absl::IsDeadlineExceeded(message.status())) continue;
      MutexLock lock(mutex_);
      if (!message.ok() || !message->is_object()) {
        ended_ = true;
        close_code_ = socket_->close_code();
        return;
      }
      json::object& object = message->as_object();
      if (object.contains("seq")) cursor_ = SeqOf(object);
      messages_.push_back(std::move(object));
    }
  }

  const std::string account_;
  std::unique_ptr<WebSocketClient> socket_;  // The reading thread's while it runs.
  std::thread thread_;
  std::atomic<bool> stop_{false};

  mutable Mutex mutex_;
  int64_t from_seq_ ABSL_GUARDED_BY(mutex_) = -1;
  int64_t cursor_ ABSL_GUARDED_BY(mutex_) = -1;
  std::vector<json::object> messages_ ABSL_GUARDED_BY(mutex_);
  std::vector<json::object> connecteds_ ABSL_GUARDED_BY(mutex_);
  bool ended_ ABSL_GUARDED_BY(mutex_) = false;
  std::optional<int> close_code_ ABSL_GUARDED_BY(mutex_);
};

// A gateway's GET /healthz.
struct Health {
  int status = 0;
  json::object body;
};

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto started_at = Clock::now();
    absl::StatusOr<std::unique_ptr<LedgerCluster>> started = LedgerCluster::Start();
    ASSERT_TRUE(started.ok()) << started.status();
    cluster_ = *std::move(started);
    std::optional<int> writer = cluster_->AwaitWriter();
    ASSERT_TRUE(writer.has_value()) << cluster_->Describe();
    writer_ = *writer;
    HttpClient on_writer(cluster_->node(writer_).port());
    for (int k = 0; k < kAccounts; ++k) {
      ASSERT_TRUE(OpenFundedAccount(on_writer, Account(k), kFunds).ok());
    }
    absl::StatusOr<int64_t> funded = cluster_->Seq(writer_);
    ASSERT_TRUE(funded.ok()) << funded.status();
    funded_seq_ = *funded;
    ASSERT_TRUE(cluster_->AwaitApplied(funded_seq_));
    std::cout << "[timing] cluster up and " << kAccounts << " accounts funded in "
              << Millis(Clock::now() - started_at) << " ms\n";
  }

  // A gateway on the cluster's stream, up and following (or a failure).
  std::unique_ptr<ServerProcess> StartGateway(const std::string& name,
                                              std::vector<std::string> args = {}) {
    const auto started_at = Clock::now();
    absl::StatusOr<std::unique_ptr<ServerProcess>> gateway =
        cluster_->StartGateway(name, std::move(args));
    EXPECT_TRUE(gateway.ok()) << gateway.status();
    if (!gateway.ok()) return nullptr;
    std::cout << "[timing] gateway " << name << " following after "
              << Millis(Clock::now() - started_at) << " ms\n";
    return *std::move(gateway);
  }

  static absl::StatusOr<Health> GatewayHealth(const ServerProcess& gateway) {
    HttpClient client(gateway.port(), seconds(2));
    absl::StatusOr<HttpResponse> answer = client.Get("/healthz");
    if (!answer.ok()) return answer.status();
    json::value body = answer->Json();
    if (!body.is_object()) return absl::InternalError(absl::StrCat("healthz: ", answer->body));
    return Health{.status = answer->status, .body = std::move(body.as_object())};
  }

  static std::string Metrics(const ServerProcess& server) {
    HttpClient client(server.port(), seconds(2));
    absl::StatusOr<HttpResponse> answer = client.Get("/metrics");
    return answer.ok() ? answer->body : "";
  }

  // Waits (bounded) until the gateway's /healthz says it applied `seq`.
  static bool AwaitGatewaySeq(const ServerProcess& gateway, int64_t seq,
                              milliseconds within = seconds(20)) {
    const auto until = Clock::now() + within;
    for (;;) {
      absl::StatusOr<Health> health = GatewayHealth(gateway);
      if (health.ok() && JsonInt(health->body, "seq") >= seq) return true;
      if (Clock::now() >= until) return false;
      std::this_thread::sleep_for(milliseconds(20));
    }
  }

  std::vector<uint16_t> NodePorts() {
    std::vector<uint16_t> ports;
    for (int i = 0; i < cluster_->size(); ++i) ports.push_back(cluster_->node(i).port());
    return ports;
  }

  // Senders (not started) among the accounts, on the nodes.
  void MakeLoad(int senders = 3, milliseconds pace = milliseconds(40), int accounts = kAccounts) {
    ClusterLoad::Options options;
    options.ports = NodePorts();
    options.senders = senders;
    options.pace = pace;
    for (int k = 0; k < accounts; ++k) options.accounts.push_back(Account(k));
    options.transaction_prefix = absl::StrCat("load", loads_made_++);
    load_ = std::make_unique<ClusterLoad>(std::move(options));
  }

  void AwaitAcked(int64_t count, Clock::time_point since, milliseconds within = seconds(20)) {
    ASSERT_TRUE(load_->AwaitAcked(count, since, within))
        << "only " << load_->AckedSince(since) << " of " << count << " sends acknowledged\n"
        << cluster_->Describe();
  }

  // One transfer through the writer; its seq.
  int64_t Transfer(const std::string& from, const std::string& to, int64_t amount,
                   const std::string& note = "") {
    HttpClient client(cluster_->node(writer_).port(), seconds(20));
    json::object body{{"to_user", to}, {"amount", amount}};
    if (!note.empty()) body["note"] = note;
    absl::StatusOr<HttpResponse> sent =
        client.Post("/sbd_tokens/send", json::serialize(body), MakeToken(from));
    EXPECT_TRUE(sent.ok()) << sent.status();
    if (!sent.ok()) return -1;
    EXPECT_EQ(sent->status, 200) << sent->body;
    return JsonInt(sent->Json(), "seq");
  }

  // The load stopped (if any): the writer's last seq, once every node and
  // every given gateway has applied it.
  int64_t Quiesce(const std::vector<const ServerProcess*>& gateways) {
    if (load_ != nullptr) load_->StopSenders();
    std::optional<int> writer = cluster_->AwaitWriter();
    EXPECT_TRUE(writer.has_value()) << "no writer at the end:\n" << cluster_->Describe();
    if (!writer.has_value()) return -1;
    absl::StatusOr<int64_t> seq = cluster_->Seq(*writer);
    EXPECT_TRUE(seq.ok()) << seq.status();
    if (!seq.ok()) return -1;
    EXPECT_TRUE(cluster_->AwaitApplied(*seq)) << cluster_->Describe();
    for (const ServerProcess* gateway : gateways) {
      EXPECT_TRUE(AwaitGatewaySeq(*gateway, *seq)) << "a gateway never applied seq " << *seq;
    }
    return *seq;
  }

  // sbd-replay --notifications of a node that is up, through `seq`.
  std::vector<json::object> NotificationsAt(int64_t seq) {
    for (int i = 0; i < cluster_->size(); ++i) {
      if (!cluster_->Up(i)) continue;
      absl::StatusOr<std::vector<json::object>> notifications = cluster_->Notifications(i, seq);
      EXPECT_TRUE(notifications.ok()) << notifications.status();
      if (notifications.ok()) return *std::move(notifications);
    }
    ADD_FAILURE() << "no node up to replay";
    return {};
  }

  // `receiver` got exactly its account's messages of `notifications` after
  // its from_seq(), in order, once, with the same bodies.
  void ExpectGotExactly(const Receiver& receiver, const std::vector<json::object>& notifications,
                        const std::string& who) {
    const std::vector<json::object> expected =
        MessagesFor(notifications, receiver.account(), receiver.from_seq());
    receiver.AwaitMessages(expected.size(), kCatchUpTimeout);
    const std::vector<json::object> got = receiver.Messages();
    EXPECT_EQ(got.size(), expected.size())
        << who << " (" << receiver.account() << ", from seq " << receiver.from_seq() << ")";
    for (size_t i = 0; i < std::min(got.size(), expected.size()); ++i) {
      ASSERT_EQ(got[i], expected[i])
          << who << " (" << receiver.account() << "): message " << i << " is "
          << json::serialize(got[i]) << ", the log says " << json::serialize(expected[i]);
    }
    for (size_t i = expected.size(); i < got.size(); ++i) {
      ADD_FAILURE() << who << ": extra message " << json::serialize(got[i]);
    }
  }

  // Each connection's `connected` balance is the account's balance at its
  // seq in the log (sbd-replay --until-seq of a node).
  void ExpectConnectedBalancesMatchTheLog(const Receiver& receiver, const std::string& who) {
    for (const json::object& connected : receiver.Connecteds()) {
      const int64_t seq = SeqOf(connected);
      ASSERT_GE(seq, funded_seq_) << who << ": " << json::serialize(connected);
      absl::StatusOr<json::object> summary = cluster_->Replay(writer_, seq);
      if (!cluster_->Up(writer_)) {
        for (int i = 0; i < cluster_->size() && !summary.ok(); ++i) {
          if (cluster_->Up(i)) summary = cluster_->Replay(i, seq);
        }
      }
      ASSERT_TRUE(summary.ok()) << summary.status();
      const json::object& data = connected.at("data").as_object();
      EXPECT_EQ(data.at("username"), json::value(receiver.account())) << who;
      EXPECT_EQ(data.at("sbd_tokens"), summary->at("balances").at(receiver.account()))
          << who << ": " << json::serialize(connected) << " but the log at seq " << seq << " says "
          << json::serialize(summary->at("balances"));
    }
  }

  std::unique_ptr<LedgerCluster> cluster_;
  int writer_ = -1;
  int64_t funded_seq_ = 0;
  std::unique_ptr<ClusterLoad> load_;
  int loads_made_ = 0;  // Each load's transactions are its own.
};

// (a) Two gateways: every user connected to both gets every message once,
// in seq order, with the bodies a node sends (and the same as a node's own
// WebSocket delivers); the last balance each saw is its balance.
TEST_F(GatewayTest, ClientsOnTwoGatewaysGetEveryMessageOnceInOrderAsANodeSendsIt) {
  std::unique_ptr<ServerProcess> first = StartGateway("gw-a");
  std::unique_ptr<ServerProcess> second = StartGateway("gw-b");
  ASSERT_TRUE(first && second);
  std::vector<std::unique_ptr<Receiver>> receivers;
  for (int k = 0; k < kAccounts; ++k) {
    for (const ServerProcess* gateway : {first.get(), second.get()}) {
      receivers.push_back(std::make_unique<Receiver>(Account(k)));
      absl::Status connected = receivers.back()->Connect(gateway->port());
      ASSERT_TRUE(connected.ok()) << connected;
    }
  }
  // The same user on a follower node, for the side-by-side comparison.
  const int follower = (writer_ + 1) % cluster_->size();
  Receiver on_node(Account(0));
  ASSERT_TRUE(on_node.Connect(cluster_->node(follower).port()).ok());

  MakeLoad(/*senders=*/3, milliseconds(20));
  load_->StartSenders();
  ASSERT_NO_FATAL_FAILURE(AwaitAcked(150, Clock::time_point()));
  const int64_t seq = Quiesce({first.get(), second.get()});
  ASSERT_GT(seq, funded_seq_);
  const std::vector<json::object> notifications = NotificationsAt(seq);
  size_t messages = 0;
  for (size_t r = 0; r < receivers.size(); ++r) {
    const Receiver& receiver = *receivers[r];
    const std::string who = r % 2 == 0 ? "gw-a" : "gw-b";
    ASSERT_NO_FATAL_FAILURE(ExpectGotExactly(receiver, notifications, who));
    EXPECT_FALSE(receiver.ended()) << who << " closed " << receiver.account();
    messages += receiver.Messages().size();
    // The connection started at the gateway's seq, which it had applied.
    ASSERT_EQ(receiver.Connecteds().size(), 1u);
    EXPECT_GE(receiver.from_seq(), funded_seq_);
    ASSERT_NO_FATAL_FAILURE(ExpectConnectedBalancesMatchTheLog(receiver, who));
    // The last new_balance seen is the account's balance now.
    const std::vector<json::object> got = receiver.Messages();
    if (!got.empty()) {
      HttpClient node(cluster_->node(follower).port());
      absl::StatusOr<HttpResponse> balance = node.Get("/sbd_tokens", MakeToken(receiver.account()));
      ASSERT_TRUE(balance.ok()) << balance.status();
      EXPECT_EQ(got.back().at("data").at("new_balance"), balance->Json().at("sbd_tokens"))
          << who << " " << receiver.account();
    }
  }
  // Every transfer of the load reached its two parties on both gateways.
  EXPECT_GE(messages, 2 * 2 * 150u);
  ASSERT_NO_FATAL_FAILURE(ExpectGotExactly(on_node, notifications, "the follower node"));
  // And the gateways' messages are the node's, for the seqs both cover.
  const std::vector<json::object> from_node = on_node.Messages();
  for (const Receiver* receiver : {receivers[0].get(), receivers[1].get()}) {
    std::vector<json::object> common;
    for (const json::object& message : receiver->Messages()) {
      if (SeqOf(message) > on_node.from_seq()) common.push_back(message);
    }
    std::vector<json::object> node_common;
    for (const json::object& message : from_node) {
      if (SeqOf(message) > receiver->from_seq()) node_common.push_back(message);
    }
    EXPECT_EQ(common, node_common);
  }
  std::cout << "[ws] " << receivers.size() << " receivers on 2 gateways got " << messages
            << " messages through seq " << seq << ", as the log says\n";
}

// (b) `connected` carries the user's balance at its seq: from the window
// for a user with an event in it, from a node's snapshot joined to the
// window for one whose events are all older than it; quiet and under load.
TEST_F(GatewayTest, ConnectedCarriesTheBalanceAtItsSeqInsideAndOutsideTheWindow) {
  std::unique_ptr<ServerProcess> gateway = StartGateway("gw", {"--window-events", "5"});
  ASSERT_TRUE(gateway);
  // u3 moves tokens once, then 8 transfers between u0 and u1 push it (and
  // every funding) out of the 5-event window.
  ASSERT_GT(Transfer(Account(3), Account(4), 777), 0);
  int64_t last = 0;
  for (int i = 0; i < 8; ++i) last = Transfer(Account(i % 2), Account(1 - i % 2), 10 + i);
  ASSERT_GT(last, funded_seq_ + 8);
  ASSERT_TRUE(cluster_->AwaitApplied(last));
  ASSERT_TRUE(AwaitGatewaySeq(*gateway, last));
  absl::StatusOr<Health> health = GatewayHealth(*gateway);
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(JsonInt(health->body, "seq"), last);
  EXPECT_EQ(MetricValue(Metrics(*gateway), "sbd_gateway_window_events"), 5);

  HttpClient node(cluster_->node((writer_ + 1) % cluster_->size()).port());
  for (int k : {0, 1, 2, 3, 4}) {
    const std::string account = Account(k);
    absl::StatusOr<HttpResponse> balance = node.Request(
        "GET", "/sbd_tokens", "", MakeToken(account), {{"X-SBD-Min-Seq", std::to_string(last)}});
    ASSERT_TRUE(balance.ok()) << balance.status();
    ASSERT_EQ(balance->status, 200) << balance->body;
    // With and without `since` (the replay after it must not change it).
    for (std::optional<int64_t> since : {std::optional<int64_t>(), std::optional<int64_t>(0)}) {
      absl::StatusOr<std::unique_ptr<WebSocketClient>> ws =
          WebSocketClient::Connect(gateway->port(), WsTarget(account, since));
      ASSERT_TRUE(ws.ok()) << account << ": " << ws.status();
      absl::StatusOr<json::value> connected = (*ws)->ReadJson(kConnectedTimeout);
      ASSERT_TRUE(connected.ok()) << account << ": " << connected.status();
      EXPECT_EQ(connected->at("type"), "connected");
      EXPECT_EQ(JsonInt(connected->as_object(), "seq"), last) << json::serialize(*connected);
      EXPECT_EQ(connected->at("data").at("username"), json::value(account));
      EXPECT_EQ(connected->at("data").at("sbd_tokens"), balance->Json().at("sbd_tokens"))
          << account << (k <= 1 ? " (in the window)" : " (older than the window)") << ": "
          << json::serialize(*connected);
    }
  }

  // Under load, connections come and go; each `connected` is the log's
  // balance at its seq, whichever way the gateway got it.
  MakeLoad(/*senders=*/3, milliseconds(20));
  load_->StartSenders();
  std::vector<std::unique_ptr<Receiver>> receivers;
  for (int round = 0; round < 3; ++round) {
    for (int k = 0; k < kAccounts; ++k) {
      receivers.push_back(std::make_unique<Receiver>(Account(k)));
      absl::Status connected = receivers.back()->Connect(gateway->port());
      ASSERT_TRUE(connected.ok()) << Account(k) << " round " << round << ": " << connected;
    }
    ASSERT_NO_FATAL_FAILURE(AwaitAcked(30 * (round + 1), Clock::time_point()));
  }
  const int64_t seq = Quiesce({gateway.get()});
  const std::vector<json::object> notifications = NotificationsAt(seq);
  for (const std::unique_ptr<Receiver>& receiver : receivers) {
    ASSERT_NO_FATAL_FAILURE(ExpectConnectedBalancesMatchTheLog(*receiver, "gw"));
    ASSERT_NO_FATAL_FAILURE(ExpectGotExactly(*receiver, notifications, "gw"));
  }
}

// (c) A `since` older than the window is replayed from a node's log (more
// than one page of it), then live messages follow, with no gap and no
// duplicate at the seam, while transfers keep flowing.
TEST_F(GatewayTest, ASinceOlderThanTheWindowIsReplayedFromANodeThenLiveWithoutGapOrDuplicate) {
  std::unique_ptr<ServerProcess> gateway = StartGateway("gw", {"--window-events", "5"});
  ASSERT_TRUE(gateway);
  // History: more than a replay page (1024 events) for u0 and u1.
  MakeLoad(/*senders=*/4, milliseconds(0), /*accounts=*/2);
  const auto history_from = Clock::now();
  load_->StartSenders();
  ASSERT_NO_FATAL_FAILURE(AwaitAcked(1100, Clock::time_point(), seconds(60)));
  load_->StopSenders();
  std::cout << "[timing] 1100 transfers of history in " << Millis(Clock::now() - history_from)
            << " ms\n";
  absl::StatusOr<int64_t> history_end = cluster_->Seq(writer_);
  ASSERT_TRUE(history_end.ok());
  ASSERT_TRUE(AwaitGatewaySeq(*gateway, *history_end));

  // Transfers among everyone keep flowing while the receivers resume.
  MakeLoad(/*senders=*/3, milliseconds(20));
  load_->StartSenders();
  ASSERT_NO_FATAL_FAILURE(AwaitAcked(10, Clock::time_point()));
  std::vector<std::unique_ptr<Receiver>> receivers;
  const std::vector<std::pair<int, int64_t>> resumes = {
      {0, 0},                   // Everything, the mint first.
      {1, funded_seq_},         // Every transfer.
      {0, *history_end - 300},  // The end of the history.
      {2, funded_seq_},         // Only the live load's transfers.
  };
  for (const auto& [k, since] : resumes) {
    receivers.push_back(std::make_unique<Receiver>(Account(k)));
    const auto connect_at = Clock::now();
    absl::Status connected = receivers.back()->Connect(gateway->port(), since);
    ASSERT_TRUE(connected.ok()) << Account(k) << " since " << since << ": " << connected;
    std::cout << "[timing] " << Account(k) << " since " << since << ": connected after "
              << Millis(Clock::now() - connect_at) << " ms\n";
  }
  const auto live_from = Clock::now();
  ASSERT_NO_FATAL_FAILURE(AwaitAcked(60, live_from));
  const int64_t seq = Quiesce({gateway.get()});
  const std::vector<json::object> notifications = NotificationsAt(seq);
  for (const std::unique_ptr<Receiver>& receiver : receivers) {
    ASSERT_NO_FATAL_FAILURE(ExpectGotExactly(*receiver, notifications, "gw"));
    EXPECT_FALSE(receiver->ended()) << receiver->account() << " since " << receiver->from_seq();
    // The seam: the live messages after `connected` continue the replay.
    const int64_t connected_seq = SeqOf(receiver->Connecteds().front());
    EXPECT_LT(connected_seq, seq) << "no live message after the replay";
    EXPECT_GT(connected_seq, *history_end);
    ASSERT_NO_FATAL_FAILURE(ExpectConnectedBalancesMatchTheLog(*receiver, "gw"));
  }
  EXPECT_GT(MessagesFor(notifications, Account(0), 0).size(), 1024u);
  // The first message of since=0 is the mint.
  ASSERT_FALSE(receivers[0]->Messages().empty());
  EXPECT_EQ(receivers[0]->Messages().front().at("type"), "sbd_tokens_credited");
}

// (d) kill -9 of a gateway under load: its clients reconnect to the other
// with since = the last seq they saw and get every message they had not.
TEST_F(GatewayTest, AKilledGatewaysClientsResumeOnAnotherAndLoseNothing) {
  std::unique_ptr<ServerProcess> doomed = StartGateway("gw-doomed");
  std::unique_ptr<ServerProcess> survivor = StartGateway("gw-survivor");
  ASSERT_TRUE(doomed && survivor);
  std::vector<std::unique_ptr<Receiver>> on_doomed;
  std::vector<std::unique_ptr<Receiver>> on_survivor;
  for (int k = 0; k < kAccounts; ++k) {
    on_doomed.push_back(std::make_unique<Receiver>(Account(k)));
    ASSERT_TRUE(on_doomed.back()->Connect(doomed->port()).ok());
    on_survivor.push_back(std::make_unique<Receiver>(Account(k)));
    ASSERT_TRUE(on_survivor.back()->Connect(survivor->port()).ok());
  }
  MakeLoad(/*senders=*/3, milliseconds(20));
  load_->StartSenders();
  ASSERT_NO_FATAL_FAILURE(AwaitAcked(60, Clock::time_point()));
  const auto killed_at = Clock::now();
  doomed->Kill();
  for (const std::unique_ptr<Receiver>& receiver : on_doomed) {
    ASSERT_TRUE(receiver->AwaitEnded(seconds(5)))
        << receiver->account() << "'s connection outlived its gateway";
    const int64_t cursor = receiver->Cursor();
    absl::Status resumed = receiver->Resume(survivor->port());
    ASSERT_TRUE(resumed.ok()) << receiver->account() << ": " << resumed;
    EXPECT_EQ(receiver->Connecteds().size(), 2u);
    EXPECT_GE(SeqOf(receiver->Connecteds().back()), cursor);
  }
  std::cout << "[timing] kill -9 of a gateway: its " << on_doomed.size()
            << " clients resumed on the other within " << Millis(Clock::now() - killed_at)
            << " ms\n";
  ASSERT_NO_FATAL_FAILURE(AwaitAcked(60, Clock::now()));
  const int64_t seq = Quiesce({survivor.get()});
  const std::vector<json::object> notifications = NotificationsAt(seq);
  size_t resumed_messages = 0;
  for (const std::unique_ptr<Receiver>& receiver : on_doomed) {
    ASSERT_NO_FATAL_FAILURE(ExpectGotExactly(*receiver, notifications, "resumed on gw-survivor"));
    ASSERT_NO_FATAL_FAILURE(ExpectConnectedBalancesMatchTheLog(*receiver, "resumed"));
    resumed_messages += receiver->Messages().size();
  }
  for (const std::unique_ptr<Receiver>& receiver : on_survivor) {
    ASSERT_NO_FATAL_FAILURE(ExpectGotExactly(*receiver, notifications, "gw-survivor"));
    EXPECT_FALSE(receiver->ended());
  }
  std::cout << "[ws] " << on_doomed.size() << " resumed receivers got " << resumed_messages
            << " messages through seq " << seq << ", as the log says\n";
}

// (e) /healthz, /metrics and every other path; then the NATS servers die:
// 503 and "following":false, the gateway still answering; a quorum back
// makes it follow again. (h) an unknown account's /ws is refused as a node
// refuses it, before the upgrade.
TEST_F(GatewayTest, HealthzMetricsOtherPathsAndUnknownAccountsAnswerAsDocumented) {
  std::unique_ptr<ServerProcess> gateway = StartGateway("gw-health");
  ASSERT_TRUE(gateway);
  const int64_t sent = Transfer(Account(0), Account(1), 5);
  ASSERT_GT(sent, funded_seq_);
  ASSERT_TRUE(cluster_->AwaitApplied(sent));
  ASSERT_TRUE(AwaitGatewaySeq(*gateway, sent));
  absl::StatusOr<Health> health = GatewayHealth(*gateway);
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(health->status, 200) << json::serialize(health->body);
  EXPECT_EQ(health->body.at("status"), "ok");
  EXPECT_EQ(health->body.at("role"), "gateway");
  EXPECT_EQ(health->body.at("node"), "gw-health");
  EXPECT_EQ(health->body.at("following"), true);
  EXPECT_EQ(JsonInt(health->body, "seq"), sent);
  for (int i = 0; i < cluster_->size(); ++i) {
    absl::StatusOr<int64_t> node_seq = cluster_->Seq(i);
    ASSERT_TRUE(node_seq.ok());
    EXPECT_EQ(*node_seq, JsonInt(health->body, "seq")) << cluster_->NodeName(i);
  }
  EXPECT_GE(JsonInt(health->body, "lag"), 0);
  EXPECT_LE(JsonInt(health->body, "lag"), 1000);

  const std::string metrics = Metrics(*gateway);
  EXPECT_EQ(MetricValue(metrics, "sbd_gateway_applied_seq"), sent) << metrics;
  EXPECT_EQ(MetricValue(metrics, "sbd_gateway_following"), 1) << metrics;
  EXPECT_GE(MetricValue(metrics, "sbd_gateway_window_events"), 1) << metrics;

  // Everything a node serves but /ws, /healthz and /metrics is not here.
  HttpClient client(gateway->port());
  const std::string user = MakeToken(Account(0));
  const std::string admin = MakeToken("root", /*admin=*/true);
  struct Probe {
    const char* method;
    const char* target;
    std::string body;
    std::string token;
  };
  const std::vector<Probe> probes = {
      {"GET", "/sbd_tokens", "", user},
      {"GET", "/sbd_tokens/transactions?limit=5", "", user},
      {"POST", "/sbd_tokens/send", R"({"to_user":"u1","amount":1})", user},
      {"POST", "/admin/mint", R"({"username":"u1","amount":1})", admin},
      {"POST", "/admin/accounts", R"({"username":"newbie"})", admin},
      {"GET", "/openapi.json", "", ""},
      {"GET", "/", "", ""},
      {"GET", "/nope", "", ""},
  };
  for (const Probe& probe : probes) {
    absl::StatusOr<HttpResponse> answer =
        client.Request(probe.method, probe.target, probe.body, probe.token);
    ASSERT_TRUE(answer.ok()) << probe.target << ": " << answer.status();
    EXPECT_EQ(answer->status, 404) << probe.method << " " << probe.target << ": " << answer->body;
    EXPECT_EQ(answer->Json().at("code"), "not_found") << probe.target << ": " << answer->body;
    EXPECT_EQ(answer->Json().at("status"), "error") << probe.target << ": " << answer->body;
  }
  // Nothing was applied through the gateway.
  absl::StatusOr<int64_t> after_probes = cluster_->Seq(writer_);
  ASSERT_TRUE(after_probes.ok());
  EXPECT_EQ(*after_probes, sent);

  // (h) /ws for an account no node has: refused with the node's answer
  // before any upgrade; a bad token is 401 as on a node.
  const int follower = (writer_ + 1) % cluster_->size();
  const HttpClient::Headers upgrade = {{"Connection", "Upgrade"},
                                       {"Upgrade", "websocket"},
                                       {"Sec-WebSocket-Version", "13"},
                                       {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}};
  for (const std::string& target :
       {WsTarget("ghost"), WsTarget("ghost", 0), std::string("/ws?token=not-a-token")}) {
    HttpClient on_gateway(gateway->port());
    HttpClient on_node(cluster_->node(follower).port());
    absl::StatusOr<HttpResponse> gateway_answer =
        on_gateway.Request("GET", target, "", "", upgrade);
    absl::StatusOr<HttpResponse> node_answer = on_node.Request("GET", target, "", "", upgrade);
    ASSERT_TRUE(gateway_answer.ok() && node_answer.ok());
    EXPECT_EQ(gateway_answer->status, node_answer->status)
        << target << ": " << gateway_answer->body;
    EXPECT_EQ(gateway_answer->Json().at("code"), node_answer->Json().at("code"))
        << gateway_answer->body << " vs the node's " << node_answer->body;
    absl::StatusOr<int> status = WebSocketClient::HandshakeStatus(gateway->port(), target);
    ASSERT_TRUE(status.ok()) << status.status();
    EXPECT_EQ(*status, node_answer->status);
  }
  absl::StatusOr<HttpResponse> ghost =
      HttpClient(gateway->port()).Request("GET", WsTarget("ghost"), "", "", upgrade);
  ASSERT_TRUE(ghost.ok());
  EXPECT_EQ(ghost->status, 404) << ghost->body;
  EXPECT_EQ(ghost->Json().at("code"), "account_not_found") << ghost->body;
  // An account opened after the gateway started is known at once.
  HttpClient on_writer(cluster_->node(writer_).port());
  ASSERT_TRUE(OpenFundedAccount(on_writer, "latecomer", 3).ok());
  absl::StatusOr<int64_t> opened = cluster_->Seq(writer_);
  ASSERT_TRUE(opened.ok());
  ASSERT_TRUE(AwaitGatewaySeq(*gateway, *opened));
  Receiver latecomer("latecomer");
  absl::Status connected = latecomer.Connect(gateway->port());
  ASSERT_TRUE(connected.ok()) << connected;
  EXPECT_EQ(latecomer.Connecteds()[0].at("data").at("sbd_tokens"), 3);
  latecomer.Stop();

  // Two of three nats-servers down: no quorum, the stream cannot be read.
  // Then one back: following again. Then all down.
  const auto unavailable = [&](milliseconds within) -> std::optional<Health> {
    const auto until = Clock::now() + within;
    for (;;) {
      absl::StatusOr<Health> now = GatewayHealth(*gateway);
      if (now.ok() && now->status == 503) return *now;
      if (Clock::now() >= until) return std::nullopt;
      std::this_thread::sleep_for(milliseconds(50));
    }
  };
  const auto healthy = [&](milliseconds within) {
    const auto until = Clock::now() + within;
    for (;;) {
      absl::StatusOr<Health> now = GatewayHealth(*gateway);
      if (now.ok() && now->status == 200) return true;
      if (Clock::now() >= until) return false;
      std::this_thread::sleep_for(milliseconds(50));
    }
  };
  auto lost_at = Clock::now();
  cluster_->nats().Kill(0);
  cluster_->nats().Kill(1);
  std::optional<Health> no_quorum = unavailable(seconds(20));
  ASSERT_TRUE(no_quorum.has_value()) << "still 200 without a NATS quorum";
  std::cout << "[timing] 2 of 3 nats-servers killed: gateway 503 after "
            << Millis(Clock::now() - lost_at) << " ms: " << json::serialize(no_quorum->body)
            << "\n";
  EXPECT_EQ(no_quorum->body.at("status"), "unavailable");
  EXPECT_EQ(no_quorum->body.at("role"), "gateway");
  EXPECT_EQ(no_quorum->body.at("following"), false);
  const auto back_at = Clock::now();
  ASSERT_TRUE(cluster_->nats().Restart(1).ok());
  EXPECT_TRUE(healthy(seconds(20))) << "the gateway does not follow again with a quorum back";
  std::cout << "[timing] a quorum back: gateway 200 after " << Millis(Clock::now() - back_at)
            << " ms\n";

  lost_at = Clock::now();
  for (int i = 0; i < cluster_->nats().size(); ++i) cluster_->nats().Kill(i);
  std::optional<Health> down = unavailable(seconds(20));
  ASSERT_TRUE(down.has_value()) << "still 200 with every nats-server dead";
  std::cout << "[timing] every nats-server killed: gateway 503 after "
            << Millis(Clock::now() - lost_at) << " ms: " << json::serialize(down->body) << "\n";
  EXPECT_EQ(down->body.at("status"), "unavailable");
  EXPECT_EQ(down->body.at("following"), false);
  EXPECT_EQ(JsonInt(down->body, "seq"), *opened);
  EXPECT_EQ(MetricValue(Metrics(*gateway), "sbd_gateway_following"), 0);
  EXPECT_TRUE(gateway->running());
}

// (f) The writer killed while gateways serve: a new writer takes over,
// transfers continue, and the gateways' clients keep getting every message
// once, in order, on the connections they had.
TEST_F(GatewayTest, GatewayClientsGetEveryMessageAcrossAWriterFailover) {
  std::unique_ptr<ServerProcess> first = StartGateway("gw-a");
  std::unique_ptr<ServerProcess> second = StartGateway("gw-b");
  ASSERT_TRUE(first && second);
  std::vector<std::unique_ptr<Receiver>> receivers;
  for (int k = 0; k < kAccounts; ++k) {
    receivers.push_back(std::make_unique<Receiver>(Account(k)));
    ASSERT_TRUE(receivers.back()->Connect((k % 2 == 0 ? first : second)->port()).ok());
  }
  MakeLoad(/*senders=*/3, milliseconds(30));
  load_->StartSenders();
  ASSERT_NO_FATAL_FAILURE(AwaitAcked(40, Clock::time_point()));
  const int old_writer = writer_;
  const auto killed_at = Clock::now();
  cluster_->node(old_writer).Kill();
  std::optional<int> writer = cluster_->AwaitWriter(seconds(15));
  ASSERT_TRUE(writer.has_value()) << cluster_->Describe();
  EXPECT_NE(*writer, old_writer);
  writer_ = *writer;
  ASSERT_NO_FATAL_FAILURE(AwaitAcked(40, killed_at, seconds(30)));
  std::cout << "[timing] writer killed: new writer and 40 sends acknowledged after "
            << Millis(Clock::now() - killed_at) << " ms\n";
  const int64_t seq = Quiesce({first.get(), second.get()});
  const std::vector<json::object> notifications = NotificationsAt(seq);
  for (const std::unique_ptr<Receiver>& receiver : receivers) {
    ASSERT_NO_FATAL_FAILURE(ExpectGotExactly(*receiver, notifications, "gw"));
    EXPECT_FALSE(receiver->ended()) << receiver->account() << "'s connection ended";
    EXPECT_EQ(receiver->Connecteds().size(), 1u);
  }
  for (const ServerProcess* gateway : {first.get(), second.get()}) {
    absl::StatusOr<Health> health = GatewayHealth(*gateway);
    ASSERT_TRUE(health.ok());
    EXPECT_EQ(health->status, 200) << json::serialize(health->body);
    EXPECT_EQ(JsonInt(health->body, "seq"), seq);
  }
}

// (g) A client that does not read is closed with 1013 once its backlog
// passes --backlog-limit, and resumes with `since` losing nothing; the
// other clients of the same gateway, its own user's too, are unaffected.
TEST_F(GatewayTest, ASlowClientIsClosedWith1013AndResumesWhileOthersFlow) {
  std::unique_ptr<ServerProcess> gateway = StartGateway("gw-slow", {"--backlog-limit", "64"});
  ASSERT_TRUE(gateway);
  WebSocketClientOptions small;
  small.receive_buffer_bytes = 4096;
  absl::StatusOr<std::unique_ptr<WebSocketClient>> stalled =
      WebSocketClient::Connect(gateway->port(), WsTarget(Account(0)), small);
  ASSERT_TRUE(stalled.ok()) << stalled.status();
  absl::StatusOr<json::value> stalled_connected = (*stalled)->ReadJson(kConnectedTimeout);
  ASSERT_TRUE(stalled_connected.ok()) << stalled_connected.status();
  const int64_t stalled_from = JsonInt(*stalled_connected, "seq");
  Receiver healthy_same_user(Account(0));
  Receiver healthy_other(Account(1));
  ASSERT_TRUE(healthy_same_user.Connect(gateway->port()).ok());
  ASSERT_TRUE(healthy_other.Connect(gateway->port()).ok());

  // Transfers between u0 and u1 with long notes (big messages fill the
  // stalled client's kernel buffers sooner), from 4 threads, until the
  // gateway reports the slow consumer (bounded).
  const std::string note(480, 'n');
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < 4; ++t) {
    senders.emplace_back([&, t] {
      HttpClient client(cluster_->node(writer_).port(), seconds(10));
      const std::string from = Account(t % 2);
      const std::string body = json::serialize(
          json::object{{"to_user", Account(1 - t % 2)}, {"amount", 1}, {"note", note}});
      const std::string token = MakeToken(from);
      for (int i = 0; i < 20000 && !stop; ++i) {
        absl::StatusOr<HttpResponse> answer = client.Post("/sbd_tokens/send", body, token);
        if (answer.ok() && answer->status == 200) sent++;
      }
    });
  }
  const auto started_at = Clock::now();
  bool disconnected = false;
  while (!disconnected && Clock::now() < started_at + seconds(40)) {
    std::this_thread::sleep_for(milliseconds(100));
    disconnected =
        MetricValue(Metrics(*gateway), "sbd_websocket_slow_consumer_disconnects_total") >= 1;
  }
  stop = true;
  for (std::thread& sender : senders) sender.join();
  ASSERT_TRUE(disconnected) << "no slow consumer closed after " << sent << " transfers";
  std::cout << "[timing] the stalled client was closed after " << sent << " transfers, "
            << Millis(Clock::now() - started_at) << " ms\n";
  EXPECT_EQ(MetricValue(Metrics(*gateway), "sbd_websocket_slow_consumer_disconnects_total"), 1);

  // What the stalled client did get (its kernel buffers), then the close.
  std::vector<json::object> stalled_got;
  absl::Status read;
  for (int i = 0; i < 100000; ++i) {
    absl::StatusOr<json::value> message = (*stalled)->ReadJson(seconds(10));
    if (!message.ok()) {
      read = message.status();
      break;
    }
    ASSERT_TRUE(message->is_object());
    stalled_got.push_back(std::move(message->as_object()));
  }
  EXPECT_TRUE(absl::IsAborted(read)) << read;
  EXPECT_EQ((*stalled)->close_code(), std::optional<int>(1013));
  const int64_t stalled_cursor = stalled_got.empty() ? stalled_from : SeqOf(stalled_got.back());
  // It resumes where it stopped, while transfers go on.
  Receiver resumed(Account(0));
  ASSERT_TRUE(resumed.Connect(gateway->port(), stalled_cursor).ok());
  for (int i = 0; i < 5; ++i) ASSERT_GT(Transfer(Account(1), Account(0), 1), 0);

  const int64_t seq = Quiesce({gateway.get()});
  const std::vector<json::object> notifications = NotificationsAt(seq);
  const std::vector<json::object> expected = MessagesFor(notifications, Account(0), stalled_from);
  resumed.AwaitMessages(expected.size() - std::min(expected.size(), stalled_got.size()),
                        kCatchUpTimeout);
  std::vector<json::object> got = stalled_got;
  for (json::object& message : resumed.Messages()) got.push_back(std::move(message));
  EXPECT_EQ(got.size(), expected.size()) << stalled_got.size() << " before the close";
  for (size_t i = 0; i < std::min(got.size(), expected.size()); ++i) {
    ASSERT_EQ(got[i], expected[i]) << "the stalled-then-resumed client's message " << i << " ("
                                   << stalled_got.size() << " before the close)";
  }
  ASSERT_NO_FATAL_FAILURE(ExpectGotExactly(healthy_same_user, notifications, "healthy u0"));
  ASSERT_NO_FATAL_FAILURE(ExpectGotExactly(healthy_other, notifications, "healthy u1"));
  EXPECT_FALSE(healthy_same_user.ended());
  EXPECT_FALSE(healthy_other.ended());
  std::cout << "[ws] stalled client: " << stalled_got.size() << " messages before its 1013, "
            << resumed.Messages().size() << " after resuming; the healthy ones got "
            << healthy_same_user.Messages().size() << " and " << healthy_other.Messages().size()
            << "\n";
}

}  // namespace
}  // namespace sbd::testing
