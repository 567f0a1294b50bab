// The node query protocol end to end (store/cluster/node_query_client.h and
// node_query_responder.h) on a real nats-server (tests/support/nats_cluster.h):
// a gateway's NodeQueryClient on one connection asks NodeQueryResponders on
// others, which answer from a Ledger over a real SQLite log. The answers
// are the Ledger's own (values and errors); and every way a node fails to
// answer (none subscribed, one that hangs, too many pending, the client
// stopping, a reply that is not the protocol's) ends each query's `done`
// exactly once with a clear status, in bounded time.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <atomic>
#include <cassert>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "engine/error_code.h"
#include "engine/ledger.h"
#include "engine/mutex.h"
#include "store/cluster/jetstream.h"
#include "store/cluster/node_query_client.h"
#include "store/cluster/node_query_protocol.h"
#include "store/cluster/node_query_responder.h"
#include "store/sqlite_event_log.h"
#include "tests/support/nats_cluster.h"
#include "tests/support/temp_dir.h"

namespace sbd::testing {
namespace {

using Clock = std::chrono::steady_clock;

class NatsLibraryEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { nats_CloseAndWait(5000); }
};
[[maybe_unused]] const ::testing::Environment* const kNatsLibrary =
    ::testing::AddGlobalTestEnvironment(new NatsLibraryEnvironment);

// The bound on every wait for an answer that should come: far above what a
// query takes (milliseconds), far below the test's timeout.
constexpr std::chrono::seconds kAnswerWait{20};

// A copy of `status` that shares nothing with it. absl::Status copies share
// one reference-counted representation, and Debian's abseil is not built
// with TSan, which then cannot see that count order a free on one thread
// after a read on another (engine/mutex.h says the same of absl::Mutex).
// The tests hand statuses between threads through copies of their own.
absl::Status Unshared(const absl::Status& status) {
  absl::Status copy(status.code(), status.message());
  status.ForEachPayload([&copy](absl::string_view url, const absl::Cord& payload) {
    copy.SetPayload(url, absl::Cord(std::string(payload)));
  });
  return copy;
}

template <typename T>
absl::StatusOr<T> Unshared(const absl::StatusOr<T>& result) {
  if (result.ok()) return *result;
  return Unshared(result.status());
}

// What a query's `done` got, and how many times it was called. Shared with
// the callback, so a late call after a failed assertion touches nothing
// freed.
template <typename T>
class Outcome {
 public:
  // The `done` to pass; it records the call and whether it ran on the
  // caller's thread before the query call returned (see Inline()).
  absl::AnyInvocable<void(absl::StatusOr<T>)> Done(std::shared_ptr<Outcome> self) {
    return [self = std::move(self)](absl::StatusOr<T> result) {
      MutexLock lock(self->mutex_);
      ++self->calls_;
      self->inline_ = self->calling_thread_ == std::this_thread::get_id();
      self->at_ = Clock::now();
      self->result_.emplace(Unshared(result));
      self->signal_.SignalAll();
    };
  }

  // Marks the calling thread as the one issuing the query, so that Inline()
  // can tell a done run before the call returned.
  void Issuing() {
    MutexLock lock(mutex_);
    calling_thread_ = std::this_thread::get_id();
  }
  void Issued() {
    MutexLock lock(mutex_);
    calling_thread_ = std::thread::id();
  }

  // Waits (bounded) for the first call; false if none came.
  bool Wait(std::chrono::steady_clock::duration within = kAnswerWait) {
    const Clock::time_point deadline = Clock::now() + within;
    MutexLock lock(mutex_);
    while (calls_ == 0) {
      if (!signal_.WaitUntil(mutex_, deadline) && calls_ == 0) return false;
    }
    return true;
  }

  int calls() const {
    MutexLock lock(mutex_);
    return calls_;
  }
  bool Inline() const {
    MutexLock lock(mutex_);
    return inline_;
  }
  Clock::time_point at() const {
    MutexLock lock(mutex_);
    return at_;
  }
  // The result of the first call (Wait first).
  absl::StatusOr<T> result() const {
    MutexLock lock(mutex_);
    assert(result_.has_value());
    return Unshared(*result_);
  }

 private:
  mutable Mutex mutex_;
  CondVar signal_;
  int calls_ ABSL_GUARDED_BY(mutex_) = 0;
  bool inline_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread::id calling_thread_ ABSL_GUARDED_BY(mutex_);
  Clock::time_point at_ ABSL_GUARDED_BY(mutex_);
  std::optional<absl::StatusOr<T>> result_ ABSL_GUARDED_BY(mutex_);
};

using SnapshotOutcome = Outcome<FeedSnapshot>;
using PageOutcome = Outcome<EventsPage>;

std::vector<int64_t> Seqs(const std::vector<Event>& events) {
  std::vector<int64_t> seqs;
  for (const Event& event : events) seqs.push_back(event.seq);
  return seqs;
}

// A stand-in for a node, on a raw subscription in the nodes' queue group:
// `handle` gets each query message (and must not destroy it); the
// connection is the stand-in's own, for its replies.
class FakeNode {
 public:
  using Handle = std::function<void(natsConnection*, natsMsg*)>;

  FakeNode(JetStream& jetstream, const ClusterLayout& layout, Handle handle)
      : jetstream_(jetstream), handle_(std::move(handle)) {
    natsStatus status = natsConnection_QueueSubscribe(
        &subscription_, jetstream_.connection(), layout.query_subject.c_str(),
        layout.query_queue.c_str(), &FakeNode::OnMessage, this);
    EXPECT_EQ(status, NATS_OK) << natsStatus_GetText(status);
    status = natsSubscription_SetOnCompleteCB(subscription_, &FakeNode::OnComplete, this);
    EXPECT_EQ(status, NATS_OK) << natsStatus_GetText(status);
    status = natsConnection_FlushTimeout(jetstream_.connection(), 5000);
    EXPECT_EQ(status, NATS_OK) << natsStatus_GetText(status);
  }

  ~FakeNode() {
    jetstream_.Unsubscribe(subscription_);
    {
      MutexLock lock(mutex_);
      while (!completed_) completed_signal_.Wait(mutex_);
    }
    natsSubscription_Destroy(subscription_);
  }

  int received() const {
    MutexLock lock(mutex_);
    return received_;
  }
  // Waits (bounded) until `count` queries have arrived; false if they did
  // not.
  bool AwaitReceived(int count) {
    const Clock::time_point deadline = Clock::now() + kAnswerWait;
    MutexLock lock(mutex_);
    while (received_ < count) {
      if (!received_signal_.WaitUntil(mutex_, deadline) && received_ < count) return false;
    }
    return true;
  }

 private:
  static void OnMessage(natsConnection* connection, natsSubscription*, natsMsg* message,
                        void* closure) {
    auto* self = static_cast<FakeNode*>(closure);
    self->handle_(connection, message);
    natsMsg_Destroy(message);
    MutexLock lock(self->mutex_);
    ++self->received_;
    self->received_signal_.SignalAll();
  }
  static void OnComplete(void* closure) {
    auto* self = static_cast<FakeNode*>(closure);
    MutexLock lock(self->mutex_);
    self->completed_ = true;
    self->completed_signal_.SignalAll();
  }

  JetStream& jetstream_;
  Handle handle_;
  natsSubscription* subscription_ = nullptr;
  mutable Mutex mutex_;
  int received_ ABSL_GUARDED_BY(mutex_) = 0;
  CondVar received_signal_;
  CondVar completed_signal_;
  bool completed_ ABSL_GUARDED_BY(mutex_) = false;
};

// Replies `body` to the query `message`.
void Reply(natsConnection* connection, natsMsg* message, const std::string& body) {
  const char* reply = natsMsg_GetReply(message);
  ASSERT_NE(reply, nullptr);
  const natsStatus status =
      natsConnection_Publish(connection, reply, body.data(), static_cast<int>(body.size()));
  EXPECT_EQ(status, NATS_OK) << natsStatus_GetText(status);
}

class NodeQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Three servers: nats-server will not run JetStream clustered alone.
    // Every connection is to the first, so that a subscription flushed on
    // one is known at once to a query on another (interest across routes
    // is the servers' business, not the protocol's).
    absl::StatusOr<std::unique_ptr<NatsCluster>> started = NatsCluster::Start(dir_.path(), 3);
    ASSERT_TRUE(started.ok()) << started.status();
    nats_ = *std::move(started);
    node_a_ = Connect("node-a");
    node_b_ = Connect("node-b");
    gateway_ = Connect("gateway");
    ASSERT_NE(node_a_, nullptr);
    ASSERT_NE(node_b_, nullptr);
    ASSERT_NE(gateway_, nullptr);

    absl::StatusOr<std::unique_ptr<SqliteEventLog>> log =
        SqliteEventLog::Open(absl::StrCat(dir_.path(), "/node.db"), SqliteEventLog::Options{});
    ASSERT_TRUE(log.ok()) << log.status();
    absl::StatusOr<std::unique_ptr<Ledger>> ledger =
        Ledger::Open(*std::move(log), Ledger::Options{});
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    ledger_ = *std::move(ledger);
    Seed();
  }

  void TearDown() override {
    // A real node's order: the query ends, then the ledger, then the
    // connections.
    client_.reset();
    responder_a_.reset();
    responder_b_.reset();
    ledger_.reset();
  }

  std::unique_ptr<JetStream> Connect(const std::string& name) {
    absl::StatusOr<std::unique_ptr<JetStream>> connected =
        JetStream::Connect({nats_->ClientUrl(0)}, name);
    EXPECT_TRUE(connected.ok()) << connected.status();
    if (!connected.ok()) return nullptr;
    // Connected before the first query: a query while the connection is
    // still coming up is refused at once, by design.
    const Clock::time_point deadline = Clock::now() + kAnswerWait;
    while (!(*connected)->connected() && Clock::now() < deadline) {
      natsConnection_FlushTimeout((*connected)->connection(), 100);
    }
    EXPECT_TRUE((*connected)->connected()) << name;
    return *std::move(connected);
  }

  // alice, bob, carol and dave; alice minted 100000 and a long history of
  // transfers to bob (some with notes that need escaping); bob sends some
  // on to carol. Submitted all at once, so they commit in a few batches.
  void Seed() {
    for (const char* name : {"alice", "bob", "carol", "dave"}) {
      ASSERT_TRUE(ledger_->Submit(OpenAccountCommand{"admin", name}).get().ok()) << name;
    }
    ASSERT_TRUE(ledger_
                    ->Submit(MintCommand{"admin", "alice", AmountField::Integer(100000),
                                         "seed \"quoted\" ✓", "mint-1"})
                    .get()
                    .ok());
    std::vector<std::future<absl::StatusOr<CommandResult>>> answers;
    for (int i = 0; i < kTransfers; ++i) {
      TransferCommand transfer{.from_account = "alice",
                               .to_account = "bob",
                               .amount = AmountField::Integer(1 + i % 5),
                               .note = i % 3 == 0 ? absl::StrCat("note ", i, " \\ \"x\"") : "",
                               .transaction_id = absl::StrCat("t-", i)};
      answers.push_back(ledger_->Submit(std::move(transfer)));
      if (i % 4 == 0) {
        answers.push_back(
            ledger_->Submit(TransferCommand{.from_account = "bob",
                                            .to_account = "carol",
                                            .amount = AmountField::Integer(1),
                                            .note = "",
                                            .transaction_id = absl::StrCat("c-", i)}));
      }
    }
    for (auto& answer : answers) {
      absl::StatusOr<CommandResult> result = answer.get();
      ASSERT_TRUE(result.ok()) << result.status();
    }
  }

  void StartResponders(NodeQueryResponder::Options options = {}, bool two = true) {
    responder_a_ = std::make_unique<NodeQueryResponder>(*node_a_, layout_, *ledger_, options);
    ASSERT_TRUE(responder_a_->Start().ok());
    if (!two) return;
    responder_b_ = std::make_unique<NodeQueryResponder>(*node_b_, layout_, *ledger_, options);
    ASSERT_TRUE(responder_b_->Start().ok());
  }

  void StartClient(NodeQueryClient::Options options = {}) {
    client_ = std::make_unique<NodeQueryClient>(*gateway_, layout_, options);
    ASSERT_TRUE(client_->Start().ok());
  }

  // One query, waited for.
  absl::StatusOr<FeedSnapshot> Snapshot(const std::string& account) {
    auto outcome = std::make_shared<SnapshotOutcome>();
    client_->Snapshot(account, outcome->Done(outcome));
    if (!outcome->Wait()) return absl::DeadlineExceededError("no answer to the snapshot query");
    EXPECT_EQ(outcome->calls(), 1);
    return outcome->result();
  }
  absl::StatusOr<EventsPage> EventsAfter(const std::string& account, int64_t after, int64_t until,
                                         size_t limit) {
    auto outcome = std::make_shared<PageOutcome>();
    client_->EventsAfter(account, after, until, limit, outcome->Done(outcome));
    if (!outcome->Wait()) return absl::DeadlineExceededError("no answer to the page query");
    EXPECT_EQ(outcome->calls(), 1);
    return outcome->result();
  }

  // Every one of the account's events after `after` through LastSeq, read
  // page by page from the client with `limit`; expects no page to stand
  // still and checks the whole is the Ledger's own, without a gap or a
  // duplicate.
  void ExpectPagesReachTheEnd(const std::string& account, int64_t after, size_t limit,
                              size_t* pages_out = nullptr) {
    const int64_t from = after;
    const int64_t until = ledger_->LastSeq();
    std::vector<Event> read;
    size_t pages = 0;
    while (after < until) {
      absl::StatusOr<EventsPage> page = EventsAfter(account, after, until, limit);
      ASSERT_TRUE(page.ok()) << page.status();
      ASSERT_GT(page->through, after) << "a page that does not move on";
      ASSERT_LE(page->through, until);
      ASSERT_LE(page->events.size(), limit);
      for (const Event& event : page->events) {
        ASSERT_GT(event.seq, after);
        ASSERT_LE(event.seq, page->through);
        if (!read.empty()) {
          ASSERT_GT(event.seq, read.back().seq);
        }
      }
      read.insert(read.end(), page->events.begin(), page->events.end());
      after = page->through;
      ASSERT_LT(++pages, 10000u);
    }
    absl::StatusOr<std::vector<Event>> whole = ledger_->EventsAfter(account, from, until, 1 << 20);
    ASSERT_TRUE(whole.ok()) << whole.status();
    ASSERT_FALSE(whole->empty());
    EXPECT_EQ(Seqs(read), Seqs(*whole));
    EXPECT_TRUE(read == *whole);
    if (pages_out != nullptr) *pages_out = pages;
  }

  static constexpr int kTransfers = 300;

  TempDir dir_{"sbd-node-query"};
  std::unique_ptr<NatsCluster> nats_;
  const ClusterLayout layout_{};
  std::unique_ptr<JetStream> node_a_;
  std::unique_ptr<JetStream> node_b_;
  std::unique_ptr<JetStream> gateway_;
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<NodeQueryResponder> responder_a_;
  std::unique_ptr<NodeQueryResponder> responder_b_;
  std::unique_ptr<NodeQueryClient> client_;
};

// --- Answers ---

TEST_F(NodeQueryTest, SnapshotIsTheLedgersOwn) {
  StartResponders();
  StartClient();
  for (const std::string account : {"alice", "bob", "carol", "dave", "ALICE"}) {
    absl::StatusOr<FeedSnapshot> snapshot = Snapshot(account);
    ASSERT_TRUE(snapshot.ok()) << account << ": " << snapshot.status();
    absl::StatusOr<Ledger::AccountSnapshot> expected = ledger_->Snapshot(account);
    ASSERT_TRUE(expected.ok()) << expected.status();
    EXPECT_EQ(snapshot->seq, expected->seq) << account;
    EXPECT_EQ(snapshot->balance, expected->balance) << account;
  }
  EXPECT_EQ(Snapshot("dave")->balance, 0);
  EXPECT_EQ(Snapshot("alice")->seq, ledger_->LastSeq());
  // Each query was answered by one node of the group, not both. (Counted
  // once Stop has seen the last handler return: a reply can arrive before
  // its handler has counted it.)
  responder_a_->Stop();
  responder_b_->Stop();
  EXPECT_EQ(responder_a_->answered() + responder_b_->answered(), 7u);
  EXPECT_EQ(responder_a_->dropped() + responder_b_->dropped(), 0u);
  EXPECT_EQ(client_->pending(), 0u);
}

TEST_F(NodeQueryTest, ErrorsAreTheLedgersOwn) {
  StartResponders();
  StartClient();
  absl::StatusOr<FeedSnapshot> snapshot = Snapshot("nobody");
  ASSERT_FALSE(snapshot.ok());
  EXPECT_EQ(ErrorCodeOf(snapshot.status()), ErrorCode::kAccountNotFound) << snapshot.status();
  EXPECT_EQ(snapshot.status(), ledger_->Snapshot("nobody").status());

  absl::StatusOr<EventsPage> page = EventsAfter("nobody", 0, 10, 10);
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(ErrorCodeOf(page.status()), ErrorCode::kAccountNotFound) << page.status();
  EXPECT_EQ(page.status(), ledger_->EventsAfter("nobody", 0, 10, 10).status());

  for (const std::string& account :
       std::vector<std::string>{"", "no spaces!", std::string(65, 'a')}) {
    snapshot = Snapshot(account);
    ASSERT_FALSE(snapshot.ok());
    EXPECT_EQ(ErrorCodeOf(snapshot.status()), ErrorCode::kInvalidUsername) << snapshot.status();
    EXPECT_EQ(snapshot.status(), ledger_->Snapshot(account).status());
  }
}

TEST_F(NodeQueryTest, EventsAfterIsTheLedgersOwn) {
  StartResponders();
  StartClient();
  const int64_t last = ledger_->LastSeq();
  struct Ask {
    std::string account;
    int64_t after;
    int64_t until;
    size_t limit;
  };
  const std::vector<Ask> asks = {
      {"alice", 0, last, 10},    {"alice", 0, last, 1},    {"alice", 50, 120, 1000},
      {"bob", 0, last, 1000},    {"carol", 0, last, 1000}, {"carol", 100, 200, 3},
      {"dave", 0, last, 10},      // No transfers: an empty page through the end.
      {"alice", last, last, 10},  // Nothing after the end.
      {"alice", 40, 20, 10},      // until below after: empty, through after.
      {"Bob", 7, last, 25},
  };
  for (const Ask& ask : asks) {
    SCOPED_TRACE(
        absl::StrCat(ask.account, " (", ask.after, ", ", ask.until, "] limit ", ask.limit));
    absl::StatusOr<EventsPage> page = EventsAfter(ask.account, ask.after, ask.until, ask.limit);
    ASSERT_TRUE(page.ok()) << page.status();
    absl::StatusOr<std::vector<Event>> expected =
        ledger_->EventsAfter(ask.account, ask.after, ask.until, ask.limit);
    ASSERT_TRUE(expected.ok()) << expected.status();
    EXPECT_EQ(Seqs(page->events), Seqs(*expected));
    EXPECT_TRUE(page->events == *expected);
    // EventsPage's guarantee: a full page ends at its last event, a short
    // one holds all of (after, until].
    const int64_t through =
        expected->size() == ask.limit ? expected->back().seq : std::max(ask.after, ask.until);
    EXPECT_EQ(page->through, through);
  }
}

TEST_F(NodeQueryTest, ANodeBehindTheQueryAnswersWhatItHasApplied) {
  // A gateway may know of seqs this node has not applied yet: the page
  // stops at the node's LastSeq (all of it up to there), or, behind
  // `after` itself, is empty through `after`: no progress, never a step
  // back, and never a claim past what the node has.
  StartResponders();
  StartClient();
  const int64_t last = ledger_->LastSeq();
  absl::StatusOr<EventsPage> page = EventsAfter("alice", 0, last + 1000, 100000);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->through, last);
  EXPECT_TRUE(page->events == *ledger_->EventsAfter("alice", 0, last, 100000));
  page = EventsAfter("alice", last + 5, last + 100, 10);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_TRUE(page->events.empty());
  EXPECT_EQ(page->through, last + 5);
}

TEST_F(NodeQueryTest, PagingThroughALongHistoryReachesTheEndWithoutGapOrDuplicate) {
  StartResponders();
  StartClient();
  size_t pages = 0;
  ExpectPagesReachTheEnd("alice", 0, 7, &pages);
  EXPECT_GT(pages, static_cast<size_t>(kTransfers / 7));
  ExpectPagesReachTheEnd("bob", 0, 13);
  ExpectPagesReachTheEnd("carol", 30, 2);
}

TEST_F(NodeQueryTest, ANodesOwnLimitsCutPagesWithoutGaps) {
  // Pages capped by the node at 5 events, and by bytes at a couple of rows:
  // the client asks for far more, and still gets every event once.
  StartResponders(NodeQueryResponder::Options{.page_events_max = 5, .reply_bytes_max = 1200});
  StartClient();
  absl::StatusOr<EventsPage> page = EventsAfter("alice", 0, ledger_->LastSeq(), 1000);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_GE(page->events.size(), 1u);
  EXPECT_LE(page->events.size(), 5u);
  EXPECT_EQ(page->through, page->events.back().seq);
  size_t pages = 0;
  ExpectPagesReachTheEnd("alice", 0, 1000, &pages);
  EXPECT_GT(pages, static_cast<size_t>(kTransfers / 5));
}

TEST_F(NodeQueryTest, ManyQueriesAtOnceFromManyThreadsEachGetTheirOwnAnswer) {
  StartResponders();
  StartClient();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::vector<std::shared_ptr<SnapshotOutcome>> snapshots;
  std::vector<std::shared_ptr<PageOutcome>> pages;
  std::vector<int64_t> afters;
  for (int i = 0; i < kThreads * kPerThread; ++i) {
    snapshots.push_back(std::make_shared<SnapshotOutcome>());
    pages.push_back(std::make_shared<PageOutcome>());
    afters.push_back(i);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t * kPerThread; i < (t + 1) * kPerThread; ++i) {
        client_->Snapshot(i % 2 == 0 ? "alice" : "bob", snapshots[i]->Done(snapshots[i]));
        client_->EventsAfter("alice", afters[i], afters[i] + 50, 3, pages[i]->Done(pages[i]));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int i = 0; i < kThreads * kPerThread; ++i) {
    ASSERT_TRUE(snapshots[i]->Wait()) << i;
    ASSERT_TRUE(pages[i]->Wait()) << i;
    EXPECT_EQ(snapshots[i]->calls(), 1);
    EXPECT_EQ(pages[i]->calls(), 1);
    absl::StatusOr<FeedSnapshot> snapshot = snapshots[i]->result();
    ASSERT_TRUE(snapshot.ok()) << snapshot.status();
    EXPECT_EQ(snapshot->balance, *ledger_->Balance(i % 2 == 0 ? "alice" : "bob")) << i;
    absl::StatusOr<EventsPage> page = pages[i]->result();
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_TRUE(page->events == *ledger_->EventsAfter("alice", afters[i], afters[i] + 50, 3)) << i;
  }
  EXPECT_EQ(client_->pending(), 0u);
  responder_a_->Stop();  // Every handler has returned, and counted.
  responder_b_->Stop();
  EXPECT_EQ(responder_a_->answered() + responder_b_->answered(),
            static_cast<uint64_t>(2 * kThreads * kPerThread));
}

TEST_F(NodeQueryTest, ANodeAnswersABadQueryWithAnError) {
  StartResponders({}, /*two=*/false);
  for (const std::string& body :
       {std::string("not json"), std::string("{\"query\":\"drop\",\"account\":\"a\"}"),
        std::string(kNodeQueryBytesMax + 1, ' ')}) {
    natsMsg* reply = nullptr;
    const natsStatus status =
        natsConnection_Request(&reply, gateway_->connection(), layout_.query_subject.c_str(),
                               body.data(), static_cast<int>(body.size()), 10000);
    ASSERT_EQ(status, NATS_OK) << natsStatus_GetText(status);
    const std::string answer(natsMsg_GetData(reply), natsMsg_GetDataLength(reply));
    natsMsg_Destroy(reply);
    absl::StatusOr<FeedSnapshot> decoded = DecodeSnapshotReply(answer);
    ASSERT_FALSE(decoded.ok()) << answer;
    // No API code for a query that is not one: the node could not answer.
    EXPECT_EQ(ErrorCodeOf(decoded.status()), ErrorCode::kUnavailable) << decoded.status();
    EXPECT_NE(decoded.status().message().find("INVALID_ARGUMENT"), absl::string_view::npos)
        << decoded.status();
  }
  // A message with no reply subject is dropped, and the node goes on.
  const std::string query = EncodeQuery(SnapshotQuery{.account = "alice"});
  ASSERT_EQ(natsConnection_Publish(gateway_->connection(), layout_.query_subject.c_str(),
                                   query.data(), static_cast<int>(query.size())),
            NATS_OK);
  StartClient();
  ASSERT_TRUE(Snapshot("alice").ok());
  responder_a_->Stop();                    // Every handler has returned, and counted.
  EXPECT_EQ(responder_a_->dropped(), 1u);  // Same connection: the publish came first.
  EXPECT_EQ(responder_a_->answered(), 4u);
}

// --- No answer ---

TEST_F(NodeQueryTest, NoNodeSubscribedIsUnavailableAtOnce) {
  StartClient(NodeQueryClient::Options{.timeout = absl::Seconds(30)});
  const Clock::time_point start = Clock::now();
  absl::StatusOr<FeedSnapshot> snapshot = Snapshot("alice");
  EXPECT_EQ(ErrorCodeOf(snapshot.status()), ErrorCode::kUnavailable) << snapshot.status();
  EXPECT_EQ(snapshot.status().code(), absl::StatusCode::kUnavailable);
  absl::StatusOr<EventsPage> page = EventsAfter("alice", 0, 10, 10);
  EXPECT_EQ(ErrorCodeOf(page.status()), ErrorCode::kUnavailable) << page.status();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5)) << "waited for a timeout";
  EXPECT_EQ(client_->pending(), 0u);

  // A node that joins is found; one that leaves is not waited for.
  StartResponders({}, /*two=*/false);
  ASSERT_TRUE(Snapshot("alice").ok());
  responder_a_->Stop();
  // The servers have the unsubscribe before the next query comes.
  ASSERT_EQ(natsConnection_FlushTimeout(node_a_->connection(), 5000), NATS_OK);
  const Clock::time_point again = Clock::now();
  snapshot = Snapshot("alice");
  EXPECT_EQ(ErrorCodeOf(snapshot.status()), ErrorCode::kUnavailable) << snapshot.status();
  EXPECT_LT(Clock::now() - again, std::chrono::seconds(5));
}

TEST_F(NodeQueryTest, ANodeThatNeverAnswersTimesOut) {
  FakeNode silent(*node_a_, layout_, [](natsConnection*, natsMsg*) {});
  constexpr auto kTimeout = std::chrono::milliseconds(300);
  StartClient(NodeQueryClient::Options{.timeout = absl::FromChrono(kTimeout)});
  auto snapshot = std::make_shared<SnapshotOutcome>();
  auto page = std::make_shared<PageOutcome>();
  const Clock::time_point start = Clock::now();
  client_->Snapshot("alice", snapshot->Done(snapshot));
  client_->EventsAfter("alice", 0, 10, 10, page->Done(page));
  EXPECT_EQ(client_->pending(), 2u);
  ASSERT_TRUE(snapshot->Wait(std::chrono::seconds(10)));
  ASSERT_TRUE(page->Wait(std::chrono::seconds(10)));
  EXPECT_TRUE(silent.AwaitReceived(2));
  for (const absl::Status& status : {snapshot->result().status(), page->result().status()}) {
    EXPECT_EQ(ErrorCodeOf(status), ErrorCode::kUnavailable) << status;
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  }
  EXPECT_GE(snapshot->at() - start, kTimeout);
  EXPECT_GE(page->at() - start, kTimeout);
  EXPECT_LT(snapshot->at() - start, kTimeout + std::chrono::seconds(3));
  EXPECT_EQ(client_->pending(), 0u);
  EXPECT_EQ(snapshot->calls(), 1);
  EXPECT_EQ(page->calls(), 1);
}

TEST_F(NodeQueryTest, AReplyAfterTheTimeoutIsDropped) {
  // The fake node keeps the first query's reply subject and answers it only
  // when told; the second query it answers at once.
  Mutex mutex;
  std::string held_reply;
  std::atomic<int> seen{0};
  FakeNode late(*node_a_, layout_, [&](natsConnection* connection, natsMsg* message) {
    if (seen.fetch_add(1) == 0) {
      MutexLock lock(mutex);
      held_reply = natsMsg_GetReply(message);
      return;
    }
    Reply(connection, message, EncodeSnapshotReply(FeedSnapshot{.seq = 2, .balance = 2}));
  });
  StartClient(NodeQueryClient::Options{.timeout = absl::Milliseconds(300)});
  auto first = std::make_shared<SnapshotOutcome>();
  client_->Snapshot("alice", first->Done(first));
  ASSERT_TRUE(first->Wait(std::chrono::seconds(10)));
  EXPECT_EQ(ErrorCodeOf(first->result().status()), ErrorCode::kUnavailable);
  // The late answer, then (on the same connection, so after it) the second
  // query's: once the second is in, the late one has been handled.
  std::string reply;
  {
    MutexLock lock(mutex);
    reply = held_reply;
  }
  ASSERT_FALSE(reply.empty());
  const std::string body = EncodeSnapshotReply(FeedSnapshot{.seq = 1, .balance = 1});
  ASSERT_EQ(natsConnection_Publish(node_a_->connection(), reply.c_str(), body.data(),
                                   static_cast<int>(body.size())),
            NATS_OK);
  absl::StatusOr<FeedSnapshot> second = Snapshot("alice");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->seq, 2);
  EXPECT_EQ(first->calls(), 1);
  EXPECT_FALSE(first->result().ok());
  EXPECT_EQ(client_->pending(), 0u);
}

TEST_F(NodeQueryTest, TooManyPendingIsRefusedAtOnce) {
  FakeNode silent(*node_a_, layout_, [](natsConnection*, natsMsg*) {});
  StartClient(NodeQueryClient::Options{.timeout = absl::Seconds(60), .pending_max = 3});
  std::vector<std::shared_ptr<SnapshotOutcome>> waiting;
  for (int i = 0; i < 3; ++i) {
    waiting.push_back(std::make_shared<SnapshotOutcome>());
    client_->Snapshot("alice", waiting.back()->Done(waiting.back()));
  }
  EXPECT_EQ(client_->pending(), 3u);
  auto refused = std::make_shared<SnapshotOutcome>();
  refused->Issuing();
  client_->Snapshot("alice", refused->Done(refused));
  refused->Issued();
  // Called before Snapshot returned, on this thread.
  ASSERT_EQ(refused->calls(), 1);
  EXPECT_TRUE(refused->Inline());
  EXPECT_EQ(ErrorCodeOf(refused->result().status()), ErrorCode::kUnavailable);
  auto refused_page = std::make_shared<PageOutcome>();
  client_->EventsAfter("alice", 0, 10, 10, refused_page->Done(refused_page));
  ASSERT_EQ(refused_page->calls(), 1);
  EXPECT_EQ(ErrorCodeOf(refused_page->result().status()), ErrorCode::kUnavailable);
  EXPECT_EQ(client_->pending(), 3u);
  for (const auto& outcome : waiting) EXPECT_EQ(outcome->calls(), 0);
  client_->Stop();
  for (const auto& outcome : waiting) {
    ASSERT_EQ(outcome->calls(), 1);
    EXPECT_EQ(ErrorCodeOf(outcome->result().status()), ErrorCode::kUnavailable);
  }
}

TEST_F(NodeQueryTest, StopFailsEveryPendingQueryOnce) {
  FakeNode silent(*node_a_, layout_, [](natsConnection*, natsMsg*) {});
  StartClient(NodeQueryClient::Options{.timeout = absl::Seconds(60)});
  std::vector<std::shared_ptr<SnapshotOutcome>> snapshots;
  std::vector<std::shared_ptr<PageOutcome>> pages;
  for (int i = 0; i < 20; ++i) {
    snapshots.push_back(std::make_shared<SnapshotOutcome>());
    client_->Snapshot("alice", snapshots.back()->Done(snapshots.back()));
    pages.push_back(std::make_shared<PageOutcome>());
    client_->EventsAfter("alice", i, 100, 5, pages.back()->Done(pages.back()));
  }
  EXPECT_EQ(client_->pending(), 40u);
  // Every query reached the node before Stop: Stop fails queries that were
  // sent, not only ones still in the client.
  EXPECT_TRUE(silent.AwaitReceived(40)) << silent.received();
  const Clock::time_point start = Clock::now();
  client_->Stop();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  // When Stop returns, every done has been called, once.
  for (const auto& outcome : snapshots) {
    ASSERT_EQ(outcome->calls(), 1);
    EXPECT_EQ(ErrorCodeOf(outcome->result().status()), ErrorCode::kUnavailable);
  }
  for (const auto& outcome : pages) {
    ASSERT_EQ(outcome->calls(), 1);
    EXPECT_EQ(ErrorCodeOf(outcome->result().status()), ErrorCode::kUnavailable);
  }
  EXPECT_EQ(client_->pending(), 0u);
  // Stopped: refused at once; and Stop again is nothing.
  auto after_stop = std::make_shared<SnapshotOutcome>();
  client_->Snapshot("alice", after_stop->Done(after_stop));
  ASSERT_EQ(after_stop->calls(), 1);
  EXPECT_EQ(ErrorCodeOf(after_stop->result().status()), ErrorCode::kUnavailable);
  client_->Stop();
  client_.reset();
  for (const auto& outcome : snapshots) EXPECT_EQ(outcome->calls(), 1);
  for (const auto& outcome : pages) EXPECT_EQ(outcome->calls(), 1);
}

TEST_F(NodeQueryTest, QueriesBeforeStartAreRefused) {
  StartResponders({}, /*two=*/false);
  client_ = std::make_unique<NodeQueryClient>(*gateway_, layout_, NodeQueryClient::Options{});
  auto snapshot = std::make_shared<SnapshotOutcome>();
  client_->Snapshot("alice", snapshot->Done(snapshot));
  ASSERT_EQ(snapshot->calls(), 1);
  EXPECT_EQ(ErrorCodeOf(snapshot->result().status()), ErrorCode::kUnavailable);
  // Stopping a client never started is fine too.
  client_->Stop();
  client_.reset();
  EXPECT_EQ(responder_a_->answered(), 0u);
}

// --- Replies that are not the protocol's ---

TEST_F(NodeQueryTest, AReplyThatIsNotTheProtocolsIsDataLoss) {
  FakeNode garbage(*node_a_, layout_, [](natsConnection* connection, natsMsg* message) {
    Reply(connection, message, "not json");
  });
  StartClient();
  absl::StatusOr<FeedSnapshot> snapshot = Snapshot("alice");
  EXPECT_EQ(snapshot.status().code(), absl::StatusCode::kDataLoss) << snapshot.status();
  absl::StatusOr<EventsPage> page = EventsAfter("alice", 0, 10, 10);
  EXPECT_EQ(page.status().code(), absl::StatusCode::kDataLoss) << page.status();
  EXPECT_EQ(client_->pending(), 0u);
}

TEST_F(NodeQueryTest, APageThatDoesNotAnswerTheQueryIsDataLoss) {
  // A node that answers every page query with the whole of alice's history
  // through the end, whatever was asked: too many events, some at or below
  // `after`.
  const int64_t last = ledger_->LastSeq();
  const std::vector<Event> all = *ledger_->EventsAfter("alice", 0, last, 1 << 20);
  const std::string body = EncodePageReply(all, last, 1 << 30);
  FakeNode liar(*node_a_, layout_, [&](natsConnection* connection, natsMsg* message) {
    Reply(connection, message, body);
  });
  StartClient();
  absl::StatusOr<EventsPage> page = EventsAfter("alice", 0, last, 10);
  EXPECT_EQ(page.status().code(), absl::StatusCode::kDataLoss) << page.status();
  page = EventsAfter("alice", 20, last, all.size());
  EXPECT_EQ(page.status().code(), absl::StatusCode::kDataLoss) << page.status();
  page = EventsAfter("alice", 0, last - 1, all.size());  // Through past until.
  EXPECT_EQ(page.status().code(), absl::StatusCode::kDataLoss) << page.status();
  // Asked what it answers, it is believed.
  page = EventsAfter("alice", 0, last, all.size());
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_TRUE(page->events == all);
  // And a page is no snapshot.
  absl::StatusOr<FeedSnapshot> snapshot = Snapshot("alice");
  EXPECT_EQ(snapshot.status().code(), absl::StatusCode::kDataLoss) << snapshot.status();
}

}  // namespace
}  // namespace sbd::testing
