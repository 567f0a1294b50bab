#include "engine/ledger.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <utility>
#include <variant>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/absl_compat.h"
#include "engine/batch_state.h"
#include "engine/error_code.h"
#include "engine/projector.h"
#include "engine/validation.h"

namespace sbd {
namespace {

int64_t SystemClockMs() { return absl::ToUnixMillis(absl::Now()); }

// A random (version 4) UUID in its canonical text form. Hand-formatted: it is
// made for every transfer without a client id, on the writer thread.
std::string MakeUuid(absl::BitGen& random) {
  const uint64_t high = (absl::Uniform<uint64_t>(random) & 0xffffffffffff0fffULL) | 0x4000ULL;
  const uint64_t low =
      (absl::Uniform<uint64_t>(random) & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text(36, '-');
  int bit = 60;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) continue;  // The dashes.
    const uint64_t word = i < 19 ? high : low;
    text[i] = kHex[(word >> bit) & 0xf];
    bit = bit == 0 ? 60 : bit - 4;
  }
  return text;
}

// The parameters of a transaction that decide whether a reused
// transaction_id is a replay (same parameters) or a conflict.
struct TransactionKeyFields {
  EventType type;
  std::string_view from_account;
  std::string_view to_account;
  int64_t amount;

  bool Matches(const Event& event) const {
    return event.type == type && event.from_account == from_account &&
           event.to_account == to_account && event.amount == amount;
  }
};

}  // namespace

class Ledger::Impl {
 public:
  Impl(std::unique_ptr<EventLog> log, Options options)
      : log_(std::move(log)), options_(std::move(options)), projector_(options_.accounts_expected) {
    if (!options_.clock_ms) options_.clock_ms = SystemClockMs;
  }

  ~Impl() { Stop(); }

  // Rebuilds the projection from the whole log; no subscriber sees it.
  absl::Status Replay() {
    std::unique_lock lock(projection_mutex_);
    const int64_t last_seq = log_->LastSeq();
    projector_.ReserveForEvents(last_seq);
    return log_->Read(1, last_seq, [this](const Event& event) { return projector_.Apply(event); });
  }

  void StartWriter() {
    appender_ = std::thread([this] { RunAppender(); });
    writer_ = std::thread([this] { RunWriter(); });
  }

  void Submit(Command command, Done done) {
    absl::Status refused;
    {
      std::unique_lock lock(queue_mutex_);
      if (stopping_) {
        refused = MakeError(ErrorCode::kUnavailable, "the ledger is shutting down");
      } else if (queue_.size() >= options_.queue_size_max) {
        refused = absl::ResourceExhaustedError("the command queue is full; retry shortly");
      } else {
        queue_.push_back(Pending{std::move(command), std::move(done)});
        lock.unlock();
        writer_wakeup_.notify_one();
        return;
      }
    }
    std::move(done)(std::move(refused));  // Outside the lock: `done` may do anything.
  }

  void Stop() {
    {
      std::unique_lock lock(queue_mutex_);
      stopping_ = true;
    }
    writer_wakeup_.notify_one();
    if (writer_.joinable()) writer_.join();
    // The writer has finished every batch: the append stage is idle.
    {
      std::unique_lock lock(queue_mutex_);
      appender_stopping_ = true;
    }
    appender_wakeup_.notify_one();
    if (appender_.joinable()) appender_.join();
  }

  void AddSubscriber(Subscriber* subscriber) {
    std::lock_guard lock(subscribers_mutex_);
    subscribers_.push_back(subscriber);
  }

  void RemoveSubscriber(Subscriber* subscriber) {
    std::lock_guard lock(subscribers_mutex_);
    subscribers_.erase(std::remove(subscribers_.begin(), subscribers_.end(), subscriber),
                       subscribers_.end());
  }

  int64_t LastSeq() const {
    std::shared_lock lock(projection_mutex_);
    return projector_.last_seq();
  }

  absl::StatusOr<AccountSnapshot> Snapshot(std::string_view name) const {
    absl::StatusOr<std::string> account = CanonicalUsername(name);
    if (!account.ok()) return account.status();
    std::shared_lock lock(projection_mutex_);
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
      std::shared_lock lock(projection_mutex_);
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
      std::shared_lock lock(projection_mutex_);
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
    std::shared_lock lock(projection_mutex_);
    return projector_.total_balance();
  }

  absl::int128 TotalMinted() const {
    std::shared_lock lock(projection_mutex_);
    return projector_.total_minted();
  }

  const EventLog& log() const { return *log_; }

 private:
  struct Pending {
    Command command;
    Done done;
  };

  // What validation decided for one command of a batch.
  struct Outcome {
    absl::Status error;             // Set: rejected, nothing appended.
    std::optional<size_t> pending;  // Index into the batch's new events.
    std::optional<Event> original;  // A replay of an event of an earlier batch.
    bool duplicate = false;
  };

  // One batch on its way through the pipeline: decided on the writer thread,
  // appended on the append thread, then applied, published and answered on
  // the writer thread.
  struct Batch {
    Batch(std::vector<Pending> taken, const Projector& projector, const EventLog& log,
          const Batch* previous)
        : commands(std::move(taken)),
          state(projector, log, previous != nullptr ? &previous->state : nullptr, commands.size()) {
    }

    std::vector<Pending> commands;
    std::vector<Outcome> outcomes;
    BatchState state;
    // Set by the append stage (guarded by queue_mutex_ until append_done_,
    // then the writer's), or copied from a failed batch this one was decided
    // on top of.
    absl::Status committed;
    std::optional<absl::Duration> commit_latency;  // Set if Append ran.
  };

  static absl::Status AccountNotFound(std::string_view account) {
    return MakeError(ErrorCode::kAccountNotFound,
                     absl::StrCat("account '", ToAbsl(account), "' does not exist"));
  }

  // The projection as the writer sees it: the writer is its only mutator, so
  // it reads without the lock that other threads need.
  const Projector& WriterProjection() const { return projector_; }

  // The writer's pipeline: while batch N is appended on the append thread,
  // batch N+1 is decided against the projection plus N's events. N+1 goes to
  // the append stage only once N has committed; then N is applied, published
  // and answered. If N's append fails, N+1 (decided on top of it) fails with
  // it, and the batch after is decided afresh from the committed projection.
  void RunWriter() {
    std::unique_ptr<Batch> in_flight;  // In, or done with, the append stage.
    for (;;) {
      std::vector<Pending> taken;
      {
        std::unique_lock lock(queue_mutex_);
        writer_wakeup_.wait(lock, [&] {
          return !queue_.empty() || stopping_ || (in_flight != nullptr && append_done_);
        });
        if (queue_.empty() && in_flight == nullptr) return;  // Stopping, every command done.
        const size_t count = std::min(queue_.size(), options_.batch_size_max);
        taken.reserve(count);
        for (size_t i = 0; i < count; ++i) {
          taken.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      std::unique_ptr<Batch> next;
      if (!taken.empty()) next = DecideBatch(std::move(taken), in_flight.get());
      if (in_flight != nullptr) {
        AwaitAppend();
        if (next != nullptr && !in_flight->committed.ok()) {
          next->committed = in_flight->committed;
          Finish(*in_flight);
          Finish(*next);
          in_flight = nullptr;
          continue;
        }
        if (next != nullptr) StartAppend(next.get());
        Finish(*in_flight);
      } else if (next != nullptr) {
        StartAppend(next.get());
      }
      in_flight = std::move(next);
    }
  }

  std::unique_ptr<Batch> DecideBatch(std::vector<Pending> taken, const Batch* previous) {
    auto batch = std::make_unique<Batch>(std::move(taken), WriterProjection(), *log_, previous);
    batch->outcomes.reserve(batch->commands.size());
    for (Pending& pending : batch->commands) {
      batch->outcomes.push_back(std::visit(
          [&](auto& command) { return Decide(command, batch->state); }, pending.command));
    }
    return batch;
  }

  // --- The append stage: one batch at a time, on its own thread. ---

  void StartAppend(Batch* batch) {
    {
      std::lock_guard lock(queue_mutex_);
      append_job_ = batch;
      append_done_ = false;
    }
    appender_wakeup_.notify_one();
  }

  void AwaitAppend() {
    std::unique_lock lock(queue_mutex_);
    writer_wakeup_.wait(lock, [this] { return append_done_; });
  }

  void RunAppender() {
    for (;;) {
      Batch* batch;
      {
        std::unique_lock lock(queue_mutex_);
        appender_wakeup_.wait(lock,
                              [this] { return append_job_ != nullptr || appender_stopping_; });
        if (append_job_ == nullptr) return;
        batch = std::exchange(append_job_, nullptr);
      }
      const std::vector<Event>& events = batch->state.events();
      absl::Status committed = absl::OkStatus();
      std::optional<absl::Duration> latency;
      if (!events.empty()) {
        const auto start = std::chrono::steady_clock::now();
        committed = log_->Append(events);
        latency = absl::FromChrono(std::chrono::steady_clock::now() - start);
      }
      {
        std::lock_guard lock(queue_mutex_);
        batch->committed = std::move(committed);
        batch->commit_latency = latency;
        append_done_ = true;
      }
      writer_wakeup_.notify_one();
    }
  }

  // Applies, publishes and answers a batch whose append is over (or that
  // failed with the batch it was decided on).
  void Finish(Batch& batch) {
    const std::vector<Event>& events = batch.state.events();
    if (batch.commit_latency && options_.on_commit) {
      options_.on_commit(events.size(), *batch.commit_latency, batch.committed.ok());
    }
    if (batch.committed.ok() && !events.empty()) {
      {
        std::unique_lock lock(projection_mutex_);
        for (const Event& event : events) {
          absl::Status applied = projector_.Apply(event);
          // Validation ran against this very projection: a contradiction here
          // is a bug in the ledger, not bad input.
          assert(applied.ok() && "validated event contradicts the projection");
          (void)applied;
        }
      }
      Publish(events);
    }
    // Published and applied: the batch's events are no longer needed (the
    // batch decided on top of this one is decided already), so each caller
    // gets its event moved, not copied, unless a replay in the batch shares it.
    std::vector<Event>& answers = batch.state.events_to_answer();
    const bool shared = std::any_of(batch.outcomes.begin(), batch.outcomes.end(),
                                    [](const Outcome& o) { return o.duplicate && o.pending; });
    for (size_t i = 0; i < batch.commands.size(); ++i) {
      Complete(std::move(batch.commands[i].done), batch.outcomes[i], answers, !shared,
               batch.committed);
    }
  }

  void Publish(absl::Span<const Event> events) {
    std::vector<Subscriber*> subscribers;
    {
      std::lock_guard lock(subscribers_mutex_);
      subscribers = subscribers_;
    }
    for (Subscriber* subscriber : subscribers) subscriber->OnEvents(events);
  }

  // A failed append fails every caller of the batch, even one whose command
  // was rejected or replayed: its answer was decided against a state that
  // included the batch's earlier, now discarded, commands.
  static void Complete(Done done, Outcome& outcome, std::vector<Event>& events, bool move_event,
                       const absl::Status& committed) {
    if (!committed.ok()) {
      std::move(done)(
          MakeError(ErrorCode::kUnavailable,
                    absl::StrCat("the event log cannot be written: ", committed.message())));
    } else if (!outcome.error.ok()) {
      std::move(done)(std::move(outcome.error));
    } else if (outcome.original) {
      std::move(done)(CommandResult{std::move(*outcome.original), true});
    } else {
      Event& event = events[*outcome.pending];
      std::move(done)(
          CommandResult{move_event ? std::move(event) : Event(event), outcome.duplicate});
    }
  }

  static Outcome Rejected(absl::Status status) {
    Outcome outcome;
    outcome.error = std::move(status);
    return outcome;
  }

  // Resolves a transaction_id the command carries: a fresh one proceeds
  // (nullopt); a reused one becomes a replay or a conflict (an Outcome).
  std::optional<Outcome> CheckReuse(const std::string& transaction_id,
                                    const TransactionKeyFields& fields, const BatchState& state) {
    absl::StatusOr<std::optional<BatchState::Transaction>> found =
        state.FindTransaction(transaction_id);
    if (!found.ok()) {
      return Rejected(MakeError(ErrorCode::kUnavailable, ToStd(found.status().message())));
    }
    if (!found->has_value()) return std::nullopt;
    BatchState::Transaction& transaction = **found;
    if (!fields.Matches(transaction.event)) {
      return Rejected(MakeError(ErrorCode::kTransactionIdConflict,
                                "transaction_id was already used with other parameters"));
    }
    Outcome outcome;
    outcome.duplicate = true;
    if (transaction.own_index) {
      outcome.pending = transaction.own_index;  // Answered once its batch commits.
    } else {
      // Committed, or in the batch ahead: this batch commits only after it.
      outcome.original = std::move(transaction.event);
    }
    return outcome;
  }

  // The event's time: the trusted caller's given timestamp (engine/command.h)
  // if it set one and it is in range, else the ledger's clock.
  absl::StatusOr<int64_t> TimestampOf(const std::optional<int64_t>& given) const {
    if (!given) return options_.clock_ms();
    if (*given < kTimestampMsMin || *given > kTimestampMsMax) {
      return MakeError(ErrorCode::kInvalidField,
                       "timestamp must be between 1970-01-01 and 9999-12-31");
    }
    return *given;
  }

  Event NewEvent(EventType type, int64_t timestamp_ms, std::string actor,
                 std::string transaction_id) {
    Event event;
    event.type = type;
    event.timestamp_ms = timestamp_ms;
    event.actor = std::move(actor);
    event.transaction_id = transaction_id.empty() ? MakeUuid(random_) : std::move(transaction_id);
    return event;
  }

  // The Decide overloads canonicalise the command's names in place and move
  // its strings into the event: the command is spent once decided.
  Outcome Decide(OpenAccountCommand& command, BatchState& state) {
    if (absl::Status status = CanonicalizeUsername(command.account); !status.ok()) {
      return Rejected(std::move(status));
    }
    const std::string& account = command.account;
    absl::StatusOr<int64_t> timestamp_ms = TimestampOf(command.given_timestamp_ms);
    if (!timestamp_ms.ok()) return Rejected(timestamp_ms.status());
    if (state.Balance(account).has_value()) {
      return Rejected(MakeError(ErrorCode::kAccountExists,
                                absl::StrCat("account '", account, "' already exists")));
    }
    Event event;
    event.type = EventType::kAccountOpened;
    event.timestamp_ms = *timestamp_ms;
    event.actor = std::move(command.actor);
    event.to_account = std::move(command.account);
    Outcome outcome;
    outcome.pending = state.Add(std::move(event));
    return outcome;
  }

  Outcome Decide(MintCommand& command, BatchState& state) {
    if (absl::Status status = CanonicalizeUsername(command.account); !status.ok()) {
      return Rejected(std::move(status));
    }
    const std::string& account = command.account;
    absl::StatusOr<int64_t> amount = ValidateAmount(command.amount);
    if (!amount.ok()) return Rejected(amount.status());
    absl::StatusOr<int64_t> timestamp_ms = TimestampOf(command.given_timestamp_ms);
    if (!timestamp_ms.ok()) return Rejected(timestamp_ms.status());
    if (absl::Status status = ValidateNote(command.reason); !status.ok()) {
      return Rejected(
          MakeError(ErrorCode::kInvalidField, absl::StrCat("reason: ", status.message())));
    }
    if (!command.transaction_id.empty()) {
      if (absl::Status status = ValidateTransactionId(command.transaction_id); !status.ok()) {
        return Rejected(status);
      }
      TransactionKeyFields fields{EventType::kTokensMinted, "", account, *amount};
      if (std::optional<Outcome> reuse = CheckReuse(command.transaction_id, fields, state)) {
        return std::move(*reuse);
      }
    }
    const std::optional<int64_t> found = state.Balance(account);
    if (!found) return Rejected(AccountNotFound(account));
    const int64_t balance = *found;
    if (*amount > kAmountMax - balance) {
      return Rejected(
          MakeError(ErrorCode::kBalanceOverflow, "the balance would exceed 9007199254740991"));
    }
    Event event = NewEvent(EventType::kTokensMinted, *timestamp_ms, std::move(command.actor),
                           std::move(command.transaction_id));
    event.to_account = std::move(command.account);
    event.amount = *amount;
    event.to_balance = balance + *amount;
    event.note = std::move(command.reason);
    Outcome outcome;
    outcome.pending = state.Add(std::move(event));
    return outcome;
  }

  Outcome Decide(TransferCommand& command, BatchState& state) {
    if (absl::Status status = CanonicalizeUsername(command.from_account); !status.ok()) {
      return Rejected(std::move(status));
    }
    if (absl::Status status = CanonicalizeUsername(command.to_account); !status.ok()) {
      return Rejected(std::move(status));
    }
    const std::string& from = command.from_account;
    const std::string& to = command.to_account;
    absl::StatusOr<int64_t> amount = ValidateAmount(command.amount);
    if (!amount.ok()) return Rejected(amount.status());
    absl::StatusOr<int64_t> timestamp_ms = TimestampOf(command.given_timestamp_ms);
    if (!timestamp_ms.ok()) return Rejected(timestamp_ms.status());
    if (absl::Status status = ValidateNote(command.note); !status.ok()) return Rejected(status);
    if (absl::Status status = ValidateNote(command.reason); !status.ok()) {
      return Rejected(
          MakeError(ErrorCode::kInvalidField, absl::StrCat("reason: ", status.message())));
    }
    if (!command.transaction_id.empty()) {
      if (absl::Status status = ValidateTransactionId(command.transaction_id); !status.ok()) {
        return Rejected(status);
      }
    }
    if (from == to) {
      return Rejected(MakeError(ErrorCode::kSelfTransfer, "cannot send tokens to yourself"));
    }
    if (!command.transaction_id.empty()) {
      TransactionKeyFields fields{EventType::kTokensTransferred, from, to, *amount};
      if (std::optional<Outcome> reuse = CheckReuse(command.transaction_id, fields, state)) {
        return std::move(*reuse);
      }
    }
    const std::optional<int64_t> from_found = state.Balance(from);
    if (!from_found) return Rejected(AccountNotFound(from));
    const std::optional<int64_t> to_found = state.Balance(to);
    if (!to_found) return Rejected(AccountNotFound(to));
    const int64_t from_balance = *from_found;
    const int64_t to_balance = *to_found;
    if (from_balance < *amount) {
      return Rejected(MakeError(ErrorCode::kInsufficientFunds, "Insufficient sbd_tokens"));
    }
    if (*amount > kAmountMax - to_balance) {
      return Rejected(MakeError(ErrorCode::kBalanceOverflow,
                                "the recipient's balance would exceed 9007199254740991"));
    }
    // A send's actor is its sender; an admin transfer's the service or admin
    // that issued it (recorded as given, like a mint's).
    Event event = NewEvent(EventType::kTokensTransferred, *timestamp_ms,
                           command.actor.empty() ? from : std::move(command.actor),
                           std::move(command.transaction_id));
    event.from_account = std::move(command.from_account);
    event.to_account = std::move(command.to_account);
    event.amount = *amount;
    event.from_balance = from_balance - *amount;
    event.to_balance = to_balance + *amount;
    event.note = std::move(command.note);
    event.reason = std::move(command.reason);
    Outcome outcome;
    outcome.pending = state.Add(std::move(event));
    return outcome;
  }

  Outcome Decide(SetNoteCommand& command, BatchState& state) {
    if (absl::Status status = CanonicalizeUsername(command.actor); !status.ok()) {
      return Rejected(std::move(status));
    }
    const std::string& actor = command.actor;
    if (absl::Status status = ValidateTransactionId(command.transaction_id); !status.ok()) {
      return Rejected(status);
    }
    if (absl::Status status = ValidateNote(command.note); !status.ok()) return Rejected(status);
    absl::StatusOr<int64_t> timestamp_ms = TimestampOf(command.given_timestamp_ms);
    if (!timestamp_ms.ok()) return Rejected(timestamp_ms.status());
    if (!state.Balance(actor).has_value()) return Rejected(AccountNotFound(actor));
    absl::StatusOr<std::optional<BatchState::Transaction>> found =
        state.FindTransaction(command.transaction_id);
    if (!found.ok())
      return Rejected(MakeError(ErrorCode::kUnavailable, ToStd(found.status().message())));
    if (!found->has_value() || !BatchState::IsParty(actor, **found)) {
      return Rejected(
          MakeError(ErrorCode::kTransactionNotFound, "no transaction with this id involves you"));
    }
    Event event = NewEvent(EventType::kTransactionNoteSet, *timestamp_ms, std::move(command.actor),
                           std::move(command.transaction_id));
    event.note = std::move(command.note);
    Outcome outcome;
    outcome.pending = state.Add(std::move(event));
    return outcome;
  }

  const std::unique_ptr<EventLog> log_;
  Options options_;
  absl::BitGen random_;  // Writer thread only.

  // std:: mutexes rather than absl::Mutex: Debian's abseil is not built
  // with TSan, which would then report false races in the TSan build.
  mutable std::shared_mutex projection_mutex_;
  Projector projector_ ABSL_GUARDED_BY(projection_mutex_);

  std::mutex queue_mutex_;
  // Commands queued, stopping, or an append done.
  std::condition_variable writer_wakeup_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(queue_mutex_);
  bool stopping_ ABSL_GUARDED_BY(queue_mutex_) = false;
  // The append stage's hand-off, under the queue's mutex so that the writer
  // waits for "commands or a finished append" on one condition variable.
  std::condition_variable appender_wakeup_;
  Batch* append_job_ ABSL_GUARDED_BY(queue_mutex_) = nullptr;
  bool append_done_ ABSL_GUARDED_BY(queue_mutex_) = false;
  bool appender_stopping_ ABSL_GUARDED_BY(queue_mutex_) = false;

  std::mutex subscribers_mutex_;
  std::vector<Subscriber*> subscribers_ ABSL_GUARDED_BY(subscribers_mutex_);

  std::thread writer_;
  std::thread appender_;
};

absl::StatusOr<std::unique_ptr<Ledger>> Ledger::Open(std::unique_ptr<EventLog> log,
                                                     Options options) {
  auto impl = std::make_unique<Impl>(std::move(log), std::move(options));
  if (absl::Status status = impl->Replay(); !status.ok()) return status;
  impl->StartWriter();
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
