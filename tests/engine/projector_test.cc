#include "engine/projector.h"

#include <cstdint>
#include <vector>

#include "engine/huge_page_allocator.h"
#include "gtest/gtest.h"
#include "tests/support/event_builders.h"

namespace sbd {
namespace {

using ::sbd::testing::Minted;
using ::sbd::testing::Opened;
using ::sbd::testing::Transferred;

class ProjectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(projector_.Apply(Opened(1, "alice")).ok());
    ASSERT_TRUE(projector_.Apply(Opened(2, "bob")).ok());
    ASSERT_TRUE(projector_.Apply(Minted(3, "alice", 100, 100, "m1")).ok());
  }
  Projector projector_;
};

TEST_F(ProjectorTest, FoldsBalancesHistoryAndTransactions) {
  ASSERT_TRUE(projector_.Apply(Transferred(4, "alice", "bob", 30, 70, 30, "t1")).ok());
  EXPECT_EQ(projector_.last_seq(), 4);
  EXPECT_EQ(projector_.Balance("alice"), 70);
  EXPECT_EQ(projector_.Balance("bob"), 30);
  EXPECT_EQ(projector_.Balance("carol"), std::nullopt);
  EXPECT_EQ(projector_.total_minted(), 100);
  EXPECT_EQ(projector_.total_balance(), 100);
  EXPECT_EQ(std::vector<int64_t>(projector_.AccountSeqs("alice").begin(),
                                 projector_.AccountSeqs("alice").end()),
            (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(projector_.AccountSeqs("bob").size(), 1u);
  EXPECT_EQ(projector_.SeqOfTransaction("t1"), 4);
  EXPECT_EQ(projector_.SeqOfTransaction("m1"), 3);
  EXPECT_EQ(projector_.SeqOfTransaction("nope"), std::nullopt);
}

TEST_F(ProjectorTest, NoteOverridesArePerAccount) {
  ASSERT_TRUE(projector_.Apply(Transferred(4, "alice", "bob", 30, 70, 30, "t1")).ok());
  Event note;
  note.seq = 5;
  note.type = EventType::kTransactionNoteSet;
  note.actor = "bob";
  note.transaction_id = "t1";
  note.note = "rent";
  ASSERT_TRUE(projector_.Apply(note).ok());
  EXPECT_EQ(projector_.NoteOverride(4, "bob"), "rent");
  EXPECT_EQ(projector_.NoteOverride(4, "alice"), std::nullopt);
}

// Each contradiction is refused with kDataLoss naming the seq, and leaves the
// projection exactly as it was.
TEST_F(ProjectorTest, RefusesContradictionsAndChangesNothing) {
  std::vector<Event> bad = {
      Opened(5, "alice"),                                      // Seq gap.
      Opened(4, "alice"),                                      // Opened twice.
      Minted(4, "carol", 1, 1, "m2"),                          // Unknown account.
      Minted(4, "alice", 1, 999, "m2"),                        // Wrong recorded balance.
      Minted(4, "alice", 0, 100, "m2"),                        // Amount 0.
      Minted(4, "alice", kAmountMax, kAmountMax + 100, "m2"),  // Above 2^53-1.
      Minted(4, "alice", 1, 101, "m1"),                        // Reused transaction_id.
      Transferred(4, "alice", "bob", 101, -1, 101, "t1"),      // Negative balance.
      Transferred(4, "alice", "alice", 1, 100, 100, "t1"),     // Self transfer.
      Transferred(4, "alice", "bob", 10, 90, 11, "t1"),        // Wrong recorded balance.
      Transferred(4, "alice", "zed", 10, 90, 10, "t1"),        // Unknown recipient.
  };
  for (const Event& event : bad) {
    absl::Status status = projector_.Apply(event);
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
    EXPECT_NE(status.message().find("seq " + std::to_string(event.seq)), std::string::npos)
        << status;
  }
  EXPECT_EQ(projector_.last_seq(), 3);
  EXPECT_EQ(projector_.Balance("alice"), 100);
  EXPECT_EQ(projector_.Balance("bob"), 0);
  EXPECT_EQ(projector_.total_balance(), 100);
  EXPECT_EQ(projector_.AccountSeqs("alice").size(), 1u);
}

TEST_F(ProjectorTest, NoteByANonPartyIsAContradiction) {
  ASSERT_TRUE(projector_.Apply(Opened(4, "carol")).ok());
  ASSERT_TRUE(projector_.Apply(Transferred(5, "alice", "bob", 30, 70, 30, "t1")).ok());
  Event note;
  note.seq = 6;
  note.type = EventType::kTransactionNoteSet;
  note.actor = "carol";
  note.transaction_id = "t1";
  EXPECT_EQ(projector_.Apply(note).code(), absl::StatusCode::kDataLoss);
  note.transaction_id = "unknown";
  note.actor = "alice";
  EXPECT_EQ(projector_.Apply(note).code(), absl::StatusCode::kDataLoss);
}

TEST(Projector, TotalsDoNotOverflowAtTheCap) {
  Projector projector;
  int64_t seq = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string name = "u" + std::to_string(i);
    ASSERT_TRUE(projector.Apply(Opened(++seq, name)).ok());
    ASSERT_TRUE(
        projector.Apply(Minted(++seq, name, kAmountMax, kAmountMax, "m" + std::to_string(i))).ok());
  }
  EXPECT_EQ(projector.total_minted(), absl::int128(kAmountMax) * 2000);
  EXPECT_EQ(projector.total_balance(), projector.total_minted());
}

// Names of varied lengths in one buffer and the ids that index them, through
// several rehashes of both indexes (the default reserve is 1024 accounts), and
// seq lists from one inline seq to thousands.
TEST(Projector, LookupsHoldAcrossIndexGrowth) {
  Projector projector;
  constexpr int kAccounts = 5000;
  auto name_of = [](int i) { return std::string(1 + i % 7, 'a' + i % 26) + std::to_string(i); };
  int64_t seq = 0;
  for (int i = 0; i < kAccounts; ++i) {
    ASSERT_TRUE(projector.Apply(Opened(++seq, name_of(i))).ok());
    ASSERT_TRUE(
        projector.Apply(Minted(++seq, name_of(i), i + 1, i + 1, "m" + std::to_string(i))).ok());
  }
  for (int i = 1; i < kAccounts; ++i) {
    ASSERT_TRUE(
        projector
            .Apply(Transferred(++seq, name_of(i), name_of(0), 1, i, 1 + i, "t" + std::to_string(i)))
            .ok());
  }
  EXPECT_EQ(projector.account_count(), size_t{kAccounts});
  for (int i = 1; i < kAccounts; ++i) {
    EXPECT_EQ(projector.Balance(name_of(i)), i);
    EXPECT_EQ(projector.SeqOfTransaction("m" + std::to_string(i)), 2 * i + 2);
    EXPECT_EQ(std::vector<int64_t>(projector.AccountSeqs(name_of(i)).begin(),
                                   projector.AccountSeqs(name_of(i)).end()),
              (std::vector<int64_t>{2 * i + 2, 2 * kAccounts + i}));
  }
  // One account touched by every transfer: its seqs outgrow the inline one
  // and double many times over.
  std::vector<int64_t> expected = {2};
  for (int i = 1; i < kAccounts; ++i) expected.push_back(2 * kAccounts + i);
  EXPECT_EQ(std::vector<int64_t>(projector.AccountSeqs(name_of(0)).begin(),
                                 projector.AccountSeqs(name_of(0)).end()),
            expected);
  EXPECT_FALSE(projector.HasAccount(name_of(kAccounts)));
  EXPECT_FALSE(projector.Apply(Minted(++seq, name_of(1), 1, 2, "t1")).ok());  // Reused id.
  size_t visited = 0;
  projector.ForEachAccount([&](std::string_view name, int64_t balance) {
    EXPECT_EQ(projector.Balance(name), balance);
    ++visited;
  });
  EXPECT_EQ(visited, size_t{kAccounts});
}

// Below 2 MiB std::allocator's blocks; from 2 MiB on, 2 MiB-aligned ones.
// Both must hold what is written and be freed by the matching path (the
// ASan build checks the latter).
TEST(HugePageAllocator, SmallAndHugeBlocksWorkAlike) {
  for (size_t count : {size_t{100}, size_t{3} << 20}) {
    std::vector<uint64_t, HugePageAllocator<uint64_t>> values(count);
    for (size_t i = 0; i < count; ++i) values[i] = i * 3;
    if (count * sizeof(uint64_t) >= (size_t{2} << 20)) {
      EXPECT_EQ(reinterpret_cast<uintptr_t>(values.data()) % (uintptr_t{2} << 20), 0u);
    }
    values.resize(count * 2);  // Reallocates: copies, frees the old block.
    EXPECT_EQ(values[count - 1], (count - 1) * 3);
  }
}

}  // namespace
}  // namespace sbd
