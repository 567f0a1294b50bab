#include "store/reader_pool.h"

#include <cassert>
#include <utility>

#include "absl/strings/str_cat.h"
#include "store/limits.h"

namespace sbd {

ReaderPool::Reader::Reader(const std::string& path, const char* columns)
    // NOMUTEX: a pooled connection is used by one thread at a time, so
    // SQLite's per-call connection mutex is pure overhead (~8% of a read).
    : db(path, SQLite::OPEN_READONLY | SQLite::OPEN_NOMUTEX, kBusyTimeoutMs),
      range(db, absl::StrCat("SELECT ", columns,
                             " FROM events WHERE seq BETWEEN ? AND ? ORDER BY seq")),
      by_seq(db, absl::StrCat("SELECT ", columns, " FROM events WHERE seq = ?")),
      hash_at(db, "SELECT hash FROM events WHERE seq = ?") {}

void ReaderPool::Reader::Reset() {
  range.Reset();
  by_seq.Reset();
  hash_at.tryReset();
}

ReaderPool::Lease::Lease(ReaderPool& pool) : pool_(pool), reader_(pool.Borrow()) {
  assert(reader_ != nullptr);
}

ReaderPool::Lease::~Lease() {
  if (reader_ == nullptr) return;
  reader_->Reset();
  pool_.Return(std::move(reader_));
}

ReaderPool::ReaderPool(std::string path, const char* columns)
    : path_(std::move(path)), columns_(columns) {}

std::unique_ptr<ReaderPool::Reader> ReaderPool::Borrow() {
  {
    MutexLock lock(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<Reader> reader = std::move(idle_.back());
      idle_.pop_back();
      return reader;
    }
  }
  // Opened outside the lock: it touches the file.
  return std::make_unique<Reader>(path_, columns_);
}

void ReaderPool::Return(std::unique_ptr<Reader> reader) {
  assert(reader != nullptr);
  MutexLock lock(mutex_);
  if (idle_.size() < kIdleReadersMax) idle_.push_back(std::move(reader));
}

}  // namespace sbd
