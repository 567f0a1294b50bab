#include "store/cluster/cluster_node.h"

#include <cassert>
#include <chrono>
#include <future>
#include <iostream>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sbd {
namespace {

// The role loop's pace when nothing wakes it: how soon a lost lease or a
// caught-up follower is noticed.
constexpr auto kRolePollInterval = std::chrono::milliseconds(100);

}  // namespace

ClusterNode::ClusterNode(Ledger& ledger, ReplicatedEventLog& log, JetStream& jetstream,
                         Options options)
    : ledger_(ledger), log_(log), jetstream_(jetstream), options_(std::move(options)) {
  assert(options_.on_fatal && !options_.node_id.empty());
  assert(!log_.writer() && "a node starts as a follower");
  log_.set_on_step_down([this](const absl::Status& why) {
    std::cerr << "cluster: " << options_.node_id << " steps down as the writer: " << why.message()
              << "\n";
    Wake();
  });
}

absl::Status ClusterNode::Start(std::string address) {
  assert(owned_lease_ == nullptr && "a node starts once");
  WriterLease::Options lease;
  lease.node_id = options_.node_id;
  lease.address = std::move(address);
  lease.duration = options_.lease_duration;
  lease.renew_every = options_.lease_renew_every;
  lease.on_acquired = [this](uint64_t) { Wake(); };
  lease.on_lost = [this] { Wake(); };
  absl::StatusOr<std::unique_ptr<WriterLease>> started =
      WriterLease::Start(jetstream_, options_.layout, std::move(lease));
  if (!started.ok()) return started.status();
  owned_lease_ = std::move(*started);
  lease_.store(owned_lease_.get(), std::memory_order_release);
  StartFollowing();
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

ClusterNode::~ClusterNode() {
  {
    MutexLock lock(mutex_);
    stopping_ = true;
  }
  wakeup_.Signal();
  if (thread_.joinable()) thread_.join();
  follower_.reset();
  log_.BecomeFollower();
  lease_.store(nullptr, std::memory_order_release);
  owned_lease_.reset();  // Released: another node takes over at once.
}

std::string ClusterNode::writer_address() const {
  const WriterLease* lease = lease_.load(std::memory_order_acquire);
  return lease == nullptr ? "" : lease->holder().address;
}

void ClusterNode::Wake() {
  {
    MutexLock lock(mutex_);
    woken_ = true;
  }
  wakeup_.Signal();
}

void ClusterNode::Run() {
  for (;;) {
    {
      MutexLock lock(mutex_);
      const auto until = std::chrono::steady_clock::now() + kRolePollInterval;
      while (!stopping_ && !woken_ && wakeup_.WaitUntil(mutex_, until)) {
      }
      if (stopping_) return;
      woken_ = false;
    }
    if (fatal_.load(std::memory_order_acquire)) continue;
    Step();
  }
}

void ClusterNode::Step() {
  WriterLease& lease = *owned_lease_;
  const bool held = lease.held();
  if (log_.writer()) {
    if (held) return;
    // The lease went to another node: stop writing before it does.
    log_.BecomeFollower();
    std::cerr << "cluster: " << options_.node_id << " lost the writer lease\n";
  }
  if (follower_ == nullptr) StartFollowing();
  absl::StatusOr<uint64_t> last = jetstream_.LastSequence(options_.layout.stream);
  if (last.ok()) lag_.store(static_cast<int64_t>(*last) - log_.StreamSeq());
  if (!held || !last.ok() || log_.StreamSeq() < static_cast<int64_t>(*last)) return;
  // Caught up with the lease in hand: stop reading, look once more (a
  // deposed writer may still have appended), and only then write.
  follower_.reset();
  last = jetstream_.LastSequence(options_.layout.stream);
  if (!last.ok() || log_.StreamSeq() != static_cast<int64_t>(*last) || !lease.held()) {
    StartFollowing();
    return;
  }
  log_.BecomeWriter(lease.term());
  lag_.store(0);
  failovers_.fetch_add(1, std::memory_order_relaxed);
  std::cerr << "cluster: " << options_.node_id << " is the writer (term " << lease.term()
            << ", stream message " << log_.StreamSeq() << ")\n";
}

void ClusterNode::StartFollowing() {
  assert(!log_.writer() && follower_ == nullptr);
  follower_ = std::make_unique<StreamFollower>(
      jetstream_, options_.layout, log_.StreamSeq(),
      [this](StreamBatch batch, int64_t stream_seq) {
        return ApplyBatch(std::move(batch), stream_seq);
      },
      [this](const absl::Status& status) { Fatal(status); });
}

absl::Status ClusterNode::ApplyBatch(StreamBatch batch, int64_t stream_seq) {
  assert(stream_seq > log_.StreamSeq() && "the follower skips what the log holds");
  if (batch.events.front().seq != log_.LastSeq() + 1) {
    return absl::DataLossError(absl::StrCat("stream message ", stream_seq, " starts at seq ",
                                            batch.events.front().seq, ", this node's log at ",
                                            log_.LastSeq() + 1));
  }
  std::promise<absl::Status> applied;
  std::future<absl::Status> outcome = applied.get_future();
  ledger_.SubmitReplicated(
      std::move(batch.events),
      [this, hashes = std::move(batch.hashes), stream_seq](absl::Span<const Event> events) {
        return log_.AppendFollowed(events, hashes, stream_seq);
      },
      [&applied](absl::Status status) { applied.set_value(std::move(status)); });
  return outcome.get();
}

void ClusterNode::Fatal(const absl::Status& status) {
  if (fatal_.exchange(true)) return;
  options_.on_fatal(status);
}

}  // namespace sbd
