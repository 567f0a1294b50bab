// WebSocket end to end: the real sbd-ledger binary on a free loopback port,
// transfers over HTTP, notifications over a real WebSocket client, tokens
// signed with the test secret. Every wait is bounded.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/support/http_client.h"
#include "tests/support/json_fields.h"
#include "tests/support/server_process.h"
#include "tests/support/tokens.h"
#include "tests/support/websocket_client.h"
#include "tests/transport/websocket_test_util.h"
#include "transport/limits.h"

namespace sbd::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string Body(const boost::json::object& object) { return boost::json::serialize(object); }

class WebSocketE2eTest : public ::testing::Test {
 protected:
  void StartServer(std::vector<std::string> args = {}) {
    ServerProcessOptions options;
    options.args = std::move(args);
    absl::StatusOr<std::unique_ptr<ServerProcess>> server = ServerProcess::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    http_ = std::make_unique<HttpClient>(server_->port());
  }

  void SetUp() override { StartServer(); }

  // Opens `user` and mints `amount` to it.
  void OpenFunded(const std::string& user, int64_t amount) {
    const std::string admin = MakeToken("root", /*admin=*/true);
    absl::StatusOr<HttpResponse> opened =
        http_->Post("/admin/accounts", Body({{"username", user}}), admin);
    ASSERT_TRUE(opened.ok()) << opened.status();
    ASSERT_EQ(opened->status, 201) << opened->body;
    if (amount == 0) return;
    absl::StatusOr<HttpResponse> minted =
        http_->Post("/admin/mint", Body({{"username", user}, {"amount", amount}}), admin);
    ASSERT_TRUE(minted.ok()) << minted.status();
    ASSERT_EQ(minted->status, 200) << minted->body;
  }

  // POST /sbd_tokens/send; the 200 body (null on failure, with a test failure).
  static boost::json::value Send(HttpClient& http, const std::string& from, const std::string& to,
                                 int64_t amount, const std::string& note = "") {
    boost::json::object body{{"to_user", to}, {"amount", amount}};
    if (!note.empty()) body["note"] = note;
    absl::StatusOr<HttpResponse> response =
        http.Post("/sbd_tokens/send", Body(body), MakeToken(from));
    EXPECT_TRUE(response.ok()) << response.status();
    if (!response.ok()) return nullptr;
    EXPECT_EQ(response->status, 200) << response->body;
    return response->status == 200 ? response->Json() : boost::json::value(nullptr);
  }
  boost::json::value Send(const std::string& from, const std::string& to, int64_t amount,
                          const std::string& note = "") {
    return Send(*http_, from, to, amount, note);
  }

  int64_t BalanceOverHttp(const std::string& user) {
    absl::StatusOr<HttpResponse> response = http_->Get("/sbd_tokens", MakeToken(user));
    EXPECT_TRUE(response.ok()) << response.status();
    if (!response.ok()) return -1;
    EXPECT_EQ(response->status, 200) << response->body;
    return JsonInt(response->Json(), "sbd_tokens");
  }

  int64_t MetricValue(const std::string& name) {
    absl::StatusOr<HttpResponse> response = http_->Get("/metrics");
    if (!response.ok() || response->status != 200) return -1;
    const std::string text = "\n" + response->body;
    const std::string key = "\n" + name + " ";
    const size_t at = text.find(key);
    if (at == std::string::npos) return -1;
    return std::strtoll(text.c_str() + at + key.size(), nullptr, 10);
  }

  std::string Target(const std::string& user, std::optional<int64_t> since = std::nullopt,
                     int64_t ttl_s = 3600) {
    std::string target = "/ws?token=" + MakeToken(user, false, ttl_s);
    if (since.has_value()) absl::StrAppend(&target, "&since=", *since);
    return target;
  }

  std::unique_ptr<WebSocketClient> Connect(const std::string& target,
                                           WebSocketClientOptions options = {}) {
    absl::StatusOr<std::unique_ptr<WebSocketClient>> client =
        WebSocketClient::Connect(server_->port(), target, options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? std::move(*client) : nullptr;
  }

  // Connects and reads `connected`, checking its shape and username.
  std::unique_ptr<WebSocketClient> ConnectAndGreet(const std::string& user,
                                                   std::optional<int64_t> since = std::nullopt,
                                                   int64_t* seq = nullptr,
                                                   int64_t* balance = nullptr) {
    auto client = Connect(Target(user, since));
    if (client == nullptr) return nullptr;
    auto greeting = ReadMessages(*client, 1);
    EXPECT_TRUE(greeting.ok()) << greeting.status();
    if (!greeting.ok()) return nullptr;
    EXPECT_TRUE(HasApiShape((*greeting)[0], "connected"));
    EXPECT_EQ(StringField((*greeting)[0], "username"), user);
    if (seq != nullptr) *seq = Seq((*greeting)[0]);
    if (balance != nullptr) *balance = IntField((*greeting)[0], "sbd_tokens");
    return client;
  }

  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> http_;
};

TEST_F(WebSocketE2eTest, AliceSendsBobFiftyAndBothSeeExactlyTheApiMessages) {
  OpenFunded("alice", 120);
  OpenFunded("bob", 30);
  OpenFunded("carol", 5);
  int64_t seq = -1;
  int64_t balance = -1;
  auto alice = ConnectAndGreet("alice", std::nullopt, &seq, &balance);
  ASSERT_NE(alice, nullptr);
  EXPECT_EQ(balance, 120);
  absl::StatusOr<HttpResponse> health = http_->Get("/healthz");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(seq, JsonInt(health->Json(), "seq"));
  auto bob = ConnectAndGreet("bob");
  auto carol = ConnectAndGreet("carol");
  ASSERT_TRUE(bob && carol);

  const boost::json::value answer = Send("alice", "bob", 50, "for lunch");
  ASSERT_TRUE(answer.is_object());
  auto sent = ReadMessages(*alice, 1);
  auto received = ReadMessages(*bob, 1);
  ASSERT_TRUE(sent.ok()) << sent.status();
  ASSERT_TRUE(received.ok()) << received.status();

  const boost::json::object& s = (*sent)[0];
  EXPECT_TRUE(HasApiShape(s, "sbd_tokens_sent", /*has_note=*/true));
  EXPECT_EQ(Seq(s), JsonInt(answer, "seq"));
  EXPECT_EQ(StringField(s, "to_username"), "bob");
  EXPECT_EQ(IntField(s, "amount"), 50);
  EXPECT_EQ(IntField(s, "new_balance"), 70);
  EXPECT_EQ(IntField(s, "new_balance"), JsonInt(answer, "new_balance"));
  EXPECT_EQ(StringField(s, "transaction_id"), JsonString(answer, "transaction_id"));
  EXPECT_EQ(StringField(s, "timestamp"), JsonString(answer, "timestamp"));
  EXPECT_EQ(StringField(s, "note"), "for lunch");

  const boost::json::object& r = (*received)[0];
  EXPECT_TRUE(HasApiShape(r, "sbd_tokens_received", /*has_note=*/true));
  EXPECT_EQ(Seq(r), JsonInt(answer, "seq"));
  EXPECT_EQ(StringField(r, "from_username"), "alice");
  EXPECT_EQ(IntField(r, "amount"), 50);
  EXPECT_EQ(IntField(r, "new_balance"), 80);
  EXPECT_EQ(StringField(r, "transaction_id"), JsonString(answer, "transaction_id"));
  EXPECT_EQ(StringField(r, "timestamp"), JsonString(answer, "timestamp"));
  EXPECT_EQ(StringField(r, "note"), "for lunch");

  // Without a note, `data` has no note member at all.
  ASSERT_TRUE(Send("bob", "alice", 5).is_object());
  auto plain_received = ReadMessages(*alice, 1);
  ASSERT_TRUE(plain_received.ok()) << plain_received.status();
  EXPECT_TRUE(HasApiShape((*plain_received)[0], "sbd_tokens_received"));
  EXPECT_EQ(IntField((*plain_received)[0], "new_balance"), 75);
  auto plain_sent = ReadMessages(*bob, 1);
  ASSERT_TRUE(plain_sent.ok()) << plain_sent.status();
  EXPECT_TRUE(HasApiShape((*plain_sent)[0], "sbd_tokens_sent"));
  EXPECT_EQ(IntField((*plain_sent)[0], "new_balance"), 75);

  EXPECT_TRUE(ReceivesNothing(*carol, milliseconds(500)));
  EXPECT_TRUE(ReceivesNothing(*alice));
  EXPECT_TRUE(ReceivesNothing(*bob));
}

TEST_F(WebSocketE2eTest, MintCreditsTheHolder) {
  OpenFunded("bob", 0);
  auto bob = ConnectAndGreet("bob");
  ASSERT_NE(bob, nullptr);
  absl::StatusOr<HttpResponse> minted = http_->Post(
      "/admin/mint", Body({{"username", "bob"}, {"amount", 100}, {"reason", "welcome"}}),
      MakeToken("root", true));
  ASSERT_TRUE(minted.ok()) << minted.status();
  ASSERT_EQ(minted->status, 200) << minted->body;
  auto credited = ReadMessages(*bob, 1);
  ASSERT_TRUE(credited.ok()) << credited.status();
  const boost::json::object& c = (*credited)[0];
  EXPECT_TRUE(HasApiShape(c, "sbd_tokens_credited"));
  EXPECT_EQ(Seq(c), JsonInt(minted->Json(), "seq"));
  EXPECT_EQ(IntField(c, "amount"), 100);
  EXPECT_EQ(IntField(c, "new_balance"), 100);
  EXPECT_EQ(StringField(c, "reason"), "welcome");
  EXPECT_EQ(StringField(c, "transaction_id"), JsonString(minted->Json(), "transaction_id"));
}

TEST_F(WebSocketE2eTest, BadTokensAreRefusedWith401AtTheHandshake) {
  OpenFunded("alice", 0);
  const uint16_t port = server_->port();
  const std::string wrong_secret =
      MakeTokenWithSecret("another-secret-0123456789abcdef0123456789", "alice");
  for (const std::string& target : {
           std::string("/ws"),
           std::string("/ws?token="),
           std::string("/ws?token=not.a.jwt"),
           "/ws?token=" + MakeToken("alice", false, -10),  // Expired.
           "/ws?token=" + wrong_secret,
           std::string("/ws?since=3"),
       }) {
    absl::StatusOr<int> status = WebSocketClient::HandshakeStatus(port, target);
    ASSERT_TRUE(status.ok()) << status.status();
    EXPECT_EQ(*status, 401) << target;
  }
  absl::StatusOr<int> good = WebSocketClient::HandshakeStatus(port, Target("alice"));
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ(*good, 101);
}

TEST_F(WebSocketE2eTest, PingGetsPongOtherTextIsIgnoredBinaryCloses1003) {
  OpenFunded("alice", 0);
  auto alice = ConnectAndGreet("alice");
  ASSERT_NE(alice, nullptr);
  ASSERT_TRUE(alice->SendText("hello").ok());
  ASSERT_TRUE(alice->SendText(R"({"type":"nope"})").ok());
  EXPECT_TRUE(ReceivesNothing(*alice));
  ASSERT_TRUE(alice->SendText(R"({"type":"ping"})").ok());
  absl::StatusOr<std::string> pong = alice->Read(seconds(5));
  ASSERT_TRUE(pong.ok()) << pong.status();
  EXPECT_EQ(*pong, R"({"type":"pong"})");

  ASSERT_TRUE(alice->SendBinary(std::string("\x00\x01", 2)).ok());
  absl::StatusOr<int> code = alice->WaitForClose(seconds(5));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 1003);
}

TEST_F(WebSocketE2eTest, TokenExpiryClosesWith1008) {
  OpenFunded("alice", 0);
  auto alice = Connect(Target("alice", std::nullopt, /*ttl_s=*/2));
  ASSERT_NE(alice, nullptr);
  auto greeting = ReadMessages(*alice, 1);
  ASSERT_TRUE(greeting.ok()) << greeting.status();
  absl::StatusOr<int> code = alice->WaitForClose(seconds(6));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 1008);
}

TEST_F(WebSocketE2eTest, TwoSessionsOfOneUserBothGetEverythingAndKillingOneHurtsNobody) {
  OpenFunded("alice", 10'000);
  OpenFunded("bob", 0);
  auto first = ConnectAndGreet("bob");
  auto second = ConnectAndGreet("bob");
  auto doomed = ConnectAndGreet("bob");
  ASSERT_TRUE(first && second && doomed);

  std::vector<int64_t> seqs;
  for (int i = 0; i < 40; ++i) {
    if (i == 15) {
      ASSERT_TRUE(ReadMessages(*doomed, 5).ok());
      doomed->Kill();  // Mid-stream: messages are on their way to it.
    }
    const boost::json::value answer = Send("alice", "bob", 1);
    seqs.push_back(JsonInt(answer, "seq"));
  }
  for (WebSocketClient* client : {first.get(), second.get()}) {
    auto messages = ReadMessages(*client, seqs.size());
    ASSERT_TRUE(messages.ok()) << messages.status();
    for (size_t i = 0; i < seqs.size(); ++i) {
      EXPECT_EQ(Seq((*messages)[i]), seqs[i]);
      EXPECT_EQ(IntField((*messages)[i], "new_balance"), int64_t(i) + 1);
    }
    EXPECT_TRUE(ReceivesNothing(*client));
  }
}

TEST_F(WebSocketE2eTest, ResumeAfterADisconnectReplaysExactlyTheMissedMessagesThenLiveOnes) {
  OpenFunded("alice", 100'000);
  OpenFunded("bob", 0);
  OpenFunded("carol", 1000);
  int64_t last_seen = -1;
  {
    auto alice = ConnectAndGreet("alice");
    ASSERT_NE(alice, nullptr);
    ASSERT_TRUE(Send("alice", "bob", 1).is_object());
    auto messages = ReadMessages(*alice, 1);
    ASSERT_TRUE(messages.ok()) << messages.status();
    last_seen = Seq((*messages)[0]);
    ASSERT_TRUE(alice->Close().ok());
  }
  std::vector<int64_t> missed;
  std::vector<int64_t> balances;
  for (int i = 0; i < 100; ++i) {
    const boost::json::value answer = Send("alice", "bob", 2);
    missed.push_back(JsonInt(answer, "seq"));
    balances.push_back(JsonInt(answer, "new_balance"));
    if (i % 10 == 0) Send("carol", "bob", 1);  // Not alice's: not replayed to her.
  }

  int64_t seq = -1;
  int64_t balance = -1;
  auto alice = ConnectAndGreet("alice", last_seen, &seq, &balance);
  ASSERT_NE(alice, nullptr);
  EXPECT_EQ(balance, BalanceOverHttp("alice"));
  EXPECT_GE(seq, missed.back());
  auto replayed = ReadMessages(*alice, missed.size());
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  for (size_t i = 0; i < missed.size(); ++i) {
    EXPECT_TRUE(HasApiShape((*replayed)[i], "sbd_tokens_sent"));
    EXPECT_EQ(Seq((*replayed)[i]), missed[i]) << i;
    EXPECT_EQ(IntField((*replayed)[i], "new_balance"), balances[i]) << i;
  }
  EXPECT_TRUE(ReceivesNothing(*alice));

  const boost::json::value live = Send("alice", "bob", 3);
  auto after = ReadMessages(*alice, 1);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(Seq((*after)[0]), JsonInt(live, "seq"));
  EXPECT_GE(MetricValue("sbd_websocket_resumes_total"), 1);
}

TEST_F(WebSocketE2eTest, ResumeWhileTransfersKeepArrivingHasNoGapAndNoDuplicate) {
  OpenFunded("alice", 100'000);
  OpenFunded("bob", 0);
  for (int i = 0; i < 150; ++i) Send("alice", "bob", 1);

  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::thread sender([&] {
    HttpClient http(server_->port());
    const auto deadline = std::chrono::steady_clock::now() + seconds(30);
    while (!stop && std::chrono::steady_clock::now() < deadline) {
      if (!Send(http, "alice", "bob", 1).is_object()) break;
      sent++;
    }
  });
  // Reconnect from the start while the sender runs (several times, so some
  // resume surely overlaps live traffic).
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int sent_before = sent.load();
    int64_t seq = -1;
    auto bob = ConnectAndGreet("bob", /*since=*/0, &seq);
    ASSERT_NE(bob, nullptr);
    // At least everything sent before connecting, plus some live ones.
    const size_t count = 150 + static_cast<size_t>(sent_before) + 20;
    auto messages = ReadMessages(*bob, count, seconds(30));
    ASSERT_TRUE(messages.ok()) << messages.status();
    std::vector<int64_t> seqs;
    for (size_t i = 0; i < messages->size(); ++i) {
      seqs.push_back(Seq((*messages)[i]));
      // bob gets 1 each time: after his k-th message he holds k.
      ASSERT_EQ(IntField((*messages)[i], "new_balance"), int64_t(i) + 1) << "attempt " << attempt;
    }
    EXPECT_TRUE(StrictlyIncreasing(seqs));
    EXPECT_GT(seqs.back(), seq);  // Crossed the seam into live messages.
  }
  stop = true;
  sender.join();
}

TEST_F(WebSocketE2eTest, ConcurrentSendsFromOneSenderEachProduceOneSentAndOneReceived) {
  constexpr int kSends = 200;
  constexpr int kAmount = 7;
  constexpr int kFunds = 1000;  // Enough for 142 of the 200.
  OpenFunded("alice", kFunds);
  OpenFunded("bob", 0);
  auto alice = ConnectAndGreet("alice");
  auto bob = ConnectAndGreet("bob");
  ASSERT_TRUE(alice && bob);

  std::mutex mutex;
  std::set<int64_t> successes;
  int refused = 0;
  std::vector<std::thread> threads;
  std::atomic<int> next{0};
  for (int t = 0; t < 10; ++t) {
    threads.emplace_back([&] {
      HttpClient http(server_->port());
      while (next.fetch_add(1) < kSends) {
        absl::StatusOr<HttpResponse> response =
            http.Post("/sbd_tokens/send", Body({{"to_user", "bob"}, {"amount", kAmount}}),
                      MakeToken("alice"));
        std::lock_guard<std::mutex> lock(mutex);
        if (!response.ok()) {
          ADD_FAILURE() << response.status();
        } else if (response->status == 200) {
          successes.insert(JsonInt(response->Json(), "seq"));
        } else {
          EXPECT_EQ(JsonString(response->Json(), "code"), "insufficient_funds") << response->body;
          refused++;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(successes.size(), size_t(kFunds / kAmount));
  EXPECT_EQ(successes.size() + refused, size_t(kSends));

  auto sent = ReadMessages(*alice, successes.size(), seconds(20));
  auto received = ReadMessages(*bob, successes.size(), seconds(20));
  ASSERT_TRUE(sent.ok()) << sent.status();
  ASSERT_TRUE(received.ok()) << received.status();
  std::vector<int64_t> sent_seqs;
  std::vector<int64_t> received_seqs;
  for (const auto& message : *sent) {
    EXPECT_EQ(Type(message), "sbd_tokens_sent");
    sent_seqs.push_back(Seq(message));
  }
  for (const auto& message : *received) {
    EXPECT_EQ(Type(message), "sbd_tokens_received");
    received_seqs.push_back(Seq(message));
  }
  EXPECT_TRUE(StrictlyIncreasing(sent_seqs));
  EXPECT_TRUE(StrictlyIncreasing(received_seqs));
  EXPECT_EQ(std::set<int64_t>(sent_seqs.begin(), sent_seqs.end()), successes);
  EXPECT_EQ(std::set<int64_t>(received_seqs.begin(), received_seqs.end()), successes);
  EXPECT_TRUE(ReceivesNothing(*alice));
  EXPECT_TRUE(ReceivesNothing(*bob));

  EXPECT_EQ(IntField(sent->back(), "new_balance"), BalanceOverHttp("alice"));
  EXPECT_EQ(IntField(received->back(), "new_balance"), BalanceOverHttp("bob"));
  EXPECT_EQ(BalanceOverHttp("alice"), kFunds % kAmount);
  EXPECT_EQ(BalanceOverHttp("bob"), kFunds - kFunds % kAmount);

  // The audit tool, read-only on the live log, agrees with both.
  const std::string command =
      absl::StrCat(SBD_REPLAY_BINARY, " --db '", server_->db_path(), "' --format json");
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) output.append(buffer, n);
  EXPECT_EQ(pclose(pipe), 0) << output;
  const boost::json::value report = boost::json::parse(output);
  EXPECT_EQ(report.at("status").as_string(), "ok");
  EXPECT_EQ(report.at("balances").at("alice").to_number<int64_t>(), BalanceOverHttp("alice"));
  EXPECT_EQ(report.at("balances").at("bob").to_number<int64_t>(), BalanceOverHttp("bob"));
}

TEST_F(WebSocketE2eTest, SigtermClosesWebSocketsWith1001) {
  OpenFunded("alice", 0);
  auto alice = ConnectAndGreet("alice");
  ASSERT_NE(alice, nullptr);
  std::thread stopper([&] {
    absl::StatusOr<int> exit_code = server_->Stop();
    EXPECT_TRUE(exit_code.ok()) << exit_code.status();
    if (exit_code.ok()) {
      EXPECT_EQ(*exit_code, 0);
    }
  });
  absl::StatusOr<int> code = alice->WaitForClose(seconds(10));
  stopper.join();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 1001);
}

// A message far over the 4 KiB client cap gets close 1009, and the client
// reads it: the server drains what the client is still sending behind the
// close frame instead of resetting the connection under it.
TEST_F(WebSocketE2eTest, OversizedMessageGetsClose1009ThatTheClientReads) {
  OpenFunded("alice", 0);
  auto alice = ConnectAndGreet("alice");
  ASSERT_NE(alice, nullptr);
  const std::string huge(16 * 1024 * 1024, 'x');
  absl::Status sent = alice->SendText(huge, seconds(20));
  absl::StatusOr<int> code = alice->WaitForClose(seconds(10));
  ASSERT_TRUE(code.ok()) << code.status() << " (send: " << sent << ")";
  EXPECT_EQ(*code, 1009);
  EXPECT_TRUE(sent.ok()) << sent;

  // The server is unharmed: a new session works.
  EXPECT_NE(ConnectAndGreet("alice"), nullptr);
}

// The drain behind a close frame is bounded in bytes: a client that keeps
// sending (never reading, so never answering the close) is cut off once the
// server has discarded kWebSocketTeardownBytesMax, not before (the close frame
// must get through to a client finishing an oversized message) and not never.
TEST_F(WebSocketE2eTest, AClientThatKeepsSendingIsCutOffAtTheDrainBytesBound) {
  OpenFunded("alice", 0);
  auto alice = ConnectAndGreet("alice");
  ASSERT_NE(alice, nullptr);
  const std::string oversized(1024 * 1024, 'x');  // Each one over the 4 KiB cap.
  // Past the bound plus what the kernel buffers of both ends can hold
  // (loopback autotuning: a few MiB each).
  constexpr size_t kSlackBytes = 32 * 1024 * 1024;
  size_t sent_bytes = 0;
  absl::Status sent;
  const auto deadline = std::chrono::steady_clock::now() + seconds(60);
  while (std::chrono::steady_clock::now() < deadline &&
         sent_bytes <= kWebSocketTeardownBytesMax + kSlackBytes) {
    sent = alice->SendText(oversized, seconds(20));
    if (!sent.ok()) break;
    sent_bytes += oversized.size();
  }
  ASSERT_TRUE(absl::IsUnavailable(sent)) << sent << " after " << sent_bytes << " bytes";
  EXPECT_GE(sent_bytes, kWebSocketTeardownBytesMax / 2);  // Drained, not reset at once.
  EXPECT_LE(sent_bytes, kWebSocketTeardownBytesMax + kSlackBytes);
}

// ... and in time: a client that trickles small messages after its oversized
// one, never answering the close, is cut off after kWebSocketTeardownTimeout.
// Without that bound only Beast's keep-alive timer (one ping interval, 20 s,
// after the last read started) would end it; the wait allows 10 s less. The
// messages it got through first show the server drained them instead of
// resetting the connection at once.
TEST_F(WebSocketE2eTest, AClientThatTricklesIsCutOffAtTheDrainTimeBound) {
  OpenFunded("alice", 0);
  auto alice = ConnectAndGreet("alice");
  ASSERT_NE(alice, nullptr);
  ASSERT_TRUE(alice->SendText(std::string(5000, 'x')).ok());
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + kWebSocketTeardownTimeout + seconds(10);
  absl::Status sent;
  int trickled = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(100));
    sent = alice->SendText(R"({"type":"ping"})");
    if (!sent.ok()) break;
    trickled++;
  }
  ASSERT_TRUE(absl::IsUnavailable(sent))
      << sent << " after "
      << std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start).count()
      << " ms";
  // ~50 in the 5 s; a reset would have failed the second or third.
  EXPECT_GE(trickled, 5);
}

class WebSocketBacklogTest : public WebSocketE2eTest {
 protected:
  // Far below the stalled client's eventual backlog, far above what the
  // healthy session's outbox holds even when a loaded machine delays its
  // writes by a whole round of sends (32 was seen to trip it under load).
  void SetUp() override { StartServer({"--backlog-limit", "256"}); }
};

TEST_F(WebSocketBacklogTest, AReaderThatNeverReadsIsClosedWith1013AndOthersKeepFlowing) {
  OpenFunded("alice", 10'000'000);
  OpenFunded("bob", 0);
  WebSocketClientOptions small;
  small.receive_buffer_bytes = 4096;
  auto stalled = Connect(Target("bob"), small);
  auto healthy = ConnectAndGreet("bob");
  ASSERT_TRUE(stalled && healthy);

  // Send from 4 connections (so at most 4 of bob's messages per group
  // commit) until the server reports the slow consumer: first the stalled
  // client's kernel buffers fill up (megabytes on loopback), then its backlog
  // passes 256. The healthy session is read after each round; its kernel
  // buffer takes a round easily, so its own backlog stays near zero.
  std::vector<std::unique_ptr<HttpClient>> senders;
  for (int t = 0; t < 4; ++t) senders.push_back(std::make_unique<HttpClient>(server_->port()));
  int64_t last_seq = 0;
  bool disconnected = false;
  int transfers = 0;
  for (int round = 0; round < 400 && !disconnected; ++round) {
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (auto& sender : senders) {
      threads.emplace_back([&ok, http = sender.get()] {
        for (int i = 0; i < 25; ++i) {
          if (Send(*http, "alice", "bob", 1).is_object()) ok++;
        }
      });
    }
    for (auto& thread : threads) thread.join();
    transfers += ok.load();
    auto messages = ReadMessages(*healthy, static_cast<size_t>(ok.load()), seconds(20));
    ASSERT_TRUE(messages.ok()) << messages.status();
    for (const auto& message : *messages) {
      ASSERT_GT(Seq(message), last_seq);
      last_seq = Seq(message);
    }
    disconnected = MetricValue("sbd_websocket_slow_consumer_disconnects_total") >= 1;
  }
  ASSERT_TRUE(disconnected) << "after " << transfers << " transfers";
  EXPECT_EQ(MetricValue("sbd_websocket_slow_consumer_disconnects_total"), 1);

  absl::StatusOr<int> code = stalled->WaitForClose(seconds(20));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 1013);

  const boost::json::value after = Send("alice", "bob", 1);
  auto messages = ReadMessages(*healthy, 1);
  ASSERT_TRUE(messages.ok()) << messages.status();
  EXPECT_EQ(Seq((*messages)[0]), JsonInt(after, "seq"));
}

class WebSocketCloseTimeoutTest : public WebSocketE2eTest {
 protected:
  void SetUp() override { StartServer({"--ws-close-timeout", "1"}); }
};

// --ws-close-timeout bounds a close the server starts: a client that never
// answers the close frame (it only writes, so it never even reads it) is
// dropped after 1 s, where the default would wait 30 s.
TEST_F(WebSocketCloseTimeoutTest, AClientThatNeverAnswersTheCloseIsDroppedAfterTheFlagsTimeout) {
  OpenFunded("alice", 0);
  auto alice = ConnectAndGreet("alice");
  ASSERT_NE(alice, nullptr);
  ASSERT_TRUE(alice->SendBinary("\x01").ok());  // The server closes with 1003.
  const auto start = std::chrono::steady_clock::now();
  absl::Status sent;
  while (std::chrono::steady_clock::now() < start + seconds(15)) {
    std::this_thread::sleep_for(milliseconds(100));
    sent = alice->SendText(R"({"type":"ping"})");
    if (!sent.ok()) break;
  }
  EXPECT_TRUE(absl::IsUnavailable(sent))
      << sent << " after "
      << std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start).count()
      << " ms";
}

TEST(WebSocketCloseTimeoutFlagTest, BadValuesAreRefusedWithExitCode2) {
  for (const char* value : {"0", "-1", "3601", "soon", ""}) {
    absl::StatusOr<ToolResult> result = RunLedgerTool({"serve", "--ws-close-timeout", value});
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->exit_code, 2) << "'" << value << "': " << result->err;
    EXPECT_NE(result->err.find("ws-close-timeout"), std::string::npos) << result->err;
  }
  absl::StatusOr<ToolResult> help = RunLedgerTool({"serve", "--help"});
  ASSERT_TRUE(help.ok()) << help.status();
  EXPECT_NE(help->out.find("--ws-close-timeout"), std::string::npos) << help->out;
}

}  // namespace
}  // namespace sbd::testing
