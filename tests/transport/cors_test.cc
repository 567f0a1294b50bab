// End-to-end: API.md "Browser clients (CORS)" against the real binary —
// preflights allowed, refused and with CORS off; CORS headers on answers of
// every kind to an allowed origin and on none to another; the WebSocket
// handshake's Origin check; WWW-Authenticate on 401; the flag's validation.
// (tests/browser runs the same rules in a real browser, cross-origin.)
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/support/accounts.h"
#include "tests/support/http_client.h"
#include "tests/support/must.h"
#include "tests/support/server_process.h"
#include "tests/support/tokens.h"

namespace sbd::testing {
namespace {

constexpr char kAllowed[] = "http://localhost:3000";
constexpr char kOther[] = "http://localhost:3001";

std::unique_ptr<ServerProcess> StartWithCors(std::vector<std::string> args) {
  ServerProcessOptions options;
  options.args = std::move(args);
  auto server = ServerProcess::Start(std::move(options));
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

HttpResponse Preflight(HttpClient& client, std::string_view path, std::string_view origin) {
  return Must(client.Request("OPTIONS", path, "", "",
                             {{"Origin", std::string(origin)},
                              {"Access-Control-Request-Method", "POST"},
                              {"Access-Control-Request-Headers", "authorization, content-type"}}));
}

HttpResponse GetFrom(HttpClient& client, std::string_view path, std::string_view origin,
                     std::string_view token = "") {
  return Must(client.Request("GET", path, "", token, {{"Origin", std::string(origin)}}));
}

// The status of a WebSocket upgrade of /ws?token=... with these headers.
int UpgradeStatus(uint16_t port, const std::string& token, const HttpClient::Headers& extra) {
  HttpClient client(port);
  HttpClient::Headers headers = {{"Upgrade", "websocket"},
                                 {"Connection", "Upgrade"},
                                 {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                                 {"Sec-WebSocket-Version", "13"}};
  headers.insert(headers.end(), extra.begin(), extra.end());
  return Must(client.Request("GET", absl::StrCat("/ws?token=", token), "", "", headers)).status;
}

void OpenAccount(HttpClient& client, const std::string& name, int64_t amount) {
  ASSERT_TRUE(OpenFundedAccount(client, name, amount).ok()) << name;
}

void ExpectCorsHeaders(const HttpResponse& response, std::string_view origin) {
  EXPECT_EQ(response.Header("Access-Control-Allow-Origin"), origin) << response.status;
  EXPECT_EQ(response.Header("Vary"), "Origin") << response.status;
  EXPECT_EQ(response.Header("Access-Control-Allow-Credentials"), "");
}

void ExpectNoCorsHeaders(const HttpResponse& response) {
  EXPECT_EQ(response.Header("Access-Control-Allow-Origin"), "") << response.status;
  EXPECT_EQ(response.Header("Access-Control-Allow-Methods"), "") << response.status;
}

TEST(CorsTest, PreflightFromAnAllowedOriginOnEveryPath) {
  auto server = StartWithCors({"--cors-origins", absl::StrCat(kAllowed, ",http://example.test")});
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  for (std::string_view path : {"/sbd_tokens", "/sbd_tokens/send", "/sbd_tokens/transactions",
                                "/sbd_tokens/transaction/note", "/admin/accounts", "/admin/mint",
                                "/admin/transfer", "/healthz", "/ws", "/no/such/path"}) {
    HttpResponse response = Preflight(client, path, kAllowed);
    EXPECT_EQ(response.status, 204) << path << " " << response.body;
    ExpectCorsHeaders(response, kAllowed);
    EXPECT_EQ(response.Header("Access-Control-Allow-Methods"), "GET, POST, PATCH, OPTIONS");
    EXPECT_EQ(response.Header("Access-Control-Allow-Headers"), "Authorization, Content-Type");
    EXPECT_EQ(response.Header("Access-Control-Max-Age"), "3600");
    EXPECT_EQ(response.Header("Content-Length"), "");  // 204: no body, no length.
    EXPECT_TRUE(response.body.empty());
  }
  // The second origin of the list too.
  ExpectCorsHeaders(Preflight(client, "/sbd_tokens", "http://example.test"), "http://example.test");
}

TEST(CorsTest, PreflightFromAnotherOriginIsForbidden) {
  auto server = StartWithCors({"--cors-origins", kAllowed});
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  for (std::string_view origin : {kOther, "http://localhost", "https://localhost:3000", "null"}) {
    HttpResponse response = Preflight(client, "/sbd_tokens/send", origin);
    EXPECT_EQ(response.status, 403) << origin;
    EXPECT_EQ(response.Json().at("code").as_string(), "forbidden");
    ExpectNoCorsHeaders(response);
  }
}

TEST(CorsTest, CorsOffRefusesEveryPreflightAndAddsNoHeaders) {
  auto server = StartWithCors({});
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  HttpResponse preflight = Preflight(client, "/sbd_tokens", kAllowed);
  EXPECT_EQ(preflight.status, 403);
  ExpectNoCorsHeaders(preflight);
  ExpectNoCorsHeaders(GetFrom(client, "/healthz", kAllowed));
  // A plain OPTIONS (no Origin, not a browser) says what the path allows.
  HttpResponse plain = Must(client.Request("OPTIONS", "/sbd_tokens/send"));
  EXPECT_EQ(plain.status, 204);
  EXPECT_EQ(plain.Header("Allow"), "POST, OPTIONS");
  EXPECT_EQ(Must(client.Request("OPTIONS", "/nope")).status, 404);
}

TEST(CorsTest, EveryAnswerToAnAllowedOriginCarriesTheHeaders) {
  auto server = StartWithCors({"--cors-origins", kAllowed});
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  OpenAccount(client, "alice", 100);
  OpenAccount(client, "bob", 0);
  const std::string alice = MakeToken("alice");

  HttpResponse ok = GetFrom(client, "/sbd_tokens", kAllowed, alice);
  EXPECT_EQ(ok.status, 200);
  ExpectCorsHeaders(ok, kAllowed);

  HttpResponse bad =
      Must(client.Request("POST", "/sbd_tokens/send", R"({"to_user":"bob","amount":1.5})", alice,
                          {{"Origin", kAllowed}}));
  EXPECT_EQ(bad.status, 400);
  ExpectCorsHeaders(bad, kAllowed);

  HttpResponse unauthorized = GetFrom(client, "/sbd_tokens", kAllowed);
  EXPECT_EQ(unauthorized.status, 401);
  ExpectCorsHeaders(unauthorized, kAllowed);

  HttpResponse missing = GetFrom(client, "/no/such/path", kAllowed);
  EXPECT_EQ(missing.status, 404);
  ExpectCorsHeaders(missing, kAllowed);

  HttpResponse too_large = Must(client.Request(
      "POST", "/sbd_tokens/send", std::string(70 * 1024, ' '), alice, {{"Origin", kAllowed}}));
  EXPECT_EQ(too_large.status, 413);
  ExpectCorsHeaders(too_large, kAllowed);

  // Another origin's answers are served (the browser withholds them from
  // the script) but carry no CORS headers.
  HttpClient other(server->port());
  HttpResponse foreign = GetFrom(other, "/sbd_tokens", kOther, alice);
  EXPECT_EQ(foreign.status, 200);
  ExpectNoCorsHeaders(foreign);
}

TEST(CorsTest, WildcardAllowsEveryOriginAndEchoesIt) {
  auto server = StartWithCors({"--cors-origins", "*"});
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  HttpResponse preflight = Preflight(client, "/sbd_tokens", "https://app.example.org");
  EXPECT_EQ(preflight.status, 204);
  ExpectCorsHeaders(preflight, "https://app.example.org");
  ExpectCorsHeaders(GetFrom(client, "/healthz", kOther), kOther);
  EXPECT_EQ(UpgradeStatus(server->port(), MakeToken("root", true), {{"Origin", kOther}}), 404);
}

TEST(CorsTest, WebSocketHandshakeChecksOrigin) {
  auto server = StartWithCors({"--cors-origins", kAllowed});
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  OpenAccount(client, "alice", 1);
  const std::string alice = MakeToken("alice");
  EXPECT_EQ(UpgradeStatus(server->port(), alice, {{"Origin", kOther}}), 403);
  EXPECT_EQ(UpgradeStatus(server->port(), alice, {{"Origin", kAllowed}}), 101);
  EXPECT_EQ(UpgradeStatus(server->port(), alice, {}), 101);  // Not a browser.
  // The server's own page (same origin) is never refused.
  const std::string own = absl::StrCat("http://127.0.0.1:", server->port());
  EXPECT_EQ(UpgradeStatus(server->port(), alice,
                          {{"Origin", own}, {"Host", absl::StrCat("127.0.0.1:", server->port())}}),
            101);
  // The hijack guard comes before the token check.
  EXPECT_EQ(UpgradeStatus(server->port(), "not-a-token", {{"Origin", kOther}}), 403);

  // With CORS off the handshake does not look at Origin.
  auto open = StartWithCors({});
  ASSERT_NE(open, nullptr);
  HttpClient open_client(open->port());
  OpenAccount(open_client, "alice", 1);
  EXPECT_EQ(UpgradeStatus(open->port(), alice, {{"Origin", kOther}}), 101);
}

TEST(CorsTest, UnauthorizedAnswersNameTheBearerScheme) {
  auto server = StartWithCors({});
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  HttpResponse missing = Must(client.Get("/sbd_tokens"));
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.Header("WWW-Authenticate"), "Bearer");
  HttpResponse forged = Must(client.Get("/sbd_tokens", "a.b.c"));
  EXPECT_EQ(forged.status, 401);
  EXPECT_EQ(forged.Header("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(Must(client.Get("/healthz")).Header("WWW-Authenticate"), "");
}

TEST(CorsTest, TheOriginListIsValidated) {
  for (std::string_view bad :
       {"localhost:3000", "http://a.test/", "http://a.test/path", "http://"}) {
    auto result =
        RunLedgerTool({"serve", "--listen", "127.0.0.1:0", "--cors-origins", std::string(bad)},
                      {absl::StrCat("SBD_JWT_SECRET=", kTestSecret)});
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->exit_code, 2) << bad;
    EXPECT_NE(result->err.find("--cors-origins"), std::string::npos) << result->err;
  }
  // SBD_CORS_ORIGINS is the default.
  ServerProcessOptions options;
  options.env = {absl::StrCat("SBD_CORS_ORIGINS=", kAllowed)};
  auto server = ServerProcess::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  HttpClient client((*server)->port());
  ExpectCorsHeaders(Preflight(client, "/sbd_tokens", kAllowed), kAllowed);
}

}  // namespace
}  // namespace sbd::testing
