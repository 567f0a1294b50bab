// RevocationWatcher: keeps the server's RevokedTokens current. Its own thread
// re-reads the file when it changes on disk (checked every
// kRevocationPollInterval) or when asked (RequestReload: SIGHUP), and after a
// reload that changed the list calls `on_change` (the server: every open
// WebSocket re-checks its token and a revoked one closes with 1008). A reload
// that fails keeps the last good list and says so on the log.
//
// The file is read on this thread, never on an io thread: a slow disk delays
// a revocation, not an answer.
//
// Thread-safety: RequestReload may be called from any thread (it only sets a
// flag and wakes the thread). The destructor stops and joins the thread.
#ifndef SBD_TRANSPORT_REVOCATION_WATCHER_H_
#define SBD_TRANSPORT_REVOCATION_WATCHER_H_

#include <chrono>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "engine/mutex.h"
#include "transport/access_log.h"
#include "transport/limits.h"
#include "transport/revoked_tokens.h"

namespace sbd {

class RevocationWatcher {
 public:
  // `revoked`, `log` and whatever `on_change` touches must outlive this.
  RevocationWatcher(RevokedTokens& revoked, AccessLog& log, std::function<void()> on_change);
  ~RevocationWatcher();
  RevocationWatcher(const RevocationWatcher&) = delete;
  RevocationWatcher& operator=(const RevocationWatcher&) = delete;

  // Re-read the file now (SIGHUP), whether or not it looks changed.
  void RequestReload();

 private:
  void Run();

  RevokedTokens& revoked_;
  AccessLog& log_;
  const std::function<void()> on_change_;
  Mutex mutex_;
  CondVar wakeup_;  // RequestReload and the destructor wake Run early.
  bool reload_requested_ ABSL_GUARDED_BY(mutex_) = false;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread thread_;  // Last: started once everything above exists.
};

}  // namespace sbd

#endif  // SBD_TRANSPORT_REVOCATION_WATCHER_H_
