#include "transport/notifier.h"

#include <optional>
#include <utility>

#include "engine/absl_compat.h"
#include "transport/messages.h"

namespace sbd {
namespace {

// The accounts an event sends a message to (API.md "WebSocket"): both
// parties of a transfer, the holder of a mint, nobody otherwise.
bool IsNotified(const Event& event) {
  return event.type == EventType::kTokensTransferred || event.type == EventType::kTokensMinted;
}

}  // namespace

Notifier::Notifier(Metrics& metrics) : metrics_(metrics) {}

Notifier::~Notifier() = default;

bool Notifier::Register(std::string_view username, std::shared_ptr<NotificationSink> sink) {
  {
    MutexLock lock(mutex_);
    if (closing_) return false;
    std::shared_ptr<const SinkList>& list = sessions_[ToAbsl(username)];
    auto grown = list ? std::make_shared<SinkList>(*list) : std::make_shared<SinkList>();
    grown->push_back(std::move(sink));
    list = std::move(grown);
    session_count_.fetch_add(1, std::memory_order_relaxed);
  }
  metrics_.WebSocketOpened();
  return true;
}

void Notifier::Unregister(std::string_view username, const NotificationSink* sink) {
  // Released after the lock: the last reference may destroy the session.
  std::shared_ptr<NotificationSink> removed;
  {
    MutexLock lock(mutex_);
    auto it = sessions_.find(ToAbsl(username));
    if (it == sessions_.end()) return;
    auto shrunk = std::make_shared<SinkList>();
    shrunk->reserve(it->second->size());
    for (const auto& registered : *it->second) {
      if (registered.get() == sink && removed == nullptr) {
        removed = registered;
      } else {
        shrunk->push_back(registered);
      }
    }
    if (removed == nullptr) return;
    if (shrunk->empty()) {
      sessions_.erase(it);
    } else {
      it->second = std::move(shrunk);
    }
    session_count_.fetch_sub(1, std::memory_order_relaxed);
  }
  metrics_.WebSocketClosed();
}

void Notifier::CloseAll() {
  {
    MutexLock lock(mutex_);
    closing_ = true;
  }
  ForEachSink([](NotificationSink& sink) { sink.GoAway(); });
}

void Notifier::RecheckTokens() {
  ForEachSink([](NotificationSink& sink) { sink.RecheckToken(); });
}

void Notifier::ForEachSink(absl::FunctionRef<void(NotificationSink&)> call) {
  // The lists are copied under the lock and walked after it: a sink's
  // methods post and return, but never under our mutex.
  std::vector<std::shared_ptr<const SinkList>> lists;
  {
    MutexLock lock(mutex_);
    lists.reserve(sessions_.size());
    for (const auto& [username, list] : sessions_) lists.push_back(list);
  }
  for (const auto& list : lists) {
    for (const auto& sink : *list) call(*sink);
  }
}

size_t Notifier::SessionCount() const { return session_count_.load(std::memory_order_relaxed); }

void Notifier::OnEvents(absl::Span<const Event> events) {
  if (session_count_.load(std::memory_order_relaxed) == 0) return;

  // Who listens, looked up under the lock in one pass over the batch.
  struct Recipient {
    const Event* event;
    const std::string* account;
    std::shared_ptr<const SinkList> sinks;
  };
  std::vector<Recipient> recipients;
  {
    MutexLock lock(mutex_);
    for (const Event& event : events) {
      if (!IsNotified(event)) continue;
      for (const std::string* account : {&event.from_account, &event.to_account}) {
        if (account->empty()) continue;
        auto it = sessions_.find(*account);
        if (it != sessions_.end()) recipients.push_back({&event, account, it->second});
      }
    }
  }
  if (recipients.empty()) return;

  // Encode each message once and group the batch per session, so a session
  // gets one post per batch however many of its events the batch holds.
  // `recipients` is in seq order, so each session's list is too.
  struct Pending {
    std::shared_ptr<NotificationSink> sink;
    std::vector<Notification> notifications;
  };
  absl::flat_hash_map<const NotificationSink*, Pending> per_sink;
  for (const Recipient& recipient : recipients) {
    std::optional<std::string> text = EncodeNotification(*recipient.event, *recipient.account);
    if (!text.has_value()) continue;
    auto shared = std::make_shared<const std::string>(std::move(*text));
    for (const auto& sink : *recipient.sinks) {
      Pending& pending = per_sink[sink.get()];
      if (pending.sink == nullptr) pending.sink = sink;
      pending.notifications.push_back({recipient.event->seq, shared});
    }
  }
  for (auto& [key, pending] : per_sink) {
    pending.sink->Deliver(std::move(pending.notifications));
  }
}

}  // namespace sbd
