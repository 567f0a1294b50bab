// --open-accounts-on-first-use end to end: the real sbd-ledger binary with
// and without the flag, real HTTP and WebSocket clients, and the log read
// back through the store (read-only) to see which accounts were opened, by
// whom. The race of two first requests is pinned down deterministically in
// first_use_routes_test.cc.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "store/sqlite_event_log.h"
#include "tests/support/accounts.h"
#include "tests/support/http_client.h"
#include "tests/support/must.h"
#include "tests/support/server_process.h"
#include "tests/support/tokens.h"
#include "tests/support/websocket_client.h"
#include "tests/transport/websocket_test_util.h"

namespace sbd::testing {
namespace {

namespace json = boost::json;

std::string Code(const HttpResponse& response) {
  json::value body = response.Json();
  if (!body.is_object() || !body.as_object().contains("code")) return "";
  return std::string(body.at("code").as_string());
}

class FirstUseTest : public ::testing::Test {
 protected:
  void StartServer(bool first_use) {
    ServerProcessOptions options;
    if (first_use) options.args = {"--open-accounts-on-first-use"};
    absl::StatusOr<std::unique_ptr<ServerProcess>> server = ServerProcess::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    http_ = std::make_unique<HttpClient>(server_->port());
  }

  void SetUp() override { StartServer(/*first_use=*/true); }

  static std::string Admin() { return MakeToken("root", /*admin=*/true); }

  void Fund(const std::string& name, int64_t amount) {
    ASSERT_TRUE(OpenFundedAccount(*http_, name, amount).ok()) << name;
  }

  // Every account-opened event in the log: (account, actor).
  std::vector<std::pair<std::string, std::string>> Opens() {
    std::vector<std::pair<std::string, std::string>> opens;
    auto log = SqliteEventLog::Open(server_->db_path(), {.read_only = true});
    EXPECT_TRUE(log.ok()) << log.status();
    if (!log.ok()) return opens;
    absl::Status read = (*log)->Read(1, INT64_MAX, [&](const Event& event) {
      if (event.type == EventType::kAccountOpened)
        opens.emplace_back(event.to_account, event.actor);
      return absl::OkStatus();
    });
    EXPECT_TRUE(read.ok()) << read;
    return opens;
  }
  int OpensOf(const std::string& account) {
    int count = 0;
    for (const auto& [opened, actor] : Opens()) count += opened == account ? 1 : 0;
    return count;
  }

  int64_t LastSeq() {
    HttpResponse health = Must(http_->Get("/healthz"));
    return health.Json().at("seq").to_number<int64_t>();
  }

  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> http_;
};

TEST_F(FirstUseTest, EveryRouteOfTheCallersAccountOpensItFirst) {
  // GET /sbd_tokens: opened (balance 0) and answered, sub lowercased.
  HttpResponse balance = Must(http_->Get("/sbd_tokens", MakeToken("Newbie")));
  EXPECT_EQ(balance.status, 200) << balance.body;
  EXPECT_EQ(balance.body, R"({"username":"newbie","sbd_tokens":0})");
  const auto opens = Opens();
  ASSERT_EQ(opens.size(), 1u);
  // Opened by its own first use: the actor is the account itself.
  EXPECT_EQ(opens[0], std::make_pair(std::string("newbie"), std::string("newbie")));
  // A second request finds it open: nothing more is appended.
  const int64_t seq = LastSeq();
  EXPECT_EQ(Must(http_->Get("/sbd_tokens", MakeToken("newbie"))).status, 200);
  EXPECT_EQ(LastSeq(), seq);

  HttpResponse history = Must(http_->Get("/sbd_tokens/transactions", MakeToken("reader")));
  EXPECT_EQ(history.status, 200) << history.body;
  EXPECT_EQ(history.body, R"({"username":"reader","transactions":[]})");

  // A send: opened, then refused on its merits (a new account holds 0).
  Fund("bob", 0);
  HttpResponse send = Must(
      http_->Post("/sbd_tokens/send", R"({"to_user":"bob","amount":1})", MakeToken("spender")));
  EXPECT_EQ(send.status, 400) << send.body;
  EXPECT_EQ(Code(send), "insufficient_funds");

  // A note: opened, then 404 for a transaction it was not part of.
  HttpResponse note =
      Must(http_->Patch("/sbd_tokens/transaction/note", R"({"transaction_id":"nope","note":"x"})",
                        MakeToken("annotator")));
  EXPECT_EQ(note.status, 404) << note.body;
  EXPECT_EQ(Code(note), "transaction_not_found");

  for (const char* user : {"newbie", "reader", "spender", "annotator"}) {
    EXPECT_EQ(OpensOf(user), 1) << user;
  }
  // Opened accounts are real accounts: they can be paid and can pay.
  HttpResponse minted =
      Must(http_->Post("/admin/mint", R"({"username":"spender","amount":5})", Admin()));
  EXPECT_EQ(minted.status, 200) << minted.body;
  send = Must(
      http_->Post("/sbd_tokens/send", R"({"to_user":"bob","amount":2})", MakeToken("spender")));
  EXPECT_EQ(send.status, 200) << send.body;
}

TEST_F(FirstUseTest, ARecipientIsNeverOpened) {
  HttpResponse send = Must(
      http_->Post("/sbd_tokens/send", R"({"to_user":"ghost","amount":1})", MakeToken("sender")));
  EXPECT_EQ(send.status, 404) << send.body;
  EXPECT_EQ(Code(send), "account_not_found");
  // The sender was opened (its first request), the recipient was not.
  EXPECT_EQ(OpensOf("sender"), 1);
  EXPECT_EQ(OpensOf("ghost"), 0);
  HttpResponse mint =
      Must(http_->Post("/admin/mint", R"({"username":"ghost","amount":1})", Admin()));
  EXPECT_EQ(Code(mint), "account_not_found");
  // Nor by an admin transfer to it.
  HttpResponse moved = Must(http_->Post(
      "/admin/transfer", R"({"from_user":"sender","to_user":"ghost2","amount":1})", Admin()));
  EXPECT_EQ(Code(moved), "account_not_found");
  EXPECT_EQ(OpensOf("ghost2"), 0);
}

TEST_F(FirstUseTest, TheWebSocketHandshakeOpensItAndTheConnectionIsLive) {
  absl::StatusOr<std::unique_ptr<WebSocketClient>> client =
      WebSocketClient::Connect(server_->port(), "/ws?token=" + MakeToken("WsUser"));
  ASSERT_TRUE(client.ok()) << client.status();
  auto greeting = ReadMessages(**client, 1);
  ASSERT_TRUE(greeting.ok()) << greeting.status();
  EXPECT_TRUE(HasApiShape((*greeting)[0], "connected"));
  EXPECT_EQ(StringField((*greeting)[0], "username"), "wsuser");
  EXPECT_EQ(IntField((*greeting)[0], "sbd_tokens"), 0);
  EXPECT_EQ(Seq((*greeting)[0]), LastSeq());  // The open is in the seq it reports.
  EXPECT_EQ(OpensOf("wsuser"), 1);

  HttpResponse minted = Must(
      http_->Post("/admin/mint", R"({"username":"wsuser","amount":9,"reason":"hi"})", Admin()));
  ASSERT_EQ(minted.status, 200) << minted.body;
  auto credited = ReadMessages(**client, 1);
  ASSERT_TRUE(credited.ok()) << credited.status();
  EXPECT_TRUE(HasApiShape((*credited)[0], "sbd_tokens_credited"));
  EXPECT_EQ(IntField((*credited)[0], "new_balance"), 9);
}

TEST_F(FirstUseTest, ManyFirstRequestsAtOnceAllSucceedAndOpenOnce) {
  constexpr int kClients = 8;
  std::vector<int> statuses(kClients, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      HttpClient http(server_->port());
      absl::StatusOr<HttpResponse> response = http.Get("/sbd_tokens", MakeToken("crowd"));
      statuses[i] = response.ok() ? response->status : -1;
    });
  }
  // And the handshake, at the same time.
  absl::StatusOr<int> handshake =
      WebSocketClient::HandshakeStatus(server_->port(), "/ws?token=" + MakeToken("crowd"));
  for (std::thread& thread : threads) thread.join();
  for (int i = 0; i < kClients; ++i) EXPECT_EQ(statuses[i], 200) << "client " << i;
  ASSERT_TRUE(handshake.ok()) << handshake.status();
  EXPECT_EQ(*handshake, 101);
  EXPECT_EQ(OpensOf("crowd"), 1);
}

TEST_F(FirstUseTest, AdminServiceAndBadTokensOpenNothing) {
  const int64_t seq = LastSeq();
  // Admin routes do not need the caller's account, and an admin's or a
  // service's sub is not opened on the user routes either.
  EXPECT_EQ(Must(http_->Post("/admin/accounts", R"({"username":"carol"})", Admin())).status, 201);
  EXPECT_EQ(Code(Must(http_->Get("/sbd_tokens", Admin()))), "account_not_found");
  EXPECT_EQ(Code(Must(http_->Get("/sbd_tokens", MakeServiceToken("shop-service")))),
            "account_not_found");
  absl::StatusOr<int> admin_ws =
      WebSocketClient::HandshakeStatus(server_->port(), "/ws?token=" + Admin());
  ASSERT_TRUE(admin_ws.ok()) << admin_ws.status();
  EXPECT_EQ(*admin_ws, 404);
  // A token that does not verify, or names no valid username, opens nothing.
  EXPECT_EQ(Must(http_->Get("/sbd_tokens", MakeToken("expired", false, -10))).status, 401);
  EXPECT_EQ(Code(Must(http_->Get("/sbd_tokens", MakeToken("not valid")))), "invalid_username");
  absl::StatusOr<int> expired_ws = WebSocketClient::HandshakeStatus(
      server_->port(), "/ws?token=" + MakeToken("expired", false, -10));
  ASSERT_TRUE(expired_ws.ok()) << expired_ws.status();
  EXPECT_EQ(*expired_ws, 401);
  // A plain GET /ws (no upgrade) is refused without opening anything.
  EXPECT_EQ(Must(http_->Get("/ws?token=" + MakeToken("plain"))).status, 404);
  EXPECT_EQ(LastSeq(), seq + 1);  // Only carol.
  EXPECT_EQ(Opens().back().first, "carol");
}

class FirstUseOffTest : public FirstUseTest {
 protected:
  void SetUp() override { StartServer(/*first_use=*/false); }
};

TEST_F(FirstUseOffTest, WithoutTheFlagAnUnknownCallerIs404AndNothingIsOpened) {
  for (const char* target : {"/sbd_tokens", "/sbd_tokens/transactions"}) {
    HttpResponse response = Must(http_->Get(target, MakeToken("stranger")));
    EXPECT_EQ(response.status, 404) << target;
    EXPECT_EQ(Code(response), "account_not_found") << target;
  }
  HttpResponse send =
      Must(http_->Post("/sbd_tokens/send", R"({"to_user":"x","amount":1})", MakeToken("stranger")));
  EXPECT_EQ(Code(send), "account_not_found");
  HttpResponse note =
      Must(http_->Patch("/sbd_tokens/transaction/note", R"({"transaction_id":"t","note":"x"})",
                        MakeToken("stranger")));
  EXPECT_EQ(Code(note), "account_not_found");
  absl::StatusOr<int> handshake =
      WebSocketClient::HandshakeStatus(server_->port(), "/ws?token=" + MakeToken("stranger"));
  ASSERT_TRUE(handshake.ok()) << handshake.status();
  EXPECT_EQ(*handshake, 404);
  EXPECT_TRUE(Opens().empty());
  EXPECT_EQ(LastSeq(), 0);
}

}  // namespace
}  // namespace sbd::testing
