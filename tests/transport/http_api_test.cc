// End-to-end: every HTTP endpoint of API.md, its exact JSON and every error
// code, against the real sbd-ledger binary on a free loopback port.
//
// One server serves the whole suite; each test opens accounts of its own
// (prefixed with the test's name), so tests do not see each other's money.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/support/accounts.h"
#include "tests/support/http_client.h"
#include "tests/support/json_fields.h"
#include "tests/support/must.h"
#include "tests/support/server_process.h"
#include "tests/support/tokens.h"

namespace sbd::testing {
namespace {

namespace json = boost::json;

constexpr int64_t kAmountMaxValue = (int64_t{1} << 53) - 1;

bool IsTimestamp(const json::value& value) {
  static const std::regex kFormat(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");
  return value.is_string() && std::regex_match(std::string(value.get_string()), kFormat);
}

// Asserts `response` is the API's error body with `status` and `code`.
void ExpectError(const HttpResponse& response, int status, std::string_view code) {
  EXPECT_EQ(response.status, status) << response.body;
  json::value body = response.Json();
  EXPECT_EQ(KeysOf(body), (std::set<std::string>{"status", "code", "detail"})) << response.body;
  if (!body.is_object()) return;
  EXPECT_EQ(body.at("status"), "error") << response.body;
  EXPECT_EQ(body.at("code"), json::string(code)) << response.body;
  EXPECT_TRUE(body.at("detail").is_string() && !body.at("detail").get_string().empty())
      << response.body;
  EXPECT_EQ(response.Header("content-type"), "application/json");
}

class HttpApiTest : public ::testing::Test {
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
    client_ = std::make_unique<HttpClient>(server_->port());
    prefix_ =
        absl::AsciiStrToLower(::testing::UnitTest::GetInstance()->current_test_info()->name());
    prefix_ = prefix_.substr(0, 40);
  }

  // A name unique to this test.
  std::string Name(std::string_view base) const { return prefix_ + "_" + std::string(base); }

  static std::string Admin() { return MakeToken("root", /*admin=*/true); }

  // Opens `name` and mints `amount` (if > 0) into it.
  void Fund(const std::string& name, int64_t amount) {
    ASSERT_TRUE(OpenFundedAccount(*client_, name, amount).ok()) << name;
  }

  int64_t Balance(const std::string& name) {
    HttpResponse response = Must(client_->Get("/sbd_tokens", MakeToken(name)));
    EXPECT_EQ(response.status, 200) << response.body;
    json::value body = response.Json();
    return body.is_object() ? body.at("sbd_tokens").to_number<int64_t>() : -1;
  }

  HttpResponse Send(const std::string& from, const std::string& body) {
    return Must(client_->Post("/sbd_tokens/send", body, MakeToken(from)));
  }
  HttpResponse Send(const std::string& from, const std::string& to, json::value amount,
                    std::string_view transaction_id = "") {
    json::object body{{"to_user", to}, {"amount", amount}};
    if (!transaction_id.empty()) body["transaction_id"] = transaction_id;
    return Send(from, json::serialize(body));
  }

  static ServerProcess* server_;
  std::unique_ptr<HttpClient> client_;
  std::string prefix_;
};

ServerProcess* HttpApiTest::server_ = nullptr;

// --- Every endpoint's exact shape ---

TEST_F(HttpApiTest, OpenAccountAnswers201WithCanonicalName) {
  const std::string name = Name("dave");
  std::string upper = absl::AsciiStrToUpper(name);
  HttpResponse response = Must(client_->Post(
      "/admin/accounts", json::serialize(json::object{{"username", upper}}), Admin()));
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(response.body, absl::StrCat(R"({"username":")", name, R"(","sbd_tokens":0})"));
  EXPECT_EQ(response.Header("content-type"), "application/json");
  EXPECT_EQ(Balance(name), 0);
}

TEST_F(HttpApiTest, MintAnswersItsShape) {
  const std::string bob = Name("bob");
  Fund(bob, 0);
  HttpResponse response = Must(client_->Post(
      "/admin/mint",
      json::serialize(json::object{{"username", bob}, {"amount", 100}, {"reason", "welcome"}}),
      Admin()));
  ASSERT_EQ(response.status, 200) << response.body;
  json::value body = response.Json();
  EXPECT_EQ(KeysOf(body), (std::set<std::string>{"status", "username", "amount", "new_balance",
                                                 "transaction_id", "seq", "timestamp"}));
  EXPECT_EQ(body.at("status"), "success");
  EXPECT_EQ(body.at("username"), json::string(bob));
  EXPECT_EQ(body.at("amount"), 100);
  EXPECT_EQ(body.at("new_balance"), 100);
  EXPECT_FALSE(body.at("transaction_id").get_string().empty());
  EXPECT_GT(body.at("seq").as_int64(), 0);
  EXPECT_TRUE(IsTimestamp(body.at("timestamp"))) << response.body;
  EXPECT_EQ(Balance(bob), 100);
}

TEST_F(HttpApiTest, BalanceAnswersItsShape) {
  const std::string alice = Name("alice");
  Fund(alice, 120);
  HttpResponse response = Must(client_->Get("/sbd_tokens", MakeToken(alice)));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, absl::StrCat(R"({"username":")", alice, R"(","sbd_tokens":120})"));
  // A sub in another case is the same account.
  response = Must(client_->Get("/sbd_tokens", MakeToken(absl::AsciiStrToUpper(alice))));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.Json().at("username"), json::string(alice));
}

TEST_F(HttpApiTest, SendAnswersItsShapeAndMovesTheMoney) {
  const std::string alice = Name("alice");
  const std::string bob = Name("bob");
  Fund(alice, 120);
  Fund(bob, 10);
  HttpResponse response =
      Send(alice, json::serialize(json::object{
                      {"to_user", absl::AsciiStrToUpper(bob)}, {"amount", 50}, {"note", "lunch"}}));
  ASSERT_EQ(response.status, 200) << response.body;
  json::value body = response.Json();
  EXPECT_EQ(KeysOf(body),
            (std::set<std::string>{"status", "from_user", "to_user", "amount", "transaction_id",
                                   "new_balance", "seq", "timestamp"}));
  EXPECT_EQ(body.at("status"), "success");
  EXPECT_EQ(body.at("from_user"), json::string(alice));
  EXPECT_EQ(body.at("to_user"), json::string(bob));  // Canonicalised.
  EXPECT_EQ(body.at("amount"), 50);
  EXPECT_EQ(body.at("new_balance"), 70);
  EXPECT_TRUE(IsTimestamp(body.at("timestamp")));
  // A generated transaction id is a UUID.
  EXPECT_TRUE(std::regex_match(std::string(body.at("transaction_id").get_string()),
                               std::regex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                                          "[0-9a-f]{12}")))
      << response.body;
  EXPECT_EQ(Balance(alice), 70);
  EXPECT_EQ(Balance(bob), 60);
  // The seq is the last committed one.
  HttpResponse health = Must(client_->Get("/healthz"));
  EXPECT_GE(health.Json().at("seq").as_int64(), body.at("seq").as_int64());
}

TEST_F(HttpApiTest, TransactionsListNewestFirstFromTheCallersView) {
  const std::string alice = Name("alice");
  const std::string bob = Name("bob");
  Fund(alice, 100);
  Fund(bob, 0);
  ASSERT_EQ(Send(alice, json::serialize(json::object{{"to_user", bob},
                                                     {"amount", 30},
                                                     {"note", "rent"},
                                                     {"transaction_id", "tx-" + prefix_ + "-1"}}))
                .status,
            200);
  ASSERT_EQ(Send(bob, alice, 5, "tx-" + prefix_ + "-2").status, 200);

  HttpResponse response = Must(client_->Get("/sbd_tokens/transactions", MakeToken(alice)));
  ASSERT_EQ(response.status, 200) << response.body;
  json::value body = response.Json();
  EXPECT_EQ(KeysOf(body), (std::set<std::string>{"username", "transactions"}));
  EXPECT_EQ(body.at("username"), json::string(alice));
  const json::array& list = body.at("transactions").as_array();
  ASSERT_EQ(list.size(), 3u) << response.body;
  // Newest first: receive 5, send 30, mint 100.
  EXPECT_EQ(KeysOf(list[0]), (std::set<std::string>{"type", "from", "amount", "new_balance",
                                                    "transaction_id", "seq", "timestamp"}));
  EXPECT_EQ(list[0].at("type"), "receive");
  EXPECT_EQ(list[0].at("from"), json::string(bob));
  EXPECT_EQ(list[0].at("amount"), 5);
  EXPECT_EQ(list[0].at("new_balance"), 75);
  EXPECT_EQ(list[0].at("transaction_id"), json::string("tx-" + prefix_ + "-2"));
  EXPECT_TRUE(IsTimestamp(list[0].at("timestamp")));
  EXPECT_EQ(KeysOf(list[1]), (std::set<std::string>{"type", "to", "amount", "new_balance",
                                                    "transaction_id", "seq", "timestamp", "note"}));
  EXPECT_EQ(list[1].at("type"), "send");
  EXPECT_EQ(list[1].at("to"), json::string(bob));
  EXPECT_EQ(list[1].at("amount"), 30);
  EXPECT_EQ(list[1].at("new_balance"), 70);
  EXPECT_EQ(list[1].at("note"), "rent");
  EXPECT_EQ(list[2].at("type"), "mint");
  EXPECT_EQ(list[2].at("amount"), 100);
  EXPECT_EQ(list[2].at("new_balance"), 100);
  EXPECT_GT(list[0].at("seq").as_int64(), list[1].at("seq").as_int64());
  EXPECT_GT(list[1].at("seq").as_int64(), list[2].at("seq").as_int64());

  // Bob's view of the same transfer is a receive with his balance.
  json::value bobs = Must(client_->Get("/sbd_tokens/transactions", MakeToken(bob))).Json();
  const json::array& bob_list = bobs.at("transactions").as_array();
  ASSERT_EQ(bob_list.size(), 2u);
  EXPECT_EQ(bob_list[1].at("type"), "receive");
  EXPECT_EQ(bob_list[1].at("from"), json::string(alice));
  EXPECT_EQ(bob_list[1].at("new_balance"), 30);
}

TEST_F(HttpApiTest, TransactionsPageWithSkipAndLimit) {
  const std::string alice = Name("alice");
  const std::string bob = Name("bob");
  Fund(alice, 100);
  Fund(bob, 0);
  for (int i = 1; i <= 7; ++i) ASSERT_EQ(Send(alice, bob, i).status, 200);
  auto amounts = [&](std::string_view query) {
    std::vector<int64_t> result;
    HttpResponse response =
        Must(client_->Get("/sbd_tokens/transactions" + std::string(query), MakeToken(alice)));
    EXPECT_EQ(response.status, 200) << query << ": " << response.body;
    if (response.status != 200) return result;
    const json::value body = response.Json();
    for (const json::value& entry : body.at("transactions").as_array()) {
      result.push_back(entry.at("amount").as_int64());
    }
    return result;
  };
  EXPECT_EQ(amounts(""), (std::vector<int64_t>{7, 6, 5, 4, 3}));  // Default limit 5.
  EXPECT_EQ(amounts("?limit=2"), (std::vector<int64_t>{7, 6}));
  EXPECT_EQ(amounts("?skip=5"), (std::vector<int64_t>{2, 1, 100}));
  EXPECT_EQ(amounts("?skip=6&limit=100"), (std::vector<int64_t>{1, 100}));
  EXPECT_EQ(amounts("?skip=1000"), (std::vector<int64_t>{}));
  EXPECT_EQ(amounts("?limit=1&skip=0"), (std::vector<int64_t>{7}));
  for (std::string_view bad : {"?limit=0", "?limit=101", "?limit=-1", "?limit=abc", "?limit=",
                               "?limit=1.5", "?skip=-1", "?skip=x", "?skip=", "?limit=%2B5"}) {
    ExpectError(Must(client_->Get("/sbd_tokens/transactions" + std::string(bad), MakeToken(alice))),
                400, "invalid_field");
  }
}

TEST_F(HttpApiTest, NoteUpdateShowsInTheCallersHistoryOnly) {
  const std::string alice = Name("alice");
  const std::string bob = Name("bob");
  const std::string carol = Name("carol");
  Fund(alice, 100);
  Fund(bob, 0);
  Fund(carol, 0);
  const std::string id = "note-" + prefix_;
  ASSERT_EQ(Send(alice, bob, 10, id).status, 200);
  HttpResponse response = Must(
      client_->Patch("/sbd_tokens/transaction/note",
                     json::serialize(json::object{{"transaction_id", id}, {"note", "for pizza"}}),
                     MakeToken(bob)));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.body, absl::StrCat(R"({"status":"success","transaction_id":")", id,
                                        R"(","note":"for pizza"})"));
  json::value bobs = Must(client_->Get("/sbd_tokens/transactions", MakeToken(bob))).Json();
  EXPECT_EQ(bobs.at("transactions").at(0).at("note"), "for pizza");
  json::value alices = Must(client_->Get("/sbd_tokens/transactions", MakeToken(alice))).Json();
  EXPECT_EQ(alices.at("transactions").at(0).as_object().count("note"), 0u);
  // Carol was not part of it; an unknown id is the same answer.
  ExpectError(
      Must(client_->Patch("/sbd_tokens/transaction/note",
                          json::serialize(json::object{{"transaction_id", id}, {"note", "mine"}}),
                          MakeToken(carol))),
      404, "transaction_not_found");
  ExpectError(Must(client_->Patch("/sbd_tokens/transaction/note",
                                  R"({"transaction_id":"no-such-id","note":"x"})", MakeToken(bob))),
              404, "transaction_not_found");
}

TEST_F(HttpApiTest, HealthzMetricsAndWalletPage) {
  HttpResponse health = Must(client_->Get("/healthz"));
  EXPECT_EQ(health.status, 200);
  json::value body = health.Json();
  EXPECT_EQ(KeysOf(body), (std::set<std::string>{"status", "seq"}));
  EXPECT_EQ(body.at("status"), "ok");
  EXPECT_GE(body.at("seq").as_int64(), 0);

  // A rejection and a transfer show up in the metrics.
  Must(client_->Get("/no/such/path"));
  const std::string alice = Name("alice");
  const std::string bob = Name("bob");
  Fund(alice, 10);
  Fund(bob, 0);
  ASSERT_EQ(Send(alice, bob, 1).status, 200);
  HttpResponse metrics = Must(client_->Get("/metrics"));
  EXPECT_EQ(metrics.status, 200);
  EXPECT_TRUE(absl::StartsWith(metrics.Header("content-type"), "text/plain"));
  for (std::string_view needle :
       {"# TYPE sbd_transfers_total counter", "sbd_rejections_total{code=\"not_found\"} ",
        "# TYPE sbd_commit_batch_size histogram", "sbd_commit_batch_size_bucket{le=\"+Inf\"} ",
        "# TYPE sbd_commit_latency_seconds histogram", "sbd_websocket_connections ",
        "sbd_websocket_messages_sent_total ", "sbd_websocket_slow_consumer_disconnects_total ",
        "sbd_websocket_resumes_total ", "sbd_http_requests_total "}) {
    EXPECT_NE(metrics.body.find(needle), std::string::npos) << needle;
  }
  std::smatch match;
  ASSERT_TRUE(std::regex_search(metrics.body, match, std::regex(R"(\nsbd_transfers_total (\d+))")));
  EXPECT_GE(std::stoll(match[1]), 1);
  ASSERT_TRUE(std::regex_search(metrics.body, match,
                                std::regex(R"(sbd_rejections_total\{code="not_found"\} (\d+))")));
  EXPECT_GE(std::stoll(match[1]), 1);

  HttpResponse page = Must(client_->Get("/"));
  EXPECT_EQ(page.status, 200);
  EXPECT_TRUE(absl::StartsWith(page.Header("content-type"), "text/html"));
  EXPECT_NE(page.body.find("<"), std::string::npos);
}

// --- Every error code ---

TEST_F(HttpApiTest, InvalidJson) {
  const std::string alice = Name("alice");
  Fund(alice, 10);
  for (std::string_view body :
       {"nope", "[1,2]", "5", "{\"to_user\":", "{\"to_user\":\"x\"} {}",
        "{\"to_user\":\"b\xff\",\"amount\":1}", R"({"to_user":"x","amount":1,"amount":2})"}) {
    ExpectError(Send(alice, std::string(body)), 400, "invalid_json");
  }
  // No body at all.
  ExpectError(Must(client_->Post("/sbd_tokens/send", "", MakeToken(alice))), 400, "invalid_json");
  ExpectError(Must(client_->Post("/admin/accounts", "[]", Admin())), 400, "invalid_json");
}

TEST_F(HttpApiTest, MissingFields) {
  const std::string alice = Name("alice");
  Fund(alice, 10);
  ExpectError(Send(alice, R"({"amount":1})"), 400, "missing_fields");
  ExpectError(Send(alice, R"({"to_user":"bob"})"), 400, "missing_fields");
  ExpectError(Must(client_->Post("/admin/accounts", "{}", Admin())), 400, "missing_fields");
  ExpectError(Must(client_->Post("/admin/mint", R"({"amount":1})", Admin())), 400,
              "missing_fields");
  ExpectError(
      Must(client_->Patch("/sbd_tokens/transaction/note", R"({"note":"x"})", MakeToken(alice))),
      400, "missing_fields");
}

TEST_F(HttpApiTest, InvalidAmount) {
  const std::string alice = Name("alice");
  const std::string bob = Name("bob");
  Fund(alice, 100);
  Fund(bob, 0);
  for (std::string_view amount : {"0", "-1", "5.0", "5.5", "1e2", "\"5\"", "true", "null", "[5]",
                                  "9007199254740992", "18446744073709551616"}) {
    ExpectError(Send(alice, absl::StrCat(R"({"to_user":")", bob, R"(","amount":)",
                                         std::string(amount), "}")),
                400, "invalid_amount");
  }
  ExpectError(
      Must(client_->Post("/admin/mint", absl::StrCat(R"({"username":")", bob, R"(","amount":2.0})"),
                         Admin())),
      400, "invalid_amount");
  EXPECT_EQ(Balance(alice), 100);
  EXPECT_EQ(Balance(bob), 0);
}

TEST_F(HttpApiTest, InvalidUsername) {
  const std::string alice = Name("alice");
  Fund(alice, 100);
  ExpectError(Send(alice, "bad name!", 1), 400, "invalid_username");
  ExpectError(Send(alice, std::string(65, 'a'), 1), 400, "invalid_username");
  ExpectError(Send(alice, "", 1), 400, "invalid_username");
  // A token whose sub is not a username.
  ExpectError(Must(client_->Get("/sbd_tokens", MakeToken("Not Valid!"))), 400, "invalid_username");
  ExpectError(Must(client_->Post("/admin/accounts", R"({"username":"white space"})", Admin())), 400,
              "invalid_username");
}

TEST_F(HttpApiTest, SelfTransfer) {
  const std::string alice = Name("alice");
  Fund(alice, 100);
  ExpectError(Send(alice, alice, 1), 400, "self_transfer");
  ExpectError(Send(alice, absl::AsciiStrToUpper(alice), 1), 400, "self_transfer");
  EXPECT_EQ(Balance(alice), 100);
}

TEST_F(HttpApiTest, InsufficientFunds) {
  const std::string alice = Name("alice");
  const std::string bob = Name("bob");
  Fund(alice, 10);
  Fund(bob, 0);
  HttpResponse response = Send(alice, bob, 11);
  ExpectError(response, 400, "insufficient_funds");
  EXPECT_EQ(response.Json().at("detail"), "Insufficient sbd_tokens");
  EXPECT_EQ(Balance(alice), 10);
  EXPECT_EQ(Balance(bob), 0);
}

TEST_F(HttpApiTest, BalanceOverflow) {
  const std::string alice = Name("alice");
  const std::string bob = Name("bob");
  Fund(alice, 10);
  Fund(bob, kAmountMaxValue);
  ExpectError(Send(alice, bob, 1), 400, "balance_overflow");
  ExpectError(
      Must(client_->Post("/admin/mint", absl::StrCat(R"({"username":")", bob, R"(","amount":1})"),
                         Admin())),
      400, "balance_overflow");
  EXPECT_EQ(Balance(alice), 10);
  EXPECT_EQ(Balance(bob), kAmountMaxValue);
}

TEST_F(HttpApiTest, InvalidField) {
  const std::string alice = Name("alice");
  const std::string bob = Name("bob");
  Fund(alice, 100);
  Fund(bob, 0);
  ExpectError(Send(alice, json::serialize(json::object{
                              {"to_user", bob}, {"amount", 1}, {"note", std::string(501, 'n')}})),
              400, "invalid_field");
  ExpectError(Send(alice, bob, 1, std::string(129, 't')), 400, "invalid_field");
  ExpectError(Send(alice, bob, 1, "tab\there"), 400, "invalid_field");
  ExpectError(Send(alice, absl::StrCat(R"({"to_user":5,"amount":1})")), 400, "invalid_field");
  ExpectError(Send(alice, absl::StrCat(R"({"to_user":")", bob, R"(","amount":1,"note":5})")), 400,
              "invalid_field");
  // 500 characters (not bytes) is fine: 500 two-byte characters.
  std::string note;
  for (int i = 0; i < 500; ++i) note += "\xc3\xa9";
  EXPECT_EQ(
      Send(alice, json::serialize(json::object{{"to_user", bob}, {"amount", 1}, {"note", note}}))
          .status,
      200);
  EXPECT_EQ(Send(alice, bob, 1, std::string(128, 't')).status, 200);
  EXPECT_EQ(Balance(alice), 98);
}

TEST_F(HttpApiTest, Unauthorized) {
  const std::string alice = Name("alice");
  Fund(alice, 10);
  const int64_t now = NowSeconds();
  const std::string header = R"({"alg":"HS256","typ":"JWT"})";
  const std::string claims = absl::StrCat(R"({"sub":")", alice, R"(","exp":)", now + 3600, "}");
  const std::vector<std::string> bad_tokens = {
      "garbage",
      "a.b.c",
      MakeTokenWithSecret("another-secret", alice),
      MakeToken(alice, false, -10),  // Expired.
      MakeRawToken(R"({"alg":"none","typ":"JWT"})", claims, kTestSecret, /*sign=*/false),
      MakeRawToken(R"({"alg":"none","typ":"JWT"})", claims, kTestSecret, /*sign=*/true),
      MakeRawToken(R"({"alg":"HS512","typ":"JWT"})", claims, kTestSecret),
      MakeRawToken(header, absl::StrCat(R"({"sub":")", alice, R"("})"), kTestSecret),  // No exp.
      MakeRawToken(header, absl::StrCat(R"({"exp":)", now + 3600, "}"), kTestSecret),  // No sub.
      MakeRawToken(
          header,
          absl::StrCat(R"({"sub":")", alice, R"(","exp":)", now + 3600, R"(,"type":"refresh"})"),
          kTestSecret),
      MakeRawToken(header, absl::StrCat(R"({"sub":")", alice, R"(","exp":"soon"})"), kTestSecret),
  };
  // The hand-made valid token is accepted: the rejections are for the
  // reasons above, not for how the tokens were built.
  EXPECT_EQ(Must(client_->Get("/sbd_tokens", MakeRawToken(header, claims, kTestSecret))).status,
            200);
  for (const std::string& token : bad_tokens) {
    ExpectError(Must(client_->Get("/sbd_tokens", token)), 401, "unauthorized");
    ExpectError(Must(client_->Post("/sbd_tokens/send", R"({"to_user":"x","amount":1})", token)),
                401, "unauthorized");
  }
  ExpectError(Must(client_->Get("/sbd_tokens")), 401, "unauthorized");
  ExpectError(Must(client_->Request("GET", "/sbd_tokens", "", "",
                                    {{"Authorization", "Basic YWxpY2U6eA=="}})),
              401, "unauthorized");
  ExpectError(Must(client_->Post("/admin/mint", R"({"username":"x","amount":1})")), 401,
              "unauthorized");
}

TEST_F(HttpApiTest, Forbidden) {
  const std::string alice = Name("alice");
  Fund(alice, 10);
  ExpectError(Must(client_->Post("/admin/accounts", R"({"username":"someone"})", MakeToken(alice))),
              403, "forbidden");
  ExpectError(
      Must(client_->Post("/admin/mint", absl::StrCat(R"({"username":")", alice, R"(","amount":5})"),
                         MakeToken(alice))),
      403, "forbidden");
  EXPECT_EQ(Balance(alice), 10);
}

TEST_F(HttpApiTest, AccountNotFound) {
  const std::string alice = Name("alice");
  Fund(alice, 10);
  ExpectError(Must(client_->Get("/sbd_tokens", MakeToken(Name("ghost")))), 404,
              "account_not_found");
  ExpectError(Must(client_->Get("/sbd_tokens/transactions", MakeToken(Name("ghost")))), 404,
              "account_not_found");
  ExpectError(Send(Name("ghost"), alice, 1), 404, "account_not_found");
  // An unknown recipient is never created.
  ExpectError(Send(alice, Name("nobody"), 1), 404, "account_not_found");
  ExpectError(Must(client_->Get("/sbd_tokens", MakeToken(Name("nobody")))), 404,
              "account_not_found");
  ExpectError(Must(client_->Post(
                  "/admin/mint",
                  absl::StrCat(R"({"username":")", Name("nobody"), R"(","amount":1})"), Admin())),
              404, "account_not_found");
  EXPECT_EQ(Balance(alice), 10);
}

TEST_F(HttpApiTest, NotFoundAndMethodNotAllowed) {
  ExpectError(Must(client_->Get("/nope")), 404, "not_found");
  ExpectError(Must(client_->Get("/sbd_tokens/")), 404, "not_found");
  ExpectError(Must(client_->Get("/admin")), 404, "not_found");
  HttpResponse response = Must(client_->Request("DELETE", "/sbd_tokens"));
  ExpectError(response, 405, "method_not_allowed");
  EXPECT_EQ(response.Header("allow"), "GET");
  response = Must(client_->Get("/sbd_tokens/send"));
  ExpectError(response, 405, "method_not_allowed");
  EXPECT_EQ(response.Header("allow"), "POST");
  response = Must(client_->Post("/sbd_tokens/transaction/note", "{}"));
  ExpectError(response, 405, "method_not_allowed");
  EXPECT_EQ(response.Header("allow"), "PATCH");
  response = Must(client_->Post("/healthz", "{}"));
  ExpectError(response, 405, "method_not_allowed");
}

TEST_F(HttpApiTest, AccountExists) {
  const std::string alice = Name("alice");
  Fund(alice, 0);
  ExpectError(Must(client_->Post("/admin/accounts",
                                 json::serialize(json::object{{"username", alice}}), Admin())),
              409, "account_exists");
  ExpectError(
      Must(client_->Post("/admin/accounts",
                         json::serialize(json::object{{"username", absl::AsciiStrToUpper(alice)}}),
                         Admin())),
      409, "account_exists");
}

TEST_F(HttpApiTest, IdempotentSendAppliesOnce) {
  const std::string alice = Name("alice");
  const std::string bob = Name("bob");
  Fund(alice, 100);
  Fund(bob, 0);
  const std::string id = "pay-" + prefix_;
  HttpResponse first = Send(alice, bob, 40, id);
  ASSERT_EQ(first.status, 200) << first.body;
  HttpResponse again = Send(alice, bob, 40, id);
  ASSERT_EQ(again.status, 200) << again.body;
  json::value original = first.Json();
  json::value replay = again.Json();
  EXPECT_EQ(replay.at("duplicate"), true);
  replay.as_object().erase("duplicate");
  EXPECT_EQ(replay, original);  // The original answer, word for word.
  EXPECT_EQ(Balance(alice), 60);
  EXPECT_EQ(Balance(bob), 40);
  // Different amount, recipient or sender with the same id: conflict.
  ExpectError(Send(alice, bob, 41, id), 409, "transaction_id_conflict");
  const std::string carol = Name("carol");
  Fund(carol, 100);
  ExpectError(Send(alice, carol, 40, id), 409, "transaction_id_conflict");
  ExpectError(Send(carol, bob, 40, id), 409, "transaction_id_conflict");
  EXPECT_EQ(Balance(alice), 60);
  EXPECT_EQ(Balance(bob), 40);
  EXPECT_EQ(Balance(carol), 100);
  // The history holds it once.
  json::value history = Must(client_->Get("/sbd_tokens/transactions", MakeToken(bob))).Json();
  EXPECT_EQ(history.at("transactions").as_array().size(), 1u);
}

TEST_F(HttpApiTest, IdempotentMint) {
  const std::string bob = Name("bob");
  Fund(bob, 0);
  const std::string body = json::serialize(
      json::object{{"username", bob}, {"amount", 25}, {"transaction_id", "mint-" + prefix_}});
  HttpResponse first = Must(client_->Post("/admin/mint", body, Admin()));
  ASSERT_EQ(first.status, 200) << first.body;
  HttpResponse again = Must(client_->Post("/admin/mint", body, Admin()));
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.Json().at("duplicate"), true);
  EXPECT_EQ(again.Json().at("seq"), first.Json().at("seq"));
  EXPECT_EQ(Balance(bob), 25);
}

TEST_F(HttpApiTest, PayloadTooLarge) {
  const std::string alice = Name("alice");
  Fund(alice, 10);
  // 64 KiB exactly is read (and is then just bad JSON)...
  std::string body(64 * 1024, ' ');
  body[0] = '[';
  HttpResponse response = Send(alice, body);
  ExpectError(response, 400, "invalid_json");
  // ...one byte more is refused, and the connection closed.
  body.push_back(' ');
  response = Send(alice, body);
  ExpectError(response, 413, "payload_too_large");
  EXPECT_EQ(response.Header("connection"), "close");
  EXPECT_FALSE(client_->connected());
  // The next request opens a new connection and works.
  EXPECT_EQ(Balance(alice), 10);
}

TEST_F(HttpApiTest, ConcurrentSendsNeverOverdraw) {
  const std::string alice = Name("alice");
  const std::string bob = Name("bob");
  constexpr int64_t kStart = 1000;
  constexpr int64_t kAmount = 7;
  constexpr int kSends = 200;
  constexpr int kThreads = 8;
  Fund(alice, kStart);
  Fund(bob, 0);
  std::atomic<int> successes{0};
  std::atomic<int> insufficient{0};
  std::atomic<int> other{0};
  std::vector<std::thread> threads;
  const std::string token = MakeToken(alice);
  const std::string body = json::serialize(json::object{{"to_user", bob}, {"amount", kAmount}});
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      HttpClient client(server_->port());
      for (int i = 0; i < kSends / kThreads; ++i) {
        auto response = client.Post("/sbd_tokens/send", body, token);
        if (!response.ok()) {
          ++other;
        } else if (response->status == 200) {
          ++successes;
        } else if (response->status == 400 && response->Json().at("code") == "insufficient_funds") {
          ++insufficient;
        } else {
          ++other;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(successes + insufficient, kSends);
  EXPECT_EQ(successes.load(), kStart / kAmount);  // 142: every affordable send succeeds.
  EXPECT_EQ(Balance(alice), kStart - kAmount * successes);
  EXPECT_EQ(Balance(bob), kAmount * successes);
}

TEST_F(HttpApiTest, TokensOnlyReachTheirOwnAccount) {
  const std::string alice = Name("alice");
  const std::string bob = Name("bob");
  const std::string carol = Name("carol");
  Fund(alice, 10);
  Fund(bob, 500);
  Fund(carol, 0);
  ASSERT_EQ(Send(bob, carol, 100, "secret-" + prefix_).status, 200);
  // Alice's token answers with Alice's data only, whatever the request says.
  HttpResponse balance = Must(client_->Get("/sbd_tokens?username=" + bob, MakeToken(alice)));
  EXPECT_EQ(balance.Json().at("username"), json::string(alice));
  EXPECT_EQ(balance.Json().at("sbd_tokens"), 10);
  json::value history =
      Must(client_->Get("/sbd_tokens/transactions?username=" + bob, MakeToken(alice))).Json();
  EXPECT_EQ(history.at("username"), json::string(alice));
  for (const json::value& entry : history.at("transactions").as_array()) {
    EXPECT_NE(entry.at("transaction_id"), json::string("secret-" + prefix_));
  }
  // She cannot annotate their transaction, nor send from Bob's account.
  ExpectError(Must(client_->Patch("/sbd_tokens/transaction/note",
                                  json::serialize(json::object{
                                      {"transaction_id", "secret-" + prefix_}, {"note", "x"}}),
                                  MakeToken(alice))),
              404, "transaction_not_found");
  HttpResponse sent = Send(
      alice, json::serialize(json::object{{"to_user", carol}, {"amount", 1}, {"from_user", bob}}));
  ASSERT_EQ(sent.status, 200);
  EXPECT_EQ(sent.Json().at("from_user"), json::string(alice));
  EXPECT_EQ(Balance(bob), 400);
}

TEST_F(HttpApiTest, KeepAliveAndPipelining) {
  const std::string alice = Name("alice");
  Fund(alice, 10);
  HttpClient client(server_->port());
  for (int i = 0; i < 5; ++i) {
    HttpResponse response = Must(client.Get("/sbd_tokens", MakeToken(alice)));
    EXPECT_EQ(response.status, 200);
  }
  EXPECT_EQ(client.connections_opened(), 1);

  // Three requests in one write, including a command between two reads:
  // answered in order on the same connection.
  const std::string token = MakeToken(alice);
  const std::string send_body = R"({"to_user":"nobody-at-all","amount":1})";
  const std::string pipelined = absl::StrCat(
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
      "POST /sbd_tokens/send HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ", token,
      "\r\nContent-Type: application/json\r\nContent-Length: ", send_body.size(), "\r\n\r\n",
      send_body, "GET /sbd_tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ", token, "\r\n\r\n",
      "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(client.SendRaw(pipelined).ok());
  HttpResponse first = Must(client.ReadResponse());
  HttpResponse second = Must(client.ReadResponse());
  HttpResponse third = Must(client.ReadResponse());
  HttpResponse fourth = Must(client.ReadResponse());
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.Json().at("status"), "ok");
  ExpectError(second, 404, "account_not_found");
  EXPECT_EQ(third.status, 200);
  EXPECT_EQ(third.Json().at("username"), json::string(alice));
  ExpectError(fourth, 404, "not_found");
  EXPECT_EQ(client.connections_opened(), 1);

  // Connection: close is honoured.
  HttpResponse closing = Must(client.Request("GET", "/healthz", "", "", {{"Connection", "close"}}));
  EXPECT_EQ(closing.status, 200);
  EXPECT_FALSE(client.connected());
}

TEST_F(HttpApiTest, ExpectContinueIsAnswered) {
  const std::string alice = Name("alice");
  const std::string bob = Name("bob");
  Fund(alice, 10);
  Fund(bob, 0);
  HttpClient client(server_->port());
  const std::string body = json::serialize(json::object{{"to_user", bob}, {"amount", 3}});
  ASSERT_TRUE(client
                  .SendRaw(absl::StrCat("POST /sbd_tokens/send HTTP/1.1\r\nHost: x\r\n"
                                        "Authorization: Bearer ",
                                        MakeToken(alice),
                                        "\r\nExpect: 100-continue\r\nContent-Length: ", body.size(),
                                        "\r\n\r\n"))
                  .ok());
  HttpResponse interim = Must(client.ReadResponse());
  EXPECT_EQ(interim.status, 100);
  ASSERT_TRUE(client.SendRaw(body).ok());
  HttpResponse response = Must(client.ReadResponse());
  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(Balance(bob), 3);
}

}  // namespace
}  // namespace sbd::testing
