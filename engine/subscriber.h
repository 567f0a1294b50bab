// Subscriber: sees every committed event once, in seq order, right after the
// ledger has projected it.
//
// Thread-safety and the rule every implementation must keep: OnEvents is
// called on the ledger's writer thread. It must not block (no socket I/O, no
// disk, no waiting on locks held across I/O): hand the work to another thread
// (e.g. post it to a strand) and return. A slow subscriber stalls every
// command. History replayed at open is not published.
#ifndef SBD_ENGINE_SUBSCRIBER_H_
#define SBD_ENGINE_SUBSCRIBER_H_

#include "absl/types/span.h"
#include "engine/event.h"

namespace sbd {

class Subscriber {
 public:
  virtual ~Subscriber() = default;

  // `events` is one committed batch, in seq order. Each event carries the
  // balances it produced (Event::from_balance / to_balance).
  virtual void OnEvents(absl::Span<const Event> events) = 0;
};

}  // namespace sbd

#endif  // SBD_ENGINE_SUBSCRIBER_H_
