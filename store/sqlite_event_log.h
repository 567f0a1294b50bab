// SqliteEventLog: the EventLog on one SQLite file (WAL), via SQLiteCpp.
//
// Nothing outside store/ touches SQL. The row format, the schema version and
// the hash chain are written down in docs/EVENT_LOG.md. Every SQLiteCpp
// exception is converted to an absl::Status here: a full disk or an I/O error
// is kUnavailable, corruption or a broken chain is kDataLoss, a foreign or
// newer file is kFailedPrecondition.
//
// Thread-safety: as EventLog. Append uses the writer connection; each read
// borrows a read-only connection from a small pool (one per concurrent
// reader), so reads run concurrently with Append (WAL snapshot isolation).
#ifndef SBD_STORE_SQLITE_EVENT_LOG_H_
#define SBD_STORE_SQLITE_EVENT_LOG_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/event_log.h"
#include "store/event_hash.h"

namespace sbd {

enum class Durability {
  kFull,    // synchronous=FULL: a committed batch survives power loss.
  kNormal,  // synchronous=NORMAL: survives a process crash; the last commits
            // may be lost on power loss (WAL not fsync'd per commit).
};

class SqliteEventLog : public EventLog {
 public:
  struct Options {
    Durability durability = Durability::kFull;
    // Open an existing file without writing to it (sbd-replay on a live log).
    bool read_only = false;
    // Page cache of the writer connection, KiB.
    int64_t cache_size_kib = 64 * 1024;
    // Caps the database at this many pages (PRAGMA max_page_count); 0 keeps
    // SQLite's default. An append past the cap fails as a full disk would
    // (kUnavailable): tests use it to simulate one, operators to cap the file.
    int64_t max_page_count = 0;
  };

  // Written to the file header (PRAGMA application_id / user_version) when
  // the log is created and checked at every open. See docs/EVENT_LOG.md.
  // Version 2 added the `reason` column.
  static constexpr int32_t kApplicationId = 0x53424431;  // "SBD1"
  static constexpr int32_t kSchemaVersion = 2;

  // Opens or creates the log at `path` (the directory must exist), checking
  // the application id and schema version: a foreign or newer file is
  // kFailedPrecondition and is left untouched. A version 1 log is migrated
  // to version 2 in one transaction when opened for writing, and read as it
  // is (every reason '') when opened read-only. With read_only, a missing
  // file is kNotFound and nothing is ever written; LastSeq() is then the last
  // seq at open, while Read() sees what the live writer has committed since.
  static absl::StatusOr<std::unique_ptr<SqliteEventLog>> Open(const std::string& path,
                                                              Options options);

  ~SqliteEventLog() override;

  absl::Status Append(absl::Span<const Event> events) override;

  // Cluster mode (docs/CLUSTER.md): Append, recording in the same
  // transaction that the batch is message `stream_seq` of the replicated
  // stream (table stream_position, docs/EVENT_LOG.md), so that the log and
  // its place in the stream can never disagree after a crash.
  absl::Status AppendAt(absl::Span<const Event> events, int64_t stream_seq);
  // The last AppendAt's stream message and the seq of its last event; both 0
  // if the log never had one. last_seq < LastSeq() means plain Appends came
  // after it (the log was served outside cluster mode since).
  struct StreamPosition {
    int64_t stream_seq = 0;
    int64_t last_seq = 0;
  };
  StreamPosition LastStreamPosition() const;
  // The hash recorded with event `seq` (kNotFound if it is not in the log).
  absl::StatusOr<EventHash> RecordedHash(int64_t seq) const;
  // The chain hash of event LastSeq() (kGenesisHash for an empty log). Only
  // the appending thread may call it, as it may Append.
  EventHash LastHash() const;

  int64_t LastSeq() const override;
  absl::Status Read(int64_t from_seq, int64_t to_seq,
                    absl::FunctionRef<absl::Status(const Event&)> visit) const override;
  absl::StatusOr<std::vector<Event>> ReadSeqs(absl::Span<const int64_t> seqs) const override;

 private:
  class Impl;
  explicit SqliteEventLog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sbd

#endif  // SBD_STORE_SQLITE_EVENT_LOG_H_
