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
      BindEventRow(insert, events[i], hashes[i]);
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
      BindEventRow(insert, events[i], hashes[i]);
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
