// The decision rules as tables: each row is a state (committed commands, the
// batch ahead's, the same batch's earlier ones) and one command, and the
// outcome the Decider must reach — an error code, or the event that answers
// the command, new or replayed.
#include "engine/decider.h"

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "engine/batch_state.h"
#include "engine/error_code.h"
#include "engine/projector.h"
#include "gtest/gtest.h"
#include "tests/support/event_builders.h"
#include "tests/support/memory_event_log.h"

namespace sbd {
namespace {

using ::sbd::testing::MemoryEventLog;
using ::sbd::testing::Minted;
using ::sbd::testing::NoteSet;
using ::sbd::testing::Opened;
using ::sbd::testing::Transferred;

constexpr int64_t kNowMs = 1795705445123;

Command Open(std::string account) { return OpenAccountCommand{"admin", std::move(account)}; }

Command Mint(std::string account, int64_t amount, std::string transaction_id = "",
             std::string reason = "") {
  return MintCommand{"admin", std::move(account), AmountField::Integer(amount), std::move(reason),
                     std::move(transaction_id)};
}

TransferCommand Transfer(std::string from, std::string to, int64_t amount,
                         std::string transaction_id = "", std::string note = "") {
  return TransferCommand{std::move(from), std::move(to), AmountField::Integer(amount),
                         std::move(note), std::move(transaction_id)};
}

Command Send(std::string from, std::string to, int64_t amount, std::string transaction_id = "",
             std::string note = "") {
  return Transfer(std::move(from), std::move(to), amount, std::move(transaction_id),
                  std::move(note));
}

Command WithAmount(TransferCommand command, AmountField amount) {
  command.amount = amount;
  return command;
}

Command WithTimestamp(TransferCommand command, int64_t timestamp_ms) {
  command.given_timestamp_ms = timestamp_ms;
  return command;
}

Command AdminTransfer(std::string actor, std::string from, std::string to, int64_t amount,
                      std::string reason) {
  TransferCommand command = Transfer(std::move(from), std::move(to), amount);
  command.actor = std::move(actor);
  command.reason = std::move(reason);
  return command;
}

Command Note(std::string actor, std::string transaction_id, std::string note) {
  return SetNoteCommand{std::move(actor), std::move(transaction_id), std::move(note)};
}

const std::string kLongNote(501, 'x');
const AmountField kNotInteger{AmountField::Kind::kNotInteger, 0};

// How the command is answered.
enum class Answer {
  kRejected,
  kNewEvent,         // An event it adds to its batch.
  kReplayOfOwn,      // An earlier event of its own batch (event_index).
  kReplayOfEarlier,  // An event committed, or of the batch ahead (replayed_event).
};

struct Expected {
  Answer answer = Answer::kRejected;
  std::optional<ErrorCode> error;
  std::string message_part;  // A rejection's message contains it.
  size_t own_index = 0;      // kReplayOfOwn.
  // The answering event. Compared field by field; timestamp_ms 0 is the
  // clock's kNowMs and an empty transaction_id is not compared.
  Event event;
};

Expected Rejects(ErrorCode error, std::string message_part = "") {
  return Expected{Answer::kRejected, error, std::move(message_part), 0, {}};
}
Expected Adds(Event event) { return Expected{Answer::kNewEvent, {}, "", 0, std::move(event)}; }
Expected ReplaysOwn(size_t index, Event event) {
  return Expected{Answer::kReplayOfOwn, {}, "", index, std::move(event)};
}
Expected ReplaysEarlier(Event event) {
  return Expected{Answer::kReplayOfEarlier, {}, "", 0, std::move(event)};
}

struct Row {
  std::string name;
  std::vector<Command> committed;  // Decided, appended and applied first.
  std::vector<Command> ahead;      // The batch ahead: decided, not committed.
  std::vector<Command> earlier;    // This batch's commands before `command`.
  Command command;
  Expected expected;
};

// Decides every command of `commands` into `state`; each must be accepted.
void DecideAll(Decider& decider, const std::vector<Command>& commands, BatchState& state) {
  for (Command command : commands) {
    Decision decision = decider.Decide(command, state);
    ASSERT_TRUE(decision.accepted()) << decision.rejection;
  }
}

void ExpectEvent(const Event& expected, const Event& actual) {
  EXPECT_EQ(actual.seq, expected.seq);
  EXPECT_EQ(actual.type, expected.type);
  EXPECT_EQ(actual.timestamp_ms, expected.timestamp_ms == 0 ? kNowMs : expected.timestamp_ms);
  EXPECT_EQ(actual.actor, expected.actor);
  EXPECT_EQ(actual.from_account, expected.from_account);
  EXPECT_EQ(actual.to_account, expected.to_account);
  EXPECT_EQ(actual.amount, expected.amount);
  EXPECT_EQ(actual.from_balance, expected.from_balance);
  EXPECT_EQ(actual.to_balance, expected.to_balance);
  if (!expected.transaction_id.empty()) {
    EXPECT_EQ(actual.transaction_id, expected.transaction_id);
  }
  EXPECT_EQ(actual.note, expected.note);
  EXPECT_EQ(actual.reason, expected.reason);
}

void Check(const Row& row) {
  SCOPED_TRACE(row.name);
  MemoryEventLog log;
  Projector projector;
  std::mt19937_64 random(12);
  Decider decider([] { return kNowMs; }, random);
  {
    BatchState committed(projector, log, nullptr, row.committed.size());
    DecideAll(decider, row.committed, committed);
    ASSERT_TRUE(log.Append(committed.events()).ok());
    for (const Event& event : committed.events()) ASSERT_TRUE(projector.Apply(event).ok());
  }
  BatchState ahead(projector, log, nullptr, row.ahead.size());
  DecideAll(decider, row.ahead, ahead);
  BatchState state(projector, log, row.ahead.empty() ? nullptr : &ahead, row.earlier.size() + 1);
  DecideAll(decider, row.earlier, state);
  const size_t events_before = state.events().size();

  Command command = row.command;
  Decision decision = decider.Decide(command, state);

  const Expected& expected = row.expected;
  if (expected.answer == Answer::kRejected) {
    ASSERT_FALSE(decision.accepted());
    const std::optional<ErrorCode> error = ErrorCodeOf(decision.rejection);
    ASSERT_TRUE(error.has_value()) << decision.rejection;
    EXPECT_EQ(ErrorCodeName(*error), ErrorCodeName(*expected.error)) << decision.rejection;
    EXPECT_NE(decision.rejection.message().find(expected.message_part), std::string::npos)
        << decision.rejection;
    EXPECT_FALSE(decision.event_index.has_value());
    EXPECT_FALSE(decision.replayed_event.has_value());
    EXPECT_EQ(state.events().size(), events_before) << "a rejection adds no event";
    return;
  }
  ASSERT_TRUE(decision.accepted()) << decision.rejection;
  const Event* answer = nullptr;
  switch (expected.answer) {
    case Answer::kNewEvent:
      EXPECT_FALSE(decision.duplicate);
      ASSERT_EQ(state.events().size(), events_before + 1);
      ASSERT_EQ(decision.event_index, events_before);
      answer = &state.events()[events_before];
      break;
    case Answer::kReplayOfOwn:
      EXPECT_TRUE(decision.duplicate);
      ASSERT_EQ(state.events().size(), events_before) << "a replay adds no event";
      ASSERT_EQ(decision.event_index, expected.own_index);
      answer = &state.events()[expected.own_index];
      break;
    case Answer::kReplayOfEarlier:
      EXPECT_TRUE(decision.duplicate);
      ASSERT_EQ(state.events().size(), events_before) << "a replay adds no event";
      EXPECT_FALSE(decision.event_index.has_value());
      ASSERT_TRUE(decision.replayed_event.has_value());
      answer = &*decision.replayed_event;
      break;
    case Answer::kRejected:
      break;
  }
  ExpectEvent(expected.event, *answer);
}

void CheckAll(const std::vector<Row>& rows) {
  for (const Row& row : rows) Check(row);
}

// alice (100) and bob (0), committed at seqs 1..3.
std::vector<Command> AliceAndBob() { return {Open("alice"), Open("bob"), Mint("alice", 100)}; }

TEST(DeciderTest, TransferFieldsAreValidatedInTheApisOrder) {
  CheckAll({
      {"the sender's name comes first",
       AliceAndBob(),
       {},
       {},
       WithAmount(Transfer("Al ice", "B@b", 0, "", kLongNote), kNotInteger),
       Rejects(ErrorCode::kInvalidUsername)},
      {"then the recipient's",
       AliceAndBob(),
       {},
       {},
       WithAmount(Transfer("alice", "B@b", 0, "", kLongNote), kNotInteger),
       Rejects(ErrorCode::kInvalidUsername)},
      {"then the amount",
       AliceAndBob(),
       {},
       {},
       WithAmount(Transfer("alice", "alice", 0, "", kLongNote), kNotInteger),
       Rejects(ErrorCode::kInvalidAmount, "JSON integer")},
      {"an amount of 0",
       AliceAndBob(),
       {},
       {},
       Send("alice", "bob", 0),
       Rejects(ErrorCode::kInvalidAmount, "between 1 and")},
      {"an amount above 2^53-1",
       AliceAndBob(),
       {},
       {},
       Send("alice", "bob", kAmountMax + 1),
       Rejects(ErrorCode::kInvalidAmount, "between 1 and")},
      {"then the given timestamp",
       AliceAndBob(),
       {},
       {},
       WithTimestamp(Transfer("alice", "alice", 1, "", kLongNote), -1),
       Rejects(ErrorCode::kInvalidField, "timestamp")},
      {"then the note",
       AliceAndBob(),
       {},
       {},
       Send("alice", "alice", 1, "", kLongNote),
       Rejects(ErrorCode::kInvalidField, "note is longer")},
      {"a note that is not UTF-8",
       AliceAndBob(),
       {},
       {},
       Send("alice", "bob", 1, "", "\xff"),
       Rejects(ErrorCode::kInvalidField, "UTF-8")},
      {"then the reason",
       AliceAndBob(),
       {},
       {},
       AdminTransfer("service", "alice", "alice", 1, kLongNote),
       Rejects(ErrorCode::kInvalidField, "reason: ")},
      {"then the transaction_id",
       AliceAndBob(),
       {},
       {},
       Send("alice", "alice", 1, "tx\n"),
       Rejects(ErrorCode::kInvalidField, "printable ASCII")},
      {"then the self-transfer, before the accounts",
       {},
       {},
       {},
       Send("zed", "ZED", 1),
       Rejects(ErrorCode::kSelfTransfer)},
      {"a self-transfer even with a reused id",
       AliceAndBob(),
       {Send("alice", "bob", 5, "t1")},
       {},
       Send("alice", "alice", 5, "t1"),
       Rejects(ErrorCode::kSelfTransfer)},
      {"then a conflicting id, before the accounts",
       {Open("alice"), Mint("alice", 9, "t1")},
       {},
       {},
       Send("alice", "nobody", 1, "t1"),
       Rejects(ErrorCode::kTransactionIdConflict)},
      {"then the sender must exist",
       AliceAndBob(),
       {},
       {},
       Send("carol", "dave", 1),
       Rejects(ErrorCode::kAccountNotFound, "'carol'")},
      {"then the recipient",
       AliceAndBob(),
       {},
       {},
       Send("alice", "dave", 1),
       Rejects(ErrorCode::kAccountNotFound, "'dave'")},
      {"then the funds, before the recipient's overflow",
       {Open("alice"), Open("bob"), Mint("alice", 1), Mint("bob", kAmountMax)},
       {},
       {},
       Send("alice", "bob", 2),
       Rejects(ErrorCode::kInsufficientFunds)},
      {"the recipient's balance must stay within 2^53-1",
       {Open("alice"), Open("bob"), Mint("alice", 1), Mint("bob", kAmountMax)},
       {},
       {},
       Send("alice", "bob", 1),
       Rejects(ErrorCode::kBalanceOverflow, "recipient")},
  });
}

TEST(DeciderTest, AnAcceptedTransferRecordsItsBalancesAndFields) {
  TransferCommand timed = Transfer("alice", "bob", 30, "t1", "for lunch");
  timed.given_timestamp_ms = 1000;
  CheckAll({
      {"names are canonicalised; actor is the sender",
       AliceAndBob(),
       {},
       {},
       Send("ALICE", "Bob", 30, "t1", "for lunch"),
       Adds(Transferred(4, "alice", "bob", 30, 70, 30, "t1", "for lunch"))},
      {"the whole balance may be spent",
       AliceAndBob(),
       {},
       {},
       Send("alice", "bob", 100),
       Adds(Transferred(4, "alice", "bob", 100, 0, 100))},
      {"a given timestamp is the event's", AliceAndBob(), {}, {}, timed, Adds([] {
         Event event = Transferred(4, "alice", "bob", 30, 70, 30, "t1", "for lunch");
         event.timestamp_ms = 1000;
         return event;
       }())},
      {"an admin transfer records its issuer and reason",
       AliceAndBob(),
       {},
       {},
       AdminTransfer("service", "alice", "bob", 5, "refund"),
       Adds([] {
         Event event = Transferred(4, "alice", "bob", 5, 95, 5);
         event.actor = "service";
         event.reason = "refund";
         return event;
       }())},
  });
}

TEST(DeciderTest, ATransferWithoutIdGetsAVersion4Uuid) {
  MemoryEventLog log;
  Projector projector;
  std::mt19937_64 random(1);
  Decider decider([] { return kNowMs; }, random);
  BatchState state(projector, log, nullptr, 3);
  DecideAll(decider, {Open("alice"), Mint("alice", 5)}, state);
  const std::string& id = state.events()[1].transaction_id;
  ASSERT_EQ(id.size(), 36u);
  EXPECT_EQ(id[8], '-');
  EXPECT_EQ(id[13], '-');
  EXPECT_EQ(id[14], '4');
  EXPECT_EQ(id[18], '-');
  EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos);
  EXPECT_EQ(id[23], '-');
}

TEST(DeciderTest, AReusedTransactionIdIsAReplayOrAConflict) {
  const std::vector<Command> sent = {Open("alice"), Open("bob"), Mint("alice", 100),
                                     Send("alice", "bob", 10, "t1")};
  CheckAll({
      {"same parameters, committed: the original event, balances then",
       sent,
       {},
       {Send("alice", "bob", 50)},
       Send("alice", "bob", 10, "t1", "another note"),
       ReplaysEarlier(Transferred(4, "alice", "bob", 10, 90, 10, "t1"))},
      {"another amount conflicts",
       sent,
       {},
       {},
       Send("alice", "bob", 11, "t1"),
       Rejects(ErrorCode::kTransactionIdConflict)},
      {"another recipient conflicts",
       {Open("alice"), Open("bob"), Open("carol"), Mint("alice", 100),
        Send("alice", "bob", 10, "t1")},
       {},
       {},
       Send("alice", "carol", 10, "t1"),
       Rejects(ErrorCode::kTransactionIdConflict)},
      {"a mint's id reused by a transfer conflicts",
       {Open("alice"), Open("bob"), Mint("alice", 10, "m1")},
       {},
       {},
       Send("alice", "bob", 10, "m1"),
       Rejects(ErrorCode::kTransactionIdConflict)},
      {"a replay needs no funds",
       {Open("alice"), Open("bob"), Mint("alice", 10), Send("alice", "bob", 10, "t1")},
       {},
       {},
       Send("alice", "bob", 10, "t1"),
       ReplaysEarlier(Transferred(4, "alice", "bob", 10, 0, 10, "t1"))},
      {"the batch ahead's: replayed from its overlay",
       AliceAndBob(),
       {Send("alice", "bob", 10, "t1")},
       {},
       Send("alice", "bob", 10, "t1"),
       ReplaysEarlier(Transferred(4, "alice", "bob", 10, 90, 10, "t1"))},
      {"the batch ahead's, other parameters",
       AliceAndBob(),
       {Send("alice", "bob", 10, "t1")},
       {},
       Send("alice", "bob", 12, "t1"),
       Rejects(ErrorCode::kTransactionIdConflict)},
      {"the same batch's: answered by its event",
       AliceAndBob(),
       {},
       {Send("alice", "bob", 1), Send("alice", "bob", 10, "t1")},
       Send("alice", "bob", 10, "t1"),
       ReplaysOwn(1, Transferred(5, "alice", "bob", 10, 89, 11, "t1"))},
      {"the same batch's, other parameters",
       AliceAndBob(),
       {},
       {Send("alice", "bob", 10, "t1")},
       Send("bob", "alice", 10, "t1"),
       Rejects(ErrorCode::kTransactionIdConflict)},
  });
}

TEST(DeciderTest, ACommandSeesTheBatchAheadAndItsOwnBatchsEarlierCommands) {
  CheckAll({
      {"accounts opened and funded earlier in the batch",
       {},
       {},
       {Open("alice"), Open("bob"), Mint("alice", 7)},
       Send("alice", "bob", 7),
       Adds(Transferred(4, "alice", "bob", 7, 0, 7))},
      {"funds minted by the batch ahead",
       AliceAndBob(),
       {Mint("alice", 50)},
       {},
       Send("alice", "bob", 150),
       Adds(Transferred(5, "alice", "bob", 150, 0, 150))},
      {"funds spent by the batch ahead",
       AliceAndBob(),
       {Send("alice", "bob", 60)},
       {},
       Send("alice", "bob", 41),
       Rejects(ErrorCode::kInsufficientFunds)},
      {"funds spent earlier in the batch",
       AliceAndBob(),
       {Send("alice", "bob", 60)},
       {Send("alice", "bob", 40)},
       Send("alice", "bob", 1),
       Rejects(ErrorCode::kInsufficientFunds)},
      {"seqs continue the committed log, the batch ahead, then the batch",
       AliceAndBob(),
       {Send("alice", "bob", 1), Send("alice", "bob", 2)},
       {Send("bob", "alice", 3)},
       Send("alice", "bob", 4),
       Adds(Transferred(7, "alice", "bob", 4, 96, 4))},
      {"an account opened by the batch ahead exists",
       AliceAndBob(),
       {Open("carol")},
       {},
       Send("alice", "carol", 1),
       Adds(Transferred(5, "alice", "carol", 1, 99, 1))},
  });
}

TEST(DeciderTest, OpeningAnAccount) {
  OpenAccountCommand timed{"admin", "carol"};
  timed.given_timestamp_ms = kTimestampMsMax + 1;
  CheckAll({
      {"a new account, its name lowercased", {}, {}, {}, Open("CaRoL"), Adds(Opened(1, "carol"))},
      {"an invalid name", {}, {}, {}, Open("ca rol"), Rejects(ErrorCode::kInvalidUsername)},
      {"an empty name", {}, {}, {}, Open(""), Rejects(ErrorCode::kInvalidUsername)},
      {"a timestamp past 9999", {}, {}, {}, timed, Rejects(ErrorCode::kInvalidField, "timestamp")},
      {"committed already",
       AliceAndBob(),
       {},
       {},
       Open("Alice"),
       Rejects(ErrorCode::kAccountExists, "'alice'")},
      {"opened by the batch ahead",
       {},
       {Open("alice")},
       {},
       Open("alice"),
       Rejects(ErrorCode::kAccountExists)},
      {"opened earlier in the batch",
       {},
       {},
       {Open("alice")},
       Open("alice"),
       Rejects(ErrorCode::kAccountExists)},
  });
}

TEST(DeciderTest, Minting) {
  MintCommand bad_amount{"admin", "alice", kNotInteger, kLongNote, "tx\n"};
  CheckAll({
      {"credits the holder; the reason is the note",
       AliceAndBob(),
       {},
       {},
       Mint("ALICE", 5, "m1", "welcome"),
       Adds(Minted(4, "alice", 5, 105, "m1", "welcome"))},
      {"the name first",
       {},
       {},
       {},
       MintCommand{"admin", "a b", kNotInteger, kLongNote, "tx\n"},
       Rejects(ErrorCode::kInvalidUsername)},
      {"then the amount", {}, {}, {}, bad_amount, Rejects(ErrorCode::kInvalidAmount)},
      {"then the reason",
       {},
       {},
       {},
       Mint("alice", 1, "tx\n", kLongNote),
       Rejects(ErrorCode::kInvalidField, "reason: ")},
      {"then the transaction_id",
       {},
       {},
       {},
       Mint("alice", 1, "tx\n"),
       Rejects(ErrorCode::kInvalidField, "printable ASCII")},
      {"then the reuse, before the account",
       {Open("alice"), Mint("alice", 1, "m1")},
       {},
       {},
       Mint("nobody", 1, "m1"),
       Rejects(ErrorCode::kTransactionIdConflict)},
      {"a replay",
       {Open("alice"), Mint("alice", 1, "m1")},
       {},
       {Mint("alice", 4)},
       Mint("alice", 1, "m1"),
       ReplaysEarlier(Minted(2, "alice", 1, 1, "m1"))},
      {"then the account", {}, {}, {}, Mint("nobody", 1), Rejects(ErrorCode::kAccountNotFound)},
      {"the balance must stay within 2^53-1",
       {Open("alice"), Mint("alice", kAmountMax)},
       {},
       {},
       Mint("alice", 1),
       Rejects(ErrorCode::kBalanceOverflow)},
      {"up to 2^53-1 exactly",
       {Open("alice"), Mint("alice", kAmountMax - 1)},
       {},
       {},
       Mint("alice", 1),
       Adds(Minted(3, "alice", 1, kAmountMax))},
  });
}

TEST(DeciderTest, SettingANote) {
  const std::vector<Command> sent = {Open("alice"), Open("bob"), Open("carol"), Mint("alice", 100),
                                     Send("alice", "bob", 10, "t1")};
  CheckAll({
      {"the sender",
       sent,
       {},
       {},
       Note("Alice", "t1", "lunch"),
       Adds(NoteSet(6, "alice", "t1", "lunch"))},
      {"the recipient",
       sent,
       {},
       {},
       Note("bob", "t1", "thanks"),
       Adds(NoteSet(6, "bob", "t1", "thanks"))},
      {"a transaction of the same batch",
       AliceAndBob(),
       {},
       {Send("alice", "bob", 1, "t1")},
       Note("bob", "t1", "ok"),
       Adds(NoteSet(5, "bob", "t1", "ok"))},
      {"a transaction of the batch ahead",
       AliceAndBob(),
       {Send("alice", "bob", 1, "t1")},
       {},
       Note("alice", "t1", "ok"),
       Adds(NoteSet(5, "alice", "t1", "ok"))},
      {"the name first",
       sent,
       {},
       {},
       Note("A B", "", kLongNote),
       Rejects(ErrorCode::kInvalidUsername)},
      {"then the transaction_id (required)",
       sent,
       {},
       {},
       Note("alice", "", kLongNote),
       Rejects(ErrorCode::kInvalidField, "transaction_id")},
      {"then the note",
       sent,
       {},
       {},
       Note("nobody", "t1", kLongNote),
       Rejects(ErrorCode::kInvalidField, "note")},
      {"then the actor's account",
       sent,
       {},
       {},
       Note("nobody", "t1", "x"),
       Rejects(ErrorCode::kAccountNotFound)},
      {"not a party",
       sent,
       {},
       {},
       Note("carol", "t1", "x"),
       Rejects(ErrorCode::kTransactionNotFound)},
      {"no such transaction",
       sent,
       {},
       {},
       Note("alice", "t2", "x"),
       Rejects(ErrorCode::kTransactionNotFound)},
  });
}

}  // namespace
}  // namespace sbd
