#include "store/cluster/gateway_feed.h"

#include <algorithm>
#include <cassert>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/error_code.h"
#include "engine/validation.h"

namespace sbd {
namespace {

// How long a starting gateway waits for the NATS cluster to have the
// stream (and a quorum to say so) before it gives up.
constexpr absl::Duration kStreamWait = absl::Seconds(30);

absl::Status Stopping() { return MakeError(ErrorCode::kUnavailable, "the gateway is stopping"); }

}  // namespace

GatewayFeed::GatewayFeed(JetStream& jetstream, Subscriber& subscriber, Options options)
    : jetstream_(jetstream),
      subscriber_(subscriber),
      options_(std::move(options)),
      queries_(jetstream, options_.layout, options_.queries),
      window_(options_.window, 0) {}

GatewayFeed::~GatewayFeed() { Stop(); }

absl::Status GatewayFeed::Start() {
  assert(follower_ == nullptr && "Start once");
  // A gateway may come up before any node: the stream is the cluster's, and
  // creating it here is what the first node would do.
  if (absl::Status layout = jetstream_.EnsureLayout(options_.layout, kStreamWait); !layout.ok()) {
    return layout;
  }
  absl::StatusOr<uint64_t> last = jetstream_.LastSequence(options_.layout.stream);
  if (!last.ok()) return last.status();
  if (absl::Status started = queries_.Start(); !started.ok()) return started;
  if (*last == 0) {
    MutexLock lock(mutex_);
    positioned_ = true;  // An empty stream: the window starts at seq 0.
  }
  stream_reachable_.store(true);
  // From the last message on: its events tell the window its seq. Older
  // events are a node's to serve.
  const auto after = static_cast<int64_t>(*last == 0 ? 0 : *last - 1);
  follower_ = std::make_unique<StreamFollower>(
      jetstream_, options_.layout, after,
      [this](StreamBatch batch, int64_t stream_seq) { return OnBatch(std::move(batch), stream_seq); },
      [this](const absl::Status& status) {
        fatal_.store(true);
        if (options_.on_fatal) options_.on_fatal(status);
      });
  lag_poller_ = std::thread([this] { PollLag(); });
  return absl::OkStatus();
}

void GatewayFeed::Stop() {
  stopped_.store(true);
  {
    MutexLock lock(poll_mutex_);
    stopping_ = true;
    poll_wakeup_.Signal();
  }
  if (lag_poller_.joinable()) lag_poller_.join();
  follower_.reset();  // The subscriber is not called after this.
  queries_.Stop();
  retries_.Stop();
}

absl::Status GatewayFeed::OnBatch(StreamBatch batch, int64_t stream_seq) {
  assert(!batch.events.empty() && "a stream message holds at least one event");
  {
    MutexLock lock(mutex_);
    if (!positioned_) {
      window_.Reset(batch.events.front().seq - 1);
      positioned_ = true;
    }
    if (batch.events.front().seq != window_.applied_seq() + 1) {
      return absl::DataLossError(absl::StrCat("stream message ", stream_seq, " starts at seq ",
                                              batch.events.front().seq, "; the gateway has seq ",
                                              window_.applied_seq(), ": events would be skipped"));
    }
    window_.Append(batch.events);
    applied_seq_.store(window_.applied_seq(), std::memory_order_release);
  }
  // After the window holds them: an answer at seq G is taken under the lock,
  // so every event above it is published after it (AccountFeed).
  subscriber_.OnEvents(batch.events);
  return absl::OkStatus();
}

void GatewayFeed::PollLag() {
  for (;;) {
    {
      MutexLock lock(poll_mutex_);
      if (stopping_) return;
    }
    // Outside the lock: a stream info request may take a client timeout.
    absl::StatusOr<uint64_t> last = jetstream_.LastSequence(options_.layout.stream);
    if (last.ok()) {
      lag_.store(std::max<int64_t>(0, static_cast<int64_t>(*last) - follower_->stream_seq()),
                 std::memory_order_relaxed);
    }
    stream_reachable_.store(last.ok());
    MutexLock lock(poll_mutex_);
    if (!stopping_) poll_wakeup_.WaitUntil(poll_mutex_, Clock::now() + options_.lag_poll_every);
  }
}

bool GatewayFeed::following() const {
  if (fatal_.load() || !stream_reachable_.load() || !jetstream_.connected()) return false;
  MutexLock lock(mutex_);
  return positioned_;
}

size_t GatewayFeed::window_events() const {
  MutexLock lock(mutex_);
  return window_.size();
}

size_t GatewayFeed::window_bytes() const {
  MutexLock lock(mutex_);
  return window_.bytes();
}

std::optional<FeedSnapshot> GatewayFeed::SnapshotFromWindow(const std::string& account) const {
  MutexLock lock(mutex_);
  if (!positioned_) return std::nullopt;
  std::optional<int64_t> balance = window_.LatestBalanceAfter(account, window_.first_seq() - 1);
  if (!balance.has_value()) return std::nullopt;
  return FeedSnapshot{.seq = window_.applied_seq(), .balance = *balance};
}

void GatewayFeed::Snapshot(std::string_view account, SnapshotDone done) const {
  absl::StatusOr<std::string> canonical = CanonicalUsername(account);
  if (!canonical.ok()) return done(canonical.status());
  if (std::optional<FeedSnapshot> snapshot = SnapshotFromWindow(*canonical)) return done(*snapshot);
  AskNodeSnapshot(*std::move(canonical), Clock::now() + options_.catch_up_max, std::move(done));
}

void GatewayFeed::AskNodeSnapshot(std::string account, Clock::time_point deadline,
                                  SnapshotDone done) const {
  if (stopped_.load()) return done(Stopping());
  queries_.Snapshot(account, [this, account, deadline, done = std::move(done)](
                                 absl::StatusOr<FeedSnapshot> node) mutable {
    if (node.ok()) return JoinNodeSnapshot(std::move(account), *node, deadline, std::move(done));
    // Not there at the node's seq, but maybe opened since: the window has
    // every event after it that this gateway applied.
    if (ErrorCodeOf(node.status()) == ErrorCode::kAccountNotFound) {
      if (std::optional<FeedSnapshot> snapshot = SnapshotFromWindow(account)) {
        return done(*snapshot);
      }
    }
    done(node.status());
  });
}

void GatewayFeed::JoinNodeSnapshot(std::string account, FeedSnapshot node,
                                   Clock::time_point deadline, SnapshotDone done) const {
  std::optional<FeedSnapshot> joined;
  bool window_moved_past = false;
  {
    MutexLock lock(mutex_);
    if (positioned_ && window_.applied_seq() >= node.seq) {
      if (window_.Covers(node.seq)) {
        // The node's balance, moved on by the user's events it had not
        // applied yet: the balance at the window's seq.
        std::optional<int64_t> later = window_.LatestBalanceAfter(account, node.seq);
        joined = FeedSnapshot{.seq = window_.applied_seq(), .balance = later.value_or(node.balance)};
      } else {
        window_moved_past = true;
      }
    }
  }
  if (joined.has_value()) return done(*joined);
  if (stopped_.load()) return done(Stopping());
  if (Clock::now() >= deadline) {
    return done(MakeError(ErrorCode::kUnavailable,
                          absl::StrCat("the gateway and the nodes did not meet at a seq (node at ",
                                       node.seq, ", gateway at ", applied_seq(), ")")));
  }
  // The window no longer holds the node's seq (a node far behind): ask
  // again, maybe another node.
  if (window_moved_past) return AskNodeSnapshot(std::move(account), deadline, std::move(done));
  // The gateway has not applied as far as the node yet: wait for it.
  retries_.RunAfter(options_.retry_every, [this, account = std::move(account), node, deadline,
                                           done = std::move(done)](bool cancelled) mutable {
    if (cancelled) return done(Stopping());
    JoinNodeSnapshot(std::move(account), node, deadline, std::move(done));
  });
}

void GatewayFeed::EventsAfter(std::string_view account, int64_t after, int64_t until,
                              size_t limit, PageDone done) const {
  assert(limit > 0 && after < until && "a page must be able to move the caller on");
  absl::StatusOr<std::string> canonical = CanonicalUsername(account);
  if (!canonical.ok()) return done(canonical.status());
  std::optional<EventsPage> page;
  {
    MutexLock lock(mutex_);
    const int64_t through = std::min(until, window_.applied_seq());
    if (positioned_ && window_.Covers(after) && through > after) {
      std::vector<Event> events = window_.EventsAfter(*canonical, after, through, limit);
      const int64_t page_through = events.size() == limit ? events.back().seq : through;
      page = EventsPage{.events = std::move(events), .through = page_through};
    }
  }
  if (page.has_value()) return done(*std::move(page));
  AskNodePage(*std::move(canonical), after, until, limit, Clock::now() + options_.catch_up_max,
              std::move(done));
}

void GatewayFeed::AskNodePage(std::string account, int64_t after, int64_t until, size_t limit,
                              Clock::time_point deadline, PageDone done) const {
  if (stopped_.load()) return done(Stopping());
  queries_.EventsAfter(account, after, until, limit,
                       [this, account, after, until, limit, deadline,
                        done = std::move(done)](absl::StatusOr<EventsPage> page) mutable {
                         if (page.ok() && page->through > after) return done(*std::move(page));
                         if (!page.ok() &&
                             ErrorCodeOf(page.status()) != ErrorCode::kUnavailable) {
                           return done(page.status());
                         }
                         if (stopped_.load()) return done(Stopping());
                         if (Clock::now() >= deadline) {
                           if (!page.ok()) return done(page.status());
                           return done(MakeError(
                               ErrorCode::kUnavailable,
                               absl::StrCat("no node has applied past seq ", after, " yet")));
                         }
                         // The node has not applied past `after` yet (or none
                         // answered): again shortly, maybe another node.
                         retries_.RunAfter(
                             options_.retry_every,
                             [this, account = std::move(account), after, until, limit, deadline,
                              done = std::move(done)](bool cancelled) mutable {
                               if (cancelled) return done(Stopping());
                               AskNodePage(std::move(account), after, until, limit, deadline,
                                           std::move(done));
                             });
                       });
}

}  // namespace sbd
