#include "transport/session_registry.h"

#include <cassert>
#include <utility>
#include <vector>

#include "transport/http_session.h"

namespace sbd {

uint64_t SessionRegistry::Add(const std::weak_ptr<HttpSession>& session, size_t limit) {
  MutexLock lock(mutex_);
  if (sessions_.size() >= limit) return 0;
  const uint64_t id = next_id_++;
  const bool inserted = sessions_.emplace(id, session).second;
  assert(inserted && id != 0 && "registry ids are unique and never 0");
  (void)inserted;
  return id;
}

void SessionRegistry::Remove(uint64_t id) {
  assert(id != 0 && "0 is the refused session's id, never registered");
  MutexLock lock(mutex_);
  sessions_.erase(id);
}

size_t SessionRegistry::size() const {
  MutexLock lock(mutex_);
  return sessions_.size();
}

void SessionRegistry::ShutdownAll() {
  std::vector<std::shared_ptr<HttpSession>> open;
  {
    MutexLock lock(mutex_);
    for (auto& [id, weak] : sessions_) {
      if (auto session = weak.lock()) open.push_back(std::move(session));
    }
  }
  // Outside the lock: dropping the last reference runs ~HttpSession, which
  // takes the lock.
  for (auto& session : open) session->Shutdown();
}

}  // namespace sbd
