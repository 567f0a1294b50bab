// Projector: folds the event log, in seq order, into the state every read
// needs: balances, and the derived lookups the log table deliberately does not
// index (per-account history, transaction_id -> seq, per-user note overrides).
// See docs/ARCHITECTURE.md for why these live in memory and what they cost.
//
// Thread-safety: none. The Ledger owns one, mutates it on its writer thread
// and guards reads from other threads with its own mutex.
#ifndef SBD_ENGINE_PROJECTOR_H_
#define SBD_ENGINE_PROJECTOR_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/types/span.h"
#include "engine/event.h"

namespace sbd {

class Projector {
 public:
  // Reserves room for `accounts_expected` accounts so the hot path does not
  // rehash while the ledger is small.
  explicit Projector(size_t accounts_expected = 1024);

  Projector(const Projector&) = delete;
  Projector& operator=(const Projector&) = delete;

  // Applies the next event. Returns kDataLoss naming the seq, and changes
  // nothing, when the event contradicts the projection: a seq other than
  // last_seq() + 1, an unknown account, an amount or balance outside
  // 0..kAmountMax, recorded balances that differ from the computed ones, an
  // account opened twice, a reused transaction_id, a note on a transaction
  // the actor was not part of.
  absl::Status Apply(const Event& event);

  int64_t last_seq() const { return last_seq_; }
  size_t account_count() const { return accounts_.size(); }
  std::optional<int64_t> Balance(std::string_view account) const;
  bool HasAccount(std::string_view account) const;

  // Sum of every mint, and sum of every balance; equal in a sound log. 128
  // bits: a million accounts at the 2^53-1 cap would overflow int64_t.
  absl::int128 total_minted() const { return total_minted_; }
  absl::int128 total_balance() const { return total_balance_; }

  // The seqs of the transfers and mints that touched `account`, ascending;
  // empty for an unknown account. Valid until the next Apply.
  absl::Span<const int64_t> AccountSeqs(std::string_view account) const;

  // The seq of the transfer or mint recorded with `transaction_id`.
  std::optional<int64_t> SeqOfTransaction(std::string_view transaction_id) const;

  // The note `account` last set (kTransactionNoteSet) on the transaction
  // recorded at `seq`, if any.
  std::optional<std::string_view> NoteOverride(int64_t seq, std::string_view account) const;

  // Calls visit(account, balance) for every account (order unspecified).
  template <typename Visit>
  void ForEachAccount(Visit visit) const {
    for (const auto& [name, state] : accounts_) visit(std::string_view(name), state.balance);
  }

 private:
  struct AccountState {
    int64_t balance = 0;
    std::vector<int64_t> seqs;  // Transfers and mints touching the account.
  };

  // transaction_id -> seq is keyed by a 128-bit digest of the id, not the id
  // itself: 16 bytes a transaction instead of a heap string. The Ledger
  // confirms a hit against the event read back from the log.
  static absl::uint128 TransactionKey(std::string_view transaction_id);

  absl::flat_hash_map<std::string, AccountState> accounts_;
  absl::flat_hash_map<absl::uint128, int64_t> seq_by_transaction_;
  // (seq, account) -> note. Notes are rare; a string map is fine here.
  absl::flat_hash_map<std::pair<int64_t, std::string>, std::string> note_overrides_;
  int64_t last_seq_ = 0;
  absl::int128 total_minted_ = 0;
  absl::int128 total_balance_ = 0;
};

}  // namespace sbd

#endif  // SBD_ENGINE_PROJECTOR_H_
