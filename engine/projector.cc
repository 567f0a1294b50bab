#include "engine/projector.h"

#include <algorithm>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "engine/absl_compat.h"

namespace sbd {
namespace {

absl::Status Contradiction(const Event& event, std::string_view what) {
  return absl::DataLossError(absl::StrCat("seq ", event.seq, " (",
                                          ToAbsl(EventTypeName(event.type)), "): ", ToAbsl(what)));
}

bool IsValidAmount(int64_t amount) { return amount >= 1 && amount <= kAmountMax; }

}  // namespace

Projector::Projector(size_t accounts_expected) { accounts_.reserve(accounts_expected); }

absl::uint128 Projector::TransactionKey(std::string_view transaction_id) {
  // Two differently salted 64-bit hashes; a collision needs both to collide.
  constexpr uint64_t kSalt = 0x9e3779b97f4a7c15;
  return absl::MakeUint128(absl::HashOf(ToAbsl(transaction_id)),
                           absl::HashOf(kSalt, ToAbsl(transaction_id)));
}

bool Projector::HasAccount(std::string_view account) const {
  return accounts_.contains(ToAbsl(account));
}

std::optional<int64_t> Projector::Balance(std::string_view account) const {
  auto it = accounts_.find(ToAbsl(account));
  if (it == accounts_.end()) return std::nullopt;
  return it->second.balance;
}

absl::Span<const int64_t> Projector::AccountSeqs(std::string_view account) const {
  auto it = accounts_.find(ToAbsl(account));
  if (it == accounts_.end()) return {};
  return it->second.seqs;
}

std::optional<int64_t> Projector::SeqOfTransaction(std::string_view transaction_id) const {
  auto it = seq_by_transaction_.find(TransactionKey(transaction_id));
  if (it == seq_by_transaction_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string_view> Projector::NoteOverride(int64_t seq,
                                                        std::string_view account) const {
  auto it = note_overrides_.find(std::make_pair(seq, std::string(account)));
  if (it == note_overrides_.end()) return std::nullopt;
  return it->second;
}

absl::Status Projector::Apply(const Event& event) {
  if (event.seq != last_seq_ + 1) {
    return Contradiction(event, absl::StrCat("expected seq ", last_seq_ + 1));
  }
  // Every check comes before the first change, so a contradiction leaves the
  // projection exactly as it was.
  switch (event.type) {
    case EventType::kAccountOpened: {
      if (accounts_.contains(event.to_account)) return Contradiction(event, "account exists");
      if (event.to_balance != 0) return Contradiction(event, "opening balance is not 0");
      accounts_.try_emplace(event.to_account);
      break;
    }
    case EventType::kTokensMinted: {
      auto it = accounts_.find(event.to_account);
      if (it == accounts_.end()) return Contradiction(event, "unknown account");
      if (!IsValidAmount(event.amount)) return Contradiction(event, "amount out of range");
      const int64_t balance = it->second.balance + event.amount;
      if (balance > kAmountMax) return Contradiction(event, "balance above 2^53-1");
      if (event.to_balance != balance) {
        return Contradiction(event, absl::StrCat("recorded balance ", event.to_balance, " of ",
                                                 event.to_account, ", computed ", balance));
      }
      const absl::uint128 key = TransactionKey(event.transaction_id);
      if (seq_by_transaction_.contains(key)) {
        return Contradiction(event, "transaction_id reused");
      }
      it->second.balance = balance;
      it->second.seqs.push_back(event.seq);
      seq_by_transaction_.emplace(key, event.seq);
      total_minted_ += event.amount;
      total_balance_ += event.amount;
      break;
    }
    case EventType::kTokensTransferred: {
      auto from = accounts_.find(event.from_account);
      auto to = accounts_.find(event.to_account);
      if (from == accounts_.end() || to == accounts_.end()) {
        return Contradiction(event, "unknown account");
      }
      if (from == to) return Contradiction(event, "self transfer");
      if (!IsValidAmount(event.amount)) return Contradiction(event, "amount out of range");
      const int64_t from_balance = from->second.balance - event.amount;
      const int64_t to_balance = to->second.balance + event.amount;
      if (from_balance < 0) return Contradiction(event, "negative balance");
      if (to_balance > kAmountMax) return Contradiction(event, "balance above 2^53-1");
      if (event.from_balance != from_balance || event.to_balance != to_balance) {
        return Contradiction(
            event, absl::StrCat("recorded balances ", event.from_account, "=", event.from_balance,
                                " ", event.to_account, "=", event.to_balance, ", computed ",
                                from_balance, " and ", to_balance));
      }
      const absl::uint128 key = TransactionKey(event.transaction_id);
      if (seq_by_transaction_.contains(key)) {
        return Contradiction(event, "transaction_id reused");
      }
      from->second.balance = from_balance;
      to->second.balance = to_balance;
      from->second.seqs.push_back(event.seq);
      to->second.seqs.push_back(event.seq);
      seq_by_transaction_.emplace(key, event.seq);
      break;
    }
    case EventType::kTransactionNoteSet: {
      std::optional<int64_t> seq = SeqOfTransaction(event.transaction_id);
      if (!seq) return Contradiction(event, "note on an unknown transaction");
      absl::Span<const int64_t> seqs = AccountSeqs(event.actor);
      if (!std::binary_search(seqs.begin(), seqs.end(), *seq)) {
        return Contradiction(event, "note by an account not part of the transaction");
      }
      note_overrides_[std::make_pair(*seq, event.actor)] = event.note;
      break;
    }
    default:
      return Contradiction(event, "unknown event type");
  }
  last_seq_ = event.seq;
  return absl::OkStatus();
}

}  // namespace sbd
