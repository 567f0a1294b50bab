// End-to-end: the sbd-ledger process itself — flags, secret, --demo, the
// token command, restart and crash survival, limits (rate, header, body,
// connections, timeouts), the access log, the /ws handshake's HTTP answers and
// SIGTERM — against the real binary on a free loopback port.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/support/http_client.h"
#include "tests/support/must.h"
#include "tests/support/server_process.h"
#include "tests/support/tokens.h"
#include "tests/support/websocket_client.h"
#include "transport/token_authority.h"

namespace sbd::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

std::unique_ptr<ServerProcess> MustStart(ServerProcessOptions options = {}) {
  auto server = ServerProcess::Start(std::move(options));
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

ServerProcessOptions WithArgs(std::vector<std::string> args) {
  ServerProcessOptions options;
  options.args = std::move(args);
  return options;
}

ServerProcessOptions Verbose() {
  ServerProcessOptions options;
  options.quiet = false;  // Keep the access log.
  return options;
}

std::string Admin() { return MakeToken("root", /*admin=*/true); }

void Open(HttpClient& client, const std::string& name, int64_t amount,
          const std::string& admin = Admin()) {
  HttpResponse opened = Must(
      client.Post("/admin/accounts", json::serialize(json::object{{"username", name}}), admin));
  ASSERT_EQ(opened.status, 201) << opened.body;
  if (amount > 0) {
    HttpResponse minted = Must(
        client.Post("/admin/mint",
                    json::serialize(json::object{{"username", name}, {"amount", amount}}), admin));
    ASSERT_EQ(minted.status, 200) << minted.body;
  }
}

int64_t Balance(HttpClient& client, const std::string& name,
                const std::string& token_override = "") {
  HttpResponse response =
      Must(client.Get("/sbd_tokens", token_override.empty() ? MakeToken(name) : token_override));
  EXPECT_EQ(response.status, 200) << response.body;
  json::value body = response.Json();
  return body.is_object() ? body.at("sbd_tokens").to_number<int64_t>() : -1;
}

HttpResponse Send(HttpClient& client, const std::string& from, const std::string& to,
                  int64_t amount, const std::string& transaction_id = "") {
  json::object body{{"to_user", to}, {"amount", amount}};
  if (!transaction_id.empty()) body["transaction_id"] = transaction_id;
  return Must(client.Post("/sbd_tokens/send", json::serialize(body), MakeToken(from)));
}

TEST(HttpServerTest, ServesHealthAndExitsZeroOnSigterm) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  HttpResponse health = Must(client.Get("/healthz"));
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, R"({"status":"ok","seq":0})");
  auto code = server->Stop();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
  EXPECT_NE(server->Stderr().find("shutting down"), std::string::npos) << server->Stderr();
}

TEST(HttpServerTest, RefusesToStartWithoutASecret) {
  char dir[] = "/tmp/sbd-nosecret-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  auto result =
      RunLedgerTool({"serve", "--db", absl::StrCat(dir, "/ledger.db"), "--listen", "127.0.0.1:0"});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_NE(result->exit_code, 0);
  EXPECT_NE(result->err.find("SBD_JWT_SECRET"), std::string::npos) << result->err;
  EXPECT_EQ(result->out.find("listening on"), std::string::npos);
  // An empty secret is no secret.
  result =
      RunLedgerTool({"serve", "--db", absl::StrCat(dir, "/ledger.db"), "--listen", "127.0.0.1:0"},
                    {"SBD_JWT_SECRET="});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_NE(result->exit_code, 0);
  std::filesystem::remove_all(dir);
}

TEST(HttpServerTest, SecretFileSignsTheTokens) {
  char dir[] = "/tmp/sbd-secretfile-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string secret_path = absl::StrCat(dir, "/secret");
  const std::string secret = "file-secret-0123456789abcdef";
  std::ofstream(secret_path) << secret << "\n";
  ServerProcessOptions options;
  options.with_secret = false;
  options.args = {"--secret-file", secret_path};
  auto server = MustStart(options);
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  const std::string file_admin = MakeTokenWithSecret(secret, "root", true);
  Open(client, "alice", 5, file_admin);
  EXPECT_EQ(Balance(client, "alice", MakeTokenWithSecret(secret, "alice")), 5);
  // A token signed with another secret is refused.
  EXPECT_EQ(Must(client.Get("/sbd_tokens", MakeToken("alice"))).status, 401);
  // `token` reads the same file.
  auto token = RunLedgerTool({"token", "--user", "alice", "--secret-file", secret_path});
  ASSERT_TRUE(token.ok()) << token.status();
  ASSERT_EQ(token->exit_code, 0) << token->err;
  std::string jwt = token->out;
  while (!jwt.empty() && jwt.back() == '\n') jwt.pop_back();
  EXPECT_EQ(Balance(client, "alice", jwt), 5);
  std::filesystem::remove_all(dir);
}

TEST(HttpServerTest, DemoOpensFundedAccountsAndPrintsTokens) {
  ServerProcessOptions options;
  options.with_secret = false;  // --demo makes one up.
  options.args = {"--demo"};
  auto server = MustStart(options);
  ASSERT_NE(server, nullptr);
  const std::string out = server->Stdout();
  EXPECT_NE(out.find("demo secret"), std::string::npos) << out;
  HttpClient client(server->port());
  for (const std::string name : {"alice", "bob", "carol"}) {
    std::smatch match;
    ASSERT_TRUE(std::regex_search(out, match, std::regex(name + R"( +token: ([A-Za-z0-9_.-]+))")))
        << out;
    EXPECT_EQ(Balance(client, name, match[1]), 1000) << name;
    const std::string url =
        absl::StrCat("http://127.0.0.1:", server->port(), "/#token=", std::string(match[1]));
    EXPECT_NE(out.find(url), std::string::npos) << out;
  }
  const int64_t seq = Must(client.Get("/healthz")).Json().at("seq").as_int64();
  EXPECT_EQ(seq, 6);  // Three opens, three mints.

  // The secret is kept beside the log, for its owner only.
  const std::string secret_path = server->db_path() + ".demo-secret";
  std::smatch printed_secret;
  ASSERT_TRUE(
      std::regex_search(out, printed_secret,
                        std::regex(R"(demo secret \(SBD_JWT_SECRET\): ([0-9a-f]+) \(kept in )" +
                                   secret_path + R"(\))")))
      << out;
  std::ifstream secret_file(secret_path);
  std::string kept;
  std::getline(secret_file, kept);
  EXPECT_EQ(kept, printed_secret[1]);
  EXPECT_EQ(std::filesystem::status(secret_path).permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::smatch first_alice;
  ASSERT_TRUE(
      std::regex_search(out, first_alice, std::regex(R"(alice +token: ([A-Za-z0-9_.-]+))")));
  const std::string first_token = first_alice[1];

  // A restart with --demo on a used log funds nobody again, and reuses the
  // secret: the tokens and links the first run printed still work.
  ASSERT_TRUE(server->Restart().ok());
  HttpClient again(server->port());
  EXPECT_EQ(Must(again.Get("/healthz")).Json().at("seq").as_int64(), seq);
  EXPECT_EQ(Balance(again, "alice", first_token), 1000);
  std::smatch match;
  const std::string out2 = server->Stdout();
  EXPECT_NE(out2.find(printed_secret[1]), std::string::npos) << out2;
  ASSERT_TRUE(std::regex_search(out2, match, std::regex(R"(alice +token: ([A-Za-z0-9_.-]+))")));
  EXPECT_EQ(Balance(again, "alice", match[1]), 1000);
}

TEST(HttpServerTest, DemoRefusesASecretFileOpenToOthers) {
  ServerProcessOptions options;
  options.with_secret = false;
  options.args = {"--demo"};
  auto server = MustStart(options);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(server->Stop().ok());
  const std::string secret_path = server->db_path() + ".demo-secret";
  std::filesystem::permissions(secret_path, std::filesystem::perms::group_read,
                               std::filesystem::perm_options::add);
  EXPECT_FALSE(server->StartAgain().ok());
  EXPECT_NE(server->Stderr().find("open to other users"), std::string::npos) << server->Stderr();
}

TEST(HttpServerTest, DemoWithAConfiguredSecretKeepsNoFile) {
  ServerProcessOptions options;
  options.args = {"--demo"};  // SBD_JWT_SECRET is set.
  auto server = MustStart(options);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->Stdout().find("demo secret"), std::string::npos) << server->Stdout();
  EXPECT_FALSE(std::filesystem::exists(server->db_path() + ".demo-secret"));
  std::smatch alice;
  const std::string out = server->Stdout();
  ASSERT_TRUE(std::regex_search(out, alice, std::regex(R"(alice +token: ([A-Za-z0-9_.-]+))")));
  HttpClient client(server->port());
  EXPECT_EQ(Balance(client, "alice", alice[1]), 1000);
  EXPECT_EQ(Balance(client, "alice", MakeToken("alice")), 1000);  // Signed with the test secret.
}

TEST(HttpServerTest, TokenCommandPrintsAVerifiableToken) {
  auto result = RunLedgerTool({"token", "--user", "alice", "--admin", "--ttl", "60"},
                              {absl::StrCat("SBD_JWT_SECRET=", kTestSecret)});
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->exit_code, 0) << result->err;
  std::string token = result->out;
  while (!token.empty() && token.back() == '\n') token.pop_back();
  TokenAuthority authority(kTestSecret);
  auto identity = authority.Verify(token, NowSeconds());
  ASSERT_TRUE(identity.ok()) << identity.status();
  EXPECT_EQ(identity->subject, "alice");
  EXPECT_TRUE(identity->admin);
  EXPECT_NEAR(static_cast<double>(identity->expires_at_s), NowSeconds() + 60, 5);
  // Expired once the ttl has passed.
  EXPECT_FALSE(authority.Verify(token, NowSeconds() + 61).ok());

  result =
      RunLedgerTool({"token", "--user", "bob"}, {absl::StrCat("SBD_JWT_SECRET=", kTestSecret)});
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->exit_code, 0);
  token = result->out.substr(0, result->out.find('\n'));
  identity = authority.Verify(token, NowSeconds());
  ASSERT_TRUE(identity.ok()) << identity.status();
  EXPECT_FALSE(identity->admin);

  // No secret, or no user: a usage error.
  result = RunLedgerTool({"token", "--user", "alice"});
  ASSERT_TRUE(result.ok());
  EXPECT_NE(result->exit_code, 0);
  EXPECT_TRUE(result->out.empty());
  result = RunLedgerTool({"token"}, {absl::StrCat("SBD_JWT_SECRET=", kTestSecret)});
  ASSERT_TRUE(result.ok());
  EXPECT_NE(result->exit_code, 0);
}

TEST(HttpServerTest, HelpDescribesEveryFlag) {
  auto result = RunLedgerTool({"serve", "--help"});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 0);
  for (std::string_view flag :
       {"--db", "--listen", "--threads", "--durability", "--demo", "--secret-file", "--rate-limit",
        "--backlog-limit", "--body-limit", "--header-limit", "--connections-max", "--idle-timeout",
        "--read-timeout", "--ws-close-timeout", "--no-access-log"}) {
    EXPECT_NE(result->out.find(flag), std::string::npos) << flag;
  }
  result = RunLedgerTool({"serve", "--no-such-flag"});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->exit_code, 2);
  result = RunLedgerTool({"serve", "--durability", "sometimes"});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->exit_code, 2);
  result = RunLedgerTool({"frobnicate"});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->exit_code, 2);
}

TEST(HttpServerTest, RestartKeepsBalancesHistoryAndIdempotency) {
  auto server = MustStart(WithArgs({"--durability", "normal"}));
  ASSERT_NE(server, nullptr);
  std::string first_body;
  {
    HttpClient client(server->port());
    Open(client, "alice", 100);
    Open(client, "bob", 0);
    HttpResponse sent = Send(client, "alice", "bob", 30, "restart-1");
    ASSERT_EQ(sent.status, 200);
    first_body = sent.body;
    ASSERT_EQ(Send(client, "bob", "alice", 5).status, 200);
  }
  ASSERT_TRUE(server->Restart().ok());
  HttpClient client(server->port());
  EXPECT_EQ(Balance(client, "alice"), 75);
  EXPECT_EQ(Balance(client, "bob"), 25);
  json::value history = Must(client.Get("/sbd_tokens/transactions", MakeToken("alice"))).Json();
  ASSERT_EQ(history.at("transactions").as_array().size(), 3u);
  EXPECT_EQ(history.at("transactions").at(1).at("transaction_id"), "restart-1");
  // The idempotency key survived: a replay is a duplicate, not a new send.
  HttpResponse again = Send(client, "alice", "bob", 30, "restart-1");
  ASSERT_EQ(again.status, 200);
  json::value replay = again.Json();
  EXPECT_EQ(replay.at("duplicate"), true);
  replay.as_object().erase("duplicate");
  EXPECT_EQ(replay, json::parse(first_body));
  EXPECT_EQ(Send(client, "alice", "bob", 31, "restart-1").status, 409);
  EXPECT_EQ(Balance(client, "alice"), 75);
  // Opening an account twice is still refused.
  EXPECT_EQ(Must(client.Post("/admin/accounts", R"({"username":"bob"})", Admin())).status, 409);
}

TEST(HttpServerTest, AcknowledgedSendsSurviveSigkill) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  {
    HttpClient client(server->port());
    Open(client, "alice", 1000);
    Open(client, "bob", 0);
    for (int i = 0; i < 20; ++i) ASSERT_EQ(Send(client, "alice", "bob", 1).status, 200);
  }
  server->Kill();
  ASSERT_TRUE(server->StartAgain().ok());
  HttpClient client(server->port());
  EXPECT_EQ(Balance(client, "alice"), 980);
  EXPECT_EQ(Balance(client, "bob"), 20);
}

TEST(HttpServerTest, RateLimitPerUser) {
  auto server = MustStart(WithArgs({"--rate-limit", "1"}));
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  Open(client, "alice", 100);
  Open(client, "bob", 100);
  // Burst 2N = 2, then 429 with Retry-After.
  EXPECT_EQ(Send(client, "alice", "bob", 1).status, 200);
  EXPECT_EQ(Send(client, "alice", "bob", 1).status, 200);
  HttpResponse limited = Send(client, "alice", "bob", 1);
  EXPECT_EQ(limited.status, 429) << limited.body;
  EXPECT_EQ(limited.Json().at("code"), "rate_limited");
  EXPECT_EQ(limited.Json().at("status"), "error");
  EXPECT_GE(std::stoi(limited.Header("retry-after").empty() ? "0" : limited.Header("retry-after")),
            1);
  // Another user has a bucket of their own; reads are not limited.
  EXPECT_EQ(Send(client, "bob", "alice", 1).status, 200);
  EXPECT_EQ(Balance(client, "alice"), 99);
  // Refilled at N per second.
  std::this_thread::sleep_for(milliseconds(1100));
  EXPECT_EQ(Send(client, "alice", "bob", 1).status, 200);
}

TEST(HttpServerTest, OversizedHeaderIsRefused) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  ASSERT_TRUE(client
                  .SendRaw(absl::StrCat("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ",
                                        std::string(9000, 'a'), "\r\n\r\n"))
                  .ok());
  HttpResponse response = Must(client.ReadResponse());
  EXPECT_EQ(response.status, 431);
  EXPECT_EQ(response.Json().at("status"), "error");
  EXPECT_FALSE(client.connected());
  // Just under the limit is fine.
  HttpClient ok_client(server->port());
  EXPECT_EQ(Must(ok_client.Request("GET", "/healthz", "", "", {{"X-Big", std::string(7000, 'a')}}))
                .status,
            200);
}

// The session writes answers itself (one buffer, not Beast's serializer):
// the bytes must be what HTTP/1.x expects, version echoed, fields in order.
TEST(HttpServerTest, AnswerBytesOnTheWire) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  const std::string body =
      R"({"status":"error","code":"not_found","detail":"no such path: /nope"})";
  HttpClient http11(server->port());
  ASSERT_TRUE(http11.SendRaw("GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").ok());
  EXPECT_EQ(http11.ReadUntilClosed().value_or(""),
            absl::StrCat("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
                         "Connection: close\r\nContent-Length: ",
                         body.size(), "\r\n\r\n", body));
  HttpClient http10(server->port());
  ASSERT_TRUE(http10.SendRaw("GET /nope HTTP/1.0\r\n\r\n").ok());
  EXPECT_EQ(http10.ReadUntilClosed().value_or(""),
            absl::StrCat("HTTP/1.0 404 Not Found\r\nContent-Type: application/json\r\n"
                         "Content-Length: ",
                         body.size(), "\r\n\r\n", body));
}

TEST(HttpServerTest, OversizedChunkedBodyIsRefused) {
  auto server = MustStart(WithArgs({"--body-limit", "1024"}));
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  const std::string chunk(800, ' ');
  ASSERT_TRUE(client
                  .SendRaw(absl::StrCat(
                      "POST /sbd_tokens/send HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ",
                      MakeToken("alice"), "\r\nTransfer-Encoding: chunked\r\n\r\n", "320\r\n",
                      chunk, "\r\n", "320\r\n", chunk, "\r\n0\r\n\r\n"))
                  .ok());
  HttpResponse response = Must(client.ReadResponse());
  EXPECT_EQ(response.status, 413);
  EXPECT_EQ(response.Json().at("code"), "payload_too_large");
}

TEST(HttpServerTest, ConnectionsBeyondTheLimitAreClosed) {
  auto server = MustStart(WithArgs({"--connections-max", "2"}));
  ASSERT_NE(server, nullptr);
  // Retries on a fresh connection until one is served: the server counts a
  // closed connection until it has seen the close (bounded wait).
  auto serve = [](HttpClient& client) {
    for (int attempt = 0; attempt < 100; ++attempt) {
      auto response = client.Get("/healthz");
      if (response.ok() && response->status == 200) return true;
      client.Close();
      std::this_thread::sleep_for(milliseconds(20));
    }
    return false;
  };
  auto first = std::make_unique<HttpClient>(server->port(), milliseconds(1000));
  HttpClient second(server->port(), milliseconds(1000));
  ASSERT_TRUE(serve(*first));
  ASSERT_TRUE(serve(second));
  // Both stay open (keep-alive): a third is closed unanswered.
  for (int i = 0; i < 3; ++i) {
    HttpClient third(server->port(), milliseconds(3000));
    auto refused = third.Get("/healthz");
    EXPECT_FALSE(refused.ok() && refused->status == 200);
  }
  // Once one closes, a new connection is served.
  first.reset();
  HttpClient fourth(server->port(), milliseconds(1000));
  EXPECT_TRUE(serve(fourth));
  // The survivor was never disturbed.
  EXPECT_EQ(Must(second.Get("/healthz")).status, 200);
}

TEST(HttpServerTest, OpenWebSocketsCountAgainstTheConnectionLimit) {
  auto server = MustStart(WithArgs({"--connections-max", "2"}));
  ASSERT_NE(server, nullptr);
  {
    HttpClient admin(server->port());
    Open(admin, "alice", 0);
  }
  auto websocket = WebSocketClient::Connect(server->port(), "/ws?token=" + MakeToken("alice"));
  ASSERT_TRUE(websocket.ok()) << websocket.status();
  // One WebSocket open: one more connection fits (after the admin's close is
  // seen: bounded retries), a second does not.
  auto http = std::make_unique<HttpClient>(server->port(), milliseconds(1000));
  bool served = false;
  for (int attempt = 0; attempt < 100 && !served; ++attempt) {
    auto response = http->Get("/healthz");
    served = response.ok() && response->status == 200;
    if (!served) {
      http = std::make_unique<HttpClient>(server->port(), milliseconds(1000));
      std::this_thread::sleep_for(milliseconds(20));
    }
  }
  ASSERT_TRUE(served);
  HttpClient refused(server->port(), milliseconds(3000));
  auto answer = refused.Get("/healthz");
  EXPECT_FALSE(answer.ok() && answer->status == 200);
  // The WebSocket itself still works.
  EXPECT_TRUE((*websocket)->ReadJson(milliseconds(5000)).ok());
}

TEST(HttpServerTest, IdleKeepAliveConnectionIsClosed) {
  auto server = MustStart(WithArgs({"--idle-timeout", "1"}));
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port(), milliseconds(5000));
  EXPECT_EQ(Must(client.Get("/healthz")).status, 200);
  const auto start = steady_clock::now();
  auto rest = client.ReadUntilClosed();
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_TRUE(rest->empty());
  EXPECT_GE(steady_clock::now() - start, milliseconds(800));
}

// Each request moves the connection's deadline: the session's one timer,
// armed for an earlier deadline, must re-arm rather than close a connection
// that keeps sending in time.
TEST(HttpServerTest, KeepAliveConnectionSendingInTimeStaysOpen) {
  auto server = MustStart(WithArgs({"--idle-timeout", "1", "--read-timeout", "1"}));
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port(), milliseconds(5000));
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(Must(client.Get("/healthz")).status, 200) << "request " << i;
    std::this_thread::sleep_for(milliseconds(400));
  }
  EXPECT_EQ(client.connections_opened(), 1);
}

TEST(HttpServerTest, SlowRequestIsDropped) {
  auto server = MustStart(WithArgs({"--read-timeout", "1"}));
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port(), milliseconds(5000));
  // Headers that never end (slowloris).
  ASSERT_TRUE(client.SendRaw("GET /healthz HTTP/1.1\r\nHost: x\r\n").ok());
  const auto start = steady_clock::now();
  auto rest = client.ReadUntilClosed();
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_TRUE(rest->empty());
  EXPECT_LT(steady_clock::now() - start, milliseconds(4000));
}

TEST(HttpServerTest, AccessLogLinePerRequest) {
  auto server = MustStart(Verbose());
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  EXPECT_EQ(Must(client.Get("/healthz")).status, 200);
  EXPECT_EQ(Must(client.Get("/nope?token=secret-value")).status, 404);
  ASSERT_TRUE(server->Stop().ok());
  const std::string log = server->Stderr();
  EXPECT_TRUE(std::regex_search(log, std::regex(R"(GET /healthz 200 [0-9.]+ms)"))) << log;
  EXPECT_TRUE(std::regex_search(log, std::regex(R"(GET /nope 404 )"))) << log;
  // Query strings (tokens!) are not logged.
  EXPECT_EQ(log.find("secret-value"), std::string::npos) << log;

  auto quiet = MustStart();
  ASSERT_NE(quiet, nullptr);
  HttpClient quiet_client(quiet->port());
  EXPECT_EQ(Must(quiet_client.Get("/healthz")).status, 200);
  ASSERT_TRUE(quiet->Stop().ok());
  EXPECT_EQ(quiet->Stderr().find("GET /healthz"), std::string::npos);
}

TEST(HttpServerTest, WebSocketHandshakeErrorsAreHttpAnswers) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  Open(client, "alice", 10);
  auto upgrade = [&](const std::string& target) {
    HttpClient ws(server->port());
    EXPECT_TRUE(ws.SendRaw(absl::StrCat("GET ", target,
                                        " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                                        "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"))
                    .ok());
    return Must(ws.ReadResponse());
  };
  auto expect_error = [](const HttpResponse& response, int status, std::string_view code) {
    EXPECT_EQ(response.status, status) << response.body;
    json::value body = response.Json();
    EXPECT_TRUE(body.is_object()) << response.body;
    if (body.is_object()) {
      EXPECT_EQ(body.at("code"), json::string(code));
    }
  };
  expect_error(upgrade("/ws"), 401, "unauthorized");
  expect_error(upgrade("/ws?token="), 401, "unauthorized");
  expect_error(upgrade("/ws?token=garbage"), 401, "unauthorized");
  expect_error(upgrade("/ws?token=" + MakeToken("alice", false, -5)), 401, "unauthorized");
  expect_error(upgrade("/ws?token=" + MakeTokenWithSecret("other", "alice")), 401, "unauthorized");
  expect_error(upgrade("/ws?token=" + MakeToken("alice") + "&since=abc"), 400, "invalid_field");
  expect_error(upgrade("/ws?token=" + MakeToken("alice") + "&since=-1"), 400, "invalid_field");
  expect_error(upgrade("/ws?token=" + MakeToken("ghost")), 404, "account_not_found");
  // A plain GET (no upgrade) with a good token is not a WebSocket.
  expect_error(Must(client.Get("/ws?token=" + MakeToken("alice"))), 400, "invalid_field");
  HttpResponse wrong_method = Must(client.Post("/ws", "{}"));
  expect_error(wrong_method, 405, "method_not_allowed");
  // A good token (in any case) upgrades.
  EXPECT_EQ(upgrade("/ws?token=" + MakeToken("ALICE") + "&since=0").status, 101);
}

TEST(HttpServerTest, UnwritableLogIsUnavailableAndAppliesNothing) {
  // A file size limit makes the log's writes fail with EFBIG, as a full disk
  // would: the ledger answers 503 with Retry-After, applies nothing, and
  // keeps serving reads.
  ServerProcessOptions options;
  options.file_size_limit_bytes = 256 * 1024;
  options.args = {"--durability", "normal"};
  auto server = MustStart(options);
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  Open(client, "alice", 1000000);
  Open(client, "bob", 0);
  const std::string note(400, 'n');  // Big events fill the log sooner.
  int acknowledged = 0;
  HttpResponse refused;
  for (int i = 0; i < 5000 && refused.status == 0; ++i) {
    HttpResponse response = Must(client.Post(
        "/sbd_tokens/send",
        json::serialize(json::object{{"to_user", "bob"}, {"amount", 1}, {"note", note}}),
        MakeToken("alice")));
    if (response.status == 200) {
      ++acknowledged;
    } else {
      refused = response;
    }
  }
  ASSERT_EQ(refused.status, 503) << refused.body << "\n" << server->Stderr();
  json::value body = refused.Json();
  EXPECT_EQ(body.at("status"), "error");
  EXPECT_EQ(body.at("code"), "unavailable");
  EXPECT_GE(std::stoi(refused.Header("retry-after").empty() ? "0" : refused.Header("retry-after")),
            1);
  EXPECT_GT(acknowledged, 0);
  // Nothing of the refused send was applied; reads still work.
  EXPECT_EQ(Balance(client, "bob"), acknowledged);
  EXPECT_EQ(Balance(client, "alice"), 1000000 - acknowledged);
  EXPECT_EQ(Must(client.Get("/healthz")).status, 200);
}

TEST(HttpServerTest, SigtermFinishesInFlightCommands) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  {
    HttpClient client(server->port());
    Open(client, "alice", 100000);
    Open(client, "bob", 0);
  }
  constexpr int kThreads = 8;
  std::atomic<int> acknowledged{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  const std::string token = MakeToken("alice");
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      HttpClient client(server->port(), milliseconds(5000));
      // Bounded: at most 2000 sends per thread.
      for (int i = 0; i < 2000 && !stop; ++i) {
        auto response = client.Post("/sbd_tokens/send", R"({"to_user":"bob","amount":1})", token);
        if (!response.ok()) break;  // The server closed the connection.
        if (response->status == 200) {
          ++acknowledged;
        } else {
          EXPECT_EQ(response->status, 503) << response->body;
        }
      }
    });
  }
  std::this_thread::sleep_for(milliseconds(300));
  auto code = server->Stop();
  stop = true;
  for (std::thread& thread : threads) thread.join();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << server->Stderr();
  EXPECT_GT(acknowledged.load(), 0);
  // Everything acknowledged is in the log; nothing else is.
  ASSERT_TRUE(server->StartAgain().ok());
  HttpClient client(server->port());
  EXPECT_EQ(Balance(client, "bob"), acknowledged.load());
  EXPECT_EQ(Balance(client, "alice"), 100000 - acknowledged.load());
}

}  // namespace
}  // namespace sbd::testing
