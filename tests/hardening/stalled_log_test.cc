// A stalled log collector against the real sbd-ledger: the server's stderr is
// a pipe the test does not read while 64 keep-alive senders make 4,096
// transfers with the access log on. Every send is answered, /metrics counts
// the dropped lines, and once the test reads the pipe the server says how
// many it dropped; a SIGTERM while the pipe is still full ends the process
// in bounded time. (With the access log written synchronously from the io
// threads, every connection hung once the pipe's 64 KiB were full.)
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/support/http_client.h"
#include "tests/support/server_process.h"
#include "tests/support/tokens.h"

namespace sbd::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kSenders = 64;
constexpr int kSendsPerSender = 64;
constexpr int kTransfers = kSenders * kSendsPerSender;
// ~34 bytes a line: 4,096 sends are ~140 KB of log, more than the pipe
// (64 KiB) and the server's two buffers of this size hold.
constexpr char kLogLimitBytes[] = "16384";
// A send not answered in this long counts as stalled (and its sender stops,
// so a stalled server fails the test in about this long, not forever).
constexpr milliseconds kRequestTimeout{10000};

std::string Admin() { return MakeToken("root", /*admin=*/true); }
std::string Sender(int i) { return absl::StrCat("sender", i); }

std::unique_ptr<ServerProcess> StartWithStalledStderr() {
  ServerProcessOptions options;
  options.quiet = false;       // The access log stays on...
  options.stderr_pipe = true;  // ...into a pipe nobody reads.
  options.args = {"--access-log-limit", kLogLimitBytes};
  absl::StatusOr<std::unique_ptr<ServerProcess>> server = ServerProcess::Start(options);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

void OpenAccounts(uint16_t port) {
  HttpClient http(port, kRequestTimeout);
  auto open = [&](const std::string& user, int64_t amount) {
    absl::StatusOr<HttpResponse> opened =
        http.Post("/admin/accounts", json::serialize(json::object{{"username", user}}), Admin());
    ASSERT_TRUE(opened.ok() && opened->status == 201) << user;
    if (amount == 0) return;
    absl::StatusOr<HttpResponse> minted =
        http.Post("/admin/mint",
                  json::serialize(json::object{{"username", user}, {"amount", amount}}), Admin());
    ASSERT_TRUE(minted.ok() && minted->status == 200) << user;
  };
  open("sink", 0);
  for (int i = 0; i < kSenders; ++i) open(Sender(i), kSendsPerSender);
}

// 64 keep-alive connections, 64 sends each; the number answered 200.
int SendFromEverySender(uint16_t port) {
  std::atomic<int> answered{0};
  std::vector<std::thread> senders;
  for (int i = 0; i < kSenders; ++i) {
    senders.emplace_back([&answered, port, i] {
      HttpClient http(port, kRequestTimeout);
      const std::string token = MakeToken(Sender(i));
      const std::string body = json::serialize(json::object{{"to_user", "sink"}, {"amount", 1}});
      for (int n = 0; n < kSendsPerSender; ++n) {
        absl::StatusOr<HttpResponse> sent = http.Post("/sbd_tokens/send", body, token);
        if (!sent.ok() || sent->status != 200) return;  // Stalled: stop here.
        answered.fetch_add(1);
      }
    });
  }
  for (std::thread& sender : senders) sender.join();
  return answered.load();
}

// The value of `name` in the server's /metrics, or -1.
int64_t Metric(uint16_t port, const std::string& name) {
  HttpClient http(port, kRequestTimeout);
  absl::StatusOr<HttpResponse> metrics = http.Get("/metrics");
  if (!metrics.ok() || metrics->status != 200) {
    ADD_FAILURE() << "GET /metrics: "
                  << (metrics.ok() ? metrics->body : metrics.status().ToString());
    return -1;
  }
  std::smatch match;
  int64_t value = -1;
  if (!std::regex_search(metrics->body, match, std::regex("\n" + name + " ([0-9]+)\n")) ||
      !absl::SimpleAtoi(match[1].str(), &value)) {
    ADD_FAILURE() << "no " << name << " in\n" << metrics->body;
  }
  return value;
}

TEST(StalledLogTest, EverySendIsAnsweredAndTheDropsAreCountedAndReported) {
  auto server = StartWithStalledStderr();
  ASSERT_NE(server, nullptr);
  OpenAccounts(server->port());
  ASSERT_FALSE(::testing::Test::HasFatalFailure());

  // Stops the test at the first stall (after kRequestTimeout).
  ASSERT_EQ(SendFromEverySender(server->port()), kTransfers);
  EXPECT_EQ(Metric(server->port(), "sbd_transfers_total"), kTransfers);
  EXPECT_GT(Metric(server->port(), "sbd_access_log_dropped_total"), 0);

  // The collector reads again: the server writes what it kept, then says
  // how many lines it dropped.
  absl::StatusOr<std::string> log =
      server->ReadStderrPipeUntil(" lines dropped (stderr not draining)\n", seconds(20));
  ASSERT_TRUE(log.ok()) << log.status();
  std::smatch match;
  ASSERT_TRUE(std::regex_search(*log, match, std::regex(R"(\naccess log: ([0-9]+) lines dropped)")))
      << *log;
  EXPECT_GT(std::stoll(match[1].str()), 0);
  // What was kept is whole lines.
  EXPECT_TRUE(std::regex_search(*log, std::regex(R"(\nPOST /sbd_tokens/send 200 [0-9.]+ms\n)")));

  absl::StatusOr<int> code = server->Stop();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
  EXPECT_TRUE(server->ReadStderrPipeUntil("sbd-ledger: stopped\n", seconds(10)).ok())
      << server->Stderr();
}

TEST(StalledLogTest, SigtermWhileStderrIsFullEndsTheProcess) {
  auto server = StartWithStalledStderr();
  ASSERT_NE(server, nullptr);
  OpenAccounts(server->port());
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  ASSERT_EQ(SendFromEverySender(server->port()), kTransfers);
  // The pipe and the buffers are full.
  ASSERT_GT(Metric(server->port(), "sbd_access_log_dropped_total"), 0);

  // Nobody ever reads: the shutdown flushes for a bounded time, then exits.
  absl::StatusOr<int> code = server->Stop(seconds(15));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
}

}  // namespace
}  // namespace sbd::testing
