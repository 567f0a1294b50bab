// A seeded simulation of the Ledger in the spirit of TigerBeetle's VOPR.
//
// Simulated clients issue random commands (valid and invalid, replays and
// conflicting reuses of earlier transaction_ids) against a Ledger whose
// EventLog injects faults: failed appends, slow appends, and crashes (the
// batch may or may not reach the log; the process "dies" and is reopened). An
// auditor keeps its own model of every account, checks every reply against
// it and, after every reopen, checks that the projection equals the model and
// a fresh replay of the log, that the total is conserved and that no
// acknowledged event is missing.
//
// Determinism: each round's last command is one that always appends, and its
// done callback holds the ledger's writer thread (a WriterHold) until the
// whole next round is queued. So every round is cut into batches of exactly
// kBatchSizeMax commands, each decided while the batch ahead of it is being
// appended (the pipeline): a failed or crashed append also fails the batch
// already decided on top of it. The command stream, the batches and the
// fault schedule are therefore functions of the seed alone. A failure prints
// its seed; SBD_SIM_SEED=<seed> reruns exactly that one.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "engine/error_code.h"
#include "engine/ledger.h"
#include "engine/mutex.h"
#include "engine/projector.h"
#include "engine/validation.h"
#include "gtest/gtest.h"
#include "tests/engine/writer_hold.h"
#include "tests/support/memory_event_log.h"

namespace sbd {
namespace {

using ::sbd::testing::MemoryEventLog;
using ::sbd::testing::WriterHold;

// Small, so that a round of up to 31 commands spans several pipelined batches.
constexpr size_t kBatchSizeMax = 6;

// The log under test: a MemoryEventLog behind a seeded fault plan.
class SimulatedLog : public EventLog {
 public:
  SimulatedLog(std::shared_ptr<MemoryEventLog::Store> store, uint64_t seed)
      : inner_(std::move(store)), random_(seed) {}

  // The next append crashes the "process": it reaches the log or not (a coin
  // flip), fails, and so does every append after it.
  void CrashAtNextAppend() {
    MutexLock lock(mutex_);
    crash_next_ = true;
  }
  bool crashed() {
    MutexLock lock(mutex_);
    return crashed_;
  }

  absl::Status Append(absl::Span<const Event> events) override {
    bool fail = false;
    bool crash = false;
    bool persist_on_crash = false;
    {
      MutexLock lock(mutex_);
      if (crashed_) return absl::UnavailableError("crashed");
      crash = crash_next_;
      crash_next_ = false;
      persist_on_crash = std::bernoulli_distribution(0.5)(random_);
      fail = std::bernoulli_distribution(0.08)(random_);
      if (crash) crashed_ = true;
    }
    if (crash) {
      if (persist_on_crash) (void)inner_.Append(events);
      return absl::UnavailableError("simulated crash");
    }
    if (fail) return absl::UnavailableError("simulated I/O error");
    return inner_.Append(events);
  }
  int64_t LastSeq() const override { return inner_.LastSeq(); }
  absl::Status Read(int64_t from_seq, int64_t to_seq,
                    absl::FunctionRef<absl::Status(const Event&)> visit) const override {
    return inner_.Read(from_seq, to_seq, visit);
  }
  absl::StatusOr<std::vector<Event>> ReadSeqs(absl::Span<const int64_t> seqs) const override {
    return inner_.ReadSeqs(seqs);
  }

 private:
  MemoryEventLog inner_;
  Mutex mutex_;
  bool crash_next_ ABSL_GUARDED_BY(mutex_) = false;
  bool crashed_ ABSL_GUARDED_BY(mutex_) = false;
  std::mt19937_64 random_ ABSL_GUARDED_BY(mutex_);
};

// The auditor's model: what the ledger must answer and hold.
struct Model {
  struct Transaction {
    EventType type;
    std::string from;
    std::string to;
    int64_t amount;
    int64_t seq;
  };
  std::map<std::string, int64_t> balances;
  std::map<std::string, Transaction> transactions;
  absl::int128 minted = 0;

  // The expected outcome of `command`: an error code, or nullopt for success.
  // Mirrors the documented validation order (docs/ARCHITECTURE.md).
  std::optional<ErrorCode> Predict(const Command& command, bool* duplicate) const {
    *duplicate = false;
    if (auto* open = std::get_if<OpenAccountCommand>(&command)) {
      auto name = CanonicalUsername(open->account);
      if (!name.ok()) return ErrorCode::kInvalidUsername;
      if (balances.contains(*name)) return ErrorCode::kAccountExists;
      return std::nullopt;
    }
    if (auto* mint = std::get_if<MintCommand>(&command)) {
      if (mint->amount.value < 1 || mint->amount.value > kAmountMax) {
        return ErrorCode::kInvalidAmount;
      }
      if (auto reuse = Reuse(mint->transaction_id, EventType::kTokensMinted, "", mint->account,
                             mint->amount.value, duplicate)) {
        return *reuse;
      }
      if (*duplicate) return std::nullopt;
      if (!balances.contains(mint->account)) return ErrorCode::kAccountNotFound;
      if (mint->amount.value > kAmountMax - balances.at(mint->account)) {
        return ErrorCode::kBalanceOverflow;
      }
      return std::nullopt;
    }
    const auto& transfer = std::get<TransferCommand>(command);
    if (transfer.amount.value < 1 || transfer.amount.value > kAmountMax) {
      return ErrorCode::kInvalidAmount;
    }
    if (transfer.from_account == transfer.to_account) return ErrorCode::kSelfTransfer;
    if (auto reuse =
            Reuse(transfer.transaction_id, EventType::kTokensTransferred, transfer.from_account,
                  transfer.to_account, transfer.amount.value, duplicate)) {
      return *reuse;
    }
    if (*duplicate) return std::nullopt;
    if (!balances.contains(transfer.from_account) || !balances.contains(transfer.to_account)) {
      return ErrorCode::kAccountNotFound;
    }
    if (balances.at(transfer.from_account) < transfer.amount.value) {
      return ErrorCode::kInsufficientFunds;
    }
    if (transfer.amount.value > kAmountMax - balances.at(transfer.to_account)) {
      return ErrorCode::kBalanceOverflow;
    }
    return std::nullopt;
  }

  std::optional<ErrorCode> Reuse(const std::string& id, EventType type, const std::string& from,
                                 const std::string& to, int64_t amount, bool* duplicate) const {
    auto it = transactions.find(id);
    if (it == transactions.end()) return std::nullopt;
    const Transaction& t = it->second;
    if (t.type != type || t.from != from || t.to != to || t.amount != amount) {
      return ErrorCode::kTransactionIdConflict;
    }
    *duplicate = true;
    return std::nullopt;
  }

  void Apply(const Event& event) {
    switch (event.type) {
      case EventType::kAccountOpened:
        balances[event.to_account] = 0;
        return;
      case EventType::kTokensMinted:
        balances[event.to_account] += event.amount;
        minted += event.amount;
        break;
      case EventType::kTokensTransferred:
        balances[event.from_account] -= event.amount;
        balances[event.to_account] += event.amount;
        break;
      case EventType::kTransactionNoteSet:
        return;
    }
    transactions[event.transaction_id] = {event.type, event.from_account, event.to_account,
                                          event.amount, event.seq};
  }
};

class Simulation {
 public:
  explicit Simulation(uint64_t seed) : seed_(seed), random_(seed) {}
  ~Simulation() { ReleaseWriter(); }

  // Runs the whole simulation; stops at the first divergence (a gtest
  // failure naming the seed).
  void Run() {
    Reopen();
    constexpr int kRounds = 40;
    for (int round = 0; round < kRounds && !::testing::Test::HasFailure(); ++round) {
      RunRound();
      const bool crashed = log_->crashed();
      if (crashed || Chance(0.03)) {
        Reopen();
        AbsorbCrashedBatch(crashed);
        Audit();
      }
    }
    Reopen();
    AbsorbCrashedBatch(false);
    Audit();
  }

 private:
  bool Chance(double p) { return std::bernoulli_distribution(p)(random_); }
  int Uniform(int low, int high) { return std::uniform_int_distribution<int>(low, high)(random_); }

  std::string AccountName() {
    // Mostly known accounts, sometimes one that does not exist yet.
    return "acct" + std::to_string(Uniform(0, 11));
  }

  std::string TransactionId() {
    if (!used_ids_.empty() && Chance(0.15)) {
      return used_ids_[Uniform(0, static_cast<int>(used_ids_.size()) - 1)];
    }
    std::string id = absl::StrCat("tx-", seed_, "-", next_id_++);
    used_ids_.push_back(id);
    return id;
  }

  int64_t Amount() {
    switch (Uniform(0, 9)) {
      case 0:
        return 0;  // invalid_amount
      case 1:
        return kAmountMax;  // overflow or insufficient funds
      default:
        return Uniform(1, 300);
    }
  }

  Command RandomCommand() {
    const int kind = Uniform(0, 9);
    if (kind == 0) return OpenAccountCommand{"admin", AccountName()};
    if (kind <= 2) {
      return MintCommand{"admin", AccountName(), AmountField::Integer(Amount()), "",
                         TransactionId()};
    }
    // A replay of an earlier transfer, verbatim.
    if (!sent_.empty() && Chance(0.1)) return sent_[Uniform(0, int(sent_.size()) - 1)];
    TransferCommand transfer{AccountName(), AccountName(), AmountField::Integer(Amount()), "",
                             TransactionId()};
    sent_.push_back(transfer);
    return transfer;
  }

  // Always appends an event: a mint of 1 to an account far below the cap.
  Command GateCommand() {
    if (!model_.balances.contains("gate")) return OpenAccountCommand{"admin", "gate"};
    return MintCommand{"admin", "gate", AmountField::Integer(1), "",
                       absl::StrCat("gate-", seed_, "-", next_id_++)};
  }

  // Queues the whole round behind the writer held by the previous round's
  // gate command, then lets it run until this round's gate command holds it.
  void RunRound() {
    if (hold_ == nullptr) {
      HoldWriter(GateCommand());
      CheckHeld();
    }
    std::vector<Command> commands;
    const int count = Uniform(1, 30);
    for (int i = 0; i < count; ++i) commands.push_back(RandomCommand());
    if (Chance(0.05)) log_->CrashAtNextAppend();

    std::vector<std::future<absl::StatusOr<CommandResult>>> replies;
    for (const Command& command : commands) replies.push_back(ledger_->Submit(command));
    HoldWriter(GateCommand());
    for (size_t i = 0; i < commands.size(); ++i) {
      Check(commands[i], replies[i].get());
      if (::testing::Test::HasFailure()) return;
    }
    CheckHeld();
  }

  // Submits `gate`, whose callback will hold the writer, releases the current
  // hold and waits until the writer is held again: every command queued
  // before `gate` is then answered.
  void HoldWriter(Command gate) {
    auto hold = std::make_unique<WriterHold>();
    ledger_->Submit(gate, hold->Callback());
    ReleaseWriter();
    held_reply_ = hold->AwaitHeld();
    held_command_ = std::move(gate);
    hold_ = std::move(hold);  // The writer has left the old hold's callback.
  }

  void CheckHeld() { Check(held_command_, held_reply_); }

  void ReleaseWriter() {
    if (hold_ != nullptr) hold_->Release();
  }

  void Check(const Command& command, const absl::StatusOr<CommandResult>& reply) {
    // A 503: nothing was applied (the audit after the next reopen proves it),
    // unless the process crashed under this batch (AbsorbCrashedBatch).
    if (ErrorCodeOf(reply.status()) == ErrorCode::kUnavailable) return;
    bool duplicate = false;
    std::optional<ErrorCode> expected = model_.Predict(command, &duplicate);
    if (expected) {
      EXPECT_EQ(ErrorCodeOf(reply.status()), expected)
          << "seed " << seed_ << ": " << reply.status();
      return;
    }
    ASSERT_TRUE(reply.ok()) << "seed " << seed_ << ": expected success, got " << reply.status();
    EXPECT_EQ(reply->duplicate, duplicate) << "seed " << seed_;
    const Event& event = reply->event;
    if (duplicate) {
      EXPECT_EQ(event.seq, model_.transactions.at(event.transaction_id).seq) << "seed " << seed_;
      return;
    }
    EXPECT_EQ(event.seq, last_acked_seq_ + 1) << "seed " << seed_ << ": acks skip a seq";
    last_acked_seq_ = event.seq;
    model_.Apply(event);
    acked_[event.seq] = event;
    // The recorded balances are the model's, right after the event.
    if (event.type == EventType::kTokensTransferred) {
      EXPECT_EQ(event.from_balance, model_.balances.at(event.from_account)) << "seed " << seed_;
    }
    if (event.type != EventType::kTransactionNoteSet) {
      EXPECT_EQ(event.to_balance, model_.balances.at(event.to_account)) << "seed " << seed_;
    }
  }

  // A crashed batch may or may not have reached the log; if it did, its
  // events follow the last acknowledged seq, and the model learns them from
  // the log. After a clean reopen there must be no such events: an
  // unacknowledged (503) command was never applied.
  void AbsorbCrashedBatch(bool crashed) {
    std::vector<Event> unacknowledged;
    ASSERT_TRUE(ledger_->log()
                    .Read(last_acked_seq_ + 1, ledger_->LastSeq(),
                          [&](const Event& event) {
                            unacknowledged.push_back(event);
                            return absl::OkStatus();
                          })
                    .ok());
    if (!crashed) {
      EXPECT_TRUE(unacknowledged.empty())
          << "seed " << seed_ << ": " << unacknowledged.size() << " events were never acked";
      return;
    }
    for (const Event& event : unacknowledged) {
      model_.Apply(event);
      acked_[event.seq] = event;
      last_acked_seq_ = event.seq;
    }
  }

  void Reopen() {
    ReleaseWriter();
    ledger_.reset();
    hold_.reset();
    auto log = std::make_unique<SimulatedLog>(store_, seed_ * 7919 + reopen_count_++);
    log_ = log.get();
    Ledger::Options options;
    options.batch_size_max = kBatchSizeMax;
    options.clock_ms = [] { return int64_t{1795705445123}; };
    auto ledger = Ledger::Open(std::move(log), options);
    ASSERT_TRUE(ledger.ok()) << "seed " << seed_ << ": " << ledger.status();
    ledger_ = std::move(*ledger);
  }

  void Audit() {
    if (::testing::Test::HasFailure()) return;
    for (const auto& [name, balance] : model_.balances) {
      EXPECT_EQ(ledger_->Balance(name).value_or(-1), balance) << "seed " << seed_ << " " << name;
    }
    EXPECT_EQ(ledger_->TotalBalance(), model_.minted) << "seed " << seed_;
    EXPECT_EQ(ledger_->TotalMinted(), model_.minted) << "seed " << seed_;
    EXPECT_EQ(ledger_->LastSeq(), last_acked_seq_) << "seed " << seed_;
    // A fresh replay agrees, the log is gapless and holds every ack unchanged.
    Projector replay;
    int64_t expected_seq = 1;
    absl::Status read = ledger_->log().Read(1, ledger_->LastSeq(), [&](const Event& event) {
      EXPECT_EQ(event.seq, expected_seq++) << "seed " << seed_;
      auto acked = acked_.find(event.seq);
      EXPECT_TRUE(acked != acked_.end() && acked->second == event)
          << "seed " << seed_ << ": seq " << event.seq << " differs from its ack";
      return replay.Apply(event);
    });
    EXPECT_TRUE(read.ok()) << "seed " << seed_ << ": " << read;
    for (const auto& [name, balance] : model_.balances) {
      EXPECT_EQ(replay.Balance(name).value_or(-1), balance) << "seed " << seed_;
    }
  }

  const uint64_t seed_;
  std::mt19937_64 random_;
  std::shared_ptr<MemoryEventLog::Store> store_ = std::make_shared<MemoryEventLog::Store>();
  SimulatedLog* log_ = nullptr;
  // Declared before ledger_: the writer may be inside its callback until the
  // ledger is destroyed.
  std::unique_ptr<WriterHold> hold_;
  Command held_command_;
  absl::StatusOr<CommandResult> held_reply_;
  std::unique_ptr<Ledger> ledger_;
  Model model_;
  std::map<int64_t, Event> acked_;
  int64_t last_acked_seq_ = 0;
  std::vector<std::string> used_ids_;
  std::vector<TransferCommand> sent_;
  uint64_t next_id_ = 0;
  uint64_t reopen_count_ = 0;
};

// The seed running now, for the abort handler: a ledger assertion aborts the
// process before gtest can name the seed.
std::atomic<uint64_t> current_seed{0};

void PrintSeedOnAbort(int) {
  char line[64];
  const int length = snprintf(line, sizeof line, "\nrerun with SBD_SIM_SEED=%llu\n",
                              static_cast<unsigned long long>(current_seed.load()));
  (void)!write(STDERR_FILENO, line, static_cast<size_t>(length));
  signal(SIGABRT, SIG_DFL);
  raise(SIGABRT);
}

TEST(LedgerSimulation, ThousandsOfSeeds) {
  signal(SIGABRT, PrintSeedOnAbort);
  if (const char* seed = std::getenv("SBD_SIM_SEED")) {
    current_seed = std::strtoull(seed, nullptr, 10);
    Simulation(current_seed).Run();
    return;
  }
  const int seeds = std::getenv("SBD_SIM_SEEDS") ? std::atoi(std::getenv("SBD_SIM_SEEDS")) : 2000;
  const uint64_t base = std::random_device{}();
  for (int i = 0; i < seeds && !::testing::Test::HasFailure(); ++i) {
    const uint64_t seed = base + i;
    current_seed = seed;
    Simulation(seed).Run();
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "rerun with SBD_SIM_SEED=" << seed;
    }
  }
}

}  // namespace
}  // namespace sbd
