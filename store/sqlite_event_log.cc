#include "store/sqlite_event_log.h"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <filesystem>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/mutex.h"
#include "store/event_hash.h"
#include "store/event_log_schema.h"
#include "store/event_row.h"
#include "store/limits.h"
#include "store/range_read.h"
#include "store/reader_pool.h"
#include "store/sqlite_status.h"

namespace sbd {
namespace {

// The oldest schema version this build still opens: a version 1 log opened
// for writing is migrated to kSchemaVersion; opened read-only, it is read as
// it is.
constexpr int kOldestSchemaVersion = 1;

// Version 1 -> 2 in one transaction: the new column and the version bump
// commit together or not at all (an error rolls back, in the Transaction's
// destructor, and the file stays a version 1 log). The version is read again
// inside the transaction: another process may have migrated the file since
// it was first read.
void MigrateToVersion2(SQLite::Database& db) {
  SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
  if (db.execAndGet("PRAGMA user_version").getInt() == 1) {
    db.exec(kEventLogMigrateToV2Sql);
    db.exec("PRAGMA user_version=2");
  }
  transaction.commit();
}

// Checks that `db` is an event log of a schema this build reads, or creates
// the schema in an empty file, and returns the file's schema version: a
// version 1 log opened for writing is migrated first (kSchemaVersion is
// returned). Changes nothing in a file it refuses.
absl::StatusOr<int> CheckOrCreateSchema(SQLite::Database& db, const std::string& path,
                                        bool read_only) {
  const int application_id = db.execAndGet("PRAGMA application_id").getInt();
  const int schema_version = db.execAndGet("PRAGMA user_version").getInt();
  if (application_id == 0 && schema_version == 0) {
    if (db.execAndGet("SELECT count(*) FROM sqlite_schema").getInt() != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " is another application's SQLite database, not an sbd event log"));
    }
    if (read_only) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " is an empty database, not an sbd event log"));
    }
    // Before the schema: journal_mode cannot change inside a transaction.
    if (db.execAndGet("PRAGMA journal_mode=WAL").getString() != "wal") {
      return absl::FailedPreconditionError(
          absl::StrCat(path, ": the file system does not support SQLite's WAL mode"));
    }
    db.exec("BEGIN IMMEDIATE");
    db.exec(kEventLogSchemaSql);
    db.exec(absl::StrCat("PRAGMA application_id=", SqliteEventLog::kApplicationId));
    db.exec(absl::StrCat("PRAGMA user_version=", SqliteEventLog::kSchemaVersion));
    db.exec("COMMIT");
    return SqliteEventLog::kSchemaVersion;
  }
  if (application_id != SqliteEventLog::kApplicationId) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s is not an sbd event log (application_id 0x%08x, expected 0x%08x)", path,
                        application_id, SqliteEventLog::kApplicationId));
  }
  if (schema_version > SqliteEventLog::kSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " has schema version ", schema_version, ", newer than this build's ",
                     SqliteEventLog::kSchemaVersion, ": open it with a newer sbd-ledger"));
  }
  if (schema_version < kOldestSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " has unknown schema version ", schema_version));
  }
  if (!db.tableExists("events")) {
    return absl::DataLossError(absl::StrCat(path, " is an sbd event log without its events table"));
  }
  if (!read_only && db.execAndGet("PRAGMA journal_mode=WAL").getString() != "wal") {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": the file system does not support SQLite's WAL mode"));
  }
  static_assert(SqliteEventLog::kSchemaVersion == 2, "add the migration to the new version");
  if (schema_version == 1 && !read_only) {
    MigrateToVersion2(db);
    return SqliteEventLog::kSchemaVersion;
  }
  return schema_version;
}

// The index of the first of `events` whose seq is not first_seq + its index,
// or events.size() when the seqs run on from first_seq without a gap.
size_t FirstSeqGap(absl::Span<const Event> events, int64_t first_seq) {
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].seq != first_seq + static_cast<int64_t>(i)) return i;
  }
  return events.size();
}

// Cluster mode's one-row table: the stream message the last batch came from
// (docs/EVENT_LOG.md, "stream_position"). Created with its first row, in the
// batch's own transaction; a single-node log never has it.
void RecordStreamPosition(SQLite::Database& db, int64_t stream_seq, int64_t last_seq) {
  db.exec(kStreamPositionSchemaSql);
  SQLite::Statement record(db, kStreamPositionRecordSql);
  record.bind(1, stream_seq);
  record.bind(2, last_seq);
  record.exec();
}

// The recorded stream position; zeros if none.
SqliteEventLog::StreamPosition ReadStreamPosition(SQLite::Database& db) {
  if (!db.tableExists("stream_position")) return {};
  SQLite::Statement read(db, "SELECT stream_seq, last_seq FROM stream_position WHERE id = 1");
  if (!read.executeStep()) return {};
  return {read.getColumn(0).getInt64(), read.getColumn(1).getInt64()};
}

}  // namespace

class SqliteEventLog::Impl {
 public:
  Impl(std::string path, int schema_version, std::unique_ptr<SQLite::Database> writer,
       int64_t last_seq, EventHash last_hash)
      : path_(std::move(path)),
        writer_(std::move(writer)),
        insert_(writer_ == nullptr
                    ? nullptr
                    : std::make_unique<SQLite::Statement>(*writer_, kEventLogInsertSql)),
        last_seq_(last_seq),
        last_hash_(last_hash),
        // What the readers select: a version 1 log (read-only: never
        // migrated) has no reason column.
        readers_(path_, schema_version == 1 ? kEventLogColumnsV1 : kEventLogColumns) {}

  ~Impl() {
    // Statements before their connection.
    insert_.reset();
  }

  absl::Status Append(absl::Span<const Event> events, std::optional<int64_t> stream_seq);
  int64_t LastSeq() const { return last_seq_.load(std::memory_order_acquire); }
  StreamPosition LastStreamPosition() const {
    MutexLock lock(position_mutex_);
    return position_;
  }
  EventHash LastHash() const { return last_hash_; }
  void SetStreamPosition(StreamPosition position) {
    MutexLock lock(position_mutex_);
    position_ = position;
  }
  absl::Status Read(int64_t from_seq, int64_t to_seq,
                    absl::FunctionRef<absl::Status(const Event&)> visit) const;
  absl::StatusOr<std::vector<Event>> ReadSeqs(absl::Span<const int64_t> seqs) const;
  absl::StatusOr<EventHash> RecordedHash(int64_t seq) const;

 private:
  // Writes `events`, whose seqs continue the log, in one transaction, with
  // the stream position if there is one.
  absl::Status Commit(absl::Span<const Event> events, std::optional<int64_t> stream_seq);

  const std::string path_;
  // Null when read-only. Used by the appending thread only.
  std::unique_ptr<SQLite::Database> writer_;
  std::unique_ptr<SQLite::Statement> insert_;
  // Written after each commit by the appender, read by any thread.
  std::atomic<int64_t> last_seq_;
  // The hash of event last_seq_. Appending thread only.
  EventHash last_hash_;
  // The last AppendAt's (cluster mode): written by the appender, read by any
  // thread.
  mutable Mutex position_mutex_;
  StreamPosition position_ ABSL_GUARDED_BY(position_mutex_);
  // Thread-safe (its own lock); mutable because borrowing a connection is
  // not a change to the log a const read could see.
  mutable ReaderPool readers_;
};

absl::Status SqliteEventLog::Impl::Append(absl::Span<const Event> events,
                                          std::optional<int64_t> stream_seq) {
  if (writer_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("append to ", path_, ": opened read-only"));
  }
  if (events.empty()) return absl::OkStatus();
  // A seq that does not continue the log is a caller's bug (the Ledger
  // numbers events from LastSeq()), but it is answered with a Status here,
  // not an assert: Append is the store's public edge, other EventLog users
  // (the import, tests) call it directly, and sqlite_event_log_test feeds
  // gaps on purpose to check that the log refuses them and stays usable. The
  // assert is one step in, in Commit, which must never see such a batch.
  const int64_t first_seq = LastSeq() + 1;
  if (const size_t i = FirstSeqGap(events, first_seq); i < events.size()) {
    return absl::FailedPreconditionError(
        absl::StrCat("append to ", path_, ": event seq ", events[i].seq, " where seq ",
                     first_seq + static_cast<int64_t>(i), " continues the log"));
  }
  if (const int64_t last = LastStreamPosition().stream_seq; stream_seq && *stream_seq <= last) {
    return absl::FailedPreconditionError(absl::StrCat("append to ", path_, ": stream message ",
                                                      *stream_seq, " is not after ", last));
  }
  return Commit(events, stream_seq);
}

absl::Status SqliteEventLog::Impl::Commit(absl::Span<const Event> events,
                                          std::optional<int64_t> stream_seq) {
  assert(!events.empty() && FirstSeqGap(events, LastSeq() + 1) == events.size() &&
         "a batch must continue the log without a gap");
  assert((!stream_seq || *stream_seq > LastStreamPosition().stream_seq) &&
         "the stream position only moves on");
  EventHash hash = last_hash_;
  try {
    // A ROLLBACK that failed after an earlier error can leave a transaction
    // open; end it so this batch starts clean.
    if (sqlite3_get_autocommit(writer_->getHandle()) == 0) writer_->exec("ROLLBACK");
    writer_->exec("BEGIN IMMEDIATE");
    for (const Event& event : events) {
      hash = ChainHash(hash, event);
      SQLite::Statement& insert = *insert_;
      BindEventRow(insert, event, hash);
      insert.exec();
      insert.reset();
    }
    if (stream_seq) RecordStreamPosition(*writer_, *stream_seq, events.back().seq);
    writer_->exec("COMMIT");
  } catch (const SQLite::Exception& error) {
    insert_->tryReset();
    if (sqlite3_get_autocommit(writer_->getHandle()) == 0) {
      try {
        writer_->exec("ROLLBACK");
      } catch (const SQLite::Exception&) {
        // Retried at the start of the next Append.
      }
    }
    return FromSqlite(error, "append to", path_);
  }
  last_hash_ = hash;
  if (stream_seq) SetStreamPosition({*stream_seq, events.back().seq});
  last_seq_.store(events.back().seq, std::memory_order_release);
  assert(LastSeq() == events.back().seq);
  return absl::OkStatus();
}

absl::Status SqliteEventLog::Impl::Read(int64_t from_seq, int64_t to_seq,
                                        absl::FunctionRef<absl::Status(const Event&)> visit) const {
  from_seq = std::max<int64_t>(from_seq, 1);
  if (to_seq < from_seq) return absl::OkStatus();
  std::optional<ReaderPool::Lease> lease;
  try {
    lease.emplace(readers_);
    return ReadRange(**lease, from_seq, to_seq, visit);
  } catch (const SQLite::Exception& error) {
    if (lease.has_value()) lease->Discard();
    return FromSqlite(error, "read", path_);
  }
}

absl::StatusOr<EventHash> SqliteEventLog::Impl::RecordedHash(int64_t seq) const {
  std::optional<ReaderPool::Lease> lease;
  try {
    lease.emplace(readers_);
    RowStatement& by_seq = (**lease).by_seq;
    by_seq.Bind(1, seq);
    if (!by_seq.Step()) {
      return absl::NotFoundError(absl::StrCat("seq ", seq, " is not in ", path_));
    }
    Event event;
    EventHash recorded;
    absl::Status status = ReadRow(by_seq.get(), event, recorded);
    by_seq.Reset();
    if (!status.ok()) return status;
    return recorded;
  } catch (const SQLite::Exception& error) {
    if (lease.has_value()) lease->Discard();
    return FromSqlite(error, "read", path_);
  }
}

absl::StatusOr<std::vector<Event>> SqliteEventLog::Impl::ReadSeqs(
    absl::Span<const int64_t> seqs) const {
  std::vector<Event> events;
  events.reserve(seqs.size());
  std::optional<ReaderPool::Lease> lease;
  try {
    lease.emplace(readers_);
    RowStatement& by_seq = (**lease).by_seq;
    EventHash recorded;
    for (int64_t seq : seqs) {
      by_seq.Bind(1, seq);
      if (!by_seq.Step()) {
        return absl::NotFoundError(absl::StrCat("seq ", seq, " is not in ", path_));
      }
      Event& event = events.emplace_back();
      if (absl::Status status = ReadRow(by_seq.get(), event, recorded); !status.ok()) return status;
      by_seq.Reset();
    }
  } catch (const SQLite::Exception& error) {
    if (lease.has_value()) lease->Discard();
    return FromSqlite(error, "read", path_);
  }
  return events;
}

absl::StatusOr<std::unique_ptr<SqliteEventLog>> SqliteEventLog::Open(const std::string& path,
                                                                     Options options) {
  std::error_code exists_error;
  if (options.read_only && !std::filesystem::exists(path, exists_error)) {
    return absl::NotFoundError(absl::StrCat("no event log at ", path));
  }
  const char* step = "open";
  try {
    // NOMUTEX: after Open only Append uses this connection, and EventLog's
    // contract has one thread at a time call it, so SQLite's per-call
    // connection mutex is pure cost (~13% of the engine bench's CPU).
    auto db = std::make_unique<SQLite::Database>(
        path,
        SQLite::OPEN_NOMUTEX | (options.read_only ? SQLite::OPEN_READONLY
                                                  : SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE),
        kBusyTimeoutMs);
    step = "check the schema of";
    absl::StatusOr<int> schema_version = CheckOrCreateSchema(*db, path, options.read_only);
    if (!schema_version.ok()) return schema_version.status();
    step = "configure";
    if (!options.read_only) {
      db->exec(options.durability == Durability::kFull ? "PRAGMA synchronous=FULL"
                                                       : "PRAGMA synchronous=NORMAL");
      db->exec(absl::StrCat("PRAGMA cache_size=", -options.cache_size_kib));
      if (options.max_page_count > 0) {
        db->exec(absl::StrCat("PRAGMA max_page_count=", options.max_page_count));
      }
    }
    step = "read the last event of";
    int64_t last_seq = 0;
    EventHash last_hash = kGenesisHash;
    {  // The statement must be finalized before its connection closes.
      SQLite::Statement last(*db, "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1");
      if (last.executeStep()) {
        last_seq = last.getColumn(0).getInt64();
        if (absl::Status status = ReadRecordedHash(last.getColumn(1), last_seq, last_hash);
            !status.ok()) {
          return status;
        }
      }
    }
    step = "read the stream position of";
    const StreamPosition position = ReadStreamPosition(*db);
    if (options.read_only) db.reset();  // Reads use pooled connections.
    auto impl = std::make_unique<Impl>(path, *schema_version, std::move(db), last_seq, last_hash);
    impl->SetStreamPosition(position);
    return std::unique_ptr<SqliteEventLog>(new SqliteEventLog(std::move(impl)));
  } catch (const SQLite::Exception& error) {
    if ((error.getErrorCode() & 0xff) == SQLITE_NOTADB) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " is not an SQLite database (", error.what(), ")"));
    }
    return FromSqlite(error, step, path);
  }
}

SqliteEventLog::SqliteEventLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SqliteEventLog::~SqliteEventLog() = default;

absl::Status SqliteEventLog::Append(absl::Span<const Event> events) {
  return impl_->Append(events, std::nullopt);
}

absl::Status SqliteEventLog::AppendAt(absl::Span<const Event> events, int64_t stream_seq) {
  assert(stream_seq > 0 && "stream sequences start at 1");
  return impl_->Append(events, stream_seq);
}

SqliteEventLog::StreamPosition SqliteEventLog::LastStreamPosition() const {
  return impl_->LastStreamPosition();
}

EventHash SqliteEventLog::LastHash() const { return impl_->LastHash(); }

absl::StatusOr<EventHash> SqliteEventLog::RecordedHash(int64_t seq) const {
  return impl_->RecordedHash(seq);
}

int64_t SqliteEventLog::LastSeq() const { return impl_->LastSeq(); }

absl::Status SqliteEventLog::Read(int64_t from_seq, int64_t to_seq,
                                  absl::FunctionRef<absl::Status(const Event&)> visit) const {
  return impl_->Read(from_seq, to_seq, visit);
}

absl::StatusOr<std::vector<Event>> SqliteEventLog::ReadSeqs(absl::Span<const int64_t> seqs) const {
  return impl_->ReadSeqs(seqs);
}

}  // namespace sbd
