// ReadPipelined: the long range read (the replay at open, sbd-replay) on two
// threads. A second thread steps SQLite and fills chunks of rows while the
// calling thread checks the hash chain and visits; the hashing is shared
// (whichever thread would otherwise wait hashes rows), so both cores stay
// busy. Used for reads of at least kPipelinedReadEventsMin events
// (store/limits.h); it visits exactly what the one-thread read would, in the
// same order, and fails the same way. Internal to store/.
//
// Thread-safety: one call owns `range` and `chain` until it returns; the
// second thread it starts is joined before then.
#ifndef SBD_STORE_PIPELINED_READ_H_
#define SBD_STORE_PIPELINED_READ_H_

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "engine/event.h"
#include "store/chain_verifier.h"
#include "store/event_row.h"

namespace sbd {

// Steps `range` (bound, not yet stepped) to its end, checking each row with
// `chain` and calling `visit` for it, as the one-thread read does. A
// SQLite::Exception on the stepping thread is rethrown here, so the caller's
// handling of SQLite errors stays in one place.
absl::Status ReadPipelined(RowStatement& range, ChainVerifier& chain,
                           absl::FunctionRef<absl::Status(const Event&)> visit);

}  // namespace sbd

#endif  // SBD_STORE_PIPELINED_READ_H_
