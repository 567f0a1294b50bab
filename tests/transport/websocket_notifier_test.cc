// Notifier unit tests: the registry and the fan-out, with recording sinks in
// place of WebSocket sessions and hand-built events in place of the ledger.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/event.h"
#include "tests/support/event_builders.h"
#include "transport/messages.h"
#include "transport/metrics.h"
#include "transport/notifier.h"

namespace sbd {
namespace {

using ::sbd::testing::Opened;

class RecordingSink : public NotificationSink {
 public:
  void Deliver(std::vector<Notification> notifications) override {
    batches.push_back(std::move(notifications));
  }
  void GoAway() override { go_away_calls++; }
  void RecheckToken() override { recheck_calls++; }

  // Every delivered notification, flattened.
  std::vector<Notification> All() const {
    std::vector<Notification> all;
    for (const auto& batch : batches) all.insert(all.end(), batch.begin(), batch.end());
    return all;
  }

  std::vector<std::vector<Notification>> batches;
  int go_away_calls = 0;
  int recheck_calls = 0;
};

// The shared builders, stamped with a time (the messages carry it).
Event Transfer(int64_t seq, std::string from, std::string to, int64_t amount, int64_t from_balance,
               int64_t to_balance, std::string note = "") {
  Event event =
      ::sbd::testing::Transferred(seq, std::move(from), std::move(to), amount, from_balance,
                                  to_balance, "tx-" + std::to_string(seq), std::move(note));
  event.timestamp_ms = 1795705445000 + seq;
  return event;
}

Event Mint(int64_t seq, std::string holder, int64_t amount, int64_t balance) {
  Event event = ::sbd::testing::Minted(seq, std::move(holder), amount, balance,
                                       "mint-" + std::to_string(seq), "welcome");
  event.timestamp_ms = 1795705445000 + seq;
  return event;
}

class NotifierTest : public ::testing::Test {
 protected:
  std::shared_ptr<RecordingSink> Add(const std::string& user) {
    auto sink = std::make_shared<RecordingSink>();
    EXPECT_TRUE(notifier_.Register(user, sink));
    return sink;
  }

  Metrics metrics_;
  Notifier notifier_{metrics_};
};

TEST_F(NotifierTest, TransferGoesToBothPartiesWithTheirOwnMessage) {
  auto alice = Add("alice");
  auto bob = Add("bob");
  auto carol = Add("carol");
  const Event transfer = Transfer(7, "alice", "bob", 50, 950, 1050, "lunch");
  notifier_.OnEvents({transfer});

  ASSERT_EQ(alice->All().size(), 1u);
  ASSERT_EQ(bob->All().size(), 1u);
  EXPECT_TRUE(carol->All().empty());
  EXPECT_EQ(alice->All()[0].seq, 7);
  EXPECT_EQ(*alice->All()[0].text, *EncodeNotification(transfer, "alice"));
  EXPECT_EQ(*bob->All()[0].text, *EncodeNotification(transfer, "bob"));
  EXPECT_NE(*alice->All()[0].text, *bob->All()[0].text);
}

TEST_F(NotifierTest, MintCreditsTheHolderOnlyAndOpeningsNotifyNobody) {
  auto bob = Add("bob");
  auto admin = Add("admin");
  const Event mint = Mint(2, "bob", 100, 100);
  notifier_.OnEvents({Opened(1, "bob"), mint});

  ASSERT_EQ(bob->All().size(), 1u);
  EXPECT_EQ(bob->All()[0].seq, 2);
  EXPECT_EQ(*bob->All()[0].text, *EncodeNotification(mint, "bob"));
  EXPECT_TRUE(admin->All().empty());
}

TEST_F(NotifierTest, EveryMessageIsEncodedOnceAndSharedByAllSessionsOfTheUser) {
  auto first = Add("bob");
  auto second = Add("bob");
  notifier_.OnEvents({Transfer(3, "alice", "bob", 5, 95, 5)});

  ASSERT_EQ(first->All().size(), 1u);
  ASSERT_EQ(second->All().size(), 1u);
  // The same buffer, not an equal copy.
  EXPECT_EQ(first->All()[0].text.get(), second->All()[0].text.get());
}

TEST_F(NotifierTest, OneDeliverPerSessionPerBatchInSeqOrder) {
  auto alice = Add("alice");
  std::vector<Event> batch;
  for (int64_t seq = 10; seq < 20; ++seq) {
    batch.push_back(Transfer(seq, seq % 2 ? "alice" : "bob", seq % 2 ? "bob" : "alice", 1, 0, 0));
  }
  batch.push_back(Transfer(20, "carol", "bob", 1, 0, 0));  // Not alice's.
  notifier_.OnEvents(batch);

  ASSERT_EQ(alice->batches.size(), 1u);
  ASSERT_EQ(alice->batches[0].size(), 10u);
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(alice->batches[0][i].seq, 10 + int64_t(i));
}

TEST_F(NotifierTest, UnregisterStopsDeliveryToThatSessionOnly) {
  auto first = Add("bob");
  auto second = Add("bob");
  EXPECT_EQ(notifier_.SessionCount(), 2u);
  notifier_.Unregister("bob", first.get());
  notifier_.Unregister("bob", first.get());  // Twice: a no-op.
  notifier_.Unregister("nobody", second.get());
  EXPECT_EQ(notifier_.SessionCount(), 1u);

  notifier_.OnEvents({Transfer(1, "alice", "bob", 5, 95, 5)});
  EXPECT_TRUE(first->All().empty());
  EXPECT_EQ(second->All().size(), 1u);

  notifier_.Unregister("bob", second.get());
  EXPECT_EQ(notifier_.SessionCount(), 0u);
  notifier_.OnEvents({Transfer(2, "alice", "bob", 5, 90, 10)});
  EXPECT_EQ(second->All().size(), 1u);
}

TEST_F(NotifierTest, CloseAllTellsEverySessionAndRefusesNewOnes) {
  auto alice = Add("alice");
  auto bob = Add("bob");
  auto bob2 = Add("bob");
  notifier_.CloseAll();
  EXPECT_EQ(alice->go_away_calls, 1);
  EXPECT_EQ(bob->go_away_calls, 1);
  EXPECT_EQ(bob2->go_away_calls, 1);

  auto late = std::make_shared<RecordingSink>();
  EXPECT_FALSE(notifier_.Register("carol", late));
  EXPECT_EQ(notifier_.SessionCount(), 3u);
}

TEST_F(NotifierTest, RecheckTokensAsksEveryRegisteredSession) {
  auto alice = Add("alice");
  auto bob = Add("bob");
  auto bob2 = Add("bob");
  notifier_.Unregister("bob", bob2.get());
  notifier_.RecheckTokens();
  EXPECT_EQ(alice->recheck_calls, 1);
  EXPECT_EQ(bob->recheck_calls, 1);
  EXPECT_EQ(bob2->recheck_calls, 0);
  EXPECT_EQ(alice->go_away_calls, 0);
}

TEST_F(NotifierTest, OpenConnectionsAreCountedInMetrics) {
  auto alice = Add("alice");
  auto bob = Add("bob");
  notifier_.Unregister("alice", alice.get());
  const std::string rendered = "\n" + metrics_.RenderPrometheus();
  EXPECT_NE(rendered.find("\nsbd_websocket_connections 1\n"), std::string::npos) << rendered;
  EXPECT_NE(rendered.find("\nsbd_websocket_connections_total 2\n"), std::string::npos) << rendered;
}

}  // namespace
}  // namespace sbd
