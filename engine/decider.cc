#include "engine/decider.h"

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "absl/random/distributions.h"
#include "absl/strings/str_cat.h"
#include "engine/absl_compat.h"
#include "engine/error_code.h"
#include "engine/validation.h"

namespace sbd {
namespace {

// A random (version 4) UUID in its canonical text form. Hand-formatted: it is
// made for every transfer without a client id, on the writer thread.
std::string MakeUuid(absl::BitGenRef random) {
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

Decision Rejected(absl::Status status) {
  assert(!status.ok() && "a rejection carries its error");
  Decision decision;
  decision.rejection = std::move(status);
  return decision;
}

Decision Added(BatchState& state, Event event) {
  Decision decision;
  decision.event_index = state.Add(std::move(event));
  return decision;
}

absl::Status AccountNotFound(std::string_view account) {
  return MakeError(ErrorCode::kAccountNotFound,
                   absl::StrCat("account '", ToAbsl(account), "' does not exist"));
}

// A mint's or admin transfer's reason is validated as a note, named apart.
absl::Status ValidateReason(std::string_view reason) {
  absl::Status status = ValidateNote(reason);
  if (status.ok()) return status;
  return MakeError(ErrorCode::kInvalidField, absl::StrCat("reason: ", status.message()));
}

// Resolves a transaction_id the command carries: a fresh one proceeds
// (nullopt); a reused one becomes a replay or a conflict (a Decision).
std::optional<Decision> CheckReuse(const std::string& transaction_id,
                                   const TransactionKeyFields& fields, const BatchState& state) {
  assert(!transaction_id.empty() && "only a given transaction_id can be reused");
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
  Decision decision;
  decision.duplicate = true;
  if (transaction.own_index) {
    decision.event_index = transaction.own_index;  // Answered once its batch commits.
  } else {
    // Committed, or in the batch ahead: this batch commits only after it.
    decision.replayed_event = std::move(transaction.event);
  }
  return decision;
}

// Exactly one answer, and an event added exactly for a new event.
bool IsWellFormed(const Decision& decision, size_t events_before, size_t events_after) {
  const int answers = int{!decision.accepted()} + int{decision.event_index.has_value()} +
                      int{decision.replayed_event.has_value()};
  const bool added = decision.event_index.has_value() && !decision.duplicate;
  return answers == 1 && events_after == events_before + (added ? 1 : 0) &&
         (!added || *decision.event_index == events_before);
}

}  // namespace

Decider::Decider(std::function<int64_t()> clock_ms, absl::BitGenRef random)
    : clock_ms_(std::move(clock_ms)), random_(random) {
  assert(clock_ms_ && "the Decider needs a clock");
}

Decision Decider::Decide(Command& command, BatchState& state) {
  const size_t events_before = state.events().size();
  Decision decision = std::visit(
      [&](auto& typed) -> Decision {
        using Type = std::decay_t<decltype(typed)>;
        if constexpr (std::is_same_v<Type, OpenAccountCommand>) {
          return DecideOpenAccount(typed, state);
        } else if constexpr (std::is_same_v<Type, MintCommand>) {
          return DecideMint(typed, state);
        } else if constexpr (std::is_same_v<Type, TransferCommand>) {
          return DecideTransfer(typed, state);
        } else {
          static_assert(std::is_same_v<Type, SetNoteCommand>, "every command is decided");
          return DecideSetNote(typed, state);
        }
      },
      command);
  assert(IsWellFormed(decision, events_before, state.events().size()));
  return decision;
}

absl::StatusOr<int64_t> Decider::TimestampOf(const std::optional<int64_t>& given) const {
  if (!given) return clock_ms_();
  if (*given < kTimestampMsMin || *given > kTimestampMsMax) {
    return MakeError(ErrorCode::kInvalidField,
                     "timestamp must be between 1970-01-01 and 9999-12-31");
  }
  return *given;
}

Event Decider::NewEvent(EventType type, int64_t timestamp_ms, std::string actor,
                        std::string transaction_id) {
  Event event;
  event.type = type;
  event.timestamp_ms = timestamp_ms;
  event.actor = std::move(actor);
  event.transaction_id = transaction_id.empty() ? MakeUuid(random_) : std::move(transaction_id);
  return event;
}

Decision Decider::DecideOpenAccount(OpenAccountCommand& command, BatchState& state) {
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
  return Added(state, std::move(event));
}

Decision Decider::DecideMint(MintCommand& command, BatchState& state) {
  if (absl::Status status = CanonicalizeUsername(command.account); !status.ok()) {
    return Rejected(std::move(status));
  }
  const std::string& account = command.account;
  absl::StatusOr<int64_t> amount = ValidateAmount(command.amount);
  if (!amount.ok()) return Rejected(amount.status());
  absl::StatusOr<int64_t> timestamp_ms = TimestampOf(command.given_timestamp_ms);
  if (!timestamp_ms.ok()) return Rejected(timestamp_ms.status());
  if (absl::Status status = ValidateReason(command.reason); !status.ok()) return Rejected(status);
  if (!command.transaction_id.empty()) {
    if (absl::Status status = ValidateTransactionId(command.transaction_id); !status.ok()) {
      return Rejected(status);
    }
    TransactionKeyFields fields{EventType::kTokensMinted, "", account, *amount};
    if (std::optional<Decision> reuse = CheckReuse(command.transaction_id, fields, state)) {
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
  return Added(state, std::move(event));
}

Decision Decider::DecideTransfer(TransferCommand& command, BatchState& state) {
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
  if (absl::Status status = ValidateReason(command.reason); !status.ok()) return Rejected(status);
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
    if (std::optional<Decision> reuse = CheckReuse(command.transaction_id, fields, state)) {
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
                         command.actor.empty() ? std::string(from) : std::move(command.actor),
                         std::move(command.transaction_id));
  event.from_account = std::move(command.from_account);
  event.to_account = std::move(command.to_account);
  event.amount = *amount;
  event.from_balance = from_balance - *amount;
  event.to_balance = to_balance + *amount;
  event.note = std::move(command.note);
  event.reason = std::move(command.reason);
  return Added(state, std::move(event));
}

Decision Decider::DecideSetNote(SetNoteCommand& command, BatchState& state) {
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
  if (!found.ok()) {
    return Rejected(MakeError(ErrorCode::kUnavailable, ToStd(found.status().message())));
  }
  if (!found->has_value() || !BatchState::IsParty(actor, **found)) {
    return Rejected(
        MakeError(ErrorCode::kTransactionNotFound, "no transaction with this id involves you"));
  }
  Event event = NewEvent(EventType::kTransactionNoteSet, *timestamp_ms, std::move(command.actor),
                         std::move(command.transaction_id));
  event.note = std::move(command.note);
  return Added(state, std::move(event));
}

}  // namespace sbd
