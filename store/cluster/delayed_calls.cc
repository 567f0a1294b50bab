#include "store/cluster/delayed_calls.h"

#include <utility>
#include <vector>

namespace sbd {

using Clock = std::chrono::steady_clock;

DelayedCalls::DelayedCalls() { thread_ = std::thread([this] { Run(); }); }

DelayedCalls::~DelayedCalls() { Stop(); }

void DelayedCalls::RunAfter(Clock::duration delay, Call call) {
  {
    MutexLock lock(mutex_);
    if (!stopping_) {
      calls_.emplace(Clock::now() + delay, std::move(call));
      wakeup_.Signal();
      return;
    }
  }
  std::move(call)(/*cancelled=*/true);
}

void DelayedCalls::Stop() {
  std::multimap<Clock::time_point, Call> left;
  {
    MutexLock lock(mutex_);
    stopping_ = true;
    wakeup_.Signal();
  }
  if (thread_.joinable()) thread_.join();
  {
    MutexLock lock(mutex_);
    left.swap(calls_);
  }
  for (auto& [when, call] : left) std::move(call)(/*cancelled=*/true);
}

void DelayedCalls::Run() {
  for (;;) {
    std::vector<Call> due;
    {
      MutexLock lock(mutex_);
      while (!stopping_ && (calls_.empty() || Clock::now() < calls_.begin()->first)) {
        if (calls_.empty()) {
          wakeup_.Wait(mutex_);
        } else {
          wakeup_.WaitUntil(mutex_, calls_.begin()->first);
        }
      }
      if (stopping_) return;  // Stop runs what is left, cancelled.
      while (!calls_.empty() && calls_.begin()->first <= Clock::now()) {
        due.push_back(std::move(calls_.begin()->second));
        calls_.erase(calls_.begin());
      }
    }
    // Without the lock: a call may schedule another.
    for (Call& call : due) std::move(call)(/*cancelled=*/false);
  }
}

}  // namespace sbd
