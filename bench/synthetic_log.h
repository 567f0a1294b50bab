// SyntheticLog: generates a consistent event log without the Ledger: first
// every account is opened, then each is minted a starting balance, then
// random transfers of 1 token between distinct accounts, each event carrying
// the balances it produced and a UUID-shaped transaction_id. The Projector
// accepts every event, so the result replays and audits cleanly.
//
// Used to build large logs fast (replay and startup rows) and to feed the
// micro-benchmarks. Deterministic for a given seed.
//
// Thread-safety: none.
#ifndef SBD_BENCH_SYNTHETIC_LOG_H_
#define SBD_BENCH_SYNTHETIC_LOG_H_

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "engine/event.h"

namespace sbd::bench {

// Every account starts with this many tokens: enough that transfers of 1
// never run dry in any benchmark's lifetime.
inline constexpr int64_t kStartingBalance = 1'000'000'000;

// "user0000042": fixed width, so every account name costs the same bytes.
std::string AccountName(size_t index);

class SyntheticLog {
 public:
  SyntheticLog(size_t accounts, uint64_t seed);

  // The next event (seq 1, 2, ...): opens, then mints, then transfers.
  Event Next();

  // Fills `events` with the next `count` events (reusing its strings).
  void NextBatch(size_t count, std::vector<Event>& events);

  int64_t last_seq() const { return seq_; }
  // Events the setup (opens and mints) takes: 2 per account.
  int64_t setup_events() const { return static_cast<int64_t>(2 * balances_.size()); }

 private:
  void Fill(Event& event);
  std::string TransactionId();

  std::vector<std::string> names_;
  std::vector<int64_t> balances_;
  std::mt19937_64 random_;
  int64_t seq_ = 0;
};

}  // namespace sbd::bench

#endif  // SBD_BENCH_SYNTHETIC_LOG_H_
