// LedgerAccountFeed: the AccountFeed of a server's WebSocket sessions, read
// from the server's own Ledger. Every answer is computed at once and handed
// to `done` before the call returns (the Ledger's reads are in memory, or a
// short read of the local log).
//
// Thread-safety: as the Ledger's reads: any thread.
#ifndef SBD_ENGINE_LEDGER_ACCOUNT_FEED_H_
#define SBD_ENGINE_LEDGER_ACCOUNT_FEED_H_

#include "engine/account_feed.h"
#include "engine/ledger.h"

namespace sbd {

class LedgerAccountFeed : public AccountFeed {
 public:
  // `ledger` must outlive the feed.
  explicit LedgerAccountFeed(const Ledger& ledger) : ledger_(ledger) {}

  int64_t LastSeq() const override { return ledger_.LastSeq(); }
  void Snapshot(std::string_view account, SnapshotDone done) const override;
  void EventsAfter(std::string_view account, int64_t after, int64_t until, size_t limit,
                   PageDone done) const override;

 private:
  const Ledger& ledger_;
};

}  // namespace sbd

#endif  // SBD_ENGINE_LEDGER_ACCOUNT_FEED_H_
