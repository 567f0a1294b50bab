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
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/types/span.h"
#include "engine/event.h"
#include "engine/huge_page_allocator.h"

namespace sbd {

class Projector {
 public:
  // Reserves room for `accounts_expected` accounts so the hot path does not
  // rehash while the ledger is small.
  explicit Projector(size_t accounts_expected = 1024);

  Projector(const Projector&) = delete;
  Projector& operator=(const Projector&) = delete;
  ~Projector();

  // Makes room for the transfers and mints among `events` more events, so a
  // replay of a known length neither rehashes nor copies the transaction
  // lookup as it grows.
  void ReserveForEvents(int64_t events);

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

  // Calls visit(account, balance) for every account (in the order opened).
  template <typename Visit>
  void ForEachAccount(Visit visit) const {
    for (uint32_t id = 0; id < accounts_.size(); ++id) visit(NameOf(id), accounts_[id].balance);
  }

 private:
  // Accounts are numbered densely in the order opened; an id indexes
  // accounts_, and the names live end to end in names_. See
  // docs/ARCHITECTURE.md ("Derived lookups live in memory") for the sizes.
  using AccountId = uint32_t;
  struct Account {
    int64_t balance = 0;
    uint32_t name_end = 0;  // Offset in names_ just past the name.
    // Transfers and mints touching the account, ascending. Most accounts
    // have one: it is stored inline; from the second on they are in a
    // malloc'd array of std::bit_ceil(seq_count) seqs, grown by doubling.
    // 24 bytes in all where a std::vector alone is 24 plus a heap block.
    uint32_t seq_count = 0;
    union {
      int64_t one;
      int64_t* many;
    } seqs{.one = 0};

    absl::Span<const int64_t> Seqs() const {
      return {seq_count <= 1 ? &seqs.one : seqs.many, seq_count};
    }
    void AddSeq(int64_t seq);
  };

  // Hash and equality of account ids through their names, so that the index
  // holds 4-byte ids yet is searched with a string_view.
  struct AccountNameHash {
    using is_transparent = void;
    const Projector* projector;
    size_t operator()(AccountId id) const { return (*this)(projector->NameOf(id)); }
    size_t operator()(std::string_view name) const;
  };
  struct AccountNameEq {
    using is_transparent = void;
    const Projector* projector;
    bool operator()(AccountId a, AccountId b) const { return (*this)(a, projector->NameOf(b)); }
    bool operator()(AccountId id, std::string_view name) const {
      return projector->NameOf(id) == name;
    }
    bool operator()(std::string_view name, AccountId id) const { return (*this)(id, name); }
  };

  // transaction_id -> seq is keyed by a 128-bit digest of the id, not the id
  // itself: 24 bytes a transaction instead of a heap string. The Ledger
  // confirms a hit against the event read back from the log. Entries are
  // stored densely; the index holds 4-byte entry numbers and hashes them
  // through the digest (already a hash), like the account index.
  struct TransactionKey {
    uint64_t high;
    uint64_t low;
    bool operator==(const TransactionKey&) const = default;
  };
  struct TransactionEntry {
    TransactionKey key;
    int64_t seq;
  };
  using TransactionNumber = uint32_t;
  struct TransactionKeyHash {
    using is_transparent = void;
    const Projector* projector;
    size_t operator()(TransactionNumber n) const {
      return (*this)(projector->transactions_[n].key);
    }
    size_t operator()(const TransactionKey& key) const { return key.low; }
  };
  struct TransactionKeyEq {
    using is_transparent = void;
    const Projector* projector;
    bool operator()(TransactionNumber a, TransactionNumber b) const {
      return (*this)(a, projector->transactions_[b].key);
    }
    bool operator()(TransactionNumber n, const TransactionKey& key) const {
      return projector->transactions_[n].key == key;
    }
    bool operator()(const TransactionKey& key, TransactionNumber n) const {
      return (*this)(n, key);
    }
  };

  // Apply's rules, one event type each. Every check comes before the first
  // change, so a contradiction leaves the projection exactly as it was.
  absl::Status ApplyAccountOpened(const Event& event);
  absl::Status ApplyTokensMinted(const Event& event);
  absl::Status ApplyTokensTransferred(const Event& event);
  absl::Status ApplyTransactionNoteSet(const Event& event);

  static TransactionKey KeyOf(std::string_view transaction_id);
  std::string_view NameOf(AccountId id) const;
  // Null for an unknown account. A pointer, not an optional id: returning
  // std::optional<uint32_t> costs a store-forwarding stall on every lookup.
  const Account* FindAccount(std::string_view name) const;
  Account* FindAccount(std::string_view name) {
    return const_cast<Account*>(std::as_const(*this).FindAccount(name));
  }
  // Records `transaction_id` at `seq`; false, changing nothing, if its key is
  // already recorded (or the 2^32 entry numbers are used up).
  bool RecordTransaction(std::string_view transaction_id, int64_t seq);

  std::vector<Account> accounts_;
  std::string names_;
  absl::flat_hash_set<AccountId, AccountNameHash, AccountNameEq> account_index_;
  // On huge pages: at 10M transactions these are 240 and 80 MB, and every
  // insert lands somewhere random in them.
  std::vector<TransactionEntry, HugePageAllocator<TransactionEntry>> transactions_;
  absl::flat_hash_set<TransactionNumber, TransactionKeyHash, TransactionKeyEq,
                      HugePageAllocator<TransactionNumber>>
      transaction_index_;
  // (seq, account) -> note. Notes are rare; a string map is fine here.
  absl::flat_hash_map<std::pair<int64_t, std::string>, std::string> note_overrides_;
  int64_t last_seq_ = 0;
  absl::int128 total_minted_ = 0;
  absl::int128 total_balance_ = 0;
};

}  // namespace sbd

#endif  // SBD_ENGINE_PROJECTOR_H_
