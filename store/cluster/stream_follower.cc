#include "store/cluster/stream_follower.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace sbd {
namespace {

// How often the reading thread looks at Stop() while the stream is quiet.
constexpr int64_t kPollMs = 100;

struct SubscriptionDeleter {
  const JetStream* jetstream;
  void operator()(natsSubscription* subscription) const {
    jetstream->Unsubscribe(subscription);
    natsSubscription_Destroy(subscription);
  }
};

}  // namespace

StreamFollower::StreamFollower(JetStream& jetstream, const ClusterLayout& layout,
                               int64_t after_stream_seq, Handler handler,
                               std::function<void(const absl::Status&)> on_error)
    : jetstream_(jetstream),
      layout_(layout),
      handler_(std::move(handler)),
      on_error_(std::move(on_error)),
      handled_(after_stream_seq) {
  thread_ = std::thread([this] { Run(); });
}

StreamFollower::~StreamFollower() { Stop(); }

void StreamFollower::Stop() {
  stopping_.store(true, std::memory_order_release);
  if (thread_.joinable()) thread_.join();
}

void StreamFollower::Run() {
  while (!stopping_.load(std::memory_order_acquire)) {
    absl::Status status = Follow();
    if (absl::IsDataLoss(status) || absl::IsFailedPrecondition(status) ||
        absl::IsInternal(status)) {
      on_error_(status);
      return;
    }
    // The subscription failed (no quorum, the stream's leader moved): make
    // a new one from the next message after a pause.
    if (!stopping_.load(std::memory_order_acquire)) absl::SleepFor(absl::Milliseconds(200));
  }
}

absl::Status StreamFollower::Follow() {
  jsSubOptions options;
  jsSubOptions_Init(&options);
  options.Stream = layout_.stream.c_str();
  options.Ordered = true;
  options.Config.DeliverPolicy = js_DeliverByStartSequence;
  options.Config.OptStartSeq = static_cast<uint64_t>(stream_seq()) + 1;
  natsSubscription* raw = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  natsStatus status = js_SubscribeSync(&raw, jetstream_.context(), layout_.subject.c_str(), nullptr,
                                       &options, &js_error);
  if (status != NATS_OK) return FromNats(status, js_error, "subscribe to the stream");
  std::unique_ptr<natsSubscription, SubscriptionDeleter> subscription(
      raw, SubscriptionDeleter{&jetstream_});
  while (!stopping_.load(std::memory_order_acquire)) {
    natsMsg* message = nullptr;
    status = natsSubscription_NextMsg(&message, subscription.get(), kPollMs);
    if (status == NATS_TIMEOUT) continue;
    if (status != NATS_OK) return FromNats(status, static_cast<jsErrCode>(0), "read the stream");
    jsMsgMetaData* meta = nullptr;
    status = natsMsg_GetMetaData(&meta, message);
    if (status != NATS_OK) {
      natsMsg_Destroy(message);
      return FromNats(status, static_cast<jsErrCode>(0), "stream message metadata");
    }
    const auto seq = static_cast<int64_t>(meta->Sequence.Stream);
    jsMsgMetaData_Destroy(meta);
    if (seq <= stream_seq()) {  // Delivered again: handled already.
      natsMsg_Destroy(message);
      continue;
    }
    absl::StatusOr<StreamBatch> batch = DecodeBatch(std::string_view(
        natsMsg_GetData(message), static_cast<size_t>(natsMsg_GetDataLength(message))));
    natsMsg_Destroy(message);
    if (!batch.ok()) {
      return absl::DataLossError(
          absl::StrCat("stream message ", seq, ": ", std::string(batch.status().message())));
    }
    if (seq != stream_seq() + 1) {
      return absl::InternalError(
          absl::StrCat("the stream skipped from message ", stream_seq(), " to ", seq));
    }
    if (absl::Status handled = handler_(std::move(*batch), seq); !handled.ok()) return handled;
    handled_.store(seq, std::memory_order_release);
  }
  return absl::OkStatus();
}

}  // namespace sbd
