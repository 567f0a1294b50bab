// --open-accounts-on-first-use in process: Routes on a real Ledger (on an
// in-memory log) whose writer thread a test can hold, so that two first
// requests of one user are both in flight before either open commits, every
// time. The end-to-end behaviour against the real binary is in
// first_use_e2e_test.cc.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "engine/ledger.h"
#include "engine/ledger_account_feed.h"
#include "tests/engine/writer_hold.h"
#include "tests/support/memory_event_log.h"
#include "transport/metrics.h"
#include "transport/notifier.h"
#include "transport/routes.h"
#include "transport/server_context.h"
#include "transport/token_authority.h"

namespace sbd::testing {
namespace {

namespace http = boost::beast::http;
using std::chrono::seconds;

constexpr int64_t kNowS = 1795705445;
constexpr char kSecret[] = "first-use-secret";

class FirstUseRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Ledger>> ledger =
        Ledger::Open(std::make_unique<MemoryEventLog>(store_), Ledger::Options{});
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    ledger_ = std::move(*ledger);
    feed_.emplace(*ledger_);
    context_.emplace(ServerContext{.feed = *feed_,
                                   .notifier = notifier_,
                                   .metrics = metrics_,
                                   .tokens = tokens_,
                                   .log = nullptr,
                                   .options = {},
                                   .now_s = [] { return kNowS; }});
    context_->options.open_accounts_on_first_use = true;
    routes_ = std::make_unique<Routes>(*ledger_, *context_);
    io_thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    work_.reset();
    io_thread_.join();
    ledger_->Stop();
  }

  std::string Token(const std::string& user, Role role = Role::kUser) {
    return *tokens_.Issue(user, role, 3600, kNowS);
  }

  HttpRequest Get(const std::string& target, const std::string& user) {
    HttpRequest request{http::verb::get, target, 11};
    request.set(http::field::authorization, "Bearer " + Token(user));
    return request;
  }

  static HttpRequest Upgrade(const std::string& token) {
    HttpRequest request{http::verb::get, "/ws?token=" + token, 11};
    request.set(http::field::connection, "Upgrade");
    request.set(http::field::upgrade, "websocket");
    request.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
    request.set(http::field::sec_websocket_version, "13");
    return request;
  }

  // Holds the writer thread (in the answer of a command of its own) until
  // Release(): commands submitted meanwhile wait in the queue, uncommitted.
  void HoldWriter() {
    ledger_->Submit(OpenAccountCommand{"admin", "holder"}, hold_.Callback());
    ASSERT_TRUE(hold_.AwaitHeld().ok());
  }

  // The account-opened events of `account` in the log.
  int OpensOf(const std::string& account) {
    MutexLock lock(store_->mutex);
    int opens = 0;
    for (const Event& event : store_->events) {
      if (event.type == EventType::kAccountOpened && event.to_account == account) ++opens;
    }
    return opens;
  }

  std::shared_ptr<MemoryEventLog::Store> store_ = std::make_shared<MemoryEventLog::Store>();
  std::unique_ptr<Ledger> ledger_;
  Metrics metrics_;
  Notifier notifier_{metrics_};
  TokenAuthority tokens_{kSecret};
  std::optional<LedgerAccountFeed> feed_;
  std::optional<ServerContext> context_;
  std::unique_ptr<Routes> routes_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{
      io_.get_executor()};
  SessionStrand strand_{boost::asio::make_strand(io_)};
  std::thread io_thread_;
  WriterHold hold_;
};

TEST_F(FirstUseRoutesTest, TwoFirstRequestsInFlightTogetherBothSucceedAndOpenOnce) {
  HoldWriter();
  const HttpRequest balance = Get("/sbd_tokens", "Newbie");
  const HttpRequest history = Get("/sbd_tokens/transactions", "newbie");
  std::promise<HttpResponse> first;
  std::promise<HttpResponse> second;
  // Handle must return while the open waits for the (held) writer: an io
  // thread never blocks on a commit. Bounded, so a blocking Handle fails
  // the test instead of hanging it.
  std::future<void> handled = std::async(std::launch::async, [&] {
    routes_->Handle(balance, strand_, [&](HttpResponse response) { first.set_value(response); });
    routes_->Handle(history, strand_, [&](HttpResponse response) { second.set_value(response); });
  });
  const bool returned = handled.wait_for(seconds(10)) == std::future_status::ready;
  EXPECT_TRUE(returned) << "Handle waited for the commit";
  std::future<HttpResponse> first_answer = first.get_future();
  std::future<HttpResponse> second_answer = second.get_future();
  EXPECT_EQ(first_answer.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout)
      << "answered before the account was opened";
  EXPECT_EQ(OpensOf("newbie"), 0);
  hold_.Release();
  handled.wait();

  ASSERT_EQ(first_answer.wait_for(seconds(10)), std::future_status::ready);
  ASSERT_EQ(second_answer.wait_for(seconds(10)), std::future_status::ready);
  const HttpResponse one = first_answer.get();
  const HttpResponse two = second_answer.get();
  EXPECT_EQ(one.result_int(), 200u) << one.body();
  EXPECT_EQ(one.body(), R"({"username":"newbie","sbd_tokens":0})");
  EXPECT_EQ(two.result_int(), 200u) << two.body();
  EXPECT_EQ(two.body(), R"({"username":"newbie","transactions":[]})");
  // Both opens were decided in one batch: the second found the first's
  // account (account_exists) and was not appended.
  EXPECT_EQ(OpensOf("newbie"), 1);
  MutexLock lock(store_->mutex);
  const Event& opened = store_->events.back();
  EXPECT_EQ(opened.type, EventType::kAccountOpened);
  EXPECT_EQ(opened.to_account, "newbie");
  EXPECT_EQ(opened.actor, "newbie");  // Opened by its own first use.
  EXPECT_EQ(opened.to_balance, 0);
}

TEST_F(FirstUseRoutesTest, TwoFirstHandshakesInFlightTogetherAreBothGranted) {
  HoldWriter();
  const HttpRequest one = Upgrade(Token("wsuser"));
  const HttpRequest two = Upgrade(Token("WSUSER"));
  using Grant = std::variant<WebSocketGrant, HttpResponse>;
  std::promise<Grant> first;
  std::promise<Grant> second;
  std::future<void> authorized = std::async(std::launch::async, [&] {
    routes_->AuthorizeWebSocket(one, strand_, [&](Grant grant) { first.set_value(grant); });
    routes_->AuthorizeWebSocket(two, strand_, [&](Grant grant) { second.set_value(grant); });
  });
  EXPECT_EQ(authorized.wait_for(seconds(10)), std::future_status::ready)
      << "AuthorizeWebSocket waited for the commit";
  hold_.Release();
  authorized.wait();
  for (std::promise<Grant>* promise : {&first, &second}) {
    std::future<Grant> future = promise->get_future();
    ASSERT_EQ(future.wait_for(seconds(10)), std::future_status::ready);
    Grant grant = future.get();
    ASSERT_TRUE(std::holds_alternative<WebSocketGrant>(grant))
        << std::get<HttpResponse>(grant).body();
    EXPECT_EQ(std::get<WebSocketGrant>(grant).username, "wsuser");
  }
  EXPECT_EQ(OpensOf("wsuser"), 1);
}

TEST_F(FirstUseRoutesTest, AFailedOpenAnswersItsErrorAndServesNothing) {
  // A stopped ledger refuses the open at once: the request gets that
  // answer (503), not a 404 or a balance.
  ledger_->Stop();
  std::promise<HttpResponse> answer;
  routes_->Handle(Get("/sbd_tokens", "late"), strand_,
                  [&](HttpResponse response) { answer.set_value(response); });
  std::future<HttpResponse> future = answer.get_future();
  ASSERT_EQ(future.wait_for(seconds(10)), std::future_status::ready);
  const HttpResponse response = future.get();
  EXPECT_EQ(response.result_int(), 503u) << response.body();
  EXPECT_EQ(boost::json::parse(response.body()).at("code"), "unavailable");
  EXPECT_EQ(OpensOf("late"), 0);
}

}  // namespace
}  // namespace sbd::testing
