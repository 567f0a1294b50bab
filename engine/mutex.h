// Mutex, SharedMutex, CondVar and their scoped locks: std::mutex,
// std::shared_mutex and std::condition_variable with Clang's thread-safety
// annotations, so that a member marked ABSL_GUARDED_BY(mutex_) or a method
// marked ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) is checked at compile time
// (the clang builds run with -Wthread-safety -Werror).
//
// Why not absl::Mutex, which is annotated already: Debian's abseil is not
// built with TSan, so TSan cannot see absl::Mutex's ordering and reports
// false races. These wrap the standard types, which TSan intercepts.
//
// AssertHeld() is the runtime half of the annotation (LevelDB's
// `mutex_.AssertHeld()`): each Mutex records the thread that holds it, and
// AssertHeld() asserts it is the caller (debug builds; in every build it
// tells the analysis the lock is held).
//
// Thread-safety: these are the synchronisation; every method may be called
// from any thread, as its annotation says.
#ifndef SBD_ENGINE_MUTEX_H_
#define SBD_ENGINE_MUTEX_H_

#include <atomic>
#include <cassert>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "absl/base/thread_annotations.h"

namespace sbd {

// Records which thread holds an exclusive lock, for AssertHeld().
class LockOwner {
 public:
  void Acquired() { owner_.store(std::this_thread::get_id(), std::memory_order_relaxed); }
  void Releasing() { owner_.store(std::thread::id(), std::memory_order_relaxed); }
  bool HeldByCaller() const {
    return owner_.load(std::memory_order_relaxed) == std::this_thread::get_id();
  }

 private:
  std::atomic<std::thread::id> owner_{};
};

// What Mutex and SharedMutex share: the exclusive lock over `StdMutex`, and
// the owner bookkeeping AssertHeld() checks.
template <typename StdMutex>
class ABSL_LOCKABLE ExclusiveMutex {
 public:
  ExclusiveMutex() = default;
  ExclusiveMutex(const ExclusiveMutex&) = delete;
  ExclusiveMutex& operator=(const ExclusiveMutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    mutex_.lock();
    owner_.Acquired();
  }
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    assert(owner_.HeldByCaller() && "unlocking a mutex this thread does not hold");
    owner_.Releasing();
    mutex_.unlock();
  }
  // A SharedMutex's readers are not recorded (there may be many): only the
  // exclusive holder is checked.
  void AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK() {
    assert(owner_.HeldByCaller() && "this thread must hold the mutex exclusively");
  }

 protected:
  StdMutex mutex_;
  LockOwner owner_;
};

class ABSL_LOCKABLE Mutex : public ExclusiveMutex<std::mutex> {
 private:
  friend class CondVar;
};

// A reader/writer mutex: one writer, or any number of readers.
class ABSL_LOCKABLE SharedMutex : public ExclusiveMutex<std::shared_mutex> {
 public:
  void ReaderLock() ABSL_SHARED_LOCK_FUNCTION() { mutex_.lock_shared(); }
  void ReaderUnlock() ABSL_UNLOCK_FUNCTION() { mutex_.unlock_shared(); }
};

// Holds `mutex` exclusively for its scope: MutexLock for a Mutex,
// WriterMutexLock for a SharedMutex's writer.
template <typename LockableMutex>
class ABSL_SCOPED_LOCKABLE ExclusiveLock {
 public:
  explicit ExclusiveLock(LockableMutex& mutex) ABSL_EXCLUSIVE_LOCK_FUNCTION(mutex) : mutex_(mutex) {
    mutex_.Lock();
  }
  ~ExclusiveLock() ABSL_UNLOCK_FUNCTION() { mutex_.Unlock(); }
  ExclusiveLock(const ExclusiveLock&) = delete;
  ExclusiveLock& operator=(const ExclusiveLock&) = delete;

 private:
  LockableMutex& mutex_;
};
using MutexLock = ExclusiveLock<Mutex>;
using WriterMutexLock = ExclusiveLock<SharedMutex>;

class ABSL_SCOPED_LOCKABLE ReaderMutexLock {
 public:
  explicit ReaderMutexLock(SharedMutex& mutex) ABSL_SHARED_LOCK_FUNCTION(mutex) : mutex_(mutex) {
    mutex_.ReaderLock();
  }
  ~ReaderMutexLock() ABSL_UNLOCK_FUNCTION() { mutex_.ReaderUnlock(); }
  ReaderMutexLock(const ReaderMutexLock&) = delete;
  ReaderMutexLock& operator=(const ReaderMutexLock&) = delete;

 private:
  SharedMutex& mutex_;
};

// A condition variable over a Mutex. Waits are written as loops in the
// annotated caller — `while (!ready_) wakeup_.Wait(mutex_);` — so that the
// analysis sees the guarded condition read under the lock (a predicate
// lambda would be analysed apart from the lock its caller holds).
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Releases `mutex`, waits for a notification (or a spurious wakeup), and
  // holds `mutex` again on return.
  void Wait(Mutex& mutex) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex) {
    mutex.AssertHeld();
    std::unique_lock<std::mutex> lock(mutex.mutex_, std::adopt_lock);
    mutex.owner_.Releasing();
    condition_.wait(lock);
    mutex.owner_.Acquired();
    lock.release();  // Still held: the caller's lock owns it.
  }

  // As Wait, but returns by `deadline` at the latest; false on timeout.
  template <typename Clock, typename Duration>
  bool WaitUntil(Mutex& mutex, const std::chrono::time_point<Clock, Duration>& deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex) {
    mutex.AssertHeld();
    std::unique_lock<std::mutex> lock(mutex.mutex_, std::adopt_lock);
    mutex.owner_.Releasing();
    const bool notified = condition_.wait_until(lock, deadline) == std::cv_status::no_timeout;
    mutex.owner_.Acquired();
    lock.release();
    return notified;
  }

  void Signal() { condition_.notify_one(); }
  void SignalAll() { condition_.notify_all(); }

 private:
  std::condition_variable condition_;
};

}  // namespace sbd

#endif  // SBD_ENGINE_MUTEX_H_
