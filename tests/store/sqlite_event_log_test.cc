#include "store/sqlite_event_log.h"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/event_hash.h"
#include "tests/store/test_ledger.h"
#include "tests/support/files.h"
#include "tests/support/temp_dir.h"

namespace sbd {
namespace {

using ::sbd::testing::ReadWholeFile;
using ::sbd::testing::TempDir;
using ::sbd::testing::TestLedger;
using ::testing::HasSubstr;

class SqliteEventLogTest : public ::testing::Test {
 protected:
  void SetUp() override { path_ = (dir_ / "ledger.db").string(); }

  std::unique_ptr<SqliteEventLog> OpenLog(SqliteEventLog::Options options = {}) {
    auto log = SqliteEventLog::Open(path_, options);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? std::move(*log) : nullptr;
  }

  std::vector<Event> ReadAll(const EventLog& log, int64_t from = 1, int64_t to = INT64_MAX) {
    std::vector<Event> events;
    absl::Status status = log.Read(from, to, [&](const Event& event) {
      events.push_back(event);
      return absl::OkStatus();
    });
    EXPECT_TRUE(status.ok()) << status;
    return events;
  }

  // A few accounts, mints, transfers with and without notes, and a note.
  static TestLedger SampleLedger(int transfers) {
    TestLedger ledger;
    ledger.Open("alice");
    ledger.Open("bob");
    ledger.Mint("alice", 1000, "welcome");
    for (int i = 0; i < transfers; ++i) {
      ledger.Transfer(i % 2 ? "bob" : "alice", i % 2 ? "alice" : "bob", 1 + i % 7,
                      i % 3 ? "" : "lunch");
    }
    ledger.SetNote("alice", "tx-4", "my note");
    return ledger;
  }

  const TempDir temp_dir_{"sbd-store-test"};
  const std::filesystem::path dir_{temp_dir_.path()};
  std::string path_;
};

TEST_F(SqliteEventLogTest, CreatesAnEmptyLogWithHeaderAndWal) {
  auto log = OpenLog();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->LastSeq(), 0);
  EXPECT_TRUE(ReadAll(*log).empty());
  SQLite::Database raw(path_, SQLite::OPEN_READONLY);
  EXPECT_EQ(raw.execAndGet("PRAGMA application_id").getInt(), SqliteEventLog::kApplicationId);
  EXPECT_EQ(raw.execAndGet("PRAGMA user_version").getInt(), SqliteEventLog::kSchemaVersion);
  EXPECT_EQ(raw.execAndGet("PRAGMA journal_mode").getString(), "wal");
  // The only index is the rowid: no secondary index slows the append path.
  EXPECT_EQ(raw.execAndGet("SELECT count(*) FROM sqlite_schema WHERE type = 'index'").getInt(), 0);
}

TEST_F(SqliteEventLogTest, AppendThenReadRoundTripsEveryField) {
  TestLedger ledger = SampleLedger(10);
  auto log = OpenLog();
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append(ledger.events()).ok());
  EXPECT_EQ(log->LastSeq(), static_cast<int64_t>(ledger.events().size()));
  EXPECT_EQ(ReadAll(*log), ledger.events());
}

TEST_F(SqliteEventLogTest, AReasonRoundTripsAndIsPartOfTheChain) {
  TestLedger ledger = SampleLedger(2);
  ledger.ServiceTransfer("shop-service", "alice", "bob", 7, "order 1234", "a book");
  ledger.Transfer("bob", "alice", 1);
  {
    auto log = OpenLog();
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(log->Append(ledger.events()).ok());
    EXPECT_EQ(ReadAll(*log), ledger.events());
  }
  const int64_t seq = ledger.events()[ledger.events().size() - 2].seq;
  {
    SQLite::Database raw(path_, SQLite::OPEN_READONLY);
    SQLite::Statement row(raw, "SELECT actor, note, reason FROM events WHERE seq = ?");
    row.bind(1, seq);
    ASSERT_TRUE(row.executeStep());
    EXPECT_EQ(row.getColumn(0).getString(), "shop-service");
    EXPECT_EQ(row.getColumn(1).getString(), "a book");
    EXPECT_EQ(row.getColumn(2).getString(), "order 1234");
  }
  // The reason is hashed: an edited reason breaks the chain at its seq.
  {
    SQLite::Database raw(path_, SQLite::OPEN_READWRITE);
    raw.exec("DROP TRIGGER events_no_update");
    raw.exec(absl::StrCat("UPDATE events SET reason = 'order 9999' WHERE seq = ", seq));
  }
  auto log = OpenLog({.read_only = true});
  ASSERT_NE(log, nullptr);
  absl::Status status = log->Read(1, INT64_MAX, [](const Event&) { return absl::OkStatus(); });
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(status.message(), HasSubstr(absl::StrCat("hash chain broken at seq ", seq)));
}

TEST_F(SqliteEventLogTest, AppendsInSeveralBatchesAndAcrossReopen) {
  TestLedger ledger = SampleLedger(20);
  const std::vector<Event>& events = ledger.events();
  {
    auto log = OpenLog();
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(log->Append(absl::MakeConstSpan(events).subspan(0, 5)).ok());
    ASSERT_TRUE(log->Append(absl::MakeConstSpan(events).subspan(5, 5)).ok());
    ASSERT_TRUE(log->Append({}).ok());
    EXPECT_EQ(log->LastSeq(), 10);
  }
  auto log = OpenLog();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->LastSeq(), 10);
  ASSERT_TRUE(log->Append(absl::MakeConstSpan(events).subspan(10)).ok());
  EXPECT_EQ(ReadAll(*log), events);  // Verifies the chain across the reopen.
}

TEST_F(SqliteEventLogTest, ReadStreamsARangeInOrder) {
  TestLedger ledger = SampleLedger(10);
  auto log = OpenLog();
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append(ledger.events()).ok());
  const std::vector<Event>& events = ledger.events();
  EXPECT_EQ(ReadAll(*log, 3, 5), std::vector<Event>(events.begin() + 2, events.begin() + 5));
  EXPECT_EQ(ReadAll(*log, -5, 2), std::vector<Event>(events.begin(), events.begin() + 2));
  EXPECT_EQ(ReadAll(*log, 14, 100), std::vector<Event>(events.begin() + 13, events.end()));
  EXPECT_TRUE(ReadAll(*log, 15, 100).empty());
  EXPECT_TRUE(ReadAll(*log, 100, 200).empty());
  EXPECT_TRUE(ReadAll(*log, 5, 4).empty());
}

TEST_F(SqliteEventLogTest, VisitErrorStopsTheReadAndIsReturned) {
  TestLedger ledger = SampleLedger(10);
  auto log = OpenLog();
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append(ledger.events()).ok());
  int visited = 0;
  absl::Status status = log->Read(1, 100, [&](const Event& event) {
    ++visited;
    return event.seq == 4 ? absl::CancelledError("enough") : absl::OkStatus();
  });
  EXPECT_EQ(status, absl::CancelledError("enough"));
  EXPECT_EQ(visited, 4);
  // The pooled connection was released in a usable state.
  EXPECT_EQ(ReadAll(*log).size(), ledger.events().size());
}

// Long reads step SQLite on a second thread (kPipelinedReadEventsMin); short
// ones do not. Both must give the same events, and a stop or a break deep
// inside a long read must surface at the right seq.
TEST_F(SqliteEventLogTest, LongAndShortReadsAgreeAcrossChunks) {
  TestLedger ledger = SampleLedger(9000);
  auto log = OpenLog();
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append(ledger.events()).ok());
  const std::vector<Event> whole = ReadAll(*log);  // Pipelined.
  ASSERT_EQ(whole, ledger.events());
  std::vector<Event> pieces;
  for (int64_t from = 1; from <= log->LastSeq(); from += 1000) {
    std::vector<Event> piece = ReadAll(*log, from, from + 999);  // Inline.
    pieces.insert(pieces.end(), piece.begin(), piece.end());
  }
  EXPECT_EQ(pieces, whole);

  int64_t visited = 0;
  absl::Status stopped = log->Read(1, INT64_MAX, [&](const Event& event) {
    ++visited;
    return event.seq == 5555 ? absl::CancelledError("enough") : absl::OkStatus();
  });
  EXPECT_EQ(stopped.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(visited, 5555);

  log.reset();
  {
    SQLite::Database raw(path_, SQLite::OPEN_READWRITE);
    raw.exec("DROP TRIGGER events_no_update");
    raw.exec("UPDATE events SET note = 'forged' WHERE seq = 7777");
  }
  log = OpenLog({.read_only = true});
  ASSERT_NE(log, nullptr);
  visited = 0;
  absl::Status broken = log->Read(1, INT64_MAX, [&](const Event&) {
    ++visited;
    return absl::OkStatus();
  });
  EXPECT_EQ(broken.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(broken.message(), HasSubstr("hash chain broken at seq 7777"));
  EXPECT_EQ(visited, 7776);
}

TEST_F(SqliteEventLogTest, ReadSeqsReturnsTheGivenSeqsInTheGivenOrder) {
  TestLedger ledger = SampleLedger(10);
  auto log = OpenLog();
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append(ledger.events()).ok());
  const std::vector<int64_t> seqs = {7, 1, 14, 7};
  auto events = log->ReadSeqs(seqs);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 4u);
  for (size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ((*events)[i], ledger.events()[seqs[i] - 1]);
  EXPECT_TRUE(log->ReadSeqs({})->empty());

  const std::vector<int64_t> missing = {2, 15};
  auto not_found = log->ReadSeqs(missing);
  EXPECT_EQ(not_found.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(not_found.status().message(), HasSubstr("seq 15"));
  const std::vector<int64_t> zero = {0};
  EXPECT_EQ(log->ReadSeqs(zero).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SqliteEventLogTest, AppendRefusesASeqThatDoesNotContinueTheLog) {
  TestLedger ledger = SampleLedger(4);
  std::vector<Event> events = ledger.events();
  auto log = OpenLog();
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append(absl::MakeConstSpan(events).subspan(0, 3)).ok());

  std::vector<Event> gap = {events[4]};
  absl::Status status = log->Append(gap);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("seq 5"));
  std::vector<Event> repeat = {events[2]};
  EXPECT_EQ(log->Append(repeat).code(), absl::StatusCode::kFailedPrecondition);
  // A gap inside a batch refuses the whole batch.
  std::vector<Event> inner_gap = {events[3], events[5]};
  EXPECT_EQ(log->Append(inner_gap).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(log->LastSeq(), 3);
  EXPECT_EQ(ReadAll(*log).size(), 3u);

  ASSERT_TRUE(log->Append(absl::MakeConstSpan(events).subspan(3)).ok());
  EXPECT_EQ(ReadAll(*log), events);
}

TEST_F(SqliteEventLogTest, AnotherWriterCannotForkTheLog) {
  TestLedger ledger = SampleLedger(4);
  const std::vector<Event>& events = ledger.events();
  auto first = OpenLog();
  auto second = OpenLog();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(first->Append(absl::MakeConstSpan(events).subspan(0, 2)).ok());
  // `second` still believes the log is empty: its seq 1 collides.
  EXPECT_FALSE(second->Append(absl::MakeConstSpan(events).subspan(0, 1)).ok());
  EXPECT_EQ(ReadAll(*first), std::vector<Event>(events.begin(), events.begin() + 2));
}

TEST_F(SqliteEventLogTest, TriggersRefuseUpdateAndDelete) {
  TestLedger ledger = SampleLedger(4);
  {
    auto log = OpenLog();
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(log->Append(ledger.events()).ok());
  }
  SQLite::Database raw(path_, SQLite::OPEN_READWRITE);
  try {
    raw.exec("UPDATE events SET amount = 999 WHERE seq = 4");
    ADD_FAILURE() << "UPDATE was not refused";
  } catch (const SQLite::Exception& error) {
    EXPECT_THAT(error.what(), HasSubstr("UPDATE refused"));
  }
  try {
    raw.exec("DELETE FROM events WHERE seq = 4");
    ADD_FAILURE() << "DELETE was not refused";
  } catch (const SQLite::Exception& error) {
    EXPECT_THAT(error.what(), HasSubstr("DELETE refused"));
  }
  EXPECT_EQ(raw.execAndGet("SELECT amount FROM events WHERE seq = 4").getInt64(),
            ledger.events()[3].amount);
  EXPECT_EQ(raw.execAndGet("SELECT count(*) FROM events").getInt64(), 8);
}

TEST_F(SqliteEventLogTest, NewerSchemaIsRefusedAndTheFileLeftUntouched) {
  {
    auto log = OpenLog();
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(log->Append(SampleLedger(2).events()).ok());
  }
  {
    SQLite::Database raw(path_, SQLite::OPEN_READWRITE);
    raw.exec("PRAGMA user_version = 3");
  }
  const std::string before = ReadWholeFile(path_);
  for (bool read_only : {false, true}) {
    auto log = SqliteEventLog::Open(path_, {.read_only = read_only});
    EXPECT_EQ(log.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(log.status().message(), HasSubstr("schema version 3, newer"));
  }
  EXPECT_EQ(ReadWholeFile(path_), before);
}

// --- Schema version 1 (before `reason`) ---

// The schema exactly as version 1 created it.
constexpr char kVersionOneSchemaSql[] = R"sql(
CREATE TABLE events (
  seq            INTEGER PRIMARY KEY,
  type           INTEGER NOT NULL CHECK (type BETWEEN 1 AND 4),
  timestamp_ms   INTEGER NOT NULL,
  actor          TEXT    NOT NULL,
  from_account   TEXT    NOT NULL,
  to_account     TEXT    NOT NULL,
  amount         INTEGER NOT NULL,
  from_balance   INTEGER NOT NULL,
  to_balance     INTEGER NOT NULL,
  transaction_id TEXT    NOT NULL,
  note           TEXT    NOT NULL,
  hash           BLOB    NOT NULL CHECK (length(hash) = 32)
) STRICT;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events is append-only: UPDATE refused'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events is append-only: DELETE refused'); END;
)sql";

// Writes `events` (none with a reason) as a version 1 build did: its
// schema, its header, its rows and its hash chain.
void WriteVersionOneLog(const std::string& path, const std::vector<Event>& events) {
  SQLite::Database raw(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  raw.exec("PRAGMA journal_mode=WAL");
  raw.exec("BEGIN IMMEDIATE");
  raw.exec(kVersionOneSchemaSql);
  raw.exec(absl::StrCat("PRAGMA application_id=", SqliteEventLog::kApplicationId));
  raw.exec("PRAGMA user_version=1");
  SQLite::Statement insert(raw,
                           "INSERT INTO events (seq, type, timestamp_ms, actor, from_account, "
                           "to_account, amount, from_balance, to_balance, transaction_id, note, "
                           "hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
  EventHash hash = kGenesisHash;
  for (const Event& event : events) {
    ASSERT_TRUE(event.reason.empty());
    hash = ChainHash(hash, event);
    insert.bind(1, event.seq);
    insert.bind(2, static_cast<int>(event.type));
    insert.bind(3, event.timestamp_ms);
    insert.bind(4, event.actor);
    insert.bind(5, event.from_account);
    insert.bind(6, event.to_account);
    insert.bind(7, event.amount);
    insert.bind(8, event.from_balance);
    insert.bind(9, event.to_balance);
    insert.bind(10, event.transaction_id);
    insert.bind(11, event.note);
    insert.bind(12, hash.data(), static_cast<int>(hash.size()));
    insert.exec();
    insert.reset();
  }
  raw.exec("COMMIT");
}

int UserVersion(const std::string& path) {
  SQLite::Database raw(path, SQLite::OPEN_READONLY);
  return raw.execAndGet("PRAGMA user_version").getInt();
}

bool HasReasonColumn(const std::string& path) {
  SQLite::Database raw(path, SQLite::OPEN_READONLY);
  return raw.execAndGet("SELECT count(*) FROM pragma_table_info('events') WHERE name = 'reason'")
             .getInt() == 1;
}

TEST_F(SqliteEventLogTest, VersionOneLogOpenedForWritingIsMigratedAndKeepsItsChain) {
  TestLedger ledger = SampleLedger(6);
  WriteVersionOneLog(path_, ledger.events());
  ASSERT_EQ(UserVersion(path_), 1);
  ASSERT_FALSE(HasReasonColumn(path_));
  const size_t old_count = ledger.events().size();
  ledger.ServiceTransfer("shop-service", "alice", "bob", 3, "refund 17");
  {
    auto log = OpenLog();
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(UserVersion(path_), SqliteEventLog::kSchemaVersion);
    EXPECT_TRUE(HasReasonColumn(path_));
    // Every version 1 row reads reason '' and its recorded hash verifies.
    EXPECT_EQ(ReadAll(*log),
              std::vector<Event>(ledger.events().begin(), ledger.events().begin() + old_count));
    // The migrated log appends on the chain the version 1 rows started.
    ASSERT_TRUE(log->Append(absl::MakeConstSpan(ledger.events()).subspan(old_count)).ok());
    EXPECT_EQ(ReadAll(*log), ledger.events());
  }
  // Reopened (no second migration), for writing and read-only.
  auto again = OpenLog();
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(ReadAll(*again), ledger.events());
  auto reader = OpenLog({.read_only = true});
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(ReadAll(*reader), ledger.events());
  EXPECT_EQ(reader->ReadSeqs({static_cast<int64_t>(old_count + 1)})->front().reason, "refund 17");
}

TEST_F(SqliteEventLogTest, VersionOneLogOpenedReadOnlyIsReadAsItIsAndLeftUntouched) {
  TestLedger ledger = SampleLedger(6);
  WriteVersionOneLog(path_, ledger.events());
  const std::string before = ReadWholeFile(path_);
  {
    auto log = OpenLog({.read_only = true});
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->LastSeq(), static_cast<int64_t>(ledger.events().size()));
    EXPECT_EQ(ReadAll(*log), ledger.events());  // Every reason ''.
    absl::StatusOr<std::vector<Event>> some = log->ReadSeqs({3, 1});
    ASSERT_TRUE(some.ok()) << some.status();
    EXPECT_EQ(*some, (std::vector<Event>{ledger.events()[2], ledger.events()[0]}));
  }
  EXPECT_EQ(ReadWholeFile(path_), before);
  EXPECT_EQ(UserVersion(path_), 1);
  EXPECT_FALSE(HasReasonColumn(path_));
}

TEST_F(SqliteEventLogTest, ASchemaVersionBelowOneIsRefusedAndLeftUntouched) {
  {
    auto log = OpenLog();
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(log->Append(SampleLedger(2).events()).ok());
  }
  {
    SQLite::Database raw(path_, SQLite::OPEN_READWRITE);
    raw.exec("PRAGMA user_version = 0");
  }
  const std::string before = ReadWholeFile(path_);
  auto log = SqliteEventLog::Open(path_, {});
  EXPECT_EQ(log.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(log.status().message(), HasSubstr("unknown schema version 0"));
  EXPECT_EQ(ReadWholeFile(path_), before);
}

TEST_F(SqliteEventLogTest, ForeignDatabaseIsRefusedAndLeftUntouched) {
  {
    SQLite::Database raw(path_, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    raw.exec("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('carol')");
  }
  const std::string before = ReadWholeFile(path_);
  auto log = SqliteEventLog::Open(path_, {});
  EXPECT_EQ(log.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(log.status().message(), HasSubstr("not an sbd event log"));
  EXPECT_EQ(ReadWholeFile(path_), before);

  {
    SQLite::Database raw(path_, SQLite::OPEN_READWRITE);
    raw.exec("PRAGMA application_id = 1234");
  }
  log = SqliteEventLog::Open(path_, {});
  EXPECT_EQ(log.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(log.status().message(), HasSubstr("application_id 0x000004d2"));
}

TEST_F(SqliteEventLogTest, FileThatIsNotADatabaseIsRefusedAndLeftUntouched) {
  const std::string text(4096, 'x');
  std::ofstream(path_, std::ios::binary) << text;
  for (bool read_only : {false, true}) {
    auto log = SqliteEventLog::Open(path_, {.read_only = read_only});
    EXPECT_EQ(log.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(log.status().message(), HasSubstr("not an SQLite database"));
  }
  EXPECT_EQ(ReadWholeFile(path_), text);
}

TEST_F(SqliteEventLogTest, ReadOnlyRefusesMissingAndEmptyFilesWithoutCreatingThem) {
  auto log = SqliteEventLog::Open(path_, {.read_only = true});
  EXPECT_EQ(log.status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(path_));

  std::ofstream(path_).close();
  log = SqliteEventLog::Open(path_, {.read_only = true});
  EXPECT_EQ(log.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::filesystem::file_size(path_), 0u);
}

TEST_F(SqliteEventLogTest, OpenInAMissingDirectoryIsUnavailable) {
  auto log = SqliteEventLog::Open((dir_ / "no" / "such" / "ledger.db").string(), {});
  EXPECT_EQ(log.status().code(), absl::StatusCode::kUnavailable) << log.status();
}

TEST_F(SqliteEventLogTest, ReadOnlyLogFollowsALiveWriterAndNeverWrites) {
  TestLedger ledger = SampleLedger(10);
  const std::vector<Event>& events = ledger.events();
  auto writer = OpenLog({.durability = Durability::kNormal});
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Append(absl::MakeConstSpan(events).subspan(0, 6)).ok());

  auto reader = OpenLog({.read_only = true});
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->LastSeq(), 6);
  EXPECT_EQ(ReadAll(*reader), std::vector<Event>(events.begin(), events.begin() + 6));

  ASSERT_TRUE(writer->Append(absl::MakeConstSpan(events).subspan(6)).ok());
  EXPECT_EQ(ReadAll(*reader), events);

  std::vector<Event> next = {events.back()};
  next[0].seq = 7;
  absl::Status status = reader->Append(next);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("read-only"));
  EXPECT_EQ(writer->LastSeq(), static_cast<int64_t>(events.size()));
}

TEST_F(SqliteEventLogTest, ReadOnlyOpensALogWhoseWriterHasClosed) {
  TestLedger ledger = SampleLedger(3);
  {
    auto writer = OpenLog();
    ASSERT_NE(writer, nullptr);
    ASSERT_TRUE(writer->Append(ledger.events()).ok());
  }
  auto reader = OpenLog({.read_only = true});
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(ReadAll(*reader), ledger.events());
}

TEST_F(SqliteEventLogTest, ConcurrentReadsSeeACommittedVerifiedPrefixDuringAppends) {
  constexpr int kBatches = 200;
  constexpr int kBatchSize = 25;
  TestLedger ledger;
  ledger.Open("alice");
  ledger.Open("bob");
  ledger.Mint("alice", 1'000'000);
  while (ledger.events().size() < kBatches * kBatchSize) ledger.Transfer("alice", "bob", 1);
  const std::vector<Event>& events = ledger.events();
  auto log = OpenLog();
  ASSERT_NE(log, nullptr);

  std::atomic<bool> done = false;
  std::atomic<int> failures = 0;
  std::atomic<int64_t> reads = 0;
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      while (!done.load()) {
        const int64_t last_seq = log->LastSeq();
        int64_t expected = 1;
        absl::Status status = log->Read(1, INT64_MAX, [&](const Event& event) {
          if (event != events[expected - 1]) return absl::InternalError("wrong event");
          ++expected;
          return absl::OkStatus();
        });
        // Everything committed before the read started is seen, in order.
        if (!status.ok() || expected - 1 < last_seq) ++failures;
        if (last_seq > 0) {
          const std::vector<int64_t> seqs = {last_seq, 1 + t};
          auto some = log->ReadSeqs(seqs);
          if (!some.ok() || (*some)[0] != events[last_seq - 1]) ++failures;
        }
        ++reads;
      }
    });
  }
  for (int b = 0; b < kBatches; ++b) {
    ASSERT_TRUE(log->Append(absl::MakeConstSpan(events).subspan(b * kBatchSize, kBatchSize)).ok());
  }
  done = true;
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(reads.load(), 4);
  EXPECT_EQ(ReadAll(*log), events);
}

TEST_F(SqliteEventLogTest, FullDiskIsUnavailableAndTheLogStaysUsable) {
  TestLedger ledger;
  ledger.Open("alice");
  ledger.Open("bob");
  ledger.Mint("alice", 1'000'000);
  const std::string note(400, 'n');
  for (int i = 0; i < 1200; ++i) ledger.Transfer("alice", "bob", 1, note);
  const std::vector<Event>& events = ledger.events();
  int64_t page_count = 0;
  {
    auto log = OpenLog();
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(log->Append(absl::MakeConstSpan(events).subspan(0, 100)).ok());
    SQLite::Database raw(path_, SQLite::OPEN_READONLY);
    page_count = raw.execAndGet("PRAGMA page_count").getInt64();
  }
  // Room for a few more small events, not for 1000 with 400-byte notes.
  auto log = OpenLog({.max_page_count = page_count + 20});
  ASSERT_NE(log, nullptr);
  absl::Status status = log->Append(absl::MakeConstSpan(events).subspan(100, 1000));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_THAT(status.message(), HasSubstr("full"));
  EXPECT_EQ(log->LastSeq(), 100);
  EXPECT_EQ(ReadAll(*log).size(), 100u);

  // The same log appends again once there is room: the failed batch left no
  // trace in the file or in the in-memory chain head.
  ASSERT_TRUE(log->Append(absl::MakeConstSpan(events).subspan(100, 5)).ok());
  EXPECT_EQ(ReadAll(*log), std::vector<Event>(events.begin(), events.begin() + 105));
  log.reset();

  log = OpenLog({.max_page_count = 0});
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append(absl::MakeConstSpan(events).subspan(105)).ok()) << status;
  EXPECT_EQ(ReadAll(*log), events);
}

class ChainTamperTest : public SqliteEventLogTest {
 protected:
  void SetUp() override {
    SqliteEventLogTest::SetUp();
    ledger_ = SampleLedger(20);
    auto log = OpenLog();
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(log->Append(ledger_.events()).ok());
  }

  // Runs `sql` on the file with the append-only triggers dropped.
  void Tamper(const std::string& sql) {
    SQLite::Database raw(path_, SQLite::OPEN_READWRITE);
    raw.exec("DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;");
    raw.exec(sql);
  }

  absl::Status ReadCounting(const EventLog& log, int64_t from, int64_t& visited) {
    visited = 0;
    return log.Read(from, INT64_MAX, [&](const Event&) {
      ++visited;
      return absl::OkStatus();
    });
  }

  TestLedger ledger_;
};

TEST_F(ChainTamperTest, EditedAmountBreaksTheChainAtThatSeq) {
  Tamper("UPDATE events SET amount = amount + 1 WHERE seq = 17");
  for (bool read_only : {false, true}) {
    auto log = OpenLog({.read_only = read_only});
    ASSERT_NE(log, nullptr);
    int64_t visited = 0;
    absl::Status status = ReadCounting(*log, 1, visited);
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(status.message(), HasSubstr("hash chain broken at seq 17"));
    EXPECT_EQ(visited, 16);
    // A read starting inside the log checks against the previous recorded hash.
    EXPECT_THAT(ReadCounting(*log, 17, visited).message(), HasSubstr("seq 17"));
    EXPECT_TRUE(ReadCounting(*log, 18, visited).ok());
  }
}

TEST_F(ChainTamperTest, EditedHashBreaksTheChainAtThatSeqAndTheNext) {
  // Even a forger who rewrites a hash is caught by the next event, which was
  // chained from the original.
  Tamper("UPDATE events SET hash = zeroblob(32) WHERE seq = 9");
  auto log = OpenLog({.read_only = true});
  ASSERT_NE(log, nullptr);
  int64_t visited = 0;
  EXPECT_THAT(ReadCounting(*log, 1, visited).message(), HasSubstr("seq 9"));
  EXPECT_EQ(visited, 8);
  EXPECT_THAT(ReadCounting(*log, 10, visited).message(), HasSubstr("seq 10"));
}

TEST_F(ChainTamperTest, DeletedEventBreaksTheChainAtItsSeq) {
  Tamper("DELETE FROM events WHERE seq = 10");
  auto log = OpenLog({.read_only = true});
  ASSERT_NE(log, nullptr);
  int64_t visited = 0;
  absl::Status status = ReadCounting(*log, 1, visited);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(status.message(), HasSubstr("seq 10"));
  EXPECT_EQ(visited, 9);
  EXPECT_THAT(ReadCounting(*log, 11, visited).message(), HasSubstr("seq 11"));
}

// Long reads hash rows ahead, on both threads, in blocks (64 rows) of chunks
// (1024 rows); only the comparison links each row to the recorded hash
// before it. A tamper at and around those boundaries, and in a long read that
// starts inside the log, must break the chain at exactly the seq the
// one-row-at-a-time read names.
TEST_F(SqliteEventLogTest, LongReadsCatchTampersAtEveryBoundary) {
  const TestLedger ledger = SampleLedger(6000);
  struct Case {
    std::string sql;
    int64_t read_from;
    int64_t broken_at;
  };
  const std::vector<Case> cases = {
      {"UPDATE events SET amount = amount + 1 WHERE seq = 1", 1, 1},
      {"UPDATE events SET note = 'x' WHERE seq = 64", 1, 64},
      {"UPDATE events SET note = 'x' WHERE seq = 65", 1, 65},
      {"UPDATE events SET note = 'x' WHERE seq = 1024", 1, 1024},
      {"UPDATE events SET note = 'x' WHERE seq = 1025", 1, 1025},
      {"UPDATE events SET hash = zeroblob(32) WHERE seq = 1024", 1, 1024},
      {"UPDATE events SET hash = zeroblob(32) WHERE seq = 1024", 1025, 1025},
      {"DELETE FROM events WHERE seq = 2049", 1, 2049},
      {"UPDATE events SET note = 'x' WHERE seq = 1500", 1500, 1500},
      {"UPDATE events SET note = 'x' WHERE seq = 3000", 1500, 3000},
      {"UPDATE events SET note = 'x' WHERE seq = 6004", 1, 6004},  // The last row.
  };
  for (const Case& tamper : cases) {
    SCOPED_TRACE(tamper.sql + " read from " + std::to_string(tamper.read_from));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto log = OpenLog();
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(log->Append(ledger.events()).ok());
    ASSERT_EQ(log->LastSeq(), 6004);
    log.reset();
    {
      SQLite::Database raw(path_, SQLite::OPEN_READWRITE);
      raw.exec("DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;");
      raw.exec(tamper.sql);
    }
    log = OpenLog({.read_only = true});
    ASSERT_NE(log, nullptr);
    int64_t visited = 0;
    absl::Status status = log->Read(tamper.read_from, INT64_MAX, [&](const Event&) {
      ++visited;
      return absl::OkStatus();
    });
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(status.message(),
                HasSubstr("hash chain broken at seq " + std::to_string(tamper.broken_at) + ":"));
    EXPECT_EQ(visited, tamper.broken_at - tamper.read_from);
  }
}

}  // namespace
}  // namespace sbd
