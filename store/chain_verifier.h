// ChainVerifier: checks the rows of one range read, in seq order, against
// the hash chain (docs/EVENT_LOG.md): each seq follows the one before, and
// each recorded hash is ChainHash(the previous recorded hash, the event).
// Internal to store/.
//
// Thread-safety: none; one verifier belongs to one read, on the thread that
// visits its rows.
#ifndef SBD_STORE_CHAIN_VERIFIER_H_
#define SBD_STORE_CHAIN_VERIFIER_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/event.h"
#include "store/event_hash.h"
#include "store/sqlite_status.h"

namespace sbd {

class ChainVerifier {
 public:
  // A read from `from_seq`, whose previous event's recorded hash is
  // `previous` (kGenesisHash from seq 1). `previous_missing`: there is no
  // event from_seq - 1, so any row read is a break.
  ChainVerifier(int64_t from_seq, const EventHash& previous, bool previous_missing)
      : from_seq_(from_seq),
        expected_seq_(from_seq),
        previous_(previous),
        previous_missing_(previous_missing) {}

  absl::Status Check(const Event& event, const EventHash& recorded) {
    return CheckHashed(event, recorded, ChainHash(previous_, event));
  }

  // Check() with the row's hash computed ahead: `computed` must be
  // ChainHash(recorded hash of the row read before this one, or of from_seq -
  // 1 for the first, event). That input is known from the rows alone, so rows
  // can be hashed on any thread in any order; this comparison links them.
  absl::Status CheckHashed(const Event& event, const EventHash& recorded,
                           const EventHash& computed) {
    if (previous_missing_) {
      return ChainBroken(event.seq, absl::StrCat("event ", from_seq_ - 1, " is missing"));
    }
    if (event.seq != expected_seq_) return ChainBroken(expected_seq_, "the event is missing");
    if (computed != recorded) {
      return ChainBroken(event.seq, "the recorded hash differs from the computed one");
    }
    previous_ = recorded;
    ++expected_seq_;
    return absl::OkStatus();
  }

  // The recorded hash of the last row checked (of from_seq - 1 before any).
  const EventHash& previous() const { return previous_; }

 private:
  const int64_t from_seq_;
  int64_t expected_seq_;
  EventHash previous_;
  const bool previous_missing_;
};

}  // namespace sbd

#endif  // SBD_STORE_CHAIN_VERIFIER_H_
