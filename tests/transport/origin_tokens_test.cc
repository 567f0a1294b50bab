// End-to-end: the origin app's tokens (API.md "Coming from Second Brain
// Database", Origin tokens) against the real binary — access tokens with the
// origin's extra claims, refresh tokens refused, permanent tokens only with
// --permanent-tokens, and --revoked-tokens reloaded on SIGHUP and on change,
// closing a revoked token's open WebSocket with 1008.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/support/accounts.h"
#include "tests/support/http_client.h"
#include "tests/support/must.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tokens.h"
#include "tests/support/websocket_client.h"

namespace sbd::testing {
namespace {

using std::chrono::milliseconds;

constexpr char kHeader[] = R"({"alg":"HS256","typ":"JWT"})";
// API.md: "closed with 1008 within a second of the reload"; the wait is
// generous for a loaded machine, the checks below say what must happen.
constexpr milliseconds kRevocationWait{5000};

// An access token as the origin mints it: its own claims beside sub/exp/type.
std::string OriginAccessToken(const std::string& user, const std::string& type = "access") {
  return MakeRawToken(
      kHeader,
      absl::StrCat(R"({"sub":")", user, R"(","exp":)", NowSeconds() + 3600, R"(,"iat":)",
                   NowSeconds(), R"(,"type":")", type,
                   R"(","token_version":3,"user_id":"6650c1f2a9b8e3d4c5f6a7b8",)",
                   R"("primary_tenant_id":"tenant_default","tenant_memberships":[)",
                   R"({"tenant_id":"tenant_default","role":"owner","joined_at":"2024-05-01"},)",
                   R"({"tenant_id":"family_42","role":"member","permissions":["read","send"]}]})"),
      kTestSecret);
}

// A permanent token: no exp, a token_id.
std::string PermanentToken(const std::string& user, const std::string& token_id) {
  return MakeRawToken(
      kHeader,
      absl::StrCat(R"({"sub":")", user, R"(","token_type":"permanent","token_id":")", token_id,
                   R"(","iat":)", NowSeconds(), "}"),
      kTestSecret);
}

class OriginTokensTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> args) {
    ServerProcessOptions options;
    options.args = std::move(args);
    auto server = ServerProcess::Start(std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    HttpClient client(server_->port());
    ASSERT_TRUE(OpenFundedAccount(client, "alice", 7).ok());
  }

  int BalanceStatus(const std::string& token) {
    HttpClient client(server_->port());
    return Must(client.Get("/sbd_tokens", token)).status;
  }

  absl::StatusOr<int> Handshake(const std::string& token) {
    return WebSocketClient::HandshakeStatus(server_->port(), absl::StrCat("/ws?token=", token));
  }

  // A connected WebSocket for `token` (its `connected` message read).
  std::unique_ptr<WebSocketClient> Connect(const std::string& token) {
    auto client = WebSocketClient::Connect(server_->port(), absl::StrCat("/ws?token=", token));
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return nullptr;
    auto connected = (*client)->ReadJson(milliseconds(5000));
    EXPECT_TRUE(connected.ok()) << connected.status();
    return *std::move(client);
  }

  std::unique_ptr<ServerProcess> server_;
};

TEST_F(OriginTokensTest, AnOriginAccessTokenWorksOnHttpAndTheWebSocket) {
  Start({});
  const std::string token = OriginAccessToken("Alice");  // The origin's case: lowercased.
  HttpClient client(server_->port());
  HttpResponse balance = Must(client.Get("/sbd_tokens", token));
  ASSERT_EQ(balance.status, 200) << balance.body;
  EXPECT_EQ(balance.Json().at("sbd_tokens").as_int64(), 7);
  auto socket = Connect(token);
  ASSERT_NE(socket, nullptr);
}

TEST_F(OriginTokensTest, RefreshTokensAreRefused) {
  Start({"--permanent-tokens"});
  const std::string refresh = OriginAccessToken("alice", "refresh");
  EXPECT_EQ(BalanceStatus(refresh), 401);
  auto status = Handshake(refresh);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, 401);
}

TEST_F(OriginTokensTest, PermanentTokensOnlyWithTheFlag) {
  Start({});
  const std::string permanent = PermanentToken("alice", "tok-1");
  EXPECT_EQ(BalanceStatus(permanent), 401);
  auto status = Handshake(permanent);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(*status, 401);

  server_.reset();
  Start({"--permanent-tokens"});
  EXPECT_EQ(BalanceStatus(permanent), 200);
  status = Handshake(permanent);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(*status, 101);
  // Without a token_id it is not a permanent token, and without exp nothing.
  EXPECT_EQ(BalanceStatus(
                MakeRawToken(kHeader, R"({"sub":"alice","token_type":"permanent"})", kTestSecret)),
            401);
  // A permanent token that does carry an exp has it enforced.
  EXPECT_EQ(BalanceStatus(MakeRawToken(
                kHeader,
                absl::StrCat(R"({"sub":"alice","token_type":"permanent","token_id":"t","exp":)",
                             NowSeconds() - 10, "}"),
                kTestSecret)),
            401);
}

class RevocationTest : public OriginTokensTest {
 protected:
  void SetUp() override {
    path_ = dir_ + "/revoked.txt";
    WriteList("# nothing revoked yet\nsomeone-else\n");
  }
  void TearDown() override { server_.reset(); }
  void WriteList(const std::string& contents) {
    std::ofstream(path_ + ".new", std::ios::trunc) << contents;
    std::filesystem::rename(path_ + ".new", path_);
  }
  const TempDir temp_dir_{"sbd-revocation"};
  const std::string dir_ = temp_dir_.path();
  std::string path_;
};

TEST_F(RevocationTest, SighupReloadClosesTheRevokedTokensWebSocketWith1008) {
  Start({"--permanent-tokens", "--revoked-tokens", path_});
  const std::string revoked = PermanentToken("alice", "tok-revoked");
  const std::string kept = PermanentToken("alice", "tok-kept");
  auto doomed = Connect(revoked);
  auto survivor = Connect(kept);
  ASSERT_NE(doomed, nullptr);
  ASSERT_NE(survivor, nullptr);

  // The edit and the signal: the file is re-read at once on SIGHUP (its
  // change is also picked up by polling; the next test covers that alone).
  WriteList("someone-else\ntok-revoked   # lost laptop\n");
  ASSERT_EQ(kill(server_->pid(), SIGHUP), 0);
  const auto start = std::chrono::steady_clock::now();
  auto code = doomed->WaitForClose(kRevocationWait);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 1008);
  EXPECT_LT(std::chrono::steady_clock::now() - start, kRevocationWait);
  EXPECT_EQ(BalanceStatus(revoked), 401);
  auto status = Handshake(revoked);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(*status, 401);

  // The other token's socket is untouched, and the server is still up.
  EXPECT_TRUE(survivor->open());
  EXPECT_EQ(BalanceStatus(kept), 200);
  ASSERT_TRUE(survivor->SendText(R"({"type":"ping"})").ok());
  auto pong = survivor->ReadJson(milliseconds(5000));
  ASSERT_TRUE(pong.ok()) << pong.status();
  EXPECT_EQ(pong->at("type").as_string(), "pong");
  EXPECT_TRUE(server_->running());
  // The line goes out through the access log, which gathers lines for up to
  // kAccessLogGatherInterval (20 ms) before writing them: wait for it.
  const auto log_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (server_->Stderr().find("--revoked-tokens reloaded") == std::string::npos &&
         std::chrono::steady_clock::now() < log_deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_NE(server_->Stderr().find("--revoked-tokens reloaded"), std::string::npos);
}

TEST_F(RevocationTest, AChangedFileIsReloadedWithoutASignal) {
  Start({"--permanent-tokens", "--revoked-tokens", path_});
  const std::string token = PermanentToken("alice", "tok-2");
  auto socket = Connect(token);
  ASSERT_NE(socket, nullptr);
  WriteList("tok-2\n");
  auto code = socket->WaitForClose(kRevocationWait);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 1008);
  EXPECT_EQ(BalanceStatus(token), 401);

  // A broken file keeps the last good list: tok-2 stays revoked.
  std::filesystem::remove(path_);
  std::this_thread::sleep_for(milliseconds(600));  // A few polls; nothing to wait for.
  EXPECT_EQ(BalanceStatus(token), 401);
  EXPECT_TRUE(server_->running());
  // Lifting it is an explicit edit.
  WriteList("# empty\n");
  bool lifted = false;
  for (int i = 0; i < 50 && !lifted; ++i) {
    lifted = BalanceStatus(token) == 200;
    if (!lifted) std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_TRUE(lifted);
}

TEST_F(RevocationTest, AnUnreadableListAtStartIsAUsageError) {
  auto result = RunLedgerTool({"serve", "--listen", "127.0.0.1:0", "--db", dir_ + "/ledger.db",
                               "--revoked-tokens", dir_ + "/missing.txt"},
                              {absl::StrCat("SBD_JWT_SECRET=", kTestSecret)});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 2);
  EXPECT_NE(result->err.find("--revoked-tokens"), std::string::npos) << result->err;
}

}  // namespace
}  // namespace sbd::testing
