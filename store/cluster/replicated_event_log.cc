#include "store/cluster/replicated_event_log.h"

#include <cassert>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "store/event_hash.h"

namespace sbd {
namespace {

// How long a writer retries one publish whose outcome it does not know (no
// PubAck: a lost connection, a stream leader election) before it steps down.
// The retries carry the same message id, so the stream stores it once.
constexpr absl::Duration kPublishRetryFor = absl::Seconds(4);
// One attempt's wait for its PubAck.
constexpr int64_t kPublishWaitMs = 2000;

struct MessageDeleter {
  void operator()(natsMsg* message) const { natsMsg_Destroy(message); }
};

}  // namespace

ReplicatedEventLog::ReplicatedEventLog(std::unique_ptr<SqliteEventLog> local, JetStream& jetstream,
                                       ClusterLayout layout)
    : local_(std::move(local)), jetstream_(jetstream), layout_(std::move(layout)) {
  assert(local_ != nullptr);
}

void ReplicatedEventLog::BecomeWriter(uint64_t term) {
  MutexLock lock(append_mutex_);
  term_.store(term, std::memory_order_relaxed);
  writer_.store(true, std::memory_order_release);
}

void ReplicatedEventLog::BecomeFollower() {
  MutexLock lock(append_mutex_);
  writer_.store(false, std::memory_order_release);
}

absl::Status ReplicatedEventLog::StepDown(absl::Status why) {
  writer_.store(false, std::memory_order_release);
  if (on_step_down_) on_step_down_(why);
  return absl::UnavailableError(
      absl::StrCat("this node stepped down as the writer: ", std::string(why.message())));
}

absl::Status ReplicatedEventLog::Append(absl::Span<const Event> events) {
  MutexLock lock(append_mutex_);
  if (!writer()) {
    return absl::UnavailableError("this node is not the cluster's writer (a follower)");
  }
  if (events.empty()) return absl::OkStatus();
  std::vector<EventHash> hashes;
  hashes.reserve(events.size());
  EventHash hash = local_->LastHash();
  for (const Event& event : events) hashes.push_back(hash = ChainHash(hash, event));

  // One message per slice that fits the stream's message size; each
  // continues the last, so a writer fenced half-way leaves a prefix of the
  // batch in the stream (which every node applies, as a batch of its own).
  // The headers take far less than the room left for them.
  const size_t body_bytes_max = static_cast<size_t>(layout_.max_message_bytes) - 4096;
  uint64_t stream_seq = static_cast<uint64_t>(StreamSeq());
  for (EncodedSlice& slice : EncodeSlices(events, hashes, body_bytes_max)) {
    absl::StatusOr<uint64_t> published =
        Publish(std::move(slice.body), events[slice.begin].seq, events[slice.end - 1].seq,
                hashes[slice.end - 1], stream_seq);
    if (!published.ok()) return StepDown(published.status());
    stream_seq = *published;
  }
  absl::Status committed = local_->AppendAt(events, static_cast<int64_t>(stream_seq));
  // The stream holds the batch and this log does not: catch up from it.
  if (!committed.ok()) return StepDown(committed);
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> ReplicatedEventLog::Publish(std::string body, int64_t first, int64_t last,
                                                     const EventHash& last_hash,
                                                     uint64_t expected_last) {
  assert(body.size() <= static_cast<size_t>(layout_.max_message_bytes) &&
         "a slice is cut to fit one stream message");
  const std::string message_id = HashHex(last_hash);
  const std::string first_seq = absl::StrCat(first);
  const std::string last_seq = absl::StrCat(last);
  const std::string term = absl::StrCat(term_.load(std::memory_order_relaxed));
  // Set by hand rather than through jsPubOptions.ExpectLastSeq, which nats.c
  // sends only when it is > 0: the first message must expect an empty stream.
  const std::string expected = absl::StrCat(expected_last);
  const absl::Time give_up = absl::Now() + kPublishRetryFor;
  for (;;) {
    natsMsg* raw = nullptr;
    natsStatus status = natsMsg_Create(&raw, layout_.subject.c_str(), nullptr, body.data(),
                                       static_cast<int>(body.size()));
    if (status != NATS_OK) return FromNats(status, static_cast<jsErrCode>(0), "message");
    std::unique_ptr<natsMsg, MessageDeleter> message(raw);
    for (const auto& [key, value] :
         {std::pair{"Nats-Msg-Id", &message_id},
          std::pair{"Nats-Expected-Last-Sequence", &expected},
          std::pair{kHeaderFirstSeq, &first_seq}, std::pair{kHeaderLastSeq, &last_seq},
          std::pair{kHeaderTerm, &term}}) {
      if (status == NATS_OK) status = natsMsgHeader_Set(message.get(), key, value->c_str());
    }
    if (status != NATS_OK) return FromNats(status, static_cast<jsErrCode>(0), "message headers");
    jsPubOptions options;
    jsPubOptions_Init(&options);
    options.MaxWait = kPublishWaitMs;
    jsPubAck* ack = nullptr;
    jsErrCode js_error = static_cast<jsErrCode>(0);
    status = js_PublishMsg(&ack, jetstream_.context(), message.get(), &options, &js_error);
    if (status == NATS_OK) {
      const uint64_t seq = ack->Sequence;
      jsPubAck_Destroy(ack);
      // Stored after `expected_last` (or found as that very message by its
      // id, if an earlier attempt landed): nothing else can be.
      if (seq != expected_last + 1) {
        return absl::DataLossError(absl::StrCat("the stream stored batch ", first_seq, "..",
                                                last_seq, " as message ", seq, ", expected ",
                                                expected_last + 1));
      }
      return seq;
    }
    absl::Status failed = FromNats(status, js_error, "publish to the stream");
    // Fenced (another writer appended), or out of time: the caller steps down.
    if (absl::IsAborted(failed) || absl::Now() >= give_up) return failed;
    absl::SleepFor(absl::Milliseconds(100));
  }
}

absl::Status ReplicatedEventLog::AppendFollowed(absl::Span<const Event> events,
                                                absl::Span<const EventHash> hashes,
                                                int64_t stream_seq) {
  MutexLock lock(append_mutex_);
  assert(!writer() && "a writer appends what it decides, not what it reads");
  assert(events.size() == hashes.size());
  EventHash hash = local_->LastHash();
  for (size_t i = 0; i < events.size(); ++i) {
    hash = ChainHash(hash, events[i]);
    if (hash != hashes[i]) {
      return absl::DataLossError(absl::StrCat("stream message ", stream_seq, ": event seq ",
                                              events[i].seq,
                                              " does not continue this node's hash chain"));
    }
  }
  return local_->AppendAt(events, stream_seq);
}

}  // namespace sbd
