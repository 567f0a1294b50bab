#include "engine/ledger_account_feed.h"

#include <cassert>
#include <utility>
#include <vector>

namespace sbd {

void LedgerAccountFeed::Snapshot(std::string_view account, SnapshotDone done) const {
  absl::StatusOr<Ledger::AccountSnapshot> snapshot = ledger_.Snapshot(account);
  if (!snapshot.ok()) return done(snapshot.status());
  done(FeedSnapshot{.seq = snapshot->seq, .balance = snapshot->balance});
}

void LedgerAccountFeed::EventsAfter(std::string_view account, int64_t after, int64_t until,
                                    size_t limit, PageDone done) const {
  assert(limit > 0 && "an empty page would never move the caller on");
  absl::StatusOr<std::vector<Event>> events = ledger_.EventsAfter(account, after, until, limit);
  if (!events.ok()) return done(events.status());
  // The ledger's reads see every committed event, so a short page is the
  // whole of (after, until]; a full one ends at its last event.
  const int64_t through = events->size() == limit ? events->back().seq : until;
  done(EventsPage{.events = *std::move(events), .through = through});
}

}  // namespace sbd
