// ProgressLine: a once-a-second status line on stderr for runs longer than a
// few seconds ("engine: 412,000 / 1,000,000 transfers, 205,311/s"), so a
// long benchmark is visibly alive. Quiet for runs that end sooner.
//
// Thread-safety: the counter is atomic; Advance may be called from any
// thread. Construct and destroy on one thread.
#ifndef SBD_BENCH_PROGRESS_LINE_H_
#define SBD_BENCH_PROGRESS_LINE_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

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

  const std::string what_;
  const std::string unit_;
  const int64_t total_;
  std::atomic<int64_t> done_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // Guarded by mutex_.
  bool printed_ = false;   // Progress thread only, read after join.
  std::thread thread_;
};

}  // namespace sbd::bench

#endif  // SBD_BENCH_PROGRESS_LINE_H_
