#include "store/cluster/writer_lease.h"

#include <boost/json.hpp>
#include <cassert>
#include <chrono>
#include <string>
#include <utility>

#include "absl/time/clock.h"

namespace sbd {
namespace json = boost::json;
namespace {

std::string EncodeHolder(const WriterLease::Holder& holder) {
  return json::serialize(json::object{{"node", holder.node_id}, {"address", holder.address}});
}

// What another node wrote; fields it lacks stay empty (an operator's own
// value, say): the lease works on revisions, not on this.
WriterLease::Holder DecodeHolder(std::string_view value) {
  WriterLease::Holder holder;
  boost::system::error_code error;
  json::value parsed = json::parse(json::string_view(value.data(), value.size()), error);
  if (error || !parsed.is_object()) return holder;
  const json::object& object = parsed.as_object();
  if (const json::value* node = object.if_contains("node"); node && node->is_string()) {
    holder.node_id = std::string(node->as_string());
  }
  if (const json::value* address = object.if_contains("address"); address && address->is_string()) {
    holder.address = std::string(address->as_string());
  }
  return holder;
}

}  // namespace

absl::StatusOr<std::unique_ptr<WriterLease>> WriterLease::Start(JetStream& jetstream,
                                                                const ClusterLayout& layout,
                                                                Options options) {
  assert(options.duration > 2 * options.renew_every && "renewals fit in a lease with room");
  assert(options.on_acquired && options.on_lost);
  kvStore* bucket = nullptr;
  natsStatus status = js_KeyValue(&bucket, jetstream.context(), layout.lease_bucket.c_str());
  if (status != NATS_OK) {
    return FromNats(status, static_cast<jsErrCode>(0), "open the writer lease bucket");
  }
  std::unique_ptr<WriterLease> lease(new WriterLease(bucket, layout.lease_key, std::move(options)));
  lease->thread_ = std::thread([raw = lease.get()] { raw->Run(); });
  return lease;
}

WriterLease::WriterLease(kvStore* bucket, std::string key, Options options)
    : bucket_(bucket),
      key_(std::move(key)),
      options_(std::move(options)),
      value_(EncodeHolder({options_.node_id, options_.address})) {}

WriterLease::~WriterLease() {
  {
    MutexLock lock(mutex_);
    stopping_ = true;
  }
  wakeup_.Signal();
  if (thread_.joinable()) thread_.join();
  bool held;
  uint64_t revision;
  {
    MutexLock lock(mutex_);
    held = held_;
    revision = revision_;
  }
  // Hand over now: an empty value at a new revision, which another node may
  // take at once (TryTake) without waiting out the lease.
  if (held) {
    uint64_t released = 0;
    kvStore_Update(&released, bucket_, key_.c_str(), "", 0, revision);
  }
  kvStore_Destroy(bucket_);
}

bool WriterLease::held() const {
  MutexLock lock(mutex_);
  return HeldNow();
}

bool WriterLease::HeldNow() const {
  mutex_.AssertHeld();
  // Checked against the clock as well as held_: a renewal blocked in the
  // NATS client (a slow or lost server; its timeout is longer than the
  // lease) cannot make Renew give up in time, but this node must stop
  // saying it writes before another node may take the lease over.
  return held_ && absl::Now() - renewed_at_ < options_.duration - options_.renew_every;
}

uint64_t WriterLease::term() const {
  MutexLock lock(mutex_);
  return HeldNow() ? term_ : 0;
}

WriterLease::Holder WriterLease::holder() const {
  MutexLock lock(mutex_);
  return holder_;
}

void WriterLease::Run() {
  seen_since_ = absl::Now();
  for (;;) {
    {
      MutexLock lock(mutex_);
      if (stopping_) return;
    }
    Tick();
    MutexLock lock(mutex_);
    // A follower looks more often than the holder renews: it takes over an
    // abandoned lease sooner after `duration`.
    const absl::Duration wait = held_ ? options_.renew_every : options_.renew_every / 4;
    const auto until = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(wait);
    while (!stopping_ && wakeup_.WaitUntil(mutex_, until)) {
    }
  }
}

void WriterLease::Tick() {
  const absl::Time now = absl::Now();
  bool renewing;
  {
    MutexLock lock(mutex_);
    // Past its renewal deadline too: a renewal that succeeds now proves no
    // one else took it (the compare-and-set), so the lease is held again.
    renewing = held_;
  }
  if (renewing) {
    Renew(now);
  } else {
    TryTake(now);
  }
}

void WriterLease::Renew(absl::Time now) {
  uint64_t last;
  absl::Time renewed_at;
  {
    MutexLock lock(mutex_);
    last = revision_;
    renewed_at = renewed_at_;
  }
  uint64_t revision = 0;
  natsStatus status =
      kvStore_Update(&revision, bucket_, key_.c_str(), value_.data(), value_.size(), last);
  if (status == NATS_OK) {
    MutexLock lock(mutex_);
    revision_ = revision;
    renewed_at_ = now;
    return;
  }
  // Someone else wrote the key (status NATS_ERR: wrong last sequence), or
  // the cluster did not answer for so long that another node may take
  // over: either way this node must stop writing now.
  const bool overwritten = status == NATS_ERR;
  if (!overwritten && now - renewed_at < options_.duration - options_.renew_every) return;
  {
    MutexLock lock(mutex_);
    held_ = false;
    term_ = 0;
  }
  seen_revision_ = last;
  seen_since_ = now;
  options_.on_lost();
}

void WriterLease::TryTake(absl::Time now) {
  kvEntry* entry = nullptr;
  natsStatus status = kvStore_Get(&entry, bucket_, key_.c_str());
  uint64_t revision = 0;
  if (status == NATS_NOT_FOUND) {
    status = kvStore_Create(&revision, bucket_, key_.c_str(), value_.data(), value_.size());
    if (status == NATS_OK) Acquired(revision, now);
    return;
  }
  if (status != NATS_OK) return;  // No answer: look again next tick.
  const uint64_t current = kvEntry_Revision(entry);
  const std::string value(kvEntry_ValueString(entry), kvEntry_ValueLen(entry));
  kvEntry_Destroy(entry);
  const bool released = value.empty();
  if (current != seen_revision_) {
    seen_revision_ = current;
    seen_since_ = now;
    MutexLock lock(mutex_);
    holder_ = DecodeHolder(value);
  }
  // Live: renewed within the lease. Released or abandoned: take it.
  if (!released && now - seen_since_ < options_.duration) return;
  status = kvStore_Update(&revision, bucket_, key_.c_str(), value_.data(), value_.size(), current);
  if (status == NATS_OK) Acquired(revision, now);
}

void WriterLease::Acquired(uint64_t revision, absl::Time now) {
  {
    MutexLock lock(mutex_);
    held_ = true;
    revision_ = revision;
    term_ = revision;
    holder_ = {options_.node_id, options_.address};
    renewed_at_ = now;
  }
  options_.on_acquired(revision);
}

}  // namespace sbd
