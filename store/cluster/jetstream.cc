#include "store/cluster/jetstream.h"

#include <cassert>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace sbd {
namespace {

// How long one request to the cluster (a publish, a stream info) may take
// before it is retried or reported: a leader election takes seconds in 2.9.
constexpr int64_t kRequestTimeoutMs = 2000;
// Between reconnect attempts to one server.
constexpr int64_t kReconnectWaitMs = 250;
// How a node notices a server that hangs with its socket open (SIGSTOP, a
// lost network): unanswered pings. nats.c's defaults (one every 2 minutes,
// 2 missed) would keep a node on a dead server for minutes; failover must
// take seconds (docs/CLUSTER.md).
constexpr int64_t kPingIntervalMs = 500;
constexpr int kMaxPingsOut = 3;

struct OptionsDeleter {
  void operator()(natsOptions* options) const { natsOptions_Destroy(options); }
};

absl::Status EnsureStream(jsCtx* context, const ClusterLayout& layout) {
  jsStreamInfo* info = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  natsStatus status = js_GetStreamInfo(&info, context, layout.stream.c_str(), nullptr, &js_error);
  if (status == NATS_OK) {
    jsStreamInfo_Destroy(info);
    return absl::OkStatus();
  }
  if (js_error != JSStreamNotFoundErr) return FromNats(status, js_error, "stream info");
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  const char* subjects[] = {layout.subject.c_str()};
  config.Name = layout.stream.c_str();
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  config.Replicas = layout.replicas;
  config.Duplicates = absl::ToInt64Nanoseconds(layout.duplicates_window);
  config.MaxMsgSize = layout.max_message_bytes;
  config.DenyDelete = true;  // An append-only log: no message is ever removed...
  config.DenyPurge = true;   // ...nor the stream emptied.
  status = js_AddStream(&info, context, &config, nullptr, &js_error);
  if (status == NATS_OK) jsStreamInfo_Destroy(info);
  // Another node may have created it between the two calls: same config, OK.
  if (status != NATS_OK && js_error != JSStreamNameExistErr) {
    return FromNats(status, js_error, "create the stream");
  }
  return absl::OkStatus();
}

absl::Status EnsureBucket(jsCtx* context, const ClusterLayout& layout) {
  kvStore* bucket = nullptr;
  if (js_KeyValue(&bucket, context, layout.lease_bucket.c_str()) == NATS_OK) {
    kvStore_Destroy(bucket);
    return absl::OkStatus();
  }
  kvConfig config;
  kvConfig_Init(&config);
  config.Bucket = layout.lease_bucket.c_str();
  config.History = 1;
  config.StorageType = js_FileStorage;
  config.Replicas = layout.replicas;
  // No TTL: bucket TTLs are unreliable in 2.9; the lease expires by its
  // holder not renewing it (store/cluster/writer_lease.h).
  natsStatus status = js_CreateKeyValue(&bucket, context, &config);
  if (status != NATS_OK) return FromNats(status, static_cast<jsErrCode>(0), "create the bucket");
  kvStore_Destroy(bucket);
  return absl::OkStatus();
}

}  // namespace

absl::Status FromNats(natsStatus status, jsErrCode js_error, std::string_view what) {
  assert(status != NATS_OK);
  const std::string message =
      absl::StrCat(std::string(what), ": ", natsStatus_GetText(status),
                   js_error != 0 ? absl::StrCat(" (JetStream error ", js_error, ")") : "");
  if (js_error == JSStreamWrongLastSequenceErr) return absl::AbortedError(message);
  if (status == NATS_NOT_FOUND || js_error == JSStreamNotFoundErr) {
    return absl::NotFoundError(message);
  }
  return absl::UnavailableError(message);
}

absl::StatusOr<std::unique_ptr<JetStream>> JetStream::Connect(const std::vector<std::string>& urls,
                                                              const std::string& name) {
  assert(!urls.empty());
  natsOptions* raw_options = nullptr;
  if (natsOptions_Create(&raw_options) != NATS_OK) return absl::InternalError("nats options");
  std::unique_ptr<natsOptions, OptionsDeleter> options(raw_options);
  std::vector<const char*> servers;
  for (const std::string& url : urls) servers.push_back(url.c_str());
  natsStatus status =
      natsOptions_SetServers(options.get(), servers.data(), static_cast<int>(servers.size()));
  if (status == NATS_OK) status = natsOptions_SetName(options.get(), name.c_str());
  if (status == NATS_OK) status = natsOptions_SetMaxReconnect(options.get(), -1);
  if (status == NATS_OK) status = natsOptions_SetReconnectWait(options.get(), kReconnectWaitMs);
  if (status == NATS_OK) status = natsOptions_SetTimeout(options.get(), kRequestTimeoutMs);
  if (status == NATS_OK) status = natsOptions_SetPingInterval(options.get(), kPingIntervalMs);
  if (status == NATS_OK) status = natsOptions_SetMaxPingsOut(options.get(), kMaxPingsOut);
  // Start even while no server answers; the client keeps trying.
  if (status == NATS_OK) {
    status = natsOptions_SetRetryOnFailedConnect(options.get(), true, nullptr, nullptr);
  }
  if (status != NATS_OK) return FromNats(status, static_cast<jsErrCode>(0), "nats options");
  natsConnection* connection = nullptr;
  status = natsConnection_Connect(&connection, options.get());
  if (status != NATS_OK && status != NATS_NOT_YET_CONNECTED) {
    return FromNats(status, static_cast<jsErrCode>(0), absl::StrCat("connect to ", urls.front()));
  }
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = kRequestTimeoutMs;
  jsCtx* context = nullptr;
  status = natsConnection_JetStream(&context, connection, &js_options);
  if (status != NATS_OK) {
    natsConnection_Destroy(connection);
    return FromNats(status, static_cast<jsErrCode>(0), "JetStream context");
  }
  return std::unique_ptr<JetStream>(new JetStream(connection, context));
}

JetStream::~JetStream() {
  jsCtx_Destroy(context_);
  natsConnection_Close(connection_);
  natsConnection_Destroy(connection_);
}

bool JetStream::connected() const {
  return natsConnection_Status(connection_) == NATS_CONN_STATUS_CONNECTED;
}

void JetStream::Unsubscribe(natsSubscription* subscription) const {
  // Fails only when the subscription is closed already (its connection
  // was); the flush below is what this is for either way.
  natsSubscription_Unsubscribe(subscription);
  // The server answers a PING after every message it sent before our UNSUB,
  // and the one reader handles them in order: when the PONG is back, the
  // reader is done with any message it found this subscription for. While
  // disconnected there is no reader to wait for (nor a PONG to come).
  if (connected()) natsConnection_FlushTimeout(connection_, kRequestTimeoutMs);
}

absl::Status JetStream::EnsureLayout(const ClusterLayout& layout, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    absl::Status status = EnsureStream(context_, layout);
    if (status.ok()) status = EnsureBucket(context_, layout);
    if (status.ok() || absl::Now() >= deadline) return status;
    absl::SleepFor(absl::Milliseconds(200));
  }
}

absl::StatusOr<uint64_t> JetStream::LastSequence(const std::string& stream) const {
  jsStreamInfo* info = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  natsStatus status = js_GetStreamInfo(&info, context_, stream.c_str(), nullptr, &js_error);
  if (status != NATS_OK) return FromNats(status, js_error, "stream info");
  const uint64_t last = info->State.LastSeq;
  jsStreamInfo_Destroy(info);
  return last;
}

}  // namespace sbd
