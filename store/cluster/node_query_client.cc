#include "store/cluster/node_query_client.h"

#include <cassert>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/absl_compat.h"
#include "engine/error_code.h"

namespace sbd {
namespace {

absl::Status Unavailable(std::string_view why) { return MakeError(ErrorCode::kUnavailable, why); }

}  // namespace

NodeQueryClient::NodeQueryClient(JetStream& jetstream, const ClusterLayout& layout, Options options)
    : jetstream_(jetstream), layout_(layout), options_(options) {
  assert(options_.timeout > absl::ZeroDuration() && options_.pending_max >= 1);
}

NodeQueryClient::~NodeQueryClient() { Stop(); }

absl::Status NodeQueryClient::Start() {
  assert(subscription_ == nullptr && inbox_.empty() && "Start once");
  natsInbox* inbox = nullptr;
  natsStatus status = natsInbox_Create(&inbox);
  if (status != NATS_OK) return FromNats(status, static_cast<jsErrCode>(0), "make an inbox");
  inbox_ = inbox;
  natsInbox_Destroy(inbox);
  const std::string replies = absl::StrCat(inbox_, ".*");
  status = natsConnection_Subscribe(&subscription_, jetstream_.connection(), replies.c_str(),
                                    &NodeQueryClient::OnMessage, this);
  if (status != NATS_OK) {
    subscription_ = nullptr;
    return FromNats(status, static_cast<jsErrCode>(0), "subscribe to node query replies");
  }
  status = natsSubscription_SetOnCompleteCB(subscription_, &NodeQueryClient::OnComplete, this);
  assert(status == NATS_OK && "a subscription just made takes a completion callback");
  sweeper_ = std::thread([this] { Sweep(); });
  // The inbox's SUB goes out before any query on the same connection, so
  // the server knows where to send a reply before it sees the query.
  MutexLock lock(mutex_);
  state_ = State::kRunning;
  return absl::OkStatus();
}

void NodeQueryClient::Stop() {
  {
    MutexLock lock(mutex_);
    if (state_ == State::kStopped) return;
    state_ = State::kStopped;
  }
  sweeper_signal_.SignalAll();
  if (subscription_ != nullptr) {
    // If the subscription is closed already (its connection was),
    // OnComplete has run or is about to.
    jetstream_.Unsubscribe(subscription_);
    {
      MutexLock lock(mutex_);
      while (!completed_) completed_signal_.Wait(mutex_);
    }
    natsSubscription_Destroy(subscription_);
    subscription_ = nullptr;
  }
  if (sweeper_.joinable()) sweeper_.join();
  // Nothing else takes a pending query now: no reply handler runs, the
  // sweeper is gone, and Send refuses (or fails what it added itself, if
  // its publish fails; a publish that succeeds leaves the query here).
  std::map<uint64_t, Pending> left;
  {
    MutexLock lock(mutex_);
    left.swap(pending_);
  }
  for (auto& [id, pending] : left) {
    Fail(pending, Unavailable("the gateway stopped before a node answered"));
  }
}

size_t NodeQueryClient::pending() const {
  MutexLock lock(mutex_);
  return pending_.size();
}

void NodeQueryClient::Snapshot(std::string account, AccountFeed::SnapshotDone done) {
  assert(done);
  Pending pending;
  pending.snapshot_done = std::move(done);
  Send(SnapshotQuery{.account = std::move(account)}, std::move(pending));
}

void NodeQueryClient::EventsAfter(std::string account, int64_t after, int64_t until, size_t limit,
                                  AccountFeed::PageDone done) {
  assert(done);
  assert(after >= 0 && until >= 0 && limit > 0 && "a query the protocol can carry");
  Pending pending;
  pending.page_done = std::move(done);
  pending.page_query = {
      .account = std::move(account), .after = after, .until = until, .limit = limit};
  const NodeQuery query = pending.page_query;
  Send(query, std::move(pending));
}

void NodeQueryClient::Send(const NodeQuery& query, Pending pending) {
  const std::string body = EncodeQuery(query);
  absl::Status refused;
  uint64_t id = 0;
  bool first = false;
  // Not sent while the connection is down: nats.c would buffer it for the
  // reconnect, and the caller would wait out the timeout for nothing.
  if (!jetstream_.connected()) {
    refused = Unavailable("the gateway is not connected to NATS");
  } else {
    MutexLock lock(mutex_);
    if (state_ != State::kRunning) {
      refused = Unavailable("the gateway's node queries are not running");
    } else if (pending_.size() >= options_.pending_max) {
      refused = Unavailable(absl::StrCat(pending_.size(), " node queries pending already"));
    } else {
      id = next_id_++;
      pending.deadline = Clock::now() + absl::ToChronoNanoseconds(options_.timeout);
      first = pending_.empty();
      pending_.emplace(id, std::move(pending));
    }
  }
  if (!refused.ok()) return Fail(pending, refused);
  if (first) sweeper_signal_.Signal();
  const std::string reply = absl::StrCat(inbox_, ".", id);
  const natsStatus status =
      natsConnection_PublishRequest(jetstream_.connection(), layout_.query_subject.c_str(),
                                    reply.c_str(), body.data(), static_cast<int>(body.size()));
  if (status == NATS_OK) return;
  // Not sent: fail it now, unless the sweeper or Stop got to it first.
  std::optional<Pending> taken = Take(id);
  if (!taken) return;
  Fail(*taken, Unavailable(absl::StrCat("send a node query: ", natsStatus_GetText(status))));
}

void NodeQueryClient::Fail(Pending& pending, const absl::Status& status) {
  assert(!status.ok() && (pending.snapshot_done != nullptr) != (pending.page_done != nullptr));
  if (pending.snapshot_done) return pending.snapshot_done(status);
  pending.page_done(status);
}

std::optional<NodeQueryClient::Pending> NodeQueryClient::Take(uint64_t id) {
  MutexLock lock(mutex_);
  auto it = pending_.find(id);
  if (it == pending_.end()) return std::nullopt;
  Pending pending = std::move(it->second);
  pending_.erase(it);
  return pending;
}

void NodeQueryClient::OnComplete(void* closure) {
  auto* self = static_cast<NodeQueryClient*>(closure);
  MutexLock lock(self->mutex_);
  self->completed_ = true;
  self->completed_signal_.SignalAll();
}

void NodeQueryClient::OnMessage(natsConnection* /*connection*/, natsSubscription* /*subscription*/,
                                natsMsg* message, void* closure) {
  auto* self = static_cast<NodeQueryClient*>(closure);
  // The subscription is `<inbox>.*`: what follows the inbox is the id.
  const std::string_view subject = natsMsg_GetSubject(message);
  uint64_t id = 0;
  std::optional<Pending> pending;
  if (subject.size() > self->inbox_.size() + 1 &&
      absl::SimpleAtoi(ToAbsl(subject.substr(self->inbox_.size() + 1)), &id)) {
    pending = self->Take(id);
  }
  if (!pending) {  // Its query timed out already (or this is no reply of ours).
    natsMsg_Destroy(message);
    return;
  }
  // The servers' own reply when no node is subscribed to the queries.
  if (natsMsg_IsNoResponders(message)) {
    natsMsg_Destroy(message);
    return Fail(*pending, Unavailable(absl::StrCat("no node answers queries on ",
                                                   self->layout_.query_subject)));
  }
  const std::string body(natsMsg_GetData(message),
                         static_cast<size_t>(natsMsg_GetDataLength(message)));
  natsMsg_Destroy(message);
  if (pending->snapshot_done) return pending->snapshot_done(DecodeSnapshotReply(body));
  pending->page_done(DecodePageReply(body, pending->page_query));
}

void NodeQueryClient::Sweep() {
  for (;;) {
    std::vector<Pending> expired;
    {
      MutexLock lock(mutex_);
      while (expired.empty()) {
        if (state_ == State::kStopped) return;  // Stop fails what is left.
        const Clock::time_point now = Clock::now();
        while (!pending_.empty() && pending_.begin()->second.deadline <= now) {
          expired.push_back(std::move(pending_.begin()->second));
          pending_.erase(pending_.begin());
        }
        if (!expired.empty()) break;
        if (pending_.empty()) {
          sweeper_signal_.Wait(mutex_);
        } else {
          // A copy: the wait reads its deadline again after waking, when a
          // reply may have taken (and freed) the entry it came from.
          const Clock::time_point deadline = pending_.begin()->second.deadline;
          sweeper_signal_.WaitUntil(mutex_, deadline);
        }
      }
    }
    const absl::Status late = Unavailable(
        absl::StrCat("no node answered within ", absl::FormatDuration(options_.timeout)));
    for (Pending& pending : expired) Fail(pending, late);
  }
}

}  // namespace sbd
