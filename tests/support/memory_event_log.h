// MemoryEventLog: an EventLog held in memory for engine tests, with faults on
// demand (failed appends, slow appends). It keeps the EventLog contract: an
// append is all or nothing, reads see a committed prefix, gapless seqs.
//
// Thread-safety: every method is thread-safe. The events live in a shared
// store so a test can "reopen" a ledger on the same log after closing one.
#ifndef SBD_TESTS_SUPPORT_MEMORY_EVENT_LOG_H_
#define SBD_TESTS_SUPPORT_MEMORY_EVENT_LOG_H_

#include <atomic>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/event_log.h"
#include "engine/mutex.h"

namespace sbd::testing {

class MemoryEventLog : public EventLog {
 public:
  struct Store {
    Mutex mutex;
    std::vector<Event> events ABSL_GUARDED_BY(mutex);
  };

  explicit MemoryEventLog(std::shared_ptr<Store> store = std::make_shared<Store>())
      : store_(std::move(store)) {}

  std::shared_ptr<Store> store() const { return store_; }

  // The next `count` appends fail with kUnavailable.
  void FailNextAppends(int count) { failures_left_ = count; }
  // Every append sleeps this long first (a slow disk).
  void SetAppendDelay(absl::Duration delay) { append_delay_ns_ = absl::ToInt64Nanoseconds(delay); }
  int append_count() const { return append_count_; }

  absl::Status Append(absl::Span<const Event> events) override {
    if (append_delay_ns_ > 0) absl::SleepFor(absl::Nanoseconds(append_delay_ns_.load()));
    ++append_count_;
    if (failures_left_ > 0) {
      --failures_left_;
      return absl::UnavailableError("injected append failure");
    }
    MutexLock lock(store_->mutex);
    int64_t next = static_cast<int64_t>(store_->events.size()) + 1;
    for (const Event& event : events) {
      if (event.seq != next++) return absl::InternalError("seq gap in append");
    }
    store_->events.insert(store_->events.end(), events.begin(), events.end());
    return absl::OkStatus();
  }

  int64_t LastSeq() const override {
    MutexLock lock(store_->mutex);
    return static_cast<int64_t>(store_->events.size());
  }

  absl::Status Read(int64_t from_seq, int64_t to_seq,
                    absl::FunctionRef<absl::Status(const Event&)> visit) const override {
    std::vector<Event> copy;
    {
      MutexLock lock(store_->mutex);
      for (int64_t seq = std::max<int64_t>(from_seq, 1);
           seq <= to_seq && seq <= static_cast<int64_t>(store_->events.size()); ++seq) {
        copy.push_back(store_->events[seq - 1]);
      }
    }
    for (const Event& event : copy) {
      if (absl::Status status = visit(event); !status.ok()) return status;
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<Event>> ReadSeqs(absl::Span<const int64_t> seqs) const override {
    MutexLock lock(store_->mutex);
    std::vector<Event> result;
    for (int64_t seq : seqs) {
      if (seq < 1 || seq > static_cast<int64_t>(store_->events.size())) {
        return absl::NotFoundError(absl::StrCat("no event ", seq));
      }
      result.push_back(store_->events[seq - 1]);
    }
    return result;
  }

 private:
  std::shared_ptr<Store> store_;
  std::atomic<int> failures_left_{0};
  std::atomic<int64_t> append_delay_ns_{0};
  std::atomic<int> append_count_{0};
};

}  // namespace sbd::testing

#endif  // SBD_TESTS_SUPPORT_MEMORY_EVENT_LOG_H_
