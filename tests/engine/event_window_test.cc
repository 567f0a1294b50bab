#include "engine/event_window.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/command.h"
#include "engine/ledger.h"
#include "gtest/gtest.h"
#include "tests/support/event_builders.h"
#include "tests/support/memory_event_log.h"

namespace sbd {
namespace {

using ::sbd::testing::MemoryEventLog;
using ::sbd::testing::Minted;
using ::sbd::testing::NoteSet;
using ::sbd::testing::Opened;
using ::sbd::testing::Transferred;

constexpr EventWindow::Limits kRoomy = {1 << 20, size_t{1} << 40};

std::vector<int64_t> SeqsOf(const std::vector<Event>& events) {
  std::vector<int64_t> seqs;
  for (const Event& event : events) seqs.push_back(event.seq);
  return seqs;
}

// The bytes a window that evicts nothing holds for exactly `events`.
size_t BytesOf(const std::vector<Event>& events) {
  EventWindow window(kRoomy, events.front().seq - 1);
  window.Append(events);
  return window.bytes();
}

// alice and bob open; alice is minted 100; alice sends bob 30; bob notes it;
// bob sends alice 5; bob is minted 7.
std::vector<Event> SmallLedger() {
  return {
      Opened(1, "alice"),
      Opened(2, "bob"),
      Minted(3, "alice", 100, 100, "m3"),
      Transferred(4, "alice", "bob", 30, 70, 30, "t4", "lunch"),
      NoteSet(5, "bob", "t4", "rent"),
      Transferred(6, "bob", "alice", 5, 25, 75, "t6"),
      Minted(7, "bob", 7, 32, "m7"),
  };
}

TEST(EventWindowTest, EmptyWindowCoversOnlyWhatItHasApplied) {
  EventWindow window({10, 1 << 20}, 0);
  EXPECT_EQ(window.applied_seq(), 0);
  EXPECT_EQ(window.first_seq(), 1);
  EXPECT_EQ(window.size(), 0u);
  EXPECT_EQ(window.bytes(), 0u);
  EXPECT_TRUE(window.Covers(0));
  EXPECT_TRUE(window.Covers(3));  // Nothing after 3 is applied: nothing is missing.
  EXPECT_FALSE(window.Covers(-1));
  EXPECT_EQ(window.LatestBalanceAfter("alice", 0), std::nullopt);
  EXPECT_TRUE(window.EventsAfter("alice", 0, 100, 10).empty());
}

TEST(EventWindowTest, StartsAfterANonzeroSeq) {
  EventWindow window({10, 1 << 20}, 41);
  EXPECT_EQ(window.applied_seq(), 41);
  EXPECT_EQ(window.first_seq(), 42);
  EXPECT_TRUE(window.Covers(41));
  EXPECT_FALSE(window.Covers(40));  // Seq 41 was never held.
  EXPECT_TRUE(window.EventsAfter("alice", 41, 100, 10).empty());

  const std::vector<Event> batch = {Opened(42, "alice"), Minted(43, "alice", 9, 9)};
  window.Append(batch);
  EXPECT_EQ(window.applied_seq(), 43);
  EXPECT_EQ(window.first_seq(), 42);
  EXPECT_EQ(window.size(), 2u);
  EXPECT_TRUE(window.Covers(41));
  EXPECT_FALSE(window.Covers(40));
  EXPECT_EQ(window.EventsAfter("alice", 41, 43, 10), std::vector<Event>{batch[1]});
  EXPECT_EQ(window.LatestBalanceAfter("alice", 41), 9);
  EXPECT_EQ(window.LatestBalanceAfter("alice", 42), 9);
  EXPECT_EQ(window.LatestBalanceAfter("alice", 43), std::nullopt);
}

TEST(EventWindowTest, LatestBalanceIsTheUsersSideOfItsNewestEvent) {
  EventWindow window(kRoomy, 0);
  std::vector<Event> events = SmallLedger();
  events.push_back(Opened(8, "carol"));
  window.Append(events);

  EXPECT_EQ(window.LatestBalanceAfter("alice", 0), 75);  // Receiver of 6.
  EXPECT_EQ(window.LatestBalanceAfter("bob", 0), 32);    // Mint 7.
  EXPECT_EQ(window.LatestBalanceAfter("bob", 6), 32);
  EXPECT_EQ(window.LatestBalanceAfter("bob", 7), std::nullopt);
  EXPECT_EQ(window.LatestBalanceAfter("carol", 0), 0);  // Opened only.
  EXPECT_EQ(window.LatestBalanceAfter("carol", 7), 0);
  EXPECT_EQ(window.LatestBalanceAfter("carol", 8), std::nullopt);
  EXPECT_EQ(window.LatestBalanceAfter("dave", 0), std::nullopt);
  EXPECT_EQ(window.LatestBalanceAfter("alice", 100), std::nullopt);

  // Stop the window after each event in turn to see each kind be the newest.
  EventWindow prefix(kRoomy, 0);
  prefix.Append(absl::MakeConstSpan(events).subspan(0, 1));
  EXPECT_EQ(prefix.LatestBalanceAfter("alice", 0), 0);  // Opened.
  prefix.Append(absl::MakeConstSpan(events).subspan(1, 2));
  EXPECT_EQ(prefix.LatestBalanceAfter("alice", 0), 100);  // Minted.
  EXPECT_EQ(prefix.LatestBalanceAfter("bob", 0), 0);
  prefix.Append(absl::MakeConstSpan(events).subspan(3, 1));
  EXPECT_EQ(prefix.LatestBalanceAfter("alice", 0), 70);  // Sender: from_balance.
  EXPECT_EQ(prefix.LatestBalanceAfter("bob", 0), 30);    // Receiver: to_balance.
  prefix.Append(absl::MakeConstSpan(events).subspan(4, 1));
  EXPECT_EQ(prefix.LatestBalanceAfter("bob", 0), 30);            // A note records no balance...
  EXPECT_EQ(prefix.LatestBalanceAfter("bob", 4), std::nullopt);  // ...and is not one.
  prefix.Append(absl::MakeConstSpan(events).subspan(5, 1));
  EXPECT_EQ(prefix.LatestBalanceAfter("bob", 0), 25);  // Sender of 6.
  EXPECT_EQ(prefix.LatestBalanceAfter("bob", 5), 25);
}

TEST(EventWindowTest, EventsAfterHonoursAfterUntilAndLimit) {
  EventWindow window(kRoomy, 0);
  const std::vector<Event> events = SmallLedger();
  window.Append(events);

  // Transfers (either side) and mints; never an open or a note.
  EXPECT_EQ(SeqsOf(window.EventsAfter("alice", 0, 7, 100)), (std::vector<int64_t>{3, 4, 6}));
  EXPECT_EQ(SeqsOf(window.EventsAfter("bob", 0, 7, 100)), (std::vector<int64_t>{4, 6, 7}));
  // Whole events, as appended: the note set at 5 does not rewrite 4's note.
  EXPECT_EQ(window.EventsAfter("bob", 3, 4, 100), std::vector<Event>{events[3]});
  EXPECT_EQ(window.EventsAfter("bob", 3, 4, 100).front().note, "lunch");

  EXPECT_EQ(SeqsOf(window.EventsAfter("alice", 3, 7, 100)), (std::vector<int64_t>{4, 6}));
  EXPECT_EQ(SeqsOf(window.EventsAfter("alice", 2, 7, 100)), (std::vector<int64_t>{3, 4, 6}));
  EXPECT_EQ(SeqsOf(window.EventsAfter("alice", 0, 4, 100)), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(SeqsOf(window.EventsAfter("alice", 0, 3, 100)), (std::vector<int64_t>{3}));
  EXPECT_TRUE(window.EventsAfter("alice", 0, 2, 100).empty());
  EXPECT_EQ(SeqsOf(window.EventsAfter("alice", 0, 1000, 100)), (std::vector<int64_t>{3, 4, 6}));
  EXPECT_EQ(SeqsOf(window.EventsAfter("alice", 0, 7, 1)), (std::vector<int64_t>{3}));
  EXPECT_EQ(SeqsOf(window.EventsAfter("alice", 0, 7, 2)), (std::vector<int64_t>{3, 4}));
  // The skipped open does not use up the limit.
  EXPECT_EQ(SeqsOf(window.EventsAfter("bob", 0, 7, 1)), (std::vector<int64_t>{4}));
  EXPECT_TRUE(window.EventsAfter("alice", 0, 7, 0).empty());
  EXPECT_TRUE(window.EventsAfter("alice", 6, 7, 100).empty());
  EXPECT_TRUE(window.EventsAfter("alice", 7, 100, 100).empty());
  EXPECT_TRUE(window.EventsAfter("alice", 5, 3, 100).empty());  // until < after.
  EXPECT_TRUE(window.EventsAfter("carol", 0, 7, 100).empty());
}

TEST(EventWindowTest, EvictsTheOldestBeyondTheEventCount) {
  EventWindow window({3, size_t{1} << 40}, 0);
  const std::vector<Event> events = SmallLedger();
  window.Append(absl::MakeConstSpan(events).subspan(0, 5));  // One batch over the limit.
  EXPECT_EQ(window.size(), 3u);
  EXPECT_EQ(window.first_seq(), 3);
  EXPECT_EQ(window.applied_seq(), 5);
  EXPECT_TRUE(window.Covers(2));
  EXPECT_FALSE(window.Covers(1));

  window.Append(absl::MakeConstSpan(events).subspan(5, 1));
  window.Append(absl::MakeConstSpan(events).subspan(6, 1));
  EXPECT_EQ(window.size(), 3u);
  EXPECT_EQ(window.first_seq(), 5);
  EXPECT_EQ(window.applied_seq(), 7);
  EXPECT_EQ(SeqsOf(window.EventsAfter("alice", 4, 7, 100)), (std::vector<int64_t>{6}));
  EXPECT_EQ(SeqsOf(window.EventsAfter("bob", 4, 7, 100)), (std::vector<int64_t>{6, 7}));
  EXPECT_EQ(window.bytes(), BytesOf({events.begin() + 4, events.end()}));
}

TEST(EventWindowTest, EvictsTheOldestBeyondTheByteLimitAndCountsExactly) {
  const std::vector<Event> events = SmallLedger();
  const size_t last_three = BytesOf({events.begin() + 4, events.end()});
  const size_t last_four = BytesOf({events.begin() + 3, events.end()});
  ASSERT_LT(last_three, last_four);

  EventWindow window({100, last_three}, 0);
  window.Append(events);
  EXPECT_EQ(window.first_seq(), 5);
  EXPECT_EQ(window.size(), 3u);
  // What eviction subtracted is what appending added: the window holds what
  // a window given only those three holds.
  EXPECT_EQ(window.bytes(), last_three);

  EventWindow just_under({100, last_three - 1}, 0);
  just_under.Append(events);
  EXPECT_EQ(just_under.first_seq(), 6);
  EXPECT_LE(just_under.bytes(), last_three - 1);
}

TEST(EventWindowTest, KeepsTheLatestEventHoweverLarge) {
  EventWindow window({5, 1}, 0);
  std::vector<Event> events = SmallLedger();
  events[5].note = std::string(10000, 'n');
  for (size_t i = 0; i < events.size(); ++i) {
    window.Append(absl::MakeConstSpan(events).subspan(i, 1));
    EXPECT_EQ(window.size(), 1u);
    EXPECT_EQ(window.first_seq(), events[i].seq);
    EXPECT_GT(window.bytes(), 1u);
  }
  EXPECT_EQ(window.bytes(), BytesOf({events.back()}));
  EXPECT_TRUE(window.Covers(6));
  EXPECT_FALSE(window.Covers(5));
  EXPECT_EQ(window.LatestBalanceAfter("bob", 6), 32);
  EXPECT_EQ(window.EventsAfter("bob", 6, 7, 10), std::vector<Event>{events.back()});

  // A batch much larger than the limits keeps only its last event.
  EventWindow batch({5, 1}, 0);
  batch.Append(events);
  EXPECT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch.first_seq(), 7);

  // An event above the byte limit on its own is held, then evicted as soon
  // as a newer one arrives.
  EventWindow large({5, BytesOf({events[4], events[5]}) - 1}, 0);
  large.Append(absl::MakeConstSpan(events).subspan(0, 6));
  EXPECT_EQ(large.first_seq(), 6);
  large.Append(absl::MakeConstSpan(events).subspan(6, 1));
  EXPECT_EQ(large.first_seq(), 7);
  EXPECT_EQ(large.bytes(), BytesOf({events.back()}));
}

TEST(EventWindowTest, ForgetsUsersWhoseEventsWereAllEvicted) {
  const std::vector<Event> events = {
      Opened(1, "alice"),
      Minted(2, "alice", 10, 10),
      Opened(3, "bob"),
      Minted(4, "bob", 5, 5),
      Opened(5, "a-user-name-too-long-to-be-stored-inline"),
  };
  EventWindow window({2, size_t{1} << 40}, 0);
  window.Append(absl::MakeConstSpan(events).subspan(0, 3));
  EXPECT_EQ(window.first_seq(), 2);
  EXPECT_EQ(window.LatestBalanceAfter("alice", 1), 10);
  EXPECT_EQ(SeqsOf(window.EventsAfter("alice", 1, 3, 10)), (std::vector<int64_t>{2}));

  window.Append(absl::MakeConstSpan(events).subspan(3, 2));
  EXPECT_EQ(window.first_seq(), 4);
  EXPECT_EQ(window.LatestBalanceAfter("alice", 3), std::nullopt);
  EXPECT_TRUE(window.EventsAfter("alice", 3, 5, 10).empty());
  EXPECT_EQ(window.LatestBalanceAfter("bob", 3), 5);
  EXPECT_EQ(window.LatestBalanceAfter("a-user-name-too-long-to-be-stored-inline", 3), 0);
  // alice's index entry went with her events: the window holds what a
  // window given only 4 and 5 holds, not one byte more.
  EXPECT_EQ(window.bytes(), BytesOf({events[3], events[4]}));
}

TEST(EventWindowTest, ResetForgetsEverything) {
  EventWindow window(kRoomy, 0);
  window.Append(SmallLedger());
  window.Reset(100);
  EXPECT_EQ(window.size(), 0u);
  EXPECT_EQ(window.bytes(), 0u);
  EXPECT_EQ(window.applied_seq(), 100);
  EXPECT_EQ(window.first_seq(), 101);
  EXPECT_TRUE(window.Covers(100));
  EXPECT_FALSE(window.Covers(99));
  EXPECT_EQ(window.LatestBalanceAfter("alice", 100), std::nullopt);
  EXPECT_TRUE(window.EventsAfter("bob", 100, 200, 10).empty());

  const std::vector<Event> next = {Transferred(101, "bob", "alice", 1, 31, 76)};
  window.Append(next);
  EXPECT_EQ(window.LatestBalanceAfter("alice", 100), 76);
  EXPECT_EQ(window.EventsAfter("bob", 100, 101, 10), next);
  EXPECT_EQ(window.bytes(), BytesOf(next));

  window.Reset(0);  // Back to an earlier position.
  EXPECT_EQ(window.applied_seq(), 0);
  EXPECT_EQ(window.bytes(), 0u);
  EXPECT_EQ(window.LatestBalanceAfter("alice", 0), std::nullopt);
  window.Append(SmallLedger());
  EXPECT_EQ(window.LatestBalanceAfter("alice", 0), 75);
}

TEST(EventWindowDeathTest, RefusesWhatBreaksItsPreconditions) {
  EXPECT_DEATH((EventWindow({0, 1}, 0)), "room for an event");
  EXPECT_DEATH((EventWindow({1, 0}, 0)), "room for an event");
  EXPECT_DEATH((EventWindow({1, 1}, -1)), "seqs start at 1");

  EventWindow window(kRoomy, 10);
  const std::vector<Event> gap = {Opened(12, "alice")};
  EXPECT_DEATH(window.Append(gap), "gapless");
  const std::vector<Event> replay = {Opened(10, "alice")};
  EXPECT_DEATH(window.Append(replay), "gapless");
  const std::vector<Event> inner_gap = {Opened(11, "alice"), Opened(13, "bob")};
  EXPECT_DEATH(window.Append(inner_gap), "gapless");
  EXPECT_DEATH(window.Append({}), "not empty");
  const std::vector<Event> self = {Transferred(11, "alice", "alice", 1, 0, 0)};
  EXPECT_DEATH(window.Append(self), "two accounts");

  EventWindow evicting({1, size_t{1} << 40}, 0);
  evicting.Append(SmallLedger());
  EXPECT_DEATH(evicting.EventsAfter("alice", 5, 7, 10), "every event after");
  EXPECT_DEATH(evicting.LatestBalanceAfter("alice", 0), "every event after");
}

// The window against the Ledger it stands in for: after the same committed
// events, EventsAfter answers as Ledger::EventsAfter for every user and
// every `after` the window covers, and LatestBalanceAfter(user, 0) of a
// window holding everything is the ledger's balance.
TEST(EventWindowTest, AnswersAsTheLedgerDoes) {
  auto log = std::make_unique<MemoryEventLog>();
  Ledger::Options options;
  options.clock_ms = [] { return int64_t{1795705445123}; };
  absl::StatusOr<std::unique_ptr<Ledger>> opened = Ledger::Open(std::move(log), options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Ledger& ledger = **opened;

  const std::vector<std::string> users = {"ann", "ben", "cat", "dan", "eve"};
  std::vector<Event> events;
  auto run = [&](Command command) {
    absl::StatusOr<CommandResult> result = ledger.Submit(std::move(command)).get();
    ASSERT_TRUE(result.ok()) << result.status();
    events.push_back(result->event);
  };
  std::mt19937_64 random(7);
  for (const std::string& user : users) {
    run(OpenAccountCommand{"admin", user});
    run(MintCommand{"admin", user, AmountField::Integer(1000), "", ""});
  }
  std::vector<std::pair<std::string, std::string>> transfers;  // (transaction_id, a party)
  for (int i = 0; i < 200; ++i) {
    const size_t from = random() % users.size();
    const size_t to = (from + 1 + random() % (users.size() - 1)) % users.size();
    const int kind = static_cast<int>(random() % 10);
    if (kind == 0) {
      run(MintCommand{"admin", users[to], AmountField::Integer(1 + random() % 50), "", ""});
    } else if (kind == 1 && !transfers.empty()) {
      const auto& [transaction_id, party] = transfers[random() % transfers.size()];
      run(SetNoteCommand{party, transaction_id, absl::StrCat("note ", i)});
    } else {
      // At most 5 a transfer: 200 of them cannot overdraw a balance of 1000.
      const std::string transaction_id = absl::StrCat("t", i);
      run(TransferCommand{users[from], users[to], AmountField::Integer(1 + random() % 5), "",
                          transaction_id});
      transfers.emplace_back(transaction_id, users[random() % 2 == 0 ? from : to]);
    }
    if (::testing::Test::HasFatalFailure()) return;
  }
  ASSERT_EQ(events.back().seq, ledger.LastSeq());

  EventWindow whole(kRoomy, 0);
  EventWindow recent({60, size_t{1} << 40}, 0);
  whole.Append(events);
  recent.Append(events);
  for (const std::string& user : users) {
    EXPECT_EQ(whole.LatestBalanceAfter(user, 0), *ledger.Balance(user)) << user;
    EXPECT_EQ(recent.LatestBalanceAfter(user, recent.first_seq() - 1), *ledger.Balance(user))
        << user;
    for (const EventWindow* window : {&whole, &recent}) {
      for (int64_t after = window->first_seq() - 1; after <= ledger.LastSeq(); ++after) {
        for (const auto& [until, limit] : std::vector<std::pair<int64_t, size_t>>{
                 {ledger.LastSeq(), 1000}, {ledger.LastSeq(), 3}, {after + 15, 1000}, {after, 5}}) {
          absl::StatusOr<std::vector<Event>> expected =
              ledger.EventsAfter(user, after, until, limit);
          ASSERT_TRUE(expected.ok()) << expected.status();
          ASSERT_EQ(window->EventsAfter(user, after, until, limit), *expected)
              << user << " after " << after << " until " << until << " limit " << limit;
        }
      }
    }
  }
}

// The reference the randomized test checks the window against: every event
// since the last Reset, searched by brute force.
class Reference {
 public:
  void Reset() { events_.clear(); }
  void Add(const Event& event) { events_.push_back(event); }

  // `user`'s transfers and mints with after < seq <= until, at most limit.
  std::vector<Event> EventsAfter(const std::string& user, int64_t after, int64_t until,
                                 size_t limit) const {
    std::vector<Event> found;
    for (const Event& event : events_) {
      if (found.size() >= limit || event.seq > until) break;
      if (event.seq <= after) continue;
      const bool transfer = event.type == EventType::kTokensTransferred &&
                            (event.from_account == user || event.to_account == user);
      const bool mint = event.type == EventType::kTokensMinted && event.to_account == user;
      if (transfer || mint) found.push_back(event);
    }
    return found;
  }

  std::optional<int64_t> LatestBalanceAfter(const std::string& user, int64_t after) const {
    for (auto it = events_.rbegin(); it != events_.rend() && it->seq > after; ++it) {
      switch (it->type) {
        case EventType::kTokensTransferred:
          if (it->from_account == user) return it->from_balance;
          if (it->to_account == user) return it->to_balance;
          break;
        case EventType::kTokensMinted:
        case EventType::kAccountOpened:
          if (it->to_account == user) return it->to_balance;
          break;
        case EventType::kTransactionNoteSet:
          break;
      }
    }
    return std::nullopt;
  }

  // The events with first <= seq, for rebuilding a window of them.
  std::vector<Event> From(int64_t first) const {
    std::vector<Event> from;
    for (const Event& event : events_) {
      if (event.seq >= first) from.push_back(event);
    }
    return from;
  }

 private:
  std::vector<Event> events_;
};

// Plausible random events over eight users: each is opened before it is
// used, balances follow the amounts, a note is set by a party of an earlier
// transfer. Strings vary in length so the byte limit bites unevenly.
class EventSource {
 public:
  explicit EventSource(uint64_t seed) : random_(seed) {}

  Event Next(int64_t seq) {
    std::vector<size_t> open;
    for (size_t i = 0; i < kUsers; ++i) {
      if (balances_[i]) open.push_back(i);
    }
    const int kind = static_cast<int>(random_() % 20);
    if (open.empty() || (open.size() < kUsers && kind == 0)) {
      size_t user = random_() % kUsers;
      while (balances_[user]) user = (user + 1) % kUsers;
      balances_[user] = 0;
      return Opened(seq, Name(user));
    }
    const size_t to = open[random_() % open.size()];
    if (kind <= 3 || open.size() < 2) {
      const int64_t amount = 1 + static_cast<int64_t>(random_() % 100);
      *balances_[to] += amount;
      return Minted(seq, Name(to), amount, *balances_[to], absl::StrCat("m", seq),
                    std::string(random_() % 40, 'r'));
    }
    if (kind <= 5 && !transfers_.empty()) {
      const auto& [transfer_id, party] = transfers_[random_() % transfers_.size()];
      return NoteSet(seq, Name(party), transfer_id, std::string(random_() % 60, 'n'));
    }
    size_t from = open[random_() % open.size()];
    while (from == to) from = open[random_() % open.size()];
    const int64_t amount = std::min<int64_t>(*balances_[from], 1 + random_() % 30);
    if (amount == 0) {  // Nothing to send: mint to the sender instead.
      *balances_[from] += 10;
      return Minted(seq, Name(from), 10, *balances_[from]);
    }
    *balances_[from] -= amount;
    *balances_[to] += amount;
    const std::string transfer_id = absl::StrCat("t", seq);
    transfers_.emplace_back(transfer_id, random_() % 2 == 0 ? from : to);
    return Transferred(seq, Name(from), Name(to), amount, *balances_[from], *balances_[to],
                       transfer_id, std::string(random_() % 80, 'x'));
  }

  static constexpr size_t kUsers = 8;
  // Short names fit in a std::string; long ones take a heap block.
  static std::string Name(size_t user) {
    return user % 2 == 0 ? absl::StrCat("u", user)
                         : absl::StrCat("user-with-a-long-enough-name-", user);
  }

 private:
  std::mt19937_64 random_;
  std::optional<int64_t> balances_[kUsers];  // nullopt: not opened.
  std::vector<std::pair<std::string, size_t>> transfers_;
};

TEST(EventWindowTest, RandomizedAgainstBruteForce) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    std::mt19937_64 random(seed * 7919);
    EventSource source(seed);
    const EventWindow::Limits limits = {1 + random() % 40, 400 + random() % 40000};
    int64_t applied = static_cast<int64_t>(random() % 3) * 1000;
    EventWindow window(limits, applied);
    Reference reference;
    for (int batch_number = 0; batch_number < 600; ++batch_number) {
      if (random() % 200 == 0) {  // A restart from another stream position.
        applied = static_cast<int64_t>(random() % 5000);
        window.Reset(applied);
        reference.Reset();
        ASSERT_EQ(window.size(), 0u);
        ASSERT_EQ(window.bytes(), 0u);
      }
      std::vector<Event> batch;
      const size_t batch_size = 1 + random() % 8;
      for (size_t i = 0; i < batch_size; ++i) batch.push_back(source.Next(++applied));
      window.Append(batch);
      for (const Event& event : batch) reference.Add(event);

      ASSERT_EQ(window.applied_seq(), applied);
      ASSERT_GE(window.size(), 1u);
      ASSERT_EQ(window.first_seq() + static_cast<int64_t>(window.size()) - 1, applied);
      ASSERT_TRUE(window.size() == 1 ||
                  (window.size() <= limits.events_max && window.bytes() <= limits.bytes_max));
      ASSERT_TRUE(window.Covers(window.first_seq() - 1));
      ASSERT_FALSE(window.Covers(window.first_seq() - 2));
      // Exact accounting, and no eviction beyond what the limits demand:
      // holding one more event would break a limit.
      const std::vector<Event> held = reference.From(window.first_seq());
      ASSERT_EQ(window.bytes(), BytesOf(held));
      const std::vector<Event> one_more = reference.From(window.first_seq() - 1);
      if (one_more.size() > held.size()) {
        ASSERT_TRUE(one_more.size() > limits.events_max || BytesOf(one_more) > limits.bytes_max);
      }

      for (int query = 0; query < 6; ++query) {
        const std::string user = random() % 9 == 0
                                     ? std::string("nobody")
                                     : EventSource::Name(random() % EventSource::kUsers);
        const int64_t after =
            window.first_seq() - 1 + static_cast<int64_t>(random() % (window.size() + 3));
        const int64_t until = after - 2 + static_cast<int64_t>(random() % (window.size() + 5));
        const size_t limit = random() % 7;
        ASSERT_EQ(window.EventsAfter(user, after, until, limit),
                  reference.EventsAfter(user, after, until, limit))
            << user << " after " << after << " until " << until << " limit " << limit;
        ASSERT_EQ(window.LatestBalanceAfter(user, after), reference.LatestBalanceAfter(user, after))
            << user << " after " << after;
      }
    }
  }
}

}  // namespace
}  // namespace sbd
