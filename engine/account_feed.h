// AccountFeed: what a WebSocket session needs to know about its user's
// account, wherever the events come from. The server's sessions read their
// own Ledger (LedgerAccountFeed); a cluster gateway's read the stream it
// follows and ask a node for what it does not hold (docs/CLUSTER.md
// "Gateways"). A session registers with the notifier first, then takes a
// snapshot, then pages the events a `since` asks for up to the snapshot's
// seq; the guarantees below are what make that seam gapless and free of
// duplicates on both.
//
// Thread-safety: every method may be called from any thread. A `done`
// callback may run inline, before the call returns, or later on another
// thread; it must not block.
#ifndef SBD_ENGINE_ACCOUNT_FEED_H_
#define SBD_ENGINE_ACCOUNT_FEED_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "engine/event.h"

namespace sbd {

// A balance and the seq it is current at: every event with a greater seq is
// published to the feed's subscribers after the value was taken, and none
// at or below it is published after.
struct FeedSnapshot {
  int64_t seq = 0;
  int64_t balance = 0;
};

// One page of an account's transfers and mints, ascending: every such event
// with after < seq <= through is in `events`, and none with a greater seq.
// `through` is greater than the `after` asked for (every page moves the
// caller on) and may stop short of the `until` (a full page, or a source
// that has not applied that far yet); the caller asks again from it.
struct EventsPage {
  std::vector<Event> events;
  int64_t through = 0;
};

class AccountFeed {
 public:
  using SnapshotDone = absl::AnyInvocable<void(absl::StatusOr<FeedSnapshot>)>;
  using PageDone = absl::AnyInvocable<void(absl::StatusOr<EventsPage>)>;

  virtual ~AccountFeed() = default;

  // The last seq applied (the X-SBD-Seq a response carries).
  virtual int64_t LastSeq() const = 0;

  // `account`'s balance now. account_not_found / invalid_username as
  // Ledger::Snapshot; unavailable when the source cannot be reached.
  virtual void Snapshot(std::string_view account, SnapshotDone done) const = 0;

  // `account`'s transfers and mints with after < seq <= until, at most
  // `limit` of them (limit > 0). Errors as Snapshot.
  virtual void EventsAfter(std::string_view account, int64_t after, int64_t until, size_t limit,
                           PageDone done) const = 0;
};

}  // namespace sbd

#endif  // SBD_ENGINE_ACCOUNT_FEED_H_
