// ReaderPool: the read-only connections of a SqliteEventLog, each with the
// statements reads reuse on it. A read borrows one for its duration (a
// ReaderPool::Lease); at most kIdleReadersMax idle ones are kept for the next
// read. Internal to store/.
//
// Why a pool: each concurrent reader needs its own connection (a connection
// is one thread's at a time, and in WAL mode each sees its own snapshot), and
// opening one per read would cost more than many short reads do.
//
// Thread-safety: Lease may be constructed and destroyed on any thread (the
// idle list is guarded by mutex_); a Reader is used by the one thread that
// holds its Lease.
#ifndef SBD_STORE_READER_POOL_H_
#define SBD_STORE_READER_POOL_H_

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "engine/mutex.h"
#include "store/event_row.h"

namespace sbd {

class ReaderPool {
 public:
  // A read-only connection and the statements reads reuse on it.
  struct Reader {
    // `columns`: kEventLogColumns, or kEventLogColumnsV1 for a version 1 log.
    // Throws SQLite::Exception when the connection cannot be opened.
    Reader(const std::string& path, const char* columns);

    // Ends any read transaction a statement holds, so the WAL can be
    // checkpointed past it while the connection sits idle.
    void Reset();

    SQLite::Database db;
    RowStatement range;         // Rows from ?1 to ?2 in seq order.
    RowStatement by_seq;        // The row of seq ?1.
    SQLite::Statement hash_at;  // The recorded hash of seq ?1.
  };

  // A Reader borrowed from the pool for one read; returned when destroyed,
  // unless the read failed (Discard: the connection may be the cause).
  class Lease {
   public:
    // An idle Reader, or a new one. Throws SQLite::Exception when a new
    // connection cannot be opened.
    explicit Lease(ReaderPool& pool);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    Reader& operator*() { return *reader_; }
    // Closes the connection instead of returning it.
    void Discard() { reader_.reset(); }

   private:
    ReaderPool& pool_;
    std::unique_ptr<Reader> reader_;
  };

  // Readers of the log at `path`, selecting `columns` (see Reader).
  ReaderPool(std::string path, const char* columns);
  ReaderPool(const ReaderPool&) = delete;
  ReaderPool& operator=(const ReaderPool&) = delete;

 private:
  std::unique_ptr<Reader> Borrow();
  void Return(std::unique_ptr<Reader> reader);

  const std::string path_;
  const char* const columns_;
  // sbd::Mutex, not absl::Mutex: Debian's abseil is not built with TSan,
  // which then cannot see absl::Mutex's ordering and reports false races.
  Mutex mutex_;
  std::vector<std::unique_ptr<Reader>> idle_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace sbd

#endif  // SBD_STORE_READER_POOL_H_
