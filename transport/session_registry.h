// SessionRegistry: the open HTTP sessions (Beast chat-multi's shared_state),
// so that a shutdown can reach every one of them. The listener adds each
// session it starts, up to a limit; a session removes itself when it ends (or
// when it hands its socket to the WebSocket side, whose sessions the Notifier
// counts).
//
// Thread-safety: every method may be called from any thread; the map is
// guarded by a mutex that is never held while a session runs.
#ifndef SBD_TRANSPORT_SESSION_REGISTRY_H_
#define SBD_TRANSPORT_SESSION_REGISTRY_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "engine/mutex.h"

namespace sbd {

class HttpSession;

class SessionRegistry {
 public:
  SessionRegistry() = default;
  SessionRegistry(const SessionRegistry&) = delete;
  SessionRegistry& operator=(const SessionRegistry&) = delete;

  // Returns the id to Remove with (never 0), or 0 if `limit` sessions are
  // open already.
  uint64_t Add(const std::weak_ptr<HttpSession>& session, size_t limit);
  void Remove(uint64_t id);
  size_t size() const;
  // Asks every open session to close once its current request is answered.
  void ShutdownAll();

 private:
  mutable Mutex mutex_;
  uint64_t next_id_ ABSL_GUARDED_BY(mutex_) = 1;
  absl::flat_hash_map<uint64_t, std::weak_ptr<HttpSession>> sessions_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace sbd

#endif  // SBD_TRANSPORT_SESSION_REGISTRY_H_
