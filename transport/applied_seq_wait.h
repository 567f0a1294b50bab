// WaitForAppliedSeq: calls back once this node's ledger has applied a seq,
// or once a bound has passed, on a session's strand, without blocking it
// (cluster mode: X-SBD-Min-Seq, and a forwarded write's answer). It looks
// every millisecond: the waits are rare (a request that asks for one) and
// short (a follower's lag), and a timer needs no hook in the ledger.
//
// Thread-safety: call from any thread; `done` runs on `executor`.
#ifndef SBD_TRANSPORT_APPLIED_SEQ_WAIT_H_
#define SBD_TRANSPORT_APPLIED_SEQ_WAIT_H_

#include <chrono>
#include <cstdint>

#include "absl/functional/any_invocable.h"
#include "engine/ledger.h"
#include "transport/session_strand.h"

namespace sbd {

// `done(true)` once ledger.LastSeq() >= seq (at once if it is already),
// `done(false)` after `wait_max` if not. `ledger` must outlive the wait.
void WaitForAppliedSeq(const Ledger& ledger, int64_t seq, std::chrono::milliseconds wait_max,
                       const SessionStrand& executor, absl::AnyInvocable<void(bool) &&> done);

}  // namespace sbd

#endif  // SBD_TRANSPORT_APPLIED_SEQ_WAIT_H_
