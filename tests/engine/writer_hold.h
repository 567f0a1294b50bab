// WriterHold: a done callback that holds the Ledger's writer thread until
// released. Commands submitted meanwhile queue up, so when it is released
// they are taken in batches of exactly batch_size_max, each decided on top
// of the one ahead of it in the pipeline: a deterministic batching for tests.
#ifndef SBD_TESTS_ENGINE_WRITER_HOLD_H_
#define SBD_TESTS_ENGINE_WRITER_HOLD_H_

#include <condition_variable>
#include <mutex>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "engine/ledger.h"

namespace sbd::testing {

class WriterHold {
 public:
  // The callback to submit the holding command with. The hold must outlive
  // the callback's return (Release, then let the writer move on).
  Ledger::Done Callback() {
    return [this](absl::StatusOr<CommandResult> result) {
      std::unique_lock lock(mutex_);
      result_ = std::move(result);
      changed_.notify_all();
      changed_.wait(lock, [this] { return released_; });
    };
  }

  // Waits until the writer is held; returns the holding command's answer.
  absl::StatusOr<CommandResult> AwaitHeld() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return result_.has_value(); });
    return *result_;
  }

  void Release() {
    {
      std::lock_guard lock(mutex_);
      released_ = true;
    }
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<absl::StatusOr<CommandResult>> result_ ABSL_GUARDED_BY(mutex_);
  bool released_ ABSL_GUARDED_BY(mutex_) = false;
};

}  // namespace sbd::testing

#endif  // SBD_TESTS_ENGINE_WRITER_HOLD_H_
