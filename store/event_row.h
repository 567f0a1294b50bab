// Reading event rows back: RowStatement, a prepared statement stepped through
// SQLite's C API, and ReadRow, which fills an Event and its recorded hash
// from the current row. Internal to store/; the SQL is in
// store/event_log_schema.h.
//
// Why the C API: SQLite::Column copies a shared_ptr to the statement per
// column, two atomic operations that cost more, on a replay of millions of
// rows, than reading the value. Errors throw SQLite::Exception, as
// SQLite::Statement does, so callers handle both alike.
//
// Thread-safety: a RowStatement is used by one thread at a time (as its
// connection is); the functions touch only what they are given.
#ifndef SBD_STORE_EVENT_ROW_H_
#define SBD_STORE_EVENT_ROW_H_

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Database.h>
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "engine/event.h"
#include "store/event_hash.h"

namespace sbd {

class RowStatement {
 public:
  // Prepares `sql` on `db`, which must outlive this.
  RowStatement(const SQLite::Database& db, const std::string& sql);

  void Bind(int index, int64_t value);

  // True at a row, false past the last.
  bool Step();

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

// Reads the 13 columns of kEventLogColumns (or kEventLogColumnsV1) from the
// current row of `row` into `event` and `hash`, reusing their capacity (a
// streaming read refills one Event per row). An unknown type or a hash that
// is not 32 bytes is kDataLoss.
absl::Status ReadRow(sqlite3_stmt* row, Event& event, EventHash& hash);

// Copies the recorded hash of event `seq` from `stored` (a hash column);
// kDataLoss if it is not 32 bytes.
absl::Status ReadRecordedHash(const SQLite::Column& stored, int64_t seq, EventHash& hash);

}  // namespace sbd

#endif  // SBD_STORE_EVENT_ROW_H_
