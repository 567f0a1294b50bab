#include "store/event_row.h"

#include <SQLiteCpp/Exception.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "store/sqlite_status.h"

namespace sbd {
namespace {

// Copies a text column into `out`, reusing its capacity.
void AssignText(sqlite3_stmt* row, int column, std::string& out) {
  // SQLite wants the pointer fetched before the size.
  const auto* data = static_cast<const char*>(sqlite3_column_blob(row, column));
  const auto size = static_cast<size_t>(sqlite3_column_bytes(row, column));
  out.assign(data, size);
}

}  // namespace

RowStatement::RowStatement(const SQLite::Database& db, const std::string& sql)
    : db_(db.getHandle()) {
  sqlite3_stmt* statement = nullptr;
  const int rc =
      sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
  if (rc != SQLITE_OK) throw SQLite::Exception(db_, rc);
  statement_.reset(statement);
}

void RowStatement::Bind(int index, int64_t value) {
  if (const int rc = sqlite3_bind_int64(get(), index, value); rc != SQLITE_OK) {
    throw SQLite::Exception(db_, rc);
  }
}

bool RowStatement::Step() {
  const int rc = sqlite3_step(get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  throw SQLite::Exception(db_, rc);
}

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

absl::Status ReadRecordedHash(const SQLite::Column& stored, int64_t seq, EventHash& hash) {
  if (stored.getBytes() != static_cast<int>(hash.size())) {
    return ChainBroken(seq, "recorded hash is not 32 bytes");
  }
  std::memcpy(hash.data(), stored.getBlob(), hash.size());
  return absl::OkStatus();
}

}  // namespace sbd
