// Notifier: turns committed events into the WebSocket messages of API.md
// ("WebSocket") and hands them to every open session of the users involved.
//
// It is a Subscriber of the Ledger and keeps a registry of open sessions
// keyed by username (many per user). For each transfer it encodes the
// receiver's and the sender's message once (a shared, immutable buffer) and
// gives each session of that user its messages of the batch in one Deliver
// call, which posts them to the session's strand. The writer thread never
// touches a socket, so one slow or failing session never delays the others.
//
// Thread-safety: every method is thread-safe. OnEvents runs on the ledger's
// writer thread; the registry is guarded by a mutex that is never held while
// calling into a session.
#ifndef SBD_TRANSPORT_NOTIFIER_H_
#define SBD_TRANSPORT_NOTIFIER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/types/span.h"
#include "engine/event.h"
#include "engine/mutex.h"
#include "engine/subscriber.h"
#include "transport/metrics.h"

namespace sbd {

// One encoded message for one user. `text` is shared by every session of the
// user (and never changes), so fan-out copies a pointer, not the bytes.
struct Notification {
  int64_t seq = 0;
  std::shared_ptr<const std::string> text;
};

// What the notifier delivers to: one open WebSocket session.
class NotificationSink {
 public:
  virtual ~NotificationSink() = default;

  // This session's messages of one committed batch, in seq order. Called on
  // the ledger's writer thread: must not block (post to the strand, return).
  virtual void Deliver(std::vector<Notification> notifications) = 0;

  // The server is shutting down: close with 1001 (going away). Any thread;
  // must not block.
  virtual void GoAway() = 0;

  // The token rules changed (the revocation list was reloaded): close with
  // 1008 if this session's token is no longer good. Any thread; must not
  // block.
  virtual void RecheckToken() = 0;
};

class Notifier : public Subscriber {
 public:
  explicit Notifier(Metrics& metrics);
  ~Notifier() override;
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Adds `sink` as an open session of `username` (canonical). It receives
  // every batch published after this returns. False after CloseAll: the
  // server is shutting down and the caller should close with 1001.
  // Counts the connection as open (Metrics::WebSocketOpened).
  bool Register(std::string_view username, std::shared_ptr<NotificationSink> sink);

  // Removes `sink`; a no-op if it is not registered. Counts the connection
  // as closed. Deliveries already posted may still arrive.
  void Unregister(std::string_view username, const NotificationSink* sink);

  // Tells every registered session to close with 1001 and refuses new ones
  // (SIGTERM). Sessions unregister themselves as they close.
  void CloseAll();

  // Asks every registered session to re-check its token (RecheckToken):
  // after the revocation list changed.
  void RecheckTokens();

  // Registered sessions (all users).
  size_t SessionCount() const;

  // Subscriber: runs on the ledger's writer thread, never blocks.
  void OnEvents(absl::Span<const Event> events) override;

 private:
  using SinkList = std::vector<std::shared_ptr<NotificationSink>>;

  // Calls `call` on every registered sink, outside the lock.
  void ForEachSink(absl::FunctionRef<void(NotificationSink&)> call);

  Metrics& metrics_;

  mutable Mutex mutex_;
  // Copy-on-write lists: OnEvents copies a pointer under the lock and walks
  // the list after releasing it; Register/Unregister (rare) build a new list.
  absl::flat_hash_map<std::string, std::shared_ptr<const SinkList>> sessions_
      ABSL_GUARDED_BY(mutex_);
  bool closing_ ABSL_GUARDED_BY(mutex_) = false;

  // sessions_'s total size, readable without the lock so a batch with no
  // listener at all costs the writer thread one atomic load.
  std::atomic<size_t> session_count_{0};
};

}  // namespace sbd

#endif  // SBD_TRANSPORT_NOTIFIER_H_
