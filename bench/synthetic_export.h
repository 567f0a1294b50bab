// SyntheticExport: a made-up Second Brain Database `users` collection in
// mongoexport's JSON lines, in the origin's real shapes, for timing
// `sbd-ledger import` (`sbd-bench import`).
//
// Users "user0000000"... each get a signup grant the history does not record
// (so each needs a reconciliation credit, as real ones do), then entries in
// time order until the total is reached: ~70% the two halves of a transfer
// between two users, ~15% shop purchases (a send to emotion_tracker_shop),
// ~15% ad rewards (a receive from sbd_ads). Nobody overdraws (the origin
// refused that). Amounts and balances are Extended JSON `$numberInt` /
// `$numberLong` or plain numbers, timestamps Python's isoformat() with
// microseconds or `{"$date": …}`; a quarter of the entries carry a note,
// some of it non-ASCII. Deterministic for a given seed.
//
// Thread-safety: a pure function.
#ifndef SBD_BENCH_SYNTHETIC_EXPORT_H_
#define SBD_BENCH_SYNTHETIC_EXPORT_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace sbd::bench {

struct SyntheticExportStats {
  size_t users = 0;
  size_t entries = 0;
  size_t pairs = 0;  // Transfers with both halves (2 entries each).
};

// The whole file's text (one line per user) for `users` users and at least
// `entries` history entries.
std::string MakeSyntheticExport(size_t users, size_t entries, uint64_t seed,
                                SyntheticExportStats* stats);

}  // namespace sbd::bench

#endif  // SBD_BENCH_SYNTHETIC_EXPORT_H_
