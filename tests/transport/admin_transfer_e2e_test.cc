// POST /admin/transfer and the service role end to end: the real sbd-ledger
// binary on a free loopback port, real HTTP and WebSocket clients, the log
// read back through the store and through sbd-replay.
//
// One server serves the suite; each test opens accounts of its own
// (prefixed with the test's name), so tests do not see each other's money.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "store/sqlite_event_log.h"
#include "tests/support/accounts.h"
#include "tests/support/http_client.h"
#include "tests/support/json_fields.h"
#include "tests/support/must.h"
#include "tests/support/server_process.h"
#include "tests/support/tokens.h"
#include "tests/support/websocket_client.h"
#include "tests/transport/websocket_test_util.h"

namespace sbd::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

constexpr int64_t kAmountMaxValue = (int64_t{1} << 53) - 1;
constexpr char kService[] = "shop-service";

void ExpectError(const HttpResponse& response, int status, std::string_view code) {
  EXPECT_EQ(response.status, status) << response.body;
  json::value body = response.Json();
  ASSERT_TRUE(body.is_object()) << response.body;
  EXPECT_EQ(KeysOf(body), (std::set<std::string>{"status", "code", "detail"})) << response.body;
  EXPECT_EQ(body.at("code"), json::string(code)) << response.body;
}

// Runs a shell command; its exit code and stdout.
struct Ran {
  int exit_code = -1;
  std::string out;
};
Ran RunCommand(const std::string& command) {
  Ran ran;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return ran;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) ran.out.append(buffer, n);
  const int status = pclose(pipe);
  ran.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return ran;
}

class AdminTransferTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = ServerProcess::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
  }
  static void TearDownTestSuite() {
    if (server_ != nullptr) {
      auto code = server_->Stop();
      EXPECT_TRUE(code.ok()) << code.status();
      if (code.ok()) {
        EXPECT_EQ(*code, 0);
      }
    }
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    http_ = std::make_unique<HttpClient>(server_->port());
    prefix_ = absl::AsciiStrToLower(::testing::UnitTest::GetInstance()->current_test_info()->name())
                  .substr(0, 40);
  }

  std::string Name(std::string_view base) const {
    return absl::StrCat(prefix_, "_", std::string(base));
  }
  static std::string Admin() { return MakeToken("root", /*admin=*/true); }

  void Fund(const std::string& name, int64_t amount) {
    ASSERT_TRUE(OpenFundedAccount(*http_, name, amount).ok()) << name;
  }

  int64_t Balance(const std::string& name) {
    HttpResponse response = Must(http_->Get("/sbd_tokens", MakeToken(name)));
    EXPECT_EQ(response.status, 200) << response.body;
    json::value body = response.Json();
    return body.is_object() ? body.at("sbd_tokens").to_number<int64_t>() : -1;
  }

  HttpResponse Transfer(const json::object& body, const std::string& token) {
    return Must(http_->Post("/admin/transfer", json::serialize(body), token));
  }
  HttpResponse Transfer(const std::string& raw_body, const std::string& token) {
    return Must(http_->Post("/admin/transfer", raw_body, token));
  }

  std::unique_ptr<WebSocketClient> Greeted(const std::string& user) {
    absl::StatusOr<std::unique_ptr<WebSocketClient>> client =
        WebSocketClient::Connect(server_->port(), "/ws?token=" + MakeToken(user));
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return nullptr;
    auto greeting = ReadMessages(**client, 1);
    EXPECT_TRUE(greeting.ok()) << greeting.status();
    if (!greeting.ok()) return nullptr;
    EXPECT_TRUE(HasApiShape((*greeting)[0], "connected"));
    return *std::move(client);
  }

  // The event at `seq`, read from the live log (read-only).
  Event EventAt(int64_t seq) {
    auto log = SqliteEventLog::Open(server_->db_path(), {.read_only = true});
    EXPECT_TRUE(log.ok()) << log.status();
    if (!log.ok()) return {};
    absl::StatusOr<std::vector<Event>> events = (*log)->ReadSeqs({seq});
    EXPECT_TRUE(events.ok()) << events.status();
    return events.ok() ? events->front() : Event{};
  }

  static ServerProcess* server_;
  std::unique_ptr<HttpClient> http_;
  std::string prefix_;
};

ServerProcess* AdminTransferTest::server_ = nullptr;

TEST_F(AdminTransferTest, AServiceMovesTokensWithTheSendAnswerAndBothMessages) {
  const std::string alice = Name("alice");
  const std::string shop = Name("shop");
  Fund(alice, 100);
  Fund(shop, 5);
  auto alice_ws = Greeted(alice);
  auto shop_ws = Greeted(shop);
  ASSERT_TRUE(alice_ws && shop_ws);

  const HttpResponse response = Transfer(json::object{{"from_user", absl::AsciiStrToUpper(alice)},
                                                      {"to_user", shop},
                                                      {"amount", 30},
                                                      {"note", "a book"},
                                                      {"reason", "order 17"}},
                                         MakeServiceToken(kService));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.Header("content-type"), "application/json");
  const json::value body = response.Json();
  // Exactly the send answer: from_user is the debited account.
  EXPECT_EQ(KeysOf(body),
            (std::set<std::string>{"status", "from_user", "to_user", "amount", "transaction_id",
                                   "new_balance", "seq", "timestamp"}))
      << response.body;
  EXPECT_EQ(body.at("status"), "success");
  EXPECT_EQ(body.at("from_user"), json::string(alice));
  EXPECT_EQ(body.at("to_user"), json::string(shop));
  EXPECT_EQ(body.at("amount").to_number<int64_t>(), 30);
  EXPECT_EQ(body.at("new_balance").to_number<int64_t>(), 70);
  const int64_t seq = body.at("seq").to_number<int64_t>();
  const std::string transaction_id(body.at("transaction_id").as_string());
  EXPECT_EQ(transaction_id.size(), 36u);  // A UUID the server made.

  // The sender's connections get sbd_tokens_sent, the recipient's
  // sbd_tokens_received, each with the balance right after the event.
  auto sent = ReadMessages(*alice_ws, 1);
  auto received = ReadMessages(*shop_ws, 1);
  ASSERT_TRUE(sent.ok()) << sent.status();
  ASSERT_TRUE(received.ok()) << received.status();
  const json::object& s = (*sent)[0];
  EXPECT_TRUE(HasApiShape(s, "sbd_tokens_sent", /*has_note=*/true));
  EXPECT_EQ(Seq(s), seq);
  EXPECT_EQ(StringField(s, "to_username"), shop);
  EXPECT_EQ(IntField(s, "amount"), 30);
  EXPECT_EQ(IntField(s, "new_balance"), 70);
  EXPECT_EQ(StringField(s, "transaction_id"), transaction_id);
  EXPECT_EQ(StringField(s, "timestamp"), std::string(body.at("timestamp").as_string()));
  EXPECT_EQ(StringField(s, "note"), "a book");
  const json::object& r = (*received)[0];
  EXPECT_TRUE(HasApiShape(r, "sbd_tokens_received", /*has_note=*/true));
  EXPECT_EQ(Seq(r), seq);
  EXPECT_EQ(StringField(r, "from_username"), alice);
  EXPECT_EQ(IntField(r, "new_balance"), 35);
  EXPECT_EQ(StringField(r, "transaction_id"), transaction_id);
  EXPECT_TRUE(ReceivesNothing(*alice_ws));
  EXPECT_TRUE(ReceivesNothing(*shop_ws));

  EXPECT_EQ(Balance(alice), 70);
  EXPECT_EQ(Balance(shop), 35);
  // Each party's history shows it as an ordinary send / receive.
  const json::value history =
      Must(http_->Get("/sbd_tokens/transactions?limit=1", MakeToken(alice))).Json();
  const json::value& entry = history.at("transactions").at(0);
  EXPECT_EQ(entry.at("type"), "send");
  EXPECT_EQ(entry.at("to"), json::string(shop));
  EXPECT_EQ(entry.at("new_balance").to_number<int64_t>(), 70);

  // In the log: a transfer event whose actor is the service (not the
  // sender), with the reason kept beside the note.
  const Event event = EventAt(seq);
  EXPECT_EQ(event.type, EventType::kTokensTransferred);
  EXPECT_EQ(event.actor, kService);
  EXPECT_EQ(event.from_account, alice);
  EXPECT_EQ(event.note, "a book");
  EXPECT_EQ(event.reason, "order 17");

  // sbd-replay --notifications reproduces both messages.
  const Ran replay = RunCommand(absl::StrCat(SBD_REPLAY_BINARY, " --db '", server_->db_path(),
                                             "' --notifications --account ", alice));
  EXPECT_EQ(replay.exit_code, 0) << replay.out;
  const std::string sent_line =
      json::serialize(json::object{{"to", alice}, {"message", (*sent)[0]}});
  EXPECT_NE(replay.out.find(sent_line + "\n"), std::string::npos) << replay.out;
  const Ran replay_shop = RunCommand(absl::StrCat(SBD_REPLAY_BINARY, " --db '", server_->db_path(),
                                                  "' --notifications --account ", shop));
  EXPECT_EQ(replay_shop.exit_code, 0) << replay_shop.out;
  const std::string received_line =
      json::serialize(json::object{{"to", shop}, {"message", (*received)[0]}});
  EXPECT_NE(replay_shop.out.find(received_line + "\n"), std::string::npos) << replay_shop.out;
}

TEST_F(AdminTransferTest, AnAdminMayCallItTooAndIsTheActor) {
  const std::string from = Name("from");
  const std::string to = Name("to");
  Fund(from, 10);
  Fund(to, 0);
  const HttpResponse response =
      Transfer(json::object{{"from_user", from}, {"to_user", to}, {"amount", 4}}, Admin());
  ASSERT_EQ(response.status, 200) << response.body;
  const Event event = EventAt(response.Json().at("seq").to_number<int64_t>());
  EXPECT_EQ(event.actor, "root");
  EXPECT_EQ(event.reason, "");
  EXPECT_EQ(Balance(from), 6);
  EXPECT_EQ(Balance(to), 4);
}

TEST_F(AdminTransferTest, AReusedTransactionIdReplaysTheOriginalOrConflicts) {
  const std::string user = Name("user");
  const std::string ads = Name("ads");
  Fund(user, 0);
  Fund(ads, 1000);
  auto user_ws = Greeted(user);
  ASSERT_NE(user_ws, nullptr);
  const json::object reward{
      {"from_user", ads}, {"to_user", user}, {"amount", 25}, {"transaction_id", "ad-reward-1"}};
  const HttpResponse first = Transfer(reward, MakeServiceToken(kService));
  ASSERT_EQ(first.status, 200) << first.body;
  auto credited = ReadMessages(*user_ws, 1);
  ASSERT_TRUE(credited.ok()) << credited.status();
  ASSERT_EQ(Transfer(json::object{{"from_user", ads}, {"to_user", user}, {"amount", 1}},
                     MakeServiceToken(kService))
                .status,
            200);  // The balance moves on.
  ASSERT_TRUE(ReadMessages(*user_ws, 1).ok());

  // The same id, sender, recipient and amount: the original body (its
  // new_balance, seq and timestamp), marked duplicate, applied once.
  json::object retry = reward;
  retry["reason"] = "retried";
  const HttpResponse again = Transfer(retry, MakeServiceToken("another-service"));
  ASSERT_EQ(again.status, 200) << again.body;
  json::object expected = first.Json().as_object();
  expected["duplicate"] = true;
  EXPECT_EQ(again.Json(), json::value(expected)) << again.body;
  EXPECT_EQ(Balance(user), 26);
  EXPECT_EQ(Balance(ads), 974);
  EXPECT_TRUE(ReceivesNothing(*user_ws));  // Nothing notified again.

  json::object other_amount = reward;
  other_amount["amount"] = 26;
  ExpectError(Transfer(other_amount, MakeServiceToken(kService)), 409, "transaction_id_conflict");
  json::object other_sender = reward;
  other_sender["from_user"] = user;
  other_sender["to_user"] = ads;
  ExpectError(Transfer(other_sender, MakeServiceToken(kService)), 409, "transaction_id_conflict");
  EXPECT_EQ(Balance(user), 26);
}

TEST_F(AdminTransferTest, EveryValidationErrorOfASend) {
  const std::string alice = Name("alice");
  const std::string bob = Name("bob");
  const std::string full = Name("full");
  Fund(alice, 10);
  Fund(bob, 0);
  Fund(full, kAmountMaxValue);
  const std::string service = MakeServiceToken(kService);
  auto body = [&](const std::string& from, const std::string& to, json::value amount) {
    return json::object{{"from_user", from}, {"to_user", to}, {"amount", amount}};
  };
  ExpectError(Transfer(body("no such", bob, 1), service), 400, "invalid_username");
  ExpectError(Transfer(body(alice, "b/ob", 1), service), 400, "invalid_username");
  ExpectError(Transfer(body(alice, absl::AsciiStrToUpper(alice), 1), service), 400,
              "self_transfer");
  ExpectError(Transfer(body(Name("ghost"), bob, 1), service), 404, "account_not_found");
  ExpectError(Transfer(body(alice, Name("ghost"), 1), service), 404, "account_not_found");
  const HttpResponse poor = Transfer(body(alice, bob, 11), service);
  ExpectError(poor, 400, "insufficient_funds");
  EXPECT_EQ(poor.Json().at("detail"), "Insufficient sbd_tokens");
  ExpectError(Transfer(body(alice, full, 1), service), 400, "balance_overflow");
  for (const json::value& amount :
       {json::value(0), json::value(-1), json::value(5.0), json::value("5"), json::value(nullptr),
        json::value(true), json::value(kAmountMaxValue + 1)}) {
    ExpectError(Transfer(body(alice, bob, amount), service), 400, "invalid_amount");
  }
  json::object long_note = body(alice, bob, 1);
  long_note["note"] = std::string(501, 'n');
  ExpectError(Transfer(long_note, service), 400, "invalid_field");
  json::object long_reason = body(alice, bob, 1);
  long_reason["reason"] = std::string(501, 'r');
  ExpectError(Transfer(long_reason, service), 400, "invalid_field");
  json::object long_id = body(alice, bob, 1);
  long_id["transaction_id"] = std::string(129, 't');
  ExpectError(Transfer(long_id, service), 400, "invalid_field");
  json::object number_reason = body(alice, bob, 1);
  number_reason["reason"] = 7;
  ExpectError(Transfer(number_reason, service), 400, "invalid_field");
  ExpectError(Transfer(json::object{{"to_user", bob}, {"amount", 1}}, service), 400,
              "missing_fields");
  ExpectError(Transfer(std::string("{\"from_user\":"), service), 400, "invalid_json");
  ExpectError(Transfer(body(alice, bob, 1), ""), 401, "unauthorized");
  // Nothing rejected moved anything.
  EXPECT_EQ(Balance(alice), 10);
  EXPECT_EQ(Balance(bob), 0);
}

TEST_F(AdminTransferTest, RolesDecideWhoMayCallWhichAdminRoute) {
  const std::string alice = Name("alice");
  const std::string bob = Name("bob");
  Fund(alice, 10);
  Fund(bob, 0);
  const std::string service = MakeServiceToken(kService);
  // A service token: only /admin/transfer among the admin routes.
  ExpectError(
      Must(http_->Post("/admin/mint",
                       json::serialize(json::object{{"username", alice}, {"amount", 1}}), service)),
      403, "forbidden");
  ExpectError(Must(http_->Post("/admin/accounts",
                               json::serialize(json::object{{"username", Name("new")}}), service)),
              403, "forbidden");
  // A user's token (the sender's own too) may not move tokens this way.
  const json::object body{{"from_user", alice}, {"to_user", bob}, {"amount", 1}};
  ExpectError(Transfer(body, MakeToken(alice)), 403, "forbidden");
  ExpectError(Transfer(body, MakeToken(bob)), 403, "forbidden");
  // An unknown role is no role.
  const std::string superuser = MakeRawToken(
      R"({"alg":"HS256","typ":"JWT"})",
      absl::StrCat(R"({"sub":"x","role":"superuser","exp":)", NowSeconds() + 3600, "}"),
      kTestSecret);
  ExpectError(Transfer(body, superuser), 403, "forbidden");
  // The path serves POST only.
  const HttpResponse get = Must(http_->Get("/admin/transfer", service));
  ExpectError(get, 405, "method_not_allowed");
  EXPECT_EQ(get.Header("allow"), "POST");
  EXPECT_EQ(Balance(alice), 10);
  EXPECT_EQ(Balance(Name("bob")), 0);
}

TEST_F(AdminTransferTest, SbdLedgerTokenServiceMintsAServiceToken) {
  const std::string alice = Name("alice");
  const std::string bob = Name("bob");
  Fund(alice, 10);
  Fund(bob, 0);
  absl::StatusOr<ToolResult> minted = RunLedgerTool({"token", "--user", "ads-service", "--service"},
                                                    {absl::StrCat("SBD_JWT_SECRET=", kTestSecret)});
  ASSERT_TRUE(minted.ok()) << minted.status();
  ASSERT_EQ(minted->exit_code, 0) << minted->err;
  const std::string token(absl::StripTrailingAsciiWhitespace(minted->out));
  const HttpResponse moved =
      Transfer(json::object{{"from_user", alice}, {"to_user", bob}, {"amount", 3}}, token);
  ASSERT_EQ(moved.status, 200) << moved.body;
  EXPECT_EQ(EventAt(moved.Json().at("seq").to_number<int64_t>()).actor, "ads-service");
  ExpectError(
      Must(http_->Post("/admin/mint",
                       json::serialize(json::object{{"username", alice}, {"amount", 1}}), token)),
      403, "forbidden");

  absl::StatusOr<ToolResult> both = RunLedgerTool({"token", "--user", "x", "--service", "--admin"},
                                                  {absl::StrCat("SBD_JWT_SECRET=", kTestSecret)});
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_EQ(both->exit_code, 2);
  EXPECT_TRUE(both->out.empty());
}

}  // namespace
}  // namespace sbd::testing
