#include "bench/sqlite_baselines.h"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "store/event_hash.h"
#include "store/event_log_schema.h"

namespace sbd::bench {
namespace {

// The store's writer cache (SqliteEventLog::Options::cache_size_kib).
constexpr int64_t kCacheSizeKib = 64 * 1024;

std::unique_ptr<SQLite::Database> CreateDatabase(const std::string& path, Durability durability) {
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  auto db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  db->exec("PRAGMA journal_mode=WAL");
  db->exec(durability == Durability::kFull ? "PRAGMA synchronous=FULL"
                                           : "PRAGMA synchronous=NORMAL");
  db->exec(absl::StrCat("PRAGMA cache_size=", -kCacheSizeKib));
  db->exec(kEventLogSchemaSql);  // The store's own table, triggers included.
  return db;
}

std::vector<EventHash> ChainHashes(const std::vector<Event>& events, size_t count) {
  std::vector<EventHash> hashes;
  hashes.reserve(count);
  EventHash previous = kGenesisHash;
  for (size_t i = 0; i < count; ++i) {
    previous = ChainHash(previous, events[i]);
    hashes.push_back(previous);
  }
  return hashes;
}

void BindRow(SQLite::Statement& insert, const Event& event, const EventHash& hash) {
  insert.bind(1, event.seq);
  insert.bind(2, static_cast<int>(event.type));
  insert.bind(3, event.timestamp_ms);
  insert.bindNoCopy(4, event.actor);
  insert.bindNoCopy(5, event.from_account);
  insert.bindNoCopy(6, event.to_account);
  insert.bind(7, event.amount);
  insert.bind(8, event.from_balance);
  insert.bind(9, event.to_balance);
  insert.bindNoCopy(10, event.transaction_id);
  insert.bindNoCopy(11, event.note);
  insert.bindNoCopy(12, hash.data(), static_cast<int>(hash.size()));
}

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

absl::StatusOr<double> BulkInsertRowsPerSecond(const std::string& path,
                                               const std::vector<Event>& events,
                                               Durability durability) {
  if (events.empty()) return absl::InvalidArgumentError("no rows to insert");
  const std::vector<EventHash> hashes = ChainHashes(events, events.size());
  try {
    std::unique_ptr<SQLite::Database> db = CreateDatabase(path, durability);
    SQLite::Statement insert(*db, kEventLogInsertSql);
    const auto start = std::chrono::steady_clock::now();
    db->exec("BEGIN IMMEDIATE");
    for (size_t i = 0; i < events.size(); ++i) {
      BindRow(insert, events[i], hashes[i]);
      insert.exec();
      insert.reset();
    }
    db->exec("COMMIT");
    return static_cast<double>(events.size()) / Seconds(start);
  } catch (const SQLite::Exception& error) {
    return absl::UnavailableError(absl::StrCat("bulk insert into ", path, ": ", error.what()));
  }
}

absl::StatusOr<double> RowPerTransactionRowsPerSecond(const std::string& path,
                                                      const std::vector<Event>& events,
                                                      size_t count) {
  count = std::min(count, events.size());
  if (count == 0) return absl::InvalidArgumentError("no rows to insert");
  const std::vector<EventHash> hashes = ChainHashes(events, count);
  try {
    std::unique_ptr<SQLite::Database> db = CreateDatabase(path, Durability::kFull);
    SQLite::Statement insert(*db, kEventLogInsertSql);
    const auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < count; ++i) {
      db->exec("BEGIN IMMEDIATE");
      BindRow(insert, events[i], hashes[i]);
      insert.exec();
      insert.reset();
      db->exec("COMMIT");
    }
    return static_cast<double>(count) / Seconds(start);
  } catch (const SQLite::Exception& error) {
    return absl::UnavailableError(
        absl::StrCat("row-per-transaction insert into ", path, ": ", error.what()));
  }
}

}  // namespace sbd::bench
