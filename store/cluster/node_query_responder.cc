#include "store/cluster/node_query_responder.h"

#include <algorithm>
#include <cassert>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "store/cluster/node_query_protocol.h"

namespace sbd {
namespace {

// How long Start waits for the servers to confirm the subscription: once
// they have, a query sent after Start returns finds this node.
constexpr int64_t kSubscribeFlushMs = 2000;

}  // namespace

NodeQueryResponder::NodeQueryResponder(JetStream& jetstream, const ClusterLayout& layout,
                                       const Ledger& ledger, Options options)
    : jetstream_(jetstream), layout_(layout), ledger_(ledger), options_(options) {
  assert(options_.page_events_max >= 1 && options_.reply_bytes_max >= 1);
}

NodeQueryResponder::~NodeQueryResponder() { Stop(); }

absl::Status NodeQueryResponder::Start() {
  assert(subscription_ == nullptr && "Start once");
  natsStatus status = natsConnection_QueueSubscribe(
      &subscription_, jetstream_.connection(), layout_.query_subject.c_str(),
      layout_.query_queue.c_str(), &NodeQueryResponder::OnMessage, this);
  if (status != NATS_OK) {
    subscription_ = nullptr;
    return FromNats(status, static_cast<jsErrCode>(0), "subscribe to node queries");
  }
  status = natsSubscription_SetOnCompleteCB(subscription_, &NodeQueryResponder::OnComplete, this);
  // Only a closed subscription refuses it: the connection was closed under us.
  assert(status == NATS_OK && "a subscription just made takes a completion callback");
  // A lost connection is no error: the client subscribes again when it is
  // back, and until then no query could reach this node anyway.
  natsConnection_FlushTimeout(jetstream_.connection(), kSubscribeFlushMs);
  return absl::OkStatus();
}

void NodeQueryResponder::Stop() {
  if (subscription_ == nullptr) return;
  // If the subscription is closed already (its connection was), OnComplete
  // has run or is about to.
  jetstream_.Unsubscribe(subscription_);
  {
    MutexLock lock(mutex_);
    while (!completed_) completed_signal_.Wait(mutex_);
  }
  natsSubscription_Destroy(subscription_);
  subscription_ = nullptr;
}

void NodeQueryResponder::OnComplete(void* closure) {
  auto* self = static_cast<NodeQueryResponder*>(closure);
  MutexLock lock(self->mutex_);
  self->completed_ = true;
  self->completed_signal_.SignalAll();
}

void NodeQueryResponder::OnMessage(natsConnection* connection, natsSubscription* /*subscription*/,
                                   natsMsg* message, void* closure) {
  auto* self = static_cast<NodeQueryResponder*>(closure);
  const char* reply = natsMsg_GetReply(message);
  if (reply == nullptr || reply[0] == '\0') {  // Not a request: nobody to answer.
    self->dropped_.fetch_add(1, std::memory_order_relaxed);
    natsMsg_Destroy(message);
    return;
  }
  const std::string body = self->Answer(std::string_view(
      natsMsg_GetData(message), static_cast<size_t>(natsMsg_GetDataLength(message))));
  assert(body.size() < static_cast<size_t>(self->layout_.max_message_bytes) &&
         "a reply the servers would drop");
  // A reply that cannot be sent (the connection is down) is dropped: the
  // gateway times out and asks again, maybe another node.
  const natsStatus status =
      natsConnection_Publish(connection, reply, body.data(), static_cast<int>(body.size()));
  (status == NATS_OK ? self->answered_ : self->dropped_).fetch_add(1, std::memory_order_relaxed);
  natsMsg_Destroy(message);
}

std::string NodeQueryResponder::Answer(std::string_view body) const {
  absl::StatusOr<NodeQuery> query = DecodeQuery(body);
  if (!query.ok()) return EncodeErrorReply(query.status());
  if (const auto* snapshot = std::get_if<SnapshotQuery>(&*query)) {
    absl::StatusOr<Ledger::AccountSnapshot> taken = ledger_.Snapshot(snapshot->account);
    if (!taken.ok()) return EncodeErrorReply(taken.status());
    return EncodeSnapshotReply(FeedSnapshot{.seq = taken->seq, .balance = taken->balance});
  }
  const auto& page = std::get<EventsAfterQuery>(*query);
  const size_t limit = std::min(page.limit, options_.page_events_max);
  // Applied is read before the events: every event at or below it is
  // committed, so the read below sees all of the account's up to `bound`,
  // and a page that is not full holds every one of them in (after, bound].
  // (Read after, it could count an event committed between the two reads
  // that the page does not hold.) A full page may have stopped short of
  // `bound`: it ends at its own last event. A node behind `after` answers
  // an empty page through `after`: no progress, never a step back.
  const int64_t applied = ledger_.LastSeq();
  const int64_t bound = std::min(page.until, applied);
  absl::StatusOr<std::vector<Event>> events =
      ledger_.EventsAfter(page.account, page.after, bound, limit);
  if (!events.ok()) return EncodeErrorReply(events.status());
  assert(events->size() <= limit);
  const int64_t through =
      events->size() == limit ? events->back().seq : std::max(page.after, bound);
  return EncodePageReply(*events, through, options_.reply_bytes_max);
}

}  // namespace sbd
