#include "engine/batch_state.h"

#include <cassert>
#include <utility>

namespace sbd {

BatchState::BatchState(const Projector& projector, const EventLog& log, const BatchState* previous,
                       size_t events_max)
    : projector_(projector),
      log_(log),
      previous_(previous),
      next_seq_(previous != nullptr ? previous->next_seq_ : projector.last_seq() + 1) {
  events_.reserve(events_max);
  balances_.reserve(2 * events_max);
  index_by_transaction_.reserve(events_max);
}

// The batch ahead is consulted for its own events only: the one before it
// was applied to the projection before this batch was decided.

std::optional<int64_t> BatchState::Balance(std::string_view account) const {
  // Every account an overlay touches has a balance there, opened ones too.
  for (const BatchState* state : {this, previous_}) {
    if (state == nullptr) break;
    if (auto it = state->balances_.find(account); it != state->balances_.end()) return it->second;
  }
  return projector_.Balance(account);
}

const Event* BatchState::FindUncommitted(std::string_view transaction_id,
                                         std::optional<size_t>* own_index) const {
  if (auto it = index_by_transaction_.find(transaction_id); it != index_by_transaction_.end()) {
    *own_index = it->second;
    return &events_[it->second];
  }
  if (previous_ == nullptr) return nullptr;
  auto it = previous_->index_by_transaction_.find(transaction_id);
  return it != previous_->index_by_transaction_.end() ? &previous_->events_[it->second] : nullptr;
}

absl::StatusOr<std::optional<BatchState::Transaction>> BatchState::FindTransaction(
    std::string_view transaction_id) const {
  std::optional<size_t> own_index;
  if (const Event* uncommitted = FindUncommitted(transaction_id, &own_index)) {
    return Transaction{*uncommitted, own_index};
  }
  std::optional<int64_t> seq = projector_.SeqOfTransaction(transaction_id);
  if (!seq) return std::nullopt;
  absl::StatusOr<std::vector<Event>> read = log_.ReadSeqs({*seq});
  if (!read.ok()) return read.status();
  if (read->front().transaction_id != transaction_id) {
    // Two ids with one 128-bit key: never expected (see Projector).
    return absl::InternalError("transaction_id key collision");
  }
  return Transaction{std::move(read->front()), std::nullopt};
}

bool BatchState::IsParty(std::string_view account, const Transaction& transaction) {
  const Event& event = transaction.event;
  return event.from_account == account || event.to_account == account;
}

size_t BatchState::Add(Event event) {
  assert(events_.size() < events_.capacity() && "a reallocation would dangle the overlay keys");
  event.seq = next_seq_++;
  const Event& added = events_.emplace_back(std::move(event));
  switch (added.type) {
    case EventType::kAccountOpened:
      balances_[added.to_account] = 0;
      break;
    case EventType::kTokensMinted:
      balances_[added.to_account] = added.to_balance;
      index_by_transaction_[added.transaction_id] = events_.size() - 1;
      break;
    case EventType::kTokensTransferred:
      balances_[added.from_account] = added.from_balance;
      balances_[added.to_account] = added.to_balance;
      index_by_transaction_[added.transaction_id] = events_.size() - 1;
      break;
    case EventType::kTransactionNoteSet:
      break;
  }
  return events_.size() - 1;
}

}  // namespace sbd
