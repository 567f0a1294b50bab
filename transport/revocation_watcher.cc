#include "transport/revocation_watcher.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace sbd {

RevocationWatcher::RevocationWatcher(RevokedTokens& revoked, AccessLog& log,
                                     std::function<void()> on_change)
    : revoked_(revoked), log_(log), on_change_(std::move(on_change)), thread_([this] { Run(); }) {}

RevocationWatcher::~RevocationWatcher() {
  {
    MutexLock lock(mutex_);
    stopping_ = true;
  }
  wakeup_.SignalAll();
  thread_.join();
}

void RevocationWatcher::RequestReload() {
  {
    MutexLock lock(mutex_);
    reload_requested_ = true;
  }
  wakeup_.SignalAll();
}

void RevocationWatcher::Run() {
  while (true) {
    bool requested = false;
    {
      const auto deadline = std::chrono::steady_clock::now() + kRevocationPollInterval;
      MutexLock lock(mutex_);
      while (!stopping_ && !reload_requested_ && wakeup_.WaitUntil(mutex_, deadline)) {
      }
      if (stopping_) return;
      requested = std::exchange(reload_requested_, false);
    }
    if (!requested && !revoked_.FileChanged()) continue;
    absl::StatusOr<bool> changed = revoked_.Reload();
    if (!changed.ok()) {
      log_.Append(absl::StrCat("sbd-ledger: --revoked-tokens not reloaded, the last list stays: ",
                               changed.status().message()));
      continue;
    }
    log_.Append(absl::StrCat("sbd-ledger: --revoked-tokens reloaded: ", revoked_.size(),
                             " revoked token ids"));
    if (*changed) on_change_();
  }
}

}  // namespace sbd
