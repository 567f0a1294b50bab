// The two baselines the engine is measured against, on the very rows the
// engine committed (docs/BENCHMARKS.md):
//  (a) the ceiling: every row inserted in one SQLite transaction with a
//      prepared statement, hashes computed beforehand, so only SQLite's own
//      insert path is timed;
//  (b) the naive service: one transaction (and so one fsync) per transfer
//      with synchronous=FULL.
// Both write a fresh file with the event log's schema and pragmas (WAL,
// 64 MiB page cache). This is the one place outside store/ that speaks SQL:
// it measures the store's ceiling, so it must bypass the store.
//
// Thread-safety: pure functions; each uses its own file.
#ifndef SBD_BENCH_SQLITE_BASELINES_H_
#define SBD_BENCH_SQLITE_BASELINES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/event.h"
#include "store/sqlite_event_log.h"

namespace sbd::bench {

// Rows per second for inserting all of `events` in one transaction into a
// new file at `path`.
absl::StatusOr<double> BulkInsertRowsPerSecond(const std::string& path,
                                               const std::vector<Event>& events,
                                               Durability durability);

// Rows per second for inserting the first `count` of `events` one
// transaction each (synchronous=FULL) into a new file at `path`.
absl::StatusOr<double> RowPerTransactionRowsPerSecond(const std::string& path,
                                                      const std::vector<Event>& events,
                                                      size_t count);

}  // namespace sbd::bench

#endif  // SBD_BENCH_SQLITE_BASELINES_H_
