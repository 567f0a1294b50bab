// Disk full: the real sbd-ledger with its log on a small tmpfs. Concurrent
// senders fill the file system; from then on sends get 503 `unavailable`
// with Retry-After and nothing of them is applied, while every read (balance,
// history, healthz, a WebSocket resume, sbd-replay) keeps working. Deleting a
// filler file frees space, and the same process accepts sends again: no
// restart. Needs CAP_SYS_ADMIN for the mount (root in CI); skips otherwise.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/hardening/hardening_util.h"
#include "tests/support/http_client.h"
#include "tests/support/server_process.h"
#include "tests/support/tokens.h"
#include "tests/support/websocket_client.h"

namespace sbd::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr int64_t kFileSystemBytes = 2 * 1024 * 1024;
constexpr int64_t kFillerBytes = 512 * 1024;
constexpr int64_t kFunds = 1'000'000'000;
constexpr int kSenders = 4;
// Sends each sender makes after its first 503 (all must be refused whole).
constexpr int kSendsWhileFull = 25;
constexpr auto kFillTimeout = seconds(60);

std::string Admin() { return MakeToken("root", /*admin=*/true); }

std::string SendBody(const std::string& transaction_id, const std::string& note = "") {
  json::object body{{"to_user", "bob"}, {"amount", 1}, {"transaction_id", transaction_id}};
  if (!note.empty()) body["note"] = note;
  return json::serialize(body);
}

int64_t BalanceOf(HttpClient& http, const std::string& user) {
  absl::StatusOr<HttpResponse> response = http.Get("/sbd_tokens", MakeToken(user));
  if (!response.ok() || response->status != 200) {
    ADD_FAILURE() << "balance of " << user << ": "
                  << (response.ok() ? response->body : response.status().ToString());
    return -1;
  }
  return response->Json().at("sbd_tokens").to_number<int64_t>();
}

int64_t HealthSeq(HttpClient& http) {
  absl::StatusOr<HttpResponse> response = http.Get("/healthz");
  if (!response.ok() || response->status != 200) {
    ADD_FAILURE() << "healthz: " << (response.ok() ? response->body : response.status().ToString());
    return -1;
  }
  return response->Json().at("seq").to_number<int64_t>();
}

TEST(DiskFullTest, FullLogAnswers503KeepsReadsAndRecoversWithoutRestart) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> started = ServerProcess::Start();
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<ServerProcess> server = *std::move(started);
  // Restart it on a small file system mounted over its directory (the
  // empty log it made first is hidden underneath).
  server->Kill();
  absl::StatusOr<std::unique_ptr<Mount>> mount = Mount::Tmpfs(server->dir(), kFileSystemBytes);
  if (!mount.ok()) {
    GTEST_SKIP() << mount.status().message()
                 << ". The fallback, SQLite's max_page_count, needs a server flag that does "
                    "not exist yet (--max-db-pages N).";
  }
  const std::string filler = server->dir() + "/filler";
  {
    std::ofstream out(filler, std::ios::binary);
    const std::string block(4096, 'f');
    for (int64_t written = 0; written < kFillerBytes; written += 4096) out << block;
    ASSERT_TRUE(out.good());
  }
  ASSERT_TRUE(server->StartAgain().ok()) << server->Stderr();
  const pid_t pid = server->pid();

  HttpClient http(server->port(), seconds(10));
  for (const char* user : {"alice", "bob"}) {
    absl::StatusOr<HttpResponse> opened =
        http.Post("/admin/accounts", json::serialize(json::object{{"username", user}}), Admin());
    ASSERT_TRUE(opened.ok() && opened->status == 201);
  }
  absl::StatusOr<HttpResponse> minted =
      http.Post("/admin/mint",
                json::serialize(json::object{{"username", "alice"}, {"amount", kFunds}}), Admin());
  ASSERT_TRUE(minted.ok() && minted->status == 200);
  const int64_t events_before = HealthSeq(http);  // open, open, mint.

  // Fill the file system: concurrent senders with long notes, each going on
  // for a while after its first 503.
  std::mutex mutex;
  std::map<std::string, int> status_by_id;
  std::vector<HttpResponse> refusals;
  std::atomic<int> acknowledged{0};
  std::vector<std::thread> senders;
  const std::string note(450, 'n');
  for (int index = 0; index < kSenders; ++index) {
    senders.emplace_back([&, index] {
      HttpClient client(server->port(), seconds(10));
      const std::string token = MakeToken("alice");
      const auto deadline = Clock::now() + kFillTimeout;
      int after_full = 0;
      for (int i = 0; after_full < kSendsWhileFull && Clock::now() < deadline; ++i) {
        const std::string id = absl::StrCat("fill-", index, "-", i);
        absl::StatusOr<HttpResponse> response =
            client.Post("/sbd_tokens/send", SendBody(id, note), token);
        const int status = response.ok() ? response->status : 0;
        std::lock_guard<std::mutex> lock(mutex);
        status_by_id[id] = status;
        if (status == 200) acknowledged++;
        if (status != 200) {
          ++after_full;
          if (response.ok()) refusals.push_back(*response);
        }
      }
    });
  }
  for (std::thread& thread : senders) thread.join();
  const int64_t acked = acknowledged;
  ASSERT_FALSE(refusals.empty()) << "the file system never filled up";
  ASSERT_GT(acked, 0);
  for (const auto& [id, status] : status_by_id) {
    ASSERT_TRUE(status == 200 || status == 503) << id << " got " << status;
  }
  for (const HttpResponse& refused : refusals) {
    ASSERT_TRUE(IsApiError(refused, 503, "unavailable"));
    const std::string retry_after = refused.Header("retry-after");
    ASSERT_FALSE(retry_after.empty()) << refused.body;
    EXPECT_GE(std::stoi(retry_after), 1);
  }

  // Still full: a send is refused whole, and every read works.
  absl::StatusOr<HttpResponse> still_full =
      http.Post("/sbd_tokens/send", SendBody("while-full", note), MakeToken("alice"));
  ASSERT_TRUE(still_full.ok()) << still_full.status();
  EXPECT_TRUE(IsApiError(*still_full, 503, "unavailable"));
  EXPECT_EQ(BalanceOf(http, "bob"), acked);
  EXPECT_EQ(BalanceOf(http, "alice"), kFunds - acked);
  const int64_t seq_while_full = HealthSeq(http);
  EXPECT_EQ(seq_while_full, events_before + acked);
  absl::StatusOr<HttpResponse> history =
      http.Get("/sbd_tokens/transactions?limit=100", MakeToken("bob"));
  ASSERT_TRUE(history.ok() && history->status == 200);
  const json::value history_body = history->Json();
  const json::array& entries = history_body.at("transactions").as_array();
  ASSERT_EQ(entries.size(), std::min<size_t>(100, acked));
  EXPECT_EQ(entries.at(0).at("seq").to_number<int64_t>(), seq_while_full);
  EXPECT_EQ(entries.at(0).at("new_balance").to_number<int64_t>(), acked);
  {
    // A WebSocket resume reads the log too.
    const int64_t since = std::max<int64_t>(seq_while_full - 3, 0);
    absl::StatusOr<std::unique_ptr<WebSocketClient>> ws = WebSocketClient::Connect(
        server->port(), absl::StrCat("/ws?token=", MakeToken("bob"), "&since=", since));
    ASSERT_TRUE(ws.ok()) << ws.status();
    absl::StatusOr<json::value> connected = (*ws)->ReadJson(seconds(10));
    ASSERT_TRUE(connected.ok()) << connected.status();
    EXPECT_EQ(connected->at("type"), "connected");
    EXPECT_EQ(connected->at("seq").to_number<int64_t>(), seq_while_full);
    for (int64_t seq = since + 1; seq <= seq_while_full; ++seq) {
      absl::StatusOr<json::value> message = (*ws)->ReadJson(seconds(10));
      ASSERT_TRUE(message.ok()) << message.status();
      EXPECT_EQ(message->at("seq").to_number<int64_t>(), seq);
    }
  }
  absl::StatusOr<ReplaySummary> replay = ReplayJson(server->db_path());
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->exit_code, 0) << replay->raw;
  EXPECT_EQ(replay->events_verified, seq_while_full);
  EXPECT_EQ(replay->balances["bob"], acked);

  // Free space: the same process takes sends again.
  ASSERT_TRUE(std::filesystem::remove(filler));
  const auto deadline = Clock::now() + seconds(20);
  int status = 0;
  while (Clock::now() < deadline) {
    absl::StatusOr<HttpResponse> response =
        http.Post("/sbd_tokens/send", SendBody("after-free"), MakeToken("alice"));
    ASSERT_TRUE(response.ok()) << response.status();
    status = response->status;
    if (status == 200) break;
    ASSERT_TRUE(IsApiError(*response, 503, "unavailable"));
    std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_EQ(status, 200) << "sends were still refused after space was freed";
  EXPECT_EQ(server->pid(), pid);
  EXPECT_EQ(kill(pid, 0), 0) << "the server is not running";
  // A send refused while full was never applied: its id is new.
  std::string refused_id;
  for (const auto& [id, code] : status_by_id) {
    if (code == 503) refused_id = id;
  }
  ASSERT_FALSE(refused_id.empty());
  absl::StatusOr<HttpResponse> retried =
      http.Post("/sbd_tokens/send", SendBody(refused_id), MakeToken("alice"));
  ASSERT_TRUE(retried.ok() && retried->status == 200) << retried->body;
  EXPECT_EQ(retried->Json().as_object().if_contains("duplicate"), nullptr) << retried->body;
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<HttpResponse> response =
        http.Post("/sbd_tokens/send", SendBody(absl::StrCat("later-", i)), MakeToken("alice"));
    ASSERT_TRUE(response.ok() && response->status == 200)
        << (response.ok() ? response->body : response.status().ToString());
  }
  const int64_t total = acked + 2 + 20;
  EXPECT_EQ(BalanceOf(http, "bob"), total);
  EXPECT_EQ(HealthSeq(http), events_before + total);
  replay = ReplayJson(server->db_path());
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->exit_code, 0) << replay->raw;
  EXPECT_EQ(replay->balances["bob"], total);
  EXPECT_EQ(replay->balances["alice"], kFunds - total);
  std::printf("disk full: %lld sends acknowledged before and while full, %zu refused with 503\n",
              static_cast<long long>(acked), refusals.size());
  server->Kill();  // Before the mount goes.
}

}  // namespace
}  // namespace sbd::testing
