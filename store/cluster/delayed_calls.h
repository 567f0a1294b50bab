// DelayedCalls: one thread that runs calls after a delay, for a gateway's
// retries (a node that has not applied as far as the gateway yet: ask again
// shortly) without blocking the thread that asked. Every call runs exactly
// once: after its delay with cancelled = false, or at Stop with cancelled =
// true, so a call that owes someone an answer can always give one.
//
// Thread-safety: every method may be called from any thread; calls run on
// the DelayedCalls' thread (or Stop's caller) without the lock held, and
// may schedule further calls.
#ifndef SBD_STORE_CLUSTER_DELAYED_CALLS_H_
#define SBD_STORE_CLUSTER_DELAYED_CALLS_H_

#include <chrono>
#include <map>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "engine/mutex.h"

namespace sbd {

class DelayedCalls {
 public:
  using Call = absl::AnyInvocable<void(bool cancelled) &&>;

  DelayedCalls();
  ~DelayedCalls();  // Stop().
  DelayedCalls(const DelayedCalls&) = delete;
  DelayedCalls& operator=(const DelayedCalls&) = delete;

  // Runs `call` once `delay` has passed; after Stop, at once, cancelled.
  void RunAfter(std::chrono::steady_clock::duration delay, Call call);

  // Runs every waiting call, cancelled, and joins the thread. Idempotent.
  void Stop();

 private:
  void Run();

  Mutex mutex_;
  CondVar wakeup_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::multimap<std::chrono::steady_clock::time_point, Call> calls_ ABSL_GUARDED_BY(mutex_);
  std::thread thread_;
};

}  // namespace sbd

#endif  // SBD_STORE_CLUSTER_DELAYED_CALLS_H_
