#include "engine/ledger.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <deque>
#include <optional>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/absl_compat.h"
#include "engine/batch.h"
#include "engine/decider.h"
#include "engine/error_code.h"
#include "engine/mutex.h"
#include "engine/projector.h"
#include "engine/validation.h"

namespace sbd {
namespace {

int64_t SystemClockMs() { return absl::ToUnixMillis(absl::Now()); }

absl::Status AccountNotFound(std::string_view account) {
  return MakeError(ErrorCode::kAccountNotFound,
                   absl::StrCat("account '", ToAbsl(account), "' does not exist"));
}

}  // namespace

// The Ledger's threads and their hand-offs. A command crosses three threads:
// the caller's (Submit queues it), the writer's (decides it, then applies,
// publishes and answers its batch) and the append thread's (writes the
// batch). Two hand-offs carry it, both under queue_mutex_: queue_ from the
// caller to the writer, and append_job_ / append_result_ between the writer
// and the append thread.
class Ledger::Impl {
 public:
  Impl(std::unique_ptr<EventLog> log, Options options)
      : log_(std::move(log)),
        options_(std::move(options)),
        decider_(options_.clock_ms ? options_.clock_ms : SystemClockMs, random_),
        projector_(options_.accounts_expected) {
    assert(options_.batch_size_max >= 1 && "a batch holds at least one command");
  }

  ~Impl() { Stop(); }

  // Rebuilds the projection from the whole log; no subscriber sees it.
  absl::Status Replay() {
    WriterMutexLock lock(projection_mutex_);
    const int64_t last_seq = log_->LastSeq();
    projector_.ReserveForEvents(last_seq);
    // The visitor runs inside Read, under this lock; it is analysed apart
    // from it, hence the pointer taken here.
    Projector* projector = &projector_;
    return log_->Read(1, last_seq,
                      [projector](const Event& event) { return projector->Apply(event); });
  }

  void StartThreads() {
    appender_ = std::thread([this] { RunAppender(); });
    writer_ = std::thread([this] { RunWriter(); });
  }

  void Submit(Command command, Done done) {
    absl::Status refused = Enqueue(command, done);
    if (refused.ok()) {
      writer_wakeup_.Signal();
      return;
    }
    std::move(done)(std::move(refused));  // Outside the lock: `done` may do anything.
  }

  void SubmitReplicated(std::vector<Event> events, AppendFn append,
                        std::function<void(absl::Status)> done) {
    assert(!events.empty() && append && done);
    {
      MutexLock lock(queue_mutex_);
      if (!stopping_) {
        replicated_.push_back(
            ReplicatedBatch{std::move(events), std::move(append), std::move(done)});
        writer_wakeup_.Signal();
        return;
      }
    }
    done(MakeError(ErrorCode::kUnavailable, "the ledger is shutting down"));
  }

  void Stop() {
    {
      MutexLock lock(queue_mutex_);
      stopping_ = true;
    }
    writer_wakeup_.Signal();
    if (writer_.joinable()) writer_.join();
    {
      MutexLock lock(queue_mutex_);
      // The writer has finished every batch: the append stage is idle.
      assert(!append_in_flight_ && append_job_ == nullptr && !append_result_);
      appender_stopping_ = true;
    }
    appender_wakeup_.Signal();
    if (appender_.joinable()) appender_.join();
  }

  void AddSubscriber(Subscriber* subscriber) {
    MutexLock lock(subscribers_mutex_);
    subscribers_.push_back(subscriber);
  }

  void RemoveSubscriber(Subscriber* subscriber) {
    MutexLock lock(subscribers_mutex_);
    subscribers_.erase(std::remove(subscribers_.begin(), subscribers_.end(), subscriber),
                       subscribers_.end());
  }

  // --- Reads: committed state, any thread, under the projection's reader lock. ---

  int64_t LastSeq() const {
    ReaderMutexLock lock(projection_mutex_);
    return projector_.last_seq();
  }

  absl::StatusOr<AccountSnapshot> Snapshot(std::string_view name) const {
    absl::StatusOr<std::string> account = CanonicalUsername(name);
    if (!account.ok()) return account.status();
    ReaderMutexLock lock(projection_mutex_);
    std::optional<int64_t> balance = projector_.Balance(*account);
    if (!balance) return AccountNotFound(*account);
    return AccountSnapshot{projector_.last_seq(), *balance};
  }

  absl::StatusOr<std::vector<Event>> History(std::string_view name, size_t skip,
                                             size_t limit) const {
    absl::StatusOr<std::string> account = CanonicalUsername(name);
    if (!account.ok()) return account.status();
    std::vector<int64_t> seqs;
    std::vector<std::optional<std::string>> notes;
    {
      ReaderMutexLock lock(projection_mutex_);
      if (!projector_.HasAccount(*account)) return AccountNotFound(*account);
      absl::Span<const int64_t> all = projector_.AccountSeqs(*account);
      for (size_t i = skip; i < all.size() && seqs.size() < limit; ++i) {
        const int64_t seq = all[all.size() - 1 - i];
        seqs.push_back(seq);
        std::optional<std::string_view> note = projector_.NoteOverride(seq, *account);
        notes.push_back(note ? std::optional<std::string>(*note) : std::nullopt);
      }
    }
    absl::StatusOr<std::vector<Event>> events = log_->ReadSeqs(seqs);
    if (!events.ok()) return events.status();
    for (size_t i = 0; i < events->size(); ++i) {
      if (notes[i]) (*events)[i].note = *notes[i];
    }
    return events;
  }

  absl::StatusOr<std::vector<Event>> EventsAfter(std::string_view name, int64_t after_seq,
                                                 int64_t until_seq, size_t limit) const {
    absl::StatusOr<std::string> account = CanonicalUsername(name);
    if (!account.ok()) return account.status();
    std::vector<int64_t> seqs;
    {
      ReaderMutexLock lock(projection_mutex_);
      if (!projector_.HasAccount(*account)) return AccountNotFound(*account);
      absl::Span<const int64_t> all = projector_.AccountSeqs(*account);
      for (auto it = std::upper_bound(all.begin(), all.end(), after_seq);
           it != all.end() && *it <= until_seq && seqs.size() < limit; ++it) {
        seqs.push_back(*it);
      }
    }
    return log_->ReadSeqs(seqs);
  }

  absl::StatusOr<int64_t> Balance(std::string_view name) const {
    absl::StatusOr<AccountSnapshot> snapshot = Snapshot(name);
    if (!snapshot.ok()) return snapshot.status();
    return snapshot->balance;
  }

  absl::int128 TotalBalance() const {
    ReaderMutexLock lock(projection_mutex_);
    return projector_.total_balance();
  }

  absl::int128 TotalMinted() const {
    ReaderMutexLock lock(projection_mutex_);
    return projector_.total_minted();
  }

  const EventLog& log() const { return *log_; }

 private:
  // Moves `command` and `done` into the queue; or leaves them as they are
  // and says why not (stopping, or the queue is full).
  absl::Status Enqueue(Command& command, Done& done) ABSL_LOCKS_EXCLUDED(queue_mutex_) {
    MutexLock lock(queue_mutex_);
    if (stopping_) return MakeError(ErrorCode::kUnavailable, "the ledger is shutting down");
    if (queue_.size() >= options_.queue_size_max) {
      return absl::ResourceExhaustedError("the command queue is full; retry shortly");
    }
    queue_.push_back(QueuedCommand{std::move(command), std::move(done)});
    return absl::OkStatus();
  }

  // The projection as the writer sees it: the writer is its only mutator, so
  // it reads without the lock that other threads need. The analysis cannot
  // express "the writer thread", hence the exemption.
  const Projector& WriterProjection() const ABSL_NO_THREAD_SAFETY_ANALYSIS { return projector_; }

  // A batch of a follower: decided elsewhere, appended by its own function.
  struct ReplicatedBatch {
    std::vector<Event> events;
    AppendFn append;
    std::function<void(absl::Status)> done;
  };

  // --- The writer thread: Decide, then Finish (Apply, Publish, Answer). ---

  // The pipeline: while batch N is appended on the append thread, batch N+1
  // is decided against the projection plus N's events. N+1 goes to the
  // append stage only once N has committed; then N is finished. If N's
  // append fails, N+1 (decided on top of it) fails with it, and the batch
  // after is decided afresh from the committed projection.
  void RunWriter() {
    std::unique_ptr<Batch> in_flight;  // In, or done with, the append stage.
    std::vector<QueuedCommand> taken;
    std::vector<ReplicatedBatch> replicated;
    while (TakeCommands(in_flight != nullptr, taken, replicated)) {
      if (!replicated.empty()) {
        assert(in_flight == nullptr && taken.empty() && "replicated batches run alone");
        for (ReplicatedBatch& batch : replicated) FinishReplicated(batch);
        replicated.clear();
        continue;
      }
      std::unique_ptr<Batch> next;
      if (!taken.empty()) next = Decide(std::move(taken), in_flight.get());
      taken.clear();
      if (in_flight != nullptr) {
        in_flight->RecordCommit(AwaitAppend(*in_flight));
        if (next != nullptr && !in_flight->commit().status.ok()) {
          next->RecordCommit(CommitResult{in_flight->commit().status, std::nullopt});
          Finish(*in_flight);
          Finish(*next);
          in_flight = nullptr;
          continue;
        }
      }
      if (next != nullptr) StartAppend(*next);
      if (in_flight != nullptr) Finish(*in_flight);
      in_flight = std::move(next);
    }
    assert(in_flight == nullptr && "the writer stops with no batch in flight");
  }

  // Waits for commands or replicated batches, or for the append in flight
  // to end, or for Stop. Moves the replicated batches into `replicated` if
  // nothing is in flight; else up to batch_size_max commands into `taken`
  // (empty if none came), taking none while replicated batches wait, so
  // that the pipeline drains for them. False once stopping with nothing
  // queued and nothing in flight.
  bool TakeCommands(bool append_in_flight, std::vector<QueuedCommand>& taken,
                    std::vector<ReplicatedBatch>& replicated) {
    assert(taken.empty() && replicated.empty());
    MutexLock lock(queue_mutex_);
    assert(append_in_flight == append_in_flight_ && "the writer knows what it has in flight");
    while (queue_.empty() && replicated_.empty() && !stopping_ &&
           !(append_in_flight && append_result_.has_value())) {
      writer_wakeup_.Wait(queue_mutex_);
    }
    if (!replicated_.empty()) {
      if (append_in_flight) return true;  // Finish it first.
      for (ReplicatedBatch& batch : replicated_) replicated.push_back(std::move(batch));
      replicated_.clear();
      return true;
    }
    if (queue_.empty() && !append_in_flight) return false;  // Stopping, every command done.
    const size_t count = std::min(queue_.size(), options_.batch_size_max);
    taken.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      taken.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    return true;
  }

  // Decides `taken` on top of `ahead` (the batch in the append stage, or null).
  std::unique_ptr<Batch> Decide(std::vector<QueuedCommand> taken, const Batch* ahead) {
    assert(ahead == nullptr || !ahead->committed());
    auto batch = std::make_unique<Batch>(std::move(taken), WriterProjection(), *log_, ahead);
    batch->Decide(decider_);
    return batch;
  }

  // Applies, publishes and answers a batch whose append is over (or that
  // failed with the batch it was decided on).
  void Finish(Batch& batch) {
    const CommitResult& commit = batch.commit();
    if (commit.latency && options_.on_commit) {
      options_.on_commit(batch.events().size(), *commit.latency, commit.status.ok());
    }
    if (commit.status.ok() && !batch.events().empty()) {
      Apply(batch.events());
      Publish(batch.events());
    }
    batch.Answer();
  }

  // A follower's batch (no command batch is in flight): verified against
  // the projection before anything is written, then written, then
  // published. Apply checks each event before it changes anything, so the
  // projection takes the batch event by event; a contradiction leaves the
  // log untouched, and the node stops (`done` gets kDataLoss). The append
  // runs under the same lock, so no reader sees an event the log does not
  // hold yet; a follower's reads wait for its batch's commit.
  void FinishReplicated(ReplicatedBatch& batch) {
    absl::Status status;
    {
      WriterMutexLock lock(projection_mutex_);
      for (const Event& event : batch.events) {
        status = projector_.Apply(event);
        if (!status.ok()) break;
      }
      if (status.ok()) {
        if (absl::Status appended = batch.append(batch.events); absl::IsDataLoss(appended)) {
          status = std::move(appended);  // A hash chain that does not continue the log's.
        } else if (!appended.ok()) {
          // Applied and not written: this ledger cannot go on.
          status = absl::FailedPreconditionError(absl::StrCat(
              "seqs ", batch.events.front().seq, "..", batch.events.back().seq,
              " are verified but the log cannot be written (", appended.message(), ")"));
        }
      }
    }
    if (status.ok()) Publish(batch.events);
    std::move(batch.done)(std::move(status));
  }

  void Apply(absl::Span<const Event> events) {
    WriterMutexLock lock(projection_mutex_);
    for (const Event& event : events) {
      absl::Status applied = projector_.Apply(event);
      // Decided against this very projection: a contradiction here is a bug
      // in the ledger, not bad input.
      assert(applied.ok() && "a decided event contradicts the projection");
      (void)applied;
    }
  }

  void Publish(absl::Span<const Event> events) {
    std::vector<Subscriber*> subscribers;
    {
      MutexLock lock(subscribers_mutex_);
      subscribers = subscribers_;
    }
    for (Subscriber* subscriber : subscribers) subscriber->OnEvents(events);
  }

  // --- The append stage: one batch at a time, on its own thread. ---

  void StartAppend(const Batch& batch) {
    {
      MutexLock lock(queue_mutex_);
      assert(!append_in_flight_ && append_job_ == nullptr && !append_result_ &&
             "one append in flight at a time");
      append_in_flight_ = true;
      append_job_ = &batch;
    }
    appender_wakeup_.Signal();
  }

  // Waits for the append of `in_flight`, the batch last given to StartAppend.
  CommitResult AwaitAppend(const Batch& in_flight) {
    MutexLock lock(queue_mutex_);
    assert(append_in_flight_ && "an append must be in flight");
    while (!append_result_.has_value()) writer_wakeup_.Wait(queue_mutex_);
    assert(appended_ == &in_flight && "the batch that finishes is the one in flight");
    append_in_flight_ = false;
    appended_ = nullptr;
    CommitResult result = std::move(*append_result_);
    append_result_.reset();
    return result;
  }

  void RunAppender() {
    for (;;) {
      const Batch* batch = AwaitAppendJob();
      if (batch == nullptr) return;  // Stopping.
      CommitResult result = AppendToLog(*batch);
      {
        MutexLock lock(queue_mutex_);
        assert(!append_result_ && appended_ == nullptr && "one append result at a time");
        appended_ = batch;
        append_result_ = std::move(result);
      }
      writer_wakeup_.Signal();
    }
  }

  // The next batch to append; null when stopping.
  const Batch* AwaitAppendJob() {
    MutexLock lock(queue_mutex_);
    while (append_job_ == nullptr && !appender_stopping_) appender_wakeup_.Wait(queue_mutex_);
    return std::exchange(append_job_, nullptr);
  }

  // Runs on the append thread. The batch is read-only until its result is
  // handed back (engine/batch.h).
  CommitResult AppendToLog(const Batch& batch) {
    const std::vector<Event>& events = batch.events();
    if (events.empty()) return CommitResult{absl::OkStatus(), std::nullopt};
    const auto start = std::chrono::steady_clock::now();
    absl::Status status = log_->Append(events);
    return CommitResult{std::move(status),
                        absl::FromChrono(std::chrono::steady_clock::now() - start)};
  }

  const std::unique_ptr<EventLog> log_;
  const Options options_;
  absl::BitGen random_;  // The writer thread's, through decider_.
  Decider decider_;      // Writer thread only.

  // sbd::SharedMutex and sbd::Mutex rather than absl::Mutex: Debian's abseil
  // is not built with TSan, which would then report false races in the TSan
  // build (engine/mutex.h says more).
  mutable SharedMutex projection_mutex_;
  Projector projector_ ABSL_GUARDED_BY(projection_mutex_);

  Mutex queue_mutex_;
  // Commands queued, stopping, or an append done.
  CondVar writer_wakeup_;
  std::deque<QueuedCommand> queue_ ABSL_GUARDED_BY(queue_mutex_);
  std::vector<ReplicatedBatch> replicated_ ABSL_GUARDED_BY(queue_mutex_);
  bool stopping_ ABSL_GUARDED_BY(queue_mutex_) = false;
  // The append stage's hand-off, under the queue's mutex so that the writer
  // waits for "commands or a finished append" on one condition variable.
  // StartAppend sets append_in_flight_ and append_job_; the append thread
  // takes the job, appends, and sets appended_ and append_result_, which
  // AwaitAppend takes, clearing append_in_flight_.
  CondVar appender_wakeup_;
  bool append_in_flight_ ABSL_GUARDED_BY(queue_mutex_) = false;
  const Batch* append_job_ ABSL_GUARDED_BY(queue_mutex_) = nullptr;
  const Batch* appended_ ABSL_GUARDED_BY(queue_mutex_) = nullptr;
  std::optional<CommitResult> append_result_ ABSL_GUARDED_BY(queue_mutex_);
  bool appender_stopping_ ABSL_GUARDED_BY(queue_mutex_) = false;

  Mutex subscribers_mutex_;
  std::vector<Subscriber*> subscribers_ ABSL_GUARDED_BY(subscribers_mutex_);

  std::thread writer_;
  std::thread appender_;
};

absl::StatusOr<std::unique_ptr<Ledger>> Ledger::Open(std::unique_ptr<EventLog> log,
                                                     Options options) {
  auto impl = std::make_unique<Impl>(std::move(log), std::move(options));
  if (absl::Status status = impl->Replay(); !status.ok()) return status;
  impl->StartThreads();
  return std::unique_ptr<Ledger>(new Ledger(std::move(impl)));
}

Ledger::Ledger(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Ledger::~Ledger() { Stop(); }

void Ledger::AddSubscriber(Subscriber* subscriber) { impl_->AddSubscriber(subscriber); }
void Ledger::RemoveSubscriber(Subscriber* subscriber) { impl_->RemoveSubscriber(subscriber); }
void Ledger::Submit(Command command, Done done) {
  impl_->Submit(std::move(command), std::move(done));
}

std::future<absl::StatusOr<CommandResult>> Ledger::Submit(Command command) {
  auto promise = std::make_shared<std::promise<absl::StatusOr<CommandResult>>>();
  std::future<absl::StatusOr<CommandResult>> future = promise->get_future();
  Submit(std::move(command), [promise](absl::StatusOr<CommandResult> result) {
    promise->set_value(std::move(result));
  });
  return future;
}

void Ledger::SubmitReplicated(std::vector<Event> events, AppendFn append,
                              std::function<void(absl::Status)> done) {
  impl_->SubmitReplicated(std::move(events), std::move(append), std::move(done));
}

void Ledger::Stop() { impl_->Stop(); }
int64_t Ledger::LastSeq() const { return impl_->LastSeq(); }
absl::StatusOr<int64_t> Ledger::Balance(std::string_view account) const {
  return impl_->Balance(account);
}
absl::StatusOr<Ledger::AccountSnapshot> Ledger::Snapshot(std::string_view account) const {
  return impl_->Snapshot(account);
}
absl::StatusOr<std::vector<Event>> Ledger::History(std::string_view account, size_t skip,
                                                   size_t limit) const {
  return impl_->History(account, skip, limit);
}
absl::StatusOr<std::vector<Event>> Ledger::EventsAfter(std::string_view account, int64_t after_seq,
                                                       int64_t until_seq, size_t limit) const {
  return impl_->EventsAfter(account, after_seq, until_seq, limit);
}
absl::int128 Ledger::TotalBalance() const { return impl_->TotalBalance(); }
absl::int128 Ledger::TotalMinted() const { return impl_->TotalMinted(); }
const EventLog& Ledger::log() const { return impl_->log(); }

}  // namespace sbd
