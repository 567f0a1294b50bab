#include "store/sqlite_event_log.h"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "store/event_hash.h"
#include "store/event_log_schema.h"

namespace sbd {
namespace {

// How long a connection waits on a lock held by another connection before
// giving up with SQLITE_BUSY (-> kUnavailable). Readers in WAL mode only wait
// during WAL recovery; the writer only when another process writes the file.
constexpr int kBusyTimeoutMs = 5000;

// Idle read connections kept open for reuse. Each reading thread holds one
// while it reads; more than this many are closed on return rather than kept,
// so a burst of readers does not pin file handles and page caches forever.
constexpr size_t kIdleReadersMax = 16;

// The most specific absl code for an SQLite error (DESIGN.md, rule 3): what
// a retry after the operator acts may fix is kUnavailable; a damaged file is
// kDataLoss.
absl::StatusCode CodeOf(int sqlite_code) {
  switch (sqlite_code & 0xff) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_PROTOCOL:
      return absl::StatusCode::kUnavailable;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:
      return absl::StatusCode::kDataLoss;
    case SQLITE_NOMEM:
    case SQLITE_TOOBIG:
      return absl::StatusCode::kResourceExhausted;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return absl::StatusCode::kPermissionDenied;
    case SQLITE_CONSTRAINT:
      return absl::StatusCode::kFailedPrecondition;
    default:
      return absl::StatusCode::kInternal;
  }
}

absl::Status FromSqlite(const SQLite::Exception& error, const char* what, const std::string& path) {
  return absl::Status(CodeOf(error.getErrorCode()),
                      absl::StrCat(what, " ", path, ": ", error.what()));
}

absl::Status ChainBroken(int64_t seq, const std::string& why) {
  return absl::DataLossError(absl::StrCat("hash chain broken at seq ", seq, ": ", why));
}

// A prepared statement used through SQLite's C API, for the statements that
// read event rows: SQLite::Column copies a shared_ptr to the statement per
// column, two atomic operations that cost more, on a replay of millions of
// rows, than reading the value. Errors throw SQLite::Exception, as
// SQLite::Statement does, so callers handle both alike.
class RowStatement {
 public:
  RowStatement(const SQLite::Database& db, const std::string& sql) : db_(db.getHandle()) {
    sqlite3_stmt* statement = nullptr;
    const int rc =
        sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
    if (rc != SQLITE_OK) throw SQLite::Exception(db_, rc);
    statement_.reset(statement);
  }

  void Bind(int index, int64_t value) {
    if (const int rc = sqlite3_bind_int64(get(), index, value); rc != SQLITE_OK) {
      throw SQLite::Exception(db_, rc);
    }
  }

  // True at a row, false past the last.
  bool Step() {
    const int rc = sqlite3_step(get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw SQLite::Exception(db_, rc);
  }

  // Ready to run again; Step() has already reported any error.
  void Reset() { sqlite3_reset(get()); }

  sqlite3_stmt* get() const { return statement_.get(); }

 private:
  struct Finalize {
    void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
  };
  sqlite3* db_;
  std::unique_ptr<sqlite3_stmt, Finalize> statement_;
};

// Copies a text column into `out`, reusing its capacity: a streaming read
// refills one Event per row, so this saves an allocation per field per row.
void AssignText(sqlite3_stmt* row, int column, std::string& out) {
  // SQLite wants the pointer fetched before the size.
  const auto* data = static_cast<const char*>(sqlite3_column_blob(row, column));
  const auto size = static_cast<size_t>(sqlite3_column_bytes(row, column));
  out.assign(data, size);
}

// Reads the 13 columns of kEventLogColumns (or kEventLogColumnsV1) from the
// current row.
absl::Status ReadRow(sqlite3_stmt* row, Event& event, EventHash& hash) {
  event.seq = sqlite3_column_int64(row, 0);
  const int64_t type = sqlite3_column_int64(row, 1);
  if (type < static_cast<int>(EventType::kAccountOpened) ||
      type > static_cast<int>(EventType::kTransactionNoteSet)) {
    return absl::DataLossError(absl::StrCat("unknown event type ", type, " at seq ", event.seq));
  }
  event.type = static_cast<EventType>(type);
  event.timestamp_ms = sqlite3_column_int64(row, 2);
  AssignText(row, 3, event.actor);
  AssignText(row, 4, event.from_account);
  AssignText(row, 5, event.to_account);
  event.amount = sqlite3_column_int64(row, 6);
  event.from_balance = sqlite3_column_int64(row, 7);
  event.to_balance = sqlite3_column_int64(row, 8);
  AssignText(row, 9, event.transaction_id);
  AssignText(row, 10, event.note);
  const void* stored = sqlite3_column_blob(row, 11);
  if (sqlite3_column_bytes(row, 11) != static_cast<int>(hash.size())) {
    return ChainBroken(event.seq, "recorded hash is not 32 bytes");
  }
  std::memcpy(hash.data(), stored, hash.size());
  AssignText(row, 12, event.reason);
  return absl::OkStatus();
}

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

}  // namespace

class SqliteEventLog::Impl {
 public:
  // A read-only connection and the statements reads reuse on it.
  struct Reader {
    // `columns`: kEventLogColumns, or kEventLogColumnsV1 for a version 1 log.
    Reader(const std::string& path, const char* columns)
        // NOMUTEX: a pooled connection is used by one thread at a time, so
        // SQLite's per-call connection mutex is pure overhead (~8% of a read).
        : db(path, SQLite::OPEN_READONLY | SQLite::OPEN_NOMUTEX, kBusyTimeoutMs),
          range(db, absl::StrCat("SELECT ", columns,
                                 " FROM events WHERE seq BETWEEN ? AND ? ORDER BY seq")),
          by_seq(db, absl::StrCat("SELECT ", columns, " FROM events WHERE seq = ?")),
          hash_at(db, "SELECT hash FROM events WHERE seq = ?") {}

    // Ends any read transaction a statement holds, so the WAL can be
    // checkpointed past it while the connection sits idle.
    void Reset() {
      range.Reset();
      by_seq.Reset();
      hash_at.tryReset();
    }

    SQLite::Database db;
    RowStatement range;
    RowStatement by_seq;
    SQLite::Statement hash_at;
  };

  // A Reader borrowed from the pool for one read; returned when destroyed,
  // unless the read failed (the connection may be the cause).
  class ReaderLease {
   public:
    ReaderLease(const Impl& impl, std::unique_ptr<Reader> reader)
        : impl_(impl), reader_(std::move(reader)) {}
    ReaderLease(const ReaderLease&) = delete;
    ReaderLease& operator=(const ReaderLease&) = delete;
    ~ReaderLease() {
      if (reader_ == nullptr) return;
      reader_->Reset();
      impl_.ReturnReader(std::move(reader_));
    }
    Reader& operator*() { return *reader_; }
    void Discard() { reader_.reset(); }

   private:
    const Impl& impl_;
    std::unique_ptr<Reader> reader_;
  };

  Impl(std::string path, int schema_version, std::unique_ptr<SQLite::Database> writer,
       int64_t last_seq, EventHash last_hash)
      : path_(std::move(path)),
        columns_(schema_version == 1 ? kEventLogColumnsV1 : kEventLogColumns),
        writer_(std::move(writer)),
        insert_(writer_ == nullptr
                    ? nullptr
                    : std::make_unique<SQLite::Statement>(*writer_, kEventLogInsertSql)),
        last_seq_(last_seq),
        last_hash_(last_hash) {}

  ~Impl() {
    // Statements before their connection.
    insert_.reset();
  }

  absl::Status Append(absl::Span<const Event> events);
  int64_t LastSeq() const { return last_seq_.load(std::memory_order_acquire); }
  absl::Status Read(int64_t from_seq, int64_t to_seq,
                    absl::FunctionRef<absl::Status(const Event&)> visit) const;
  absl::StatusOr<std::vector<Event>> ReadSeqs(absl::Span<const int64_t> seqs) const;

 private:
  // An idle Reader, or a new one. Throws SQLite::Exception when a new
  // connection cannot be opened.
  std::unique_ptr<Reader> BorrowReader() const;
  void ReturnReader(std::unique_ptr<Reader> reader) const;
  absl::Status ReadOrThrow(int64_t from_seq, int64_t to_seq,
                           absl::FunctionRef<absl::Status(const Event&)> visit,
                           Reader& reader) const;

  const std::string path_;
  // What the readers select: a version 1 log (read-only: never migrated) has
  // no reason column.
  const char* const columns_;
  // Null when read-only. Used by the appending thread only.
  std::unique_ptr<SQLite::Database> writer_;
  std::unique_ptr<SQLite::Statement> insert_;
  // Written after each commit by the appender, read by any thread.
  std::atomic<int64_t> last_seq_;
  // The hash of event last_seq_. Appending thread only.
  EventHash last_hash_;

  // std::mutex, not absl::Mutex: Debian's abseil is not built with TSan, which
  // then cannot see absl::Mutex's ordering and reports false races.
  mutable std::mutex readers_mutex_;
  mutable std::vector<std::unique_ptr<Reader>> idle_readers_ ABSL_GUARDED_BY(readers_mutex_);
};

std::unique_ptr<SqliteEventLog::Impl::Reader> SqliteEventLog::Impl::BorrowReader() const {
  {
    std::lock_guard lock(readers_mutex_);
    if (!idle_readers_.empty()) {
      std::unique_ptr<Reader> reader = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return reader;
    }
  }
  // Opened outside the lock: it touches the file.
  return std::make_unique<Reader>(path_, columns_);
}

void SqliteEventLog::Impl::ReturnReader(std::unique_ptr<Reader> reader) const {
  std::lock_guard lock(readers_mutex_);
  if (idle_readers_.size() < kIdleReadersMax) idle_readers_.push_back(std::move(reader));
}

absl::Status SqliteEventLog::Impl::Append(absl::Span<const Event> events) {
  if (writer_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("append to ", path_, ": opened read-only"));
  }
  if (events.empty()) return absl::OkStatus();
  const int64_t first_seq = LastSeq() + 1;
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].seq != first_seq + static_cast<int64_t>(i)) {
      return absl::FailedPreconditionError(
          absl::StrCat("append to ", path_, ": event seq ", events[i].seq, " where seq ",
                       first_seq + static_cast<int64_t>(i), " continues the log"));
    }
  }
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
  last_seq_.store(events.back().seq, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status SqliteEventLog::Impl::Read(int64_t from_seq, int64_t to_seq,
                                        absl::FunctionRef<absl::Status(const Event&)> visit) const {
  from_seq = std::max<int64_t>(from_seq, 1);
  if (to_seq < from_seq) return absl::OkStatus();
  std::optional<ReaderLease> lease;
  try {
    lease.emplace(*this, BorrowReader());
    return ReadOrThrow(from_seq, to_seq, visit, **lease);
  } catch (const SQLite::Exception& error) {
    if (lease.has_value()) lease->Discard();
    return FromSqlite(error, "read", path_);
  }
}

namespace {

// Reads of at least this many events (the replay at open, sbd-replay) step
// SQLite on a second thread, which fills chunks of rows while the calling
// thread checks the hash chain and visits. The hashing is shared: whichever
// thread would otherwise wait hashes rows, so the two cores stay busy.
constexpr int64_t kPipelinedReadEventsMin = 4096;
constexpr size_t kChunkEvents = 1024;
constexpr size_t kChunksInFlight = 4;
constexpr size_t kHashBlockEvents = 64;  // The unit of hashing work handed out.
constexpr size_t kHashBlocksPerChunk = kChunkEvents / kHashBlockEvents;

// Checks rows, in order, against the hash chain.
class ChainVerifier {
 public:
  ChainVerifier(int64_t from_seq, const EventHash& previous, bool previous_missing)
      : from_seq_(from_seq),
        expected_seq_(from_seq),
        previous_(previous),
        previous_missing_(previous_missing) {}

  absl::Status Check(const Event& event, const EventHash& recorded) {
    return CheckHashed(event, recorded, ChainHash(previous_, event));
  }

  // Check() with the row's hash computed ahead: `computed` must be
  // ChainHash(recorded hash of the row read before this one, or of from_seq -
  // 1 for the first, event). That input is known from the rows alone, so rows
  // can be hashed on any thread in any order; this comparison links them.
  absl::Status CheckHashed(const Event& event, const EventHash& recorded,
                           const EventHash& computed) {
    if (previous_missing_) {
      return ChainBroken(event.seq, absl::StrCat("event ", from_seq_ - 1, " is missing"));
    }
    if (event.seq != expected_seq_) return ChainBroken(expected_seq_, "the event is missing");
    if (computed != recorded) {
      return ChainBroken(event.seq, "the recorded hash differs from the computed one");
    }
    previous_ = recorded;
    ++expected_seq_;
    return absl::OkStatus();
  }

  const EventHash& previous() const { return previous_; }

 private:
  const int64_t from_seq_;
  int64_t expected_seq_;
  EventHash previous_;
  const bool previous_missing_;
};

// Rows read ahead by the producer. Blocks of kHashBlockEvents rows are hashed
// by whichever thread claims them first (claims go in order).
struct Chunk {
  std::vector<Event> events = std::vector<Event>(kChunkEvents);
  std::vector<EventHash> recorded = std::vector<EventHash>(kChunkEvents);
  std::vector<EventHash> computed = std::vector<EventHash>(kChunkEvents);
  EventHash previous{};  // The recorded hash of the row before events[0].
  size_t size = 0;
  std::atomic<size_t> next_block{0};
  std::array<std::atomic<bool>, kHashBlocksPerChunk> block_hashed{};

  // Before the producer refills it; no other thread holds it then.
  void Clear(const EventHash& previous_recorded) {
    previous = previous_recorded;
    size = 0;
    next_block.store(0, std::memory_order_relaxed);
    for (std::atomic<bool>& hashed : block_hashed) hashed.store(false, std::memory_order_relaxed);
  }

  // Claims the next unhashed block and hashes it; false if none is left.
  bool HashNextBlock() {
    const size_t block = next_block.fetch_add(1, std::memory_order_relaxed);
    const size_t begin = block * kHashBlockEvents;
    if (begin >= size) return false;
    const size_t end = std::min(size, begin + kHashBlockEvents);
    for (size_t i = begin; i < end; ++i) {
      computed[i] = ChainHash(i == 0 ? previous : recorded[i - 1], events[i]);
    }
    block_hashed[block].store(true, std::memory_order_release);
    return true;
  }

  // Waits until row `i`'s hash is computed, hashing blocks meanwhile.
  void AwaitHashed(size_t i) {
    const size_t block = i / kHashBlockEvents;
    while (!block_hashed[block].load(std::memory_order_acquire)) {
      if (!HashNextBlock()) std::this_thread::yield();  // The other thread has it.
    }
  }

  bool HasUnclaimedBlocks() const {
    return next_block.load(std::memory_order_relaxed) * kHashBlockEvents < size;
  }
};

// Steps `range` on a second thread (see kPipelinedReadEventsMin). A SQLite
// exception on that thread is rethrown here, so the caller's handling of
// SQLite errors stays in one place.
absl::Status ReadPipelined(RowStatement& range, ChainVerifier& chain,
                           absl::FunctionRef<absl::Status(const Event&)> visit) {
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::unique_ptr<Chunk>> full;    // Guarded by mutex: filled, in seq order.
  std::vector<std::unique_ptr<Chunk>> spare;  // Guarded by mutex: visited, for reuse.
  bool done = false;                          // Guarded by mutex.
  bool cancelled = false;                     // Guarded by mutex.
  absl::Status row_status;                    // Producer only, read after join.
  std::exception_ptr failure;                 // Producer only, read after join.

  std::thread producer([&, previous = chain.previous()]() mutable {
    try {
      for (bool end = false; !end;) {
        std::unique_ptr<Chunk> chunk;
        for (;;) {
          // While the queue is full, hash the newest queued chunk's rows (the
          // consumer reaches it last); wait only when there is nothing left.
          Chunk* to_hash = nullptr;
          {
            std::unique_lock lock(mutex);
            if (cancelled || full.size() < kChunksInFlight) break;
            for (auto it = full.rbegin(); it != full.rend() && !to_hash; ++it) {
              if ((*it)->HasUnclaimedBlocks()) to_hash = it->get();
            }
            if (!to_hash) {
              changed.wait(lock, [&] { return cancelled || full.size() < kChunksInFlight; });
              break;
            }
          }
          // Safe outside the lock: a chunk is recycled only by this thread,
          // and the consumer cannot finish it while a claimed block is open.
          to_hash->HashNextBlock();
        }
        {
          std::lock_guard lock(mutex);
          if (cancelled) break;
          if (!spare.empty()) {
            chunk = std::move(spare.back());
            spare.pop_back();
          }
        }
        if (!chunk) chunk = std::make_unique<Chunk>();
        chunk->Clear(previous);
        while (chunk->size < kChunkEvents && !end) {
          const bool row = range.Step();
          if (row) {
            row_status =
                ReadRow(range.get(), chunk->events[chunk->size], chunk->recorded[chunk->size]);
          }
          end = !row || !row_status.ok();
          if (!end) ++chunk->size;
        }
        if (chunk->size > 0) previous = chunk->recorded[chunk->size - 1];
        {
          std::lock_guard lock(mutex);
          full.push_back(std::move(chunk));
        }
        changed.notify_all();
      }
    } catch (...) {
      failure = std::current_exception();
    }
    {
      std::lock_guard lock(mutex);
      done = true;
    }
    changed.notify_all();
  });

  absl::Status result;
  while (result.ok()) {
    std::unique_ptr<Chunk> chunk;
    {
      std::unique_lock lock(mutex);
      changed.wait(lock, [&] { return !full.empty() || done; });
      if (full.empty()) break;
      chunk = std::move(full.front());
      full.pop_front();
    }
    changed.notify_all();
    for (size_t i = 0; i < chunk->size && result.ok(); ++i) {
      chunk->AwaitHashed(i);
      result = chain.CheckHashed(chunk->events[i], chunk->recorded[i], chunk->computed[i]);
      if (result.ok()) result = visit(chunk->events[i]);
    }
    // Every claimed block is finished before the chunk is recycled.
    for (size_t i = 0; i < chunk->size; i += kHashBlockEvents) chunk->AwaitHashed(i);
    std::lock_guard lock(mutex);
    spare.push_back(std::move(chunk));
  }
  {
    std::lock_guard lock(mutex);
    cancelled = true;
  }
  changed.notify_all();
  producer.join();
  if (failure) std::rethrow_exception(failure);
  // A bad row comes after every row that was read before it.
  return result.ok() ? row_status : result;
}

}  // namespace

absl::Status SqliteEventLog::Impl::ReadOrThrow(int64_t from_seq, int64_t to_seq,
                                               absl::FunctionRef<absl::Status(const Event&)> visit,
                                               Reader& reader) const {
  EventHash previous = kGenesisHash;
  bool previous_missing = false;
  if (from_seq > 1) {
    reader.hash_at.bind(1, from_seq - 1);
    if (reader.hash_at.executeStep()) {
      const SQLite::Column stored = reader.hash_at.getColumn(0);
      if (stored.getBytes() != static_cast<int>(previous.size())) {
        return ChainBroken(from_seq - 1, "recorded hash is not 32 bytes");
      }
      std::memcpy(previous.data(), stored.getBlob(), previous.size());
    } else {
      // Fine if the range is past the end; a break if any event follows.
      previous_missing = true;
    }
    reader.hash_at.reset();
  }
  reader.range.Bind(1, from_seq);
  reader.range.Bind(2, to_seq);
  ChainVerifier chain(from_seq, previous, previous_missing);
  if (to_seq - from_seq + 1 >= kPipelinedReadEventsMin) {
    return ReadPipelined(reader.range, chain, visit);
  }
  Event event;
  EventHash recorded;
  while (reader.range.Step()) {
    if (absl::Status status = ReadRow(reader.range.get(), event, recorded); !status.ok())
      return status;
    if (absl::Status status = chain.Check(event, recorded); !status.ok()) return status;
    if (absl::Status status = visit(event); !status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Event>> SqliteEventLog::Impl::ReadSeqs(
    absl::Span<const int64_t> seqs) const {
  std::vector<Event> events;
  events.reserve(seqs.size());
  std::optional<ReaderLease> lease;
  try {
    lease.emplace(*this, BorrowReader());
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
        const SQLite::Column stored = last.getColumn(1);
        if (stored.getBytes() != static_cast<int>(last_hash.size())) {
          return ChainBroken(last_seq, "recorded hash is not 32 bytes");
        }
        std::memcpy(last_hash.data(), stored.getBlob(), last_hash.size());
      }
    }
    if (options.read_only) db.reset();  // Reads use pooled connections.
    return std::unique_ptr<SqliteEventLog>(new SqliteEventLog(
        std::make_unique<Impl>(path, *schema_version, std::move(db), last_seq, last_hash)));
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
  return impl_->Append(events);
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
