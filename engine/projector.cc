#include "engine/projector.h"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <limits>
#include <new>
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

Projector::Projector(size_t accounts_expected)
    : account_index_(accounts_expected, AccountNameHash{this}, AccountNameEq{this}),
      transaction_index_(0, TransactionKeyHash{this}, TransactionKeyEq{this}) {
  accounts_.reserve(accounts_expected);
}

Projector::~Projector() {
  for (Account& account : accounts_) {
    if (account.seq_count > 1) std::free(account.seqs.many);
  }
}

void Projector::ReserveForEvents(int64_t events) {
  const size_t more = static_cast<size_t>(std::max<int64_t>(events, 0));
  transactions_.reserve(transactions_.size() + more);
  transaction_index_.reserve(transaction_index_.size() + more);
}

void Projector::Account::AddSeq(int64_t seq) {
  if (seq_count == 0) {
    seqs.one = seq;
  } else {
    if (std::has_single_bit(seq_count)) {  // The inline seq, or a full array: double.
      const size_t capacity = 2 * size_t{seq_count};
      auto* grown = static_cast<int64_t*>(
          seq_count == 1 ? std::malloc(capacity * sizeof(int64_t))
                         : std::realloc(seqs.many, capacity * sizeof(int64_t)));
      if (grown == nullptr) throw std::bad_alloc();
      if (seq_count == 1) grown[0] = seqs.one;
      seqs.many = grown;
    }
    seqs.many[seq_count] = seq;
  }
  ++seq_count;
}

size_t Projector::AccountNameHash::operator()(std::string_view name) const {
  return absl::Hash<absl::string_view>()(ToAbsl(name));
}

Projector::TransactionKey Projector::KeyOf(std::string_view transaction_id) {
  // Two differently salted 64-bit hashes; a collision needs both to collide.
  constexpr uint64_t kSalt = 0x9e3779b97f4a7c15;
  return {absl::HashOf(kSalt, ToAbsl(transaction_id)), absl::HashOf(ToAbsl(transaction_id))};
}

std::string_view Projector::NameOf(AccountId id) const {
  const uint32_t begin = id == 0 ? 0 : accounts_[id - 1].name_end;
  return std::string_view(names_).substr(begin, accounts_[id].name_end - begin);
}

const Projector::Account* Projector::FindAccount(std::string_view name) const {
  auto it = account_index_.find(name);
  if (it == account_index_.end()) return nullptr;
  return &accounts_[*it];
}

bool Projector::RecordTransaction(std::string_view transaction_id, int64_t seq) {
  if (transactions_.size() > std::numeric_limits<TransactionNumber>::max()) return false;
  transactions_.push_back({KeyOf(transaction_id), seq});
  if (!transaction_index_.insert(static_cast<TransactionNumber>(transactions_.size() - 1)).second) {
    transactions_.pop_back();
    return false;
  }
  return true;
}

bool Projector::HasAccount(std::string_view account) const {
  return account_index_.contains(account);
}

std::optional<int64_t> Projector::Balance(std::string_view account) const {
  const Account* found = FindAccount(account);
  if (found == nullptr) return std::nullopt;
  return found->balance;
}

absl::Span<const int64_t> Projector::AccountSeqs(std::string_view account) const {
  const Account* found = FindAccount(account);
  if (found == nullptr) return {};
  return found->Seqs();
}

std::optional<int64_t> Projector::SeqOfTransaction(std::string_view transaction_id) const {
  auto it = transaction_index_.find(KeyOf(transaction_id));
  if (it == transaction_index_.end()) return std::nullopt;
  return transactions_[*it].seq;
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
  absl::Status applied;
  switch (event.type) {
    case EventType::kAccountOpened:
      applied = ApplyAccountOpened(event);
      break;
    case EventType::kTokensMinted:
      applied = ApplyTokensMinted(event);
      break;
    case EventType::kTokensTransferred:
      applied = ApplyTokensTransferred(event);
      break;
    case EventType::kTransactionNoteSet:
      applied = ApplyTransactionNoteSet(event);
      break;
    default:
      return Contradiction(event, "unknown event type");
  }
  if (!applied.ok()) return applied;
  last_seq_ = event.seq;
  return absl::OkStatus();
}

absl::Status Projector::ApplyAccountOpened(const Event& event) {
  if (HasAccount(event.to_account)) return Contradiction(event, "account exists");
  if (event.to_balance != 0) return Contradiction(event, "opening balance is not 0");
  if (accounts_.size() > std::numeric_limits<AccountId>::max() ||
      names_.size() + event.to_account.size() > std::numeric_limits<uint32_t>::max()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("seq ", event.seq, ": more accounts than the projection can number"));
  }
  names_ += event.to_account;
  accounts_.emplace_back().name_end = static_cast<uint32_t>(names_.size());
  account_index_.insert(static_cast<AccountId>(accounts_.size() - 1));
  return absl::OkStatus();
}

absl::Status Projector::ApplyTokensMinted(const Event& event) {
  Account* found = FindAccount(event.to_account);
  if (found == nullptr) return Contradiction(event, "unknown account");
  Account& account = *found;
  if (!IsValidAmount(event.amount)) return Contradiction(event, "amount out of range");
  const int64_t balance = account.balance + event.amount;
  if (balance > kAmountMax) return Contradiction(event, "balance above 2^53-1");
  if (event.to_balance != balance) {
    return Contradiction(event, absl::StrCat("recorded balance ", event.to_balance, " of ",
                                             event.to_account, ", computed ", balance));
  }
  // The last check, and the first change: it records the id only if new.
  if (!RecordTransaction(event.transaction_id, event.seq)) {
    return Contradiction(event, "transaction_id reused");
  }
  account.balance = balance;
  account.AddSeq(event.seq);
  total_minted_ += event.amount;
  total_balance_ += event.amount;
  return absl::OkStatus();
}

absl::Status Projector::ApplyTokensTransferred(const Event& event) {
  Account* from_found = FindAccount(event.from_account);
  Account* to_found = FindAccount(event.to_account);
  if (from_found == nullptr || to_found == nullptr) {
    return Contradiction(event, "unknown account");
  }
  if (from_found == to_found) return Contradiction(event, "self transfer");
  Account& from = *from_found;
  Account& to = *to_found;
  if (!IsValidAmount(event.amount)) return Contradiction(event, "amount out of range");
  const int64_t from_balance = from.balance - event.amount;
  const int64_t to_balance = to.balance + event.amount;
  if (from_balance < 0) return Contradiction(event, "negative balance");
  if (to_balance > kAmountMax) return Contradiction(event, "balance above 2^53-1");
  if (event.from_balance != from_balance || event.to_balance != to_balance) {
    return Contradiction(
        event, absl::StrCat("recorded balances ", event.from_account, "=", event.from_balance, " ",
                            event.to_account, "=", event.to_balance, ", computed ", from_balance,
                            " and ", to_balance));
  }
  // The last check, and the first change: it records the id only if new.
  if (!RecordTransaction(event.transaction_id, event.seq)) {
    return Contradiction(event, "transaction_id reused");
  }
  from.balance = from_balance;
  to.balance = to_balance;
  from.AddSeq(event.seq);
  to.AddSeq(event.seq);
  return absl::OkStatus();
}

absl::Status Projector::ApplyTransactionNoteSet(const Event& event) {
  std::optional<int64_t> seq = SeqOfTransaction(event.transaction_id);
  if (!seq) return Contradiction(event, "note on an unknown transaction");
  absl::Span<const int64_t> seqs = AccountSeqs(event.actor);
  if (!std::binary_search(seqs.begin(), seqs.end(), *seq)) {
    return Contradiction(event, "note by an account not part of the transaction");
  }
  note_overrides_[std::make_pair(*seq, event.actor)] = event.note;
  return absl::OkStatus();
}

}  // namespace sbd
