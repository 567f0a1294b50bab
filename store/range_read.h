// ReadRange: one range read of the log on a borrowed Reader, verifying the
// hash chain from the event before the range: on this thread for a short
// range, pipelined over two (store/pipelined_read.h) for a long one.
// Internal to store/; SqliteEventLog::Read borrows the Reader and converts
// what this throws.
//
// Thread-safety: as the Reader: one thread at a time.
#ifndef SBD_STORE_RANGE_READ_H_
#define SBD_STORE_RANGE_READ_H_

#include <cstdint>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "engine/event.h"
#include "store/reader_pool.h"

namespace sbd {

// Calls `visit` for each event from `from_seq` (>= 1) to `to_seq` (>=
// from_seq) in seq order, as EventLog::Read says. Throws SQLite::Exception
// on an SQLite error.
absl::Status ReadRange(ReaderPool::Reader& reader, int64_t from_seq, int64_t to_seq,
                       absl::FunctionRef<absl::Status(const Event&)> visit);

}  // namespace sbd

#endif  // SBD_STORE_RANGE_READ_H_
