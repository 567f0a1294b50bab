// Cluster mode end to end (docs/CLUSTER.md "Nodes"): three sbd-ledger nodes
// on a real 3-server JetStream cluster, driven over HTTP and WebSocket as a
// client would. After each test, sbd-replay on every node gives the same
// balances and the same last hash at the same seq.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/cluster/ledger_cluster.h"
#include "tests/support/accounts.h"
#include "tests/support/http_client.h"
#include "tests/support/tokens.h"
#include "tests/support/websocket_client.h"

namespace sbd::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class ClusterE2eTest : public ::testing::Test {
 protected:
  // More `serve` flags for every node (set before SetUp runs).
  virtual std::vector<std::string> ExtraArgs() const { return {}; }

  void SetUp() override {
    absl::StatusOr<std::unique_ptr<LedgerCluster>> started = LedgerCluster::Start(3, ExtraArgs());
    ASSERT_TRUE(started.ok()) << started.status();
    cluster_ = *std::move(started);
  }

  static int64_t SeqOf(const HttpResponse& answer) {
    int64_t seq = -1;
    EXPECT_TRUE(absl::SimpleAtoi(answer.Header("X-SBD-Seq"), &seq)) << answer.Header("X-SBD-Seq");
    return seq;
  }

  std::unique_ptr<LedgerCluster> cluster_;
};

TEST_F(ClusterE2eTest, AWriteOnAFollowerIsTheWritersAnswerAndReadableThere) {
  std::optional<int> writer = cluster_->AwaitWriter();
  ASSERT_TRUE(writer.has_value());
  const int follower = (*writer + 1) % 3;
  const int other = (*writer + 2) % 3;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<boost::json::object> health = cluster_->Health(i);
    ASSERT_TRUE(health.ok());
    EXPECT_EQ(health->at("node"), boost::json::value(cluster_->NodeName(i)));
    EXPECT_EQ(health->at("role"), boost::json::value(i == *writer ? "writer" : "follower"));
  }

  absl::StatusOr<HttpResponse> metrics =
      HttpClient(cluster_->node(follower).port()).Get("/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(
      metrics->body.find(absl::StrCat("sbd_cluster_role{node=\"", cluster_->NodeName(follower),
                                      "\",role=\"follower\"} 1\n")),
      std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("sbd_cluster_applied_seq "), std::string::npos);

  // Accounts opened and funded through a follower: forwarded to the writer.
  HttpClient on_follower(cluster_->node(follower).port());
  ASSERT_TRUE(OpenFundedAccount(on_follower, "alice", 100).ok());
  ASSERT_TRUE(OpenFundedAccount(on_follower, "bob", 0).ok());
  // Receivers on the two nodes that do not take the send.
  absl::StatusOr<std::unique_ptr<WebSocketClient>> bob_ws = WebSocketClient::Connect(
      cluster_->node(other).port(), absl::StrCat("/ws?token=", MakeToken("bob")));
  ASSERT_TRUE(bob_ws.ok()) << bob_ws.status();
  absl::StatusOr<std::unique_ptr<WebSocketClient>> alice_ws = WebSocketClient::Connect(
      cluster_->node(*writer).port(), absl::StrCat("/ws?token=", MakeToken("alice")));
  ASSERT_TRUE(alice_ws.ok()) << alice_ws.status();
  for (auto* ws : {bob_ws->get(), alice_ws->get()}) {
    absl::StatusOr<boost::json::value> connected = ws->ReadJson(seconds(10));
    ASSERT_TRUE(connected.ok()) << connected.status();
    EXPECT_EQ(connected->at("type"), "connected");
  }

  const std::string alice = MakeToken("alice");
  const std::string send = R"({"to_user":"bob","amount":10,"transaction_id":"c-1"})";
  absl::StatusOr<HttpResponse> sent = on_follower.Post("/sbd_tokens/send", send, alice);
  ASSERT_TRUE(sent.ok()) << sent.status();
  ASSERT_EQ(sent->status, 200) << sent->body;
  EXPECT_EQ(sent->Json().at("new_balance").to_number<int64_t>(), 90) << sent->body;
  const int64_t seq = SeqOf(*sent);
  EXPECT_GE(seq, 4);  // alice opened and funded, bob opened, then the send.
  // Read your write on the node that answered, at once.
  absl::StatusOr<HttpResponse> balance = on_follower.Get("/sbd_tokens", alice);
  ASSERT_TRUE(balance.ok());
  EXPECT_EQ(balance->Json().at("sbd_tokens").to_number<int64_t>(), 90) << balance->body;
  EXPECT_GE(SeqOf(*balance), seq);
  // ... and on another node, asking for that seq.
  HttpClient on_other(cluster_->node(other).port());
  absl::StatusOr<HttpResponse> bob_balance = on_other.Request(
      "GET", "/sbd_tokens", "", MakeToken("bob"), {{"X-SBD-Min-Seq", std::to_string(seq)}});
  ASSERT_TRUE(bob_balance.ok());
  EXPECT_EQ(bob_balance->Json().at("sbd_tokens").to_number<int64_t>(), 10) << bob_balance->body;
  // A seq no node has: 503 after the wait, not a stale answer.
  absl::StatusOr<HttpResponse> ahead = on_other.Request(
      "GET", "/sbd_tokens", "", MakeToken("bob"), {{"X-SBD-Min-Seq", std::to_string(seq + 1000)}});
  ASSERT_TRUE(ahead.ok());
  EXPECT_EQ(ahead->status, 503) << ahead->body;
  EXPECT_EQ(ahead->Json().at("code"), "unavailable") << ahead->body;

  // Both WebSocket messages, each on its own node.
  absl::StatusOr<boost::json::value> received = (*bob_ws)->ReadJson(seconds(10));
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(received->at("type"), "sbd_tokens_received");
  EXPECT_EQ(received->at("data").at("new_balance").to_number<int64_t>(), 10);
  absl::StatusOr<boost::json::value> sent_message = (*alice_ws)->ReadJson(seconds(10));
  ASSERT_TRUE(sent_message.ok()) << sent_message.status();
  EXPECT_EQ(sent_message->at("type"), "sbd_tokens_sent");
  EXPECT_EQ(sent_message->at("data").at("new_balance").to_number<int64_t>(), 90);

  // The same send again on a third node: the writer's idempotent answer.
  HttpClient on_writer(cluster_->node(*writer).port());
  absl::StatusOr<HttpResponse> again = on_other.Post("/sbd_tokens/send", send, alice);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->status, 200) << again->body;
  EXPECT_TRUE(again->Json().at("duplicate").as_bool()) << again->body;
  cluster_->ExpectSameLogsAt(seq);
}

class FirstUseClusterTest : public ClusterE2eTest {
 protected:
  std::vector<std::string> ExtraArgs() const override { return {"--open-accounts-on-first-use"}; }
};

// A follower takes no command of its own: a user's first request there has
// the writer open the account, then is answered here, as on a single node.
TEST_F(FirstUseClusterTest, AFollowerOpensAccountsOnFirstUseThroughTheWriter) {
  std::optional<int> writer = cluster_->AwaitWriter();
  ASSERT_TRUE(writer.has_value());
  const int follower = (*writer + 1) % 3;
  const int other = (*writer + 2) % 3;
  HttpClient on_follower(cluster_->node(follower).port());
  absl::StatusOr<HttpResponse> balance = on_follower.Get("/sbd_tokens", MakeToken("newcomer"));
  ASSERT_TRUE(balance.ok());
  ASSERT_EQ(balance->status, 200) << balance->body;
  EXPECT_EQ(balance->Json().at("sbd_tokens").to_number<int64_t>(), 0);
  // A WebSocket handshake on another follower opens its user's account too.
  absl::StatusOr<std::unique_ptr<WebSocketClient>> ws = WebSocketClient::Connect(
      cluster_->node(other).port(), absl::StrCat("/ws?token=", MakeToken("listener")));
  ASSERT_TRUE(ws.ok()) << ws.status();
  absl::StatusOr<boost::json::value> connected = (*ws)->ReadJson(seconds(10));
  ASSERT_TRUE(connected.ok()) << connected.status();
  EXPECT_EQ(connected->at("type"), "connected");
  // Opened once, by the writer: two events in every log.
  absl::StatusOr<boost::json::object> health = cluster_->Health(*writer);
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->at("seq").to_number<int64_t>(), 2);
  cluster_->ExpectSameLogsAt(2);
}

}  // namespace
}  // namespace sbd::testing
