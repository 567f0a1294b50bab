// WriterHold: a done callback that holds the Ledger's writer thread until
// released. Commands submitted meanwhile queue up, so when it is released
// they are taken in batches of exactly batch_size_max, each decided on top
// of the one ahead of it in the pipeline: a deterministic batching for tests.
//
// Thread-safety: every method may be called from any thread.
#ifndef SBD_TESTS_ENGINE_WRITER_HOLD_H_
#define SBD_TESTS_ENGINE_WRITER_HOLD_H_

#include <optional>

#include "absl/base/thread_annotations.h"
#include "engine/ledger.h"
#include "engine/mutex.h"

namespace sbd::testing {

class WriterHold {
 public:
  // The callback to submit the holding command with. The hold must outlive
  // the callback's return (Release, then let the writer move on).
  Ledger::Done Callback() {
    return [this](absl::StatusOr<CommandResult> result) { Hold(std::move(result)); };
  }

  // Waits until the writer is held; returns the holding command's answer.
  absl::StatusOr<CommandResult> AwaitHeld() {
    MutexLock lock(mutex_);
    while (!result_.has_value()) changed_.Wait(mutex_);
    return *result_;
  }

  void Release() {
    {
      MutexLock lock(mutex_);
      released_ = true;
    }
    changed_.SignalAll();
  }

 private:
  void Hold(absl::StatusOr<CommandResult> result) {
    MutexLock lock(mutex_);
    result_ = std::move(result);
    changed_.SignalAll();
    while (!released_) changed_.Wait(mutex_);
  }

  Mutex mutex_;
  CondVar changed_;
  std::optional<absl::StatusOr<CommandResult>> result_ ABSL_GUARDED_BY(mutex_);
  bool released_ ABSL_GUARDED_BY(mutex_) = false;
};

}  // namespace sbd::testing

#endif  // SBD_TESTS_ENGINE_WRITER_HOLD_H_
