#include "engine/ledger.h"

#include <atomic>
#include <random>
#include <thread>

#include "engine/error_code.h"
#include "engine/mutex.h"
#include "engine/projector.h"
#include "gtest/gtest.h"
#include "tests/engine/writer_hold.h"
#include "tests/support/memory_event_log.h"

namespace sbd {
namespace {

using ::sbd::testing::MemoryEventLog;
using ::sbd::testing::WriterHold;

constexpr int64_t kNowMs = 1795705445123;

TransferCommand Transfer(std::string from, std::string to, int64_t amount) {
  return TransferCommand{std::move(from), std::move(to), AmountField::Integer(amount), "", ""};
}

// Records every published event, in order.
class RecordingSubscriber : public Subscriber {
 public:
  void OnEvents(absl::Span<const Event> events) override {
    MutexLock lock(mutex_);
    events_.insert(events_.end(), events.begin(), events.end());
  }
  std::vector<Event> events() {
    MutexLock lock(mutex_);
    return events_;
  }

 private:
  Mutex mutex_;
  std::vector<Event> events_ ABSL_GUARDED_BY(mutex_);
};

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen(Ledger::Options options = {}) {
    ledger_.reset();
    auto log = std::make_unique<MemoryEventLog>(store_);
    log_ = log.get();
    if (!options.clock_ms) options.clock_ms = [] { return kNowMs; };
    absl::StatusOr<std::unique_ptr<Ledger>> ledger = Ledger::Open(std::move(log), options);
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    ledger_ = std::move(*ledger);
    ledger_->AddSubscriber(&subscriber_);
  }

  absl::StatusOr<CommandResult> Run(Command command) {
    return ledger_->Submit(std::move(command)).get();
  }

  void OpenAndMint(const std::string& account, int64_t amount) {
    ASSERT_TRUE(Run(OpenAccountCommand{"admin", account}).ok());
    if (amount > 0) {
      ASSERT_TRUE(Run(MintCommand{"admin", account, AmountField::Integer(amount), "", ""}).ok());
    }
  }

  absl::StatusOr<CommandResult> Send(std::string from, std::string to, int64_t amount,
                                     std::string transaction_id = "", std::string note = "") {
    return Run(TransferCommand{std::move(from), std::move(to), AmountField::Integer(amount),
                               std::move(note), std::move(transaction_id)});
  }

  static std::optional<ErrorCode> CodeOf(const absl::StatusOr<CommandResult>& result) {
    return ErrorCodeOf(result.status());
  }

  std::shared_ptr<MemoryEventLog::Store> store_ = std::make_shared<MemoryEventLog::Store>();
  MemoryEventLog* log_ = nullptr;
  RecordingSubscriber subscriber_;
  std::unique_ptr<Ledger> ledger_;
};

TEST_F(LedgerTest, TransferRecordsBalancesAndPublishes) {
  OpenAndMint("alice", 100);
  OpenAndMint("bob", 0);
  absl::StatusOr<CommandResult> result = Send("Alice", "BOB", 30, "", "lunch");
  ASSERT_TRUE(result.ok()) << result.status();
  const Event& event = result->event;
  EXPECT_FALSE(result->duplicate);
  EXPECT_EQ(event.seq, 4);
  EXPECT_EQ(event.type, EventType::kTokensTransferred);
  EXPECT_EQ(event.from_account, "alice");  // Canonical lowercase.
  EXPECT_EQ(event.to_account, "bob");
  EXPECT_EQ(event.amount, 30);
  EXPECT_EQ(event.from_balance, 70);
  EXPECT_EQ(event.to_balance, 30);
  EXPECT_EQ(event.note, "lunch");
  EXPECT_EQ(event.timestamp_ms, kNowMs);
  EXPECT_EQ(event.transaction_id.size(), 36u);  // A generated UUID.
  EXPECT_EQ(event.transaction_id[14], '4');     // Version 4.
  EXPECT_NE(std::string_view("89ab").find(event.transaction_id[19]), std::string_view::npos);
  for (size_t i = 0; i < event.transaction_id.size(); ++i) {
    const char c = event.transaction_id[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      EXPECT_EQ(c, '-');
    } else {
      EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << event.transaction_id;
    }
  }
  EXPECT_EQ(*ledger_->Balance("alice"), 70);
  EXPECT_EQ(*ledger_->Balance("bob"), 30);
  EXPECT_EQ(ledger_->LastSeq(), 4);
  std::vector<Event> published = subscriber_.events();
  ASSERT_EQ(published.size(), 4u);
  EXPECT_EQ(published.back(), event);
}

// POST /admin/transfer: a TransferCommand with an actor of its own.
TransferCommand ServiceTransfer(std::string actor, std::string from, std::string to, int64_t amount,
                                std::string reason = "", std::string transaction_id = "") {
  TransferCommand command = Transfer(std::move(from), std::move(to), amount);
  command.actor = std::move(actor);
  command.reason = std::move(reason);
  command.transaction_id = std::move(transaction_id);
  return command;
}

TEST_F(LedgerTest, ASendsActorIsItsSenderAnAdminTransfersIsItsIssuer) {
  OpenAndMint("alice", 100);
  OpenAndMint("bob", 0);
  absl::StatusOr<CommandResult> send = Send("ALICE", "bob", 10);
  ASSERT_TRUE(send.ok()) << send.status();
  EXPECT_EQ(send->event.actor, "alice");  // == from_account: the user's own send.
  EXPECT_EQ(send->event.from_account, "alice");
  EXPECT_EQ(send->event.reason, "");

  TransferCommand command = ServiceTransfer("Shop-Service", "Alice", "BOB", 30, "order 17");
  command.note = "a book";
  absl::StatusOr<CommandResult> moved = Run(std::move(command));
  ASSERT_TRUE(moved.ok()) << moved.status();
  const Event& event = moved->event;
  EXPECT_EQ(event.type, EventType::kTokensTransferred);
  EXPECT_EQ(event.actor, "Shop-Service");  // The token's sub as given, like a mint's.
  EXPECT_NE(event.actor, event.from_account);
  EXPECT_EQ(event.from_account, "alice");
  EXPECT_EQ(event.to_account, "bob");
  EXPECT_EQ(event.amount, 30);
  EXPECT_EQ(event.from_balance, 60);
  EXPECT_EQ(event.to_balance, 40);
  EXPECT_EQ(event.note, "a book");
  EXPECT_EQ(event.reason, "order 17");
  EXPECT_EQ(*ledger_->Balance("alice"), 60);
  EXPECT_EQ(subscriber_.events().back(), event);
  // The log holds it as committed, and a reopened ledger agrees.
  Reopen();
  EXPECT_EQ(*ledger_->Balance("bob"), 40);
  absl::StatusOr<std::vector<Event>> history = ledger_->History("bob", 0, 1);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->front(), event);
}

TEST_F(LedgerTest, AnAdminTransferIsValidatedAndReplayedExactlyLikeASend) {
  OpenAndMint("alice", 100);
  OpenAndMint("bob", kAmountMax - 5);
  auto code = [&](TransferCommand command) { return CodeOf(Run(std::move(command))); };
  EXPECT_EQ(code(ServiceTransfer("svc", "alice", "bob", 0)), ErrorCode::kInvalidAmount);
  EXPECT_EQ(code(ServiceTransfer("svc", "al ice", "bob", 1)), ErrorCode::kInvalidUsername);
  EXPECT_EQ(code(ServiceTransfer("svc", "alice", "b/ob", 1)), ErrorCode::kInvalidUsername);
  EXPECT_EQ(code(ServiceTransfer("svc", "alice", "Alice", 1)), ErrorCode::kSelfTransfer);
  EXPECT_EQ(code(ServiceTransfer("svc", "zed", "bob", 1)), ErrorCode::kAccountNotFound);
  EXPECT_EQ(code(ServiceTransfer("svc", "alice", "zed", 1)), ErrorCode::kAccountNotFound);
  EXPECT_EQ(code(ServiceTransfer("svc", "alice", "bob", 101)), ErrorCode::kInsufficientFunds);
  EXPECT_EQ(code(ServiceTransfer("svc", "alice", "bob", 6)), ErrorCode::kBalanceOverflow);
  EXPECT_EQ(code(ServiceTransfer("svc", "alice", "bob", 1, std::string(501, 'r'))),
            ErrorCode::kInvalidField);
  EXPECT_EQ(code(ServiceTransfer("svc", "alice", "bob", 1, "", std::string(129, 't'))),
            ErrorCode::kInvalidField);
  EXPECT_EQ(ledger_->LastSeq(), 4);  // Nothing rejected was appended.

  absl::StatusOr<CommandResult> first =
      Run(ServiceTransfer("svc", "alice", "bob", 5, "reward", "ad-1"));
  ASSERT_TRUE(first.ok()) << first.status();
  // Replayed, by the service or by the sender itself: the original event.
  absl::StatusOr<CommandResult> again =
      Run(ServiceTransfer("other-svc", "alice", "bob", 5, "", "ad-1"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->event, first->event);
  absl::StatusOr<CommandResult> by_sender = Send("alice", "bob", 5, "ad-1");
  ASSERT_TRUE(by_sender.ok());
  EXPECT_TRUE(by_sender->duplicate);
  EXPECT_EQ(by_sender->event.actor, "svc");
  EXPECT_EQ(code(ServiceTransfer("svc", "alice", "bob", 4, "", "ad-1")),
            ErrorCode::kTransactionIdConflict);
  EXPECT_EQ(*ledger_->Balance("alice"), 95);
  EXPECT_EQ(ledger_->LastSeq(), 5);
}

// The importer's seam (engine/command.h): a given timestamp is the event's,
// on every command type; without one the ledger's clock decides; one outside
// what the log can hold is refused.
TEST_F(LedgerTest, GivenTimestampIsTheEventsElseTheClock) {
  constexpr int64_t kOriginMs = 1714564800123;  // 2024-05-01T12:00:00.123Z
  OpenAccountCommand open{"import", "alice"};
  open.given_timestamp_ms = kOriginMs;
  absl::StatusOr<CommandResult> opened = Run(std::move(open));
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->event.timestamp_ms, kOriginMs);
  MintCommand mint{"import", "alice", AmountField::Integer(10), "", ""};
  mint.given_timestamp_ms = kOriginMs + 1;
  absl::StatusOr<CommandResult> minted = Run(std::move(mint));
  ASSERT_TRUE(minted.ok()) << minted.status();
  EXPECT_EQ(minted->event.timestamp_ms, kOriginMs + 1);
  OpenAndMint("bob", 0);  // Not given: the clock.
  TransferCommand send{"alice", "bob", AmountField::Integer(3), "", "t1"};
  send.given_timestamp_ms = kOriginMs + 2;
  absl::StatusOr<CommandResult> sent = Run(std::move(send));
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(sent->event.timestamp_ms, kOriginMs + 2);
  SetNoteCommand note{"bob", "t1", "thanks"};
  note.given_timestamp_ms = kOriginMs + 3;
  absl::StatusOr<CommandResult> noted = Run(std::move(note));
  ASSERT_TRUE(noted.ok()) << noted.status();
  EXPECT_EQ(noted->event.timestamp_ms, kOriginMs + 3);
  absl::StatusOr<CommandResult> now = Send("alice", "bob", 1);
  ASSERT_TRUE(now.ok()) << now.status();
  EXPECT_EQ(now->event.timestamp_ms, kNowMs);
  for (int64_t bad : {kTimestampMsMin - 1, kTimestampMsMax + 1}) {
    TransferCommand late{"alice", "bob", AmountField::Integer(1), "", ""};
    late.given_timestamp_ms = bad;
    EXPECT_EQ(CodeOf(Run(std::move(late))), ErrorCode::kInvalidField) << bad;
  }
  EXPECT_EQ(*ledger_->Balance("bob"), 4);
}

TEST_F(LedgerTest, EveryDomainErrorCode) {
  OpenAndMint("alice", 100);
  OpenAndMint("bob", kAmountMax - 5);
  EXPECT_EQ(CodeOf(Send("alice", "bob", 0)), ErrorCode::kInvalidAmount);
  EXPECT_EQ(CodeOf(Send("alice", "bob", -1)), ErrorCode::kInvalidAmount);
  EXPECT_EQ(CodeOf(Send("alice", "bob", kAmountMax + 1)), ErrorCode::kInvalidAmount);
  EXPECT_EQ(
      CodeOf(Run(TransferCommand{"alice", "bob", {AmountField::Kind::kNotInteger, 5}, "", ""})),
      ErrorCode::kInvalidAmount);
  EXPECT_EQ(CodeOf(Send("alice", "bo b", 1)), ErrorCode::kInvalidUsername);
  EXPECT_EQ(CodeOf(Send("alice", std::string(65, 'b'), 1)), ErrorCode::kInvalidUsername);
  EXPECT_EQ(CodeOf(Send("alice", "ALICE", 1)), ErrorCode::kSelfTransfer);
  EXPECT_EQ(CodeOf(Send("alice", "carol", 1)), ErrorCode::kAccountNotFound);
  EXPECT_EQ(CodeOf(Send("carol", "alice", 1)), ErrorCode::kAccountNotFound);
  EXPECT_EQ(CodeOf(Send("alice", "bob", 101)), ErrorCode::kInsufficientFunds);
  EXPECT_EQ(Send("alice", "bob", 101).status().message(), "Insufficient sbd_tokens");
  EXPECT_EQ(CodeOf(Send("alice", "bob", 6)), ErrorCode::kBalanceOverflow);
  EXPECT_EQ(CodeOf(Send("alice", "bob", 1, std::string(129, 'x'))), ErrorCode::kInvalidField);
  EXPECT_EQ(CodeOf(Send("alice", "bob", 1, "", std::string(501, 'x'))), ErrorCode::kInvalidField);
  EXPECT_EQ(CodeOf(Run(OpenAccountCommand{"admin", "Alice"})), ErrorCode::kAccountExists);
  EXPECT_EQ(CodeOf(Run(OpenAccountCommand{"admin", "no/slash"})), ErrorCode::kInvalidUsername);
  EXPECT_EQ(CodeOf(Run(MintCommand{"admin", "bob", AmountField::Integer(6), "", ""})),
            ErrorCode::kBalanceOverflow);
  EXPECT_EQ(CodeOf(Run(MintCommand{"admin", "zed", AmountField::Integer(6), "", ""})),
            ErrorCode::kAccountNotFound);
  EXPECT_EQ(
      CodeOf(Run(MintCommand{"admin", "bob", AmountField::Integer(1), std::string(501, 'r'), ""})),
      ErrorCode::kInvalidField);
  // The exact edges that must pass.
  EXPECT_TRUE(Send("alice", "bob", 5).ok());  // bob reaches exactly 2^53-1.
  EXPECT_EQ(*ledger_->Balance("bob"), kAmountMax);
  EXPECT_TRUE(Send("alice", "bob", 0).status().message().size() > 0);
  // Nothing rejected reached the log or the projection.
  EXPECT_EQ(ledger_->LastSeq(), 5);
  EXPECT_EQ(*ledger_->Balance("alice"), 95);
  EXPECT_EQ(ledger_->TotalBalance(), ledger_->TotalMinted());
}

TEST_F(LedgerTest, IdempotentReplayAndConflict) {
  OpenAndMint("alice", 100);
  OpenAndMint("bob", 0);
  OpenAndMint("carol", 10);
  absl::StatusOr<CommandResult> first = Send("alice", "bob", 10, "order-1");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(Send("alice", "bob", 5).ok());  // The balance moves on.
  absl::StatusOr<CommandResult> again = Send("alice", "bob", 10, "order-1", "other note");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->event, first->event);  // The original result, new_balance included.
  EXPECT_EQ(*ledger_->Balance("alice"), 85);
  EXPECT_EQ(CodeOf(Send("alice", "bob", 11, "order-1")), ErrorCode::kTransactionIdConflict);
  EXPECT_EQ(CodeOf(Send("carol", "bob", 10, "order-1")), ErrorCode::kTransactionIdConflict);
  EXPECT_EQ(CodeOf(Send("alice", "carol", 10, "order-1")), ErrorCode::kTransactionIdConflict);
  EXPECT_EQ(CodeOf(Run(MintCommand{"admin", "bob", AmountField::Integer(10), "", "order-1"})),
            ErrorCode::kTransactionIdConflict);
  // A mint replays the same way.
  auto mint = Run(MintCommand{"admin", "bob", AmountField::Integer(7), "bonus", "mint-1"});
  ASSERT_TRUE(mint.ok());
  auto mint_again = Run(MintCommand{"admin", "bob", AmountField::Integer(7), "", "mint-1"});
  ASSERT_TRUE(mint_again.ok());
  EXPECT_TRUE(mint_again->duplicate);
  EXPECT_EQ(mint_again->event.seq, mint->event.seq);
  EXPECT_EQ(*ledger_->Balance("bob"), 22);
  // Replays survive a restart: the lookup is rebuilt from the log.
  Reopen();
  auto after_restart = Send("alice", "bob", 10, "order-1");
  ASSERT_TRUE(after_restart.ok());
  EXPECT_TRUE(after_restart->duplicate);
  EXPECT_EQ(after_restart->event.seq, first->event.seq);
  EXPECT_EQ(subscriber_.events().size(), 8u);  // Only the first run's events, once each.
}

TEST_F(LedgerTest, SameTransactionIdFromManyThreadsAppliesOnce) {
  OpenAndMint("alice", 1000);
  OpenAndMint("bob", 0);
  constexpr int kThreads = 8;
  constexpr int kIds = 50;
  std::atomic<int> fresh{0};
  std::atomic<int> duplicates{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIds; ++i) {
        auto result = Send("alice", "bob", 3, "dup-" + std::to_string(i));
        ASSERT_TRUE(result.ok()) << result.status();
        (result->duplicate ? duplicates : fresh)++;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(fresh, kIds);
  EXPECT_EQ(duplicates, kIds * (kThreads - 1));
  EXPECT_EQ(*ledger_->Balance("alice"), 1000 - 3 * kIds);
  EXPECT_EQ(ledger_->LastSeq(), 3 + kIds);
}

TEST_F(LedgerTest, NotesArePerPartyAndOnlyForParties) {
  OpenAndMint("alice", 100);
  OpenAndMint("bob", 0);
  OpenAndMint("carol", 0);
  ASSERT_TRUE(Send("alice", "bob", 10, "t-1", "original").ok());
  auto set = Run(SetNoteCommand{"Bob", "t-1", "rent for May"});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->event.type, EventType::kTransactionNoteSet);
  EXPECT_EQ(CodeOf(Run(SetNoteCommand{"carol", "t-1", "mine"})), ErrorCode::kTransactionNotFound);
  EXPECT_EQ(CodeOf(Run(SetNoteCommand{"bob", "t-404", "x"})), ErrorCode::kTransactionNotFound);
  EXPECT_EQ(CodeOf(Run(SetNoteCommand{"bob", "t-1", std::string(501, 'n')})),
            ErrorCode::kInvalidField);
  EXPECT_EQ(CodeOf(Run(SetNoteCommand{"zed", "t-1", "x"})), ErrorCode::kAccountNotFound);
  auto bob_history = ledger_->History("bob", 0, 5);
  ASSERT_TRUE(bob_history.ok());
  ASSERT_EQ(bob_history->size(), 1u);
  EXPECT_EQ(bob_history->front().note, "rent for May");
  auto alice_history = ledger_->History("alice", 0, 5);
  ASSERT_TRUE(alice_history.ok());
  EXPECT_EQ(alice_history->front().note, "original");
}

TEST_F(LedgerTest, HistoryIsNewestFirstWithSkipAndLimit) {
  OpenAndMint("alice", 100);
  OpenAndMint("bob", 0);
  for (int i = 1; i <= 7; ++i) ASSERT_TRUE(Send("alice", "bob", i).ok());
  auto page = ledger_->History("bob", 2, 3);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 3u);
  EXPECT_EQ((*page)[0].amount, 5);
  EXPECT_EQ((*page)[1].amount, 4);
  EXPECT_EQ((*page)[2].amount, 3);
  auto alice_all = ledger_->History("alice", 0, 100);
  ASSERT_TRUE(alice_all.ok());
  EXPECT_EQ(alice_all->size(), 8u);  // 7 sends and the mint.
  EXPECT_EQ(alice_all->back().type, EventType::kTokensMinted);
  EXPECT_TRUE(ledger_->History("bob", 50, 5)->empty());
  EXPECT_EQ(ErrorCodeOf(ledger_->History("nobody", 0, 5).status()), ErrorCode::kAccountNotFound);
  // EventsAfter: ascending, bounded by seq and count.
  auto after = ledger_->EventsAfter("bob", 6, 9, 100);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 3u);
  EXPECT_EQ((*after)[0].seq, 7);
  EXPECT_EQ((*after)[2].seq, 9);
  EXPECT_EQ(ledger_->EventsAfter("bob", 0, 100, 2)->size(), 2u);
}

TEST_F(LedgerTest, FailedAppendFailsTheWholeBatchAndTheLedgerRecovers) {
  OpenAndMint("alice", 100);
  OpenAndMint("bob", 0);
  const size_t published_before = subscriber_.events().size();
  log_->FailNextAppends(1);
  auto failed = Send("alice", "bob", 10);
  EXPECT_EQ(CodeOf(failed), ErrorCode::kUnavailable);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(*ledger_->Balance("alice"), 100);
  EXPECT_EQ(ledger_->LastSeq(), 3);
  EXPECT_EQ(subscriber_.events().size(), published_before);
  auto later = Send("alice", "bob", 10);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->event.seq, 4);  // The failed batch left no gap.
  EXPECT_EQ(*ledger_->Balance("alice"), 90);
}

TEST_F(LedgerTest, FailedAppendFailsEveryCallerOfAMultiCommandBatch) {
  OpenAndMint("alice", 1000);
  OpenAndMint("bob", 0);
  // A slow append lets many commands queue up behind it into one batch.
  log_->SetAppendDelay(absl::Milliseconds(50));
  auto warmup = ledger_->Submit(Transfer("alice", "bob", 1));
  absl::SleepFor(absl::Milliseconds(10));  // The writer is inside the slow append.
  log_->FailNextAppends(2);                // Fails the warm-up's append and the batch behind it.
  std::vector<std::future<absl::StatusOr<CommandResult>>> futures;
  for (int i = 0; i < 20; ++i) {
    futures.push_back(ledger_->Submit(Transfer("alice", "bob", 1)));
  }
  // Rejected by validation, but its batch fails: it is answered 503 as well.
  futures.push_back(ledger_->Submit(Transfer("alice", "bob", 0)));
  (void)warmup.get();
  for (auto& future : futures)
    EXPECT_EQ(ErrorCodeOf(future.get().status()), ErrorCode::kUnavailable);
  log_->SetAppendDelay(absl::ZeroDuration());
  EXPECT_LE(log_->append_count(), 8);  // The 20 were batched, not appended one by one.
  // A batch decided on top of the warm-up failed with it, without an append
  // of its own, so the second injected failure may be left over.
  log_->FailNextAppends(0);
  EXPECT_TRUE(Send("alice", "bob", 1).ok());
  // bob holds exactly what the committed transfers (after the 3 set-up events) moved.
  EXPECT_EQ(*ledger_->Balance("bob"), ledger_->LastSeq() - 3);
  EXPECT_EQ(ledger_->TotalBalance(), 1000);
}

// Batches of three, the second decided while the first is being appended.
class PipelineTest : public LedgerTest {
 protected:
  void SetUp() override {
    Ledger::Options options;
    options.batch_size_max = 3;
    Reopen(options);
    OpenAndMint("alice", 100);
    OpenAndMint("bob", 0);
  }

  // Submits `commands` while the writer is held, then lets it run: batches
  // of three, the second decided while the first is being appended.
  std::vector<absl::StatusOr<CommandResult>> RunHeld(std::vector<Command> commands) {
    WriterHold hold;
    ledger_->Submit(Transfer("alice", "bob", 1), hold.Callback());
    EXPECT_TRUE(hold.AwaitHeld().ok());
    std::vector<std::future<absl::StatusOr<CommandResult>>> futures;
    for (Command& command : commands) futures.push_back(ledger_->Submit(std::move(command)));
    hold.Release();
    std::vector<absl::StatusOr<CommandResult>> results;
    for (auto& future : futures) results.push_back(future.get());
    return results;
  }

  static std::vector<Command> TwoBatches() {
    return {
        TransferCommand{"alice", "bob", AmountField::Integer(10), "", "t1"},
        TransferCommand{"alice", "bob", AmountField::Integer(10), "", "t2"},
        TransferCommand{"alice", "bob", AmountField::Integer(10), "", "t3"},
        // Batch two: a replay of t1, more than alice has left after batch
        // one, and a transfer that needs batch one's credit to bob.
        TransferCommand{"alice", "bob", AmountField::Integer(10), "", "t1"},
        TransferCommand{"alice", "bob", AmountField::Integer(70), "", "t4"},
        TransferCommand{"bob", "alice", AmountField::Integer(25), "", "t5"},
    };
  }
};

TEST_F(PipelineTest, TheNextBatchIsDecidedOnTopOfTheOneBeingAppended) {
  std::vector<absl::StatusOr<CommandResult>> results = RunHeld(TwoBatches());
  ASSERT_TRUE(results[0].ok());
  ASSERT_TRUE(results[3].ok());
  EXPECT_TRUE(results[3]->duplicate);
  EXPECT_EQ(results[3]->event, results[0]->event);
  EXPECT_EQ(CodeOf(results[4]), ErrorCode::kInsufficientFunds);  // alice holds 69.
  ASSERT_TRUE(results[5].ok()) << results[5].status();
  EXPECT_EQ(results[5]->event.from_balance, 31 - 25);
  EXPECT_EQ(results[5]->event.seq, results[2]->event.seq + 1);
  EXPECT_EQ(*ledger_->Balance("alice"), 69 + 25);
  EXPECT_EQ(*ledger_->Balance("bob"), 6);
  EXPECT_EQ(subscriber_.events().size(), static_cast<size_t>(ledger_->LastSeq()));
}

// Callers get their events moved out of the batch, except where a replay in
// the same batch shares one: both then get it whole. Names arrive in any case
// and are recorded canonical.
TEST_F(PipelineTest, AReplayInTheSameBatchGetsTheWholeEvent) {
  std::vector<absl::StatusOr<CommandResult>> results = RunHeld({
      TransferCommand{"Alice", "BOB", AmountField::Integer(10), "first", "s1"},
      TransferCommand{"alice", "Bob", AmountField::Integer(10), "", "s1"},
      TransferCommand{"ALICE", "bob", AmountField::Integer(1), "", "s2"},
      TransferCommand{"alice", "bob", AmountField::Integer(2), "", "s3"},
  });
  ASSERT_TRUE(results[0].ok()) << results[0].status();
  ASSERT_TRUE(results[1].ok()) << results[1].status();
  EXPECT_FALSE(results[0]->duplicate);
  EXPECT_TRUE(results[1]->duplicate);
  EXPECT_EQ(results[1]->event, results[0]->event);
  EXPECT_EQ(results[0]->event.from_account, "alice");
  EXPECT_EQ(results[0]->event.to_account, "bob");
  EXPECT_EQ(results[0]->event.actor, "alice");
  EXPECT_EQ(results[0]->event.note, "first");
  EXPECT_EQ(results[0]->event.transaction_id, "s1");
  ASSERT_TRUE(results[2].ok());
  EXPECT_EQ(results[2]->event.transaction_id, "s2");
  EXPECT_EQ(results[2]->event.from_balance, 100 - 1 - 10 - 1);
  ASSERT_TRUE(results[3].ok());
  EXPECT_EQ(results[3]->event.actor, "alice");
  EXPECT_EQ(results[3]->event.to_account, "bob");
  EXPECT_EQ(results[3]->event.transaction_id, "s3");
  EXPECT_EQ(results[3]->event.to_balance, 1 + 10 + 1 + 2);
  const std::vector<Event> published = subscriber_.events();
  ASSERT_EQ(published.size(), static_cast<size_t>(ledger_->LastSeq()));
  EXPECT_EQ(published[results[0]->event.seq - 1], results[0]->event);
  EXPECT_EQ(published[results[3]->event.seq - 1], results[3]->event);
}

TEST_F(PipelineTest, AFailedAppendFailsTheBatchDecidedOnTopOfIt) {
  const int64_t last_seq = ledger_->LastSeq() + 1;  // After the hold's transfer.
  const size_t appends_before = log_->append_count() + 1;
  WriterHold hold;
  ledger_->Submit(Transfer("alice", "bob", 1), hold.Callback());
  EXPECT_TRUE(hold.AwaitHeld().ok());
  log_->FailNextAppends(1);  // Batch one's append.
  std::vector<std::future<absl::StatusOr<CommandResult>>> futures;
  for (Command& command : TwoBatches()) futures.push_back(ledger_->Submit(std::move(command)));
  hold.Release();
  for (auto& future : futures) {
    // Every caller of both batches, the replay and the rejection included.
    EXPECT_EQ(ErrorCodeOf(future.get().status()), ErrorCode::kUnavailable);
  }
  // Batch two failed with batch one, without an append of its own.
  EXPECT_EQ(static_cast<size_t>(log_->append_count()), appends_before + 1);
  // Nothing half-applied: the state is the committed log's.
  EXPECT_EQ(ledger_->LastSeq(), last_seq);
  EXPECT_EQ(log_->LastSeq(), last_seq);
  EXPECT_EQ(*ledger_->Balance("alice"), 99);
  EXPECT_EQ(*ledger_->Balance("bob"), 1);
  EXPECT_EQ(subscriber_.events().size(), static_cast<size_t>(last_seq));
  // Later commands are decided afresh from the committed state.
  std::vector<absl::StatusOr<CommandResult>> results = RunHeld(TwoBatches());
  ASSERT_TRUE(results[0].ok());
  EXPECT_FALSE(results[0]->duplicate);
  EXPECT_EQ(results[0]->event.seq, last_seq + 2);  // After the second hold's transfer.
  EXPECT_TRUE(results[3]->duplicate);
  EXPECT_EQ(*ledger_->Balance("alice"), 98 - 30 + 25);
  Projector replay;
  ASSERT_TRUE(log_->Read(1, log_->LastSeq(), [&](const Event& e) { return replay.Apply(e); }).ok());
  EXPECT_EQ(replay.Balance("alice"), ledger_->Balance("alice").value());
  EXPECT_EQ(replay.Balance("bob"), ledger_->Balance("bob").value());
}

TEST_F(LedgerTest, FullQueueAnswersResourceExhaustedAtOnce) {
  Ledger::Options options;
  options.queue_size_max = 4;
  Reopen(options);
  OpenAndMint("alice", 1000);
  OpenAndMint("bob", 0);
  log_->SetAppendDelay(absl::Milliseconds(200));
  std::vector<std::future<absl::StatusOr<CommandResult>>> futures;
  for (int i = 0; i < 30; ++i) {
    futures.push_back(ledger_->Submit(Transfer("alice", "bob", 1)));
  }
  int exhausted = 0;
  int ok = 0;
  for (auto& future : futures) {
    auto result = future.get();
    if (result.ok()) ++ok;
    if (result.status().code() == absl::StatusCode::kResourceExhausted) ++exhausted;
  }
  EXPECT_GT(exhausted, 0);
  EXPECT_EQ(ok + exhausted, 30);
  EXPECT_EQ(*ledger_->Balance("bob"), ok);
}

TEST_F(LedgerTest, StopFinishesQueuedCommandsThenRefuses) {
  OpenAndMint("alice", 1000);
  OpenAndMint("bob", 0);
  log_->SetAppendDelay(absl::Milliseconds(20));
  std::vector<std::future<absl::StatusOr<CommandResult>>> futures;
  for (int i = 0; i < 50; ++i) {
    futures.push_back(ledger_->Submit(Transfer("alice", "bob", 1)));
  }
  ledger_->Stop();
  for (auto& future : futures) EXPECT_TRUE(future.get().ok());
  EXPECT_EQ(ErrorCodeOf(Send("alice", "bob", 1).status()), ErrorCode::kUnavailable);
  EXPECT_EQ(*ledger_->Balance("bob"), 50);
}

TEST_F(LedgerTest, ReopenRebuildsIdenticalState) {
  OpenAndMint("alice", 500);
  OpenAndMint("bob", 20);
  for (int i = 0; i < 30; ++i)
    ASSERT_TRUE(Send(i % 2 ? "alice" : "bob", i % 2 ? "bob" : "alice", 3).ok());
  const int64_t alice = *ledger_->Balance("alice");
  const int64_t bob = *ledger_->Balance("bob");
  const int64_t seq = ledger_->LastSeq();
  const size_t published = subscriber_.events().size();
  Reopen();
  EXPECT_EQ(*ledger_->Balance("alice"), alice);
  EXPECT_EQ(*ledger_->Balance("bob"), bob);
  EXPECT_EQ(ledger_->LastSeq(), seq);
  EXPECT_EQ(subscriber_.events().size(), published);  // History is not re-published.
}

TEST_F(LedgerTest, ReopenRefusesALogThatContradictsItself) {
  OpenAndMint("alice", 100);
  OpenAndMint("bob", 0);
  ASSERT_TRUE(Send("alice", "bob", 10).ok());
  ledger_.reset();
  {
    MutexLock lock(store_->mutex);
    ASSERT_EQ(store_->events.size(), 4u);
    store_->events[3].to_balance = 1000;  // seq 4: bob's recorded balance.
  }
  auto reopened = Ledger::Open(std::make_unique<MemoryEventLog>(store_), {});
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(reopened.status().message().find("seq 4"), std::string::npos);
}

// 8 threads x 10,000 random transfers between 100 accounts.
TEST_F(LedgerTest, ConcurrentRandomTransfersConserveAndReplay) {
  constexpr int kAccounts = 100;
  constexpr int kThreads = 8;
  constexpr int kTransfersPerThread = 10'000;
  constexpr int64_t kInitial = 1000;
  for (int i = 0; i < kAccounts; ++i) OpenAndMint("user" + std::to_string(i), kInitial);
  const int64_t seq_before = ledger_->LastSeq();

  std::atomic<int> succeeded{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 random(t);
      std::uniform_int_distribution<int> account(0, kAccounts - 1);
      std::uniform_int_distribution<int64_t> amount(1, 400);
      std::vector<std::future<absl::StatusOr<CommandResult>>> window;
      auto drain = [&] {
        for (auto& future : window) {
          auto result = future.get();
          if (result.ok()) {
            ++succeeded;
            EXPECT_GE(result->event.from_balance, 0);
          } else {
            EXPECT_EQ(ErrorCodeOf(result.status()), ErrorCode::kInsufficientFunds);
          }
        }
        window.clear();
      };
      for (int i = 0; i < kTransfersPerThread; ++i) {
        int from = account(random);
        int to = account(random);
        if (to == from) to = (to + 1) % kAccounts;
        window.push_back(ledger_->Submit(
            Transfer("user" + std::to_string(from), "user" + std::to_string(to), amount(random))));
        if (window.size() == 64) drain();
      }
      drain();
    });
  }
  for (std::thread& thread : threads) thread.join();

  EXPECT_GT(succeeded, kThreads * kTransfersPerThread / 2);
  EXPECT_EQ(ledger_->LastSeq(), seq_before + succeeded);
  EXPECT_EQ(ledger_->TotalBalance(), absl::int128(kAccounts) * kInitial);
  EXPECT_EQ(ledger_->TotalMinted(), ledger_->TotalBalance());

  // An independent replay of the log gives the same balances, and the log is
  // gapless and never went negative.
  Projector replay;
  int64_t expected_seq = 1;
  ASSERT_TRUE(log_->Read(1, log_->LastSeq(),
                         [&](const Event& event) {
                           EXPECT_EQ(event.seq, expected_seq++);
                           EXPECT_GE(event.from_balance, 0);
                           return replay.Apply(event);
                         })
                  .ok());
  for (int i = 0; i < kAccounts; ++i) {
    const std::string name = "user" + std::to_string(i);
    EXPECT_EQ(replay.Balance(name), *ledger_->Balance(name)) << name;
  }
  // Subscribers saw every event once, in seq order.
  std::vector<Event> published = subscriber_.events();
  ASSERT_EQ(static_cast<int64_t>(published.size()), ledger_->LastSeq());
  for (size_t i = 0; i < published.size(); ++i) EXPECT_EQ(published[i].seq, int64_t(i) + 1);
}

}  // namespace
}  // namespace sbd
