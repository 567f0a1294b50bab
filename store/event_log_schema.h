// The SQL of the event log (docs/EVENT_LOG.md) and how a row binds to it, in
// one place: the store creates, writes and reads it, and sbd-bench's
// raw-SQLite baselines insert into the very same table the very same way, so
// they pay what the store pays.
//
// Thread-safety: constants and a function of its arguments only; the
// statement BindEventRow fills belongs to its caller's thread, as its
// connection does.
#ifndef SBD_STORE_EVENT_LOG_SCHEMA_H_
#define SBD_STORE_EVENT_LOG_SCHEMA_H_

#include <SQLiteCpp/Statement.h>

#include "engine/event.h"
#include "store/event_hash.h"

namespace sbd {

// The schema of kSchemaVersion (2). STRICT makes SQLite refuse a value of
// the wrong type instead of silently storing it. seq is the rowid: appends go
// to the end of the table's b-tree, and it is the only index (see
// docs/EVENT_LOG.md for why there is no other). `reason` is last because
// version 2 added it: a version 1 log gets it by kEventLogMigrateToV2Sql
// (ALTER TABLE ADD COLUMN appends), and a new log has the very same layout.
inline constexpr const char* kEventLogSchemaSql = R"sql(
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
  hash           BLOB    NOT NULL CHECK (length(hash) = 32),
  reason         TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events is append-only: UPDATE refused'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events is append-only: DELETE refused'); END;
)sql";

// Version 1 -> 2, run in one transaction with the user_version bump. Adding
// a column with a default rewrites no row (the triggers never fire): every
// version 1 row reads reason ''.
inline constexpr const char* kEventLogMigrateToV2Sql =
    "ALTER TABLE events ADD COLUMN reason TEXT NOT NULL DEFAULT ''";

// The columns of a row, in the order every SELECT reads them (ReadRow).
inline constexpr const char* kEventLogColumns =
    "seq, type, timestamp_ms, actor, from_account, to_account, amount, from_balance, "
    "to_balance, transaction_id, note, hash, reason";

// The same for a version 1 log opened read-only (which is never migrated):
// its rows have no reason, which is ''.
inline constexpr const char* kEventLogColumnsV1 =
    "seq, type, timestamp_ms, actor, from_account, to_account, amount, from_balance, "
    "to_balance, transaction_id, note, hash, '' AS reason";

// Cluster mode only (docs/EVENT_LOG.md): which message of the replicated
// stream the log's last batch was, written in that batch's transaction. Not
// an events column and no schema version of its own: a reader of events
// never needs it, and a single-node log never has the table.
inline constexpr const char* kStreamPositionSchemaSql = R"sql(
CREATE TABLE IF NOT EXISTS stream_position (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  stream_seq INTEGER NOT NULL,
  last_seq   INTEGER NOT NULL
) STRICT
)sql";
inline constexpr const char* kStreamPositionRecordSql =
    "INSERT OR REPLACE INTO stream_position (id, stream_seq, last_seq) VALUES (1, ?, ?)";

// One row; bind the columns of kEventLogColumns in order.
inline constexpr const char* kEventLogInsertSql =
    "INSERT INTO events (seq, type, timestamp_ms, actor, from_account, to_account, amount, "
    "from_balance, to_balance, transaction_id, note, hash, reason) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)";

// Binds `event` and its chain hash to kEventLogInsertSql's parameters. The
// strings are bound without a copy: they must outlive the statement's exec.
inline void BindEventRow(SQLite::Statement& insert, const Event& event, const EventHash& hash) {
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
  insert.bindNoCopy(13, event.reason);
}

}  // namespace sbd

#endif  // SBD_STORE_EVENT_LOG_SCHEMA_H_
