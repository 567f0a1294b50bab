#include "bench/progress_line.h"

#include <chrono>
#include <cstdio>

namespace sbd::bench {
namespace {

// Runs shorter than this print nothing: a progress line is noise for them.
constexpr std::chrono::seconds kQuietPeriod{3};
constexpr std::chrono::seconds kInterval{1};

}  // namespace

ProgressLine::ProgressLine(std::string what, std::string unit, int64_t total)
    : what_(std::move(what)), unit_(std::move(unit)), total_(total) {
  thread_ = std::thread([this] { Run(); });
}

ProgressLine::~ProgressLine() {
  {
    MutexLock lock(mutex_);
    stopping_ = true;
  }
  wake_.Signal();
  thread_.join();
  if (printed_) std::fprintf(stderr, "\n");
}

void ProgressLine::Run() {
  const auto start = std::chrono::steady_clock::now();
  auto next = start + kQuietPeriod;
  MutexLock lock(mutex_);
  while (!AwaitStopUntil(next)) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const int64_t done = done_.load(std::memory_order_relaxed);
    if (total_ > 0) {
      std::fprintf(stderr, "\r%s: %lld / %lld %s, %.0f/s   ", what_.c_str(),
                   static_cast<long long>(done), static_cast<long long>(total_), unit_.c_str(),
                   static_cast<double>(done) / seconds);
    } else {
      std::fprintf(stderr, "\r%s: %lld %s, %.0f/s   ", what_.c_str(), static_cast<long long>(done),
                   unit_.c_str(), static_cast<double>(done) / seconds);
    }
    std::fflush(stderr);
    printed_ = true;
    next += kInterval;
  }
}

bool ProgressLine::AwaitStopUntil(std::chrono::steady_clock::time_point deadline) {
  mutex_.AssertHeld();
  while (!stopping_) {
    if (!wake_.WaitUntil(mutex_, deadline)) return stopping_;
  }
  return true;
}

}  // namespace sbd::bench
