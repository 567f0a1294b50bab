// ProgressLine: a once-a-second status line on stderr for runs longer than a
// few seconds ("engine: 412,000 / 1,000,000 transfers, 205,311/s"), so a
// long benchmark is visibly alive. Quiet for runs that end sooner.
//
// Thread-safety: the counter is atomic; Advance may be called from any
// thread. Construct and destroy on one thread.
#ifndef SBD_BENCH_PROGRESS_LINE_H_
#define SBD_BENCH_PROGRESS_LINE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "engine/mutex.h"

namespace sbd::bench {

class ProgressLine {
 public:
  // `what` names the work ("engine"), `unit` its items ("transfers"); total
  // 0 means unknown.
  ProgressLine(std::string what, std::string unit, int64_t total);
  ~ProgressLine();  // Stops the thread and ends the line.

  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  void Advance(int64_t count) { done_.fetch_add(count, std::memory_order_relaxed); }
  void Set(int64_t done) { done_.store(done, std::memory_order_relaxed); }

 private:
  void Run();
  // Waits until the destructor asks the thread to stop (true) or `deadline`
  // passes first (false).
  bool AwaitStopUntil(std::chrono::steady_clock::time_point deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const std::string what_;
  const std::string unit_;
  const int64_t total_;
  std::atomic<int64_t> done_{0};
  Mutex mutex_;
  CondVar wake_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  bool printed_ = false;  // Progress thread only, read after join.
  std::thread thread_;
};

}  // namespace sbd::bench

#endif  // SBD_BENCH_PROGRESS_LINE_H_
