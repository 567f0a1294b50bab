// EventWindow: the latest committed events a cluster gateway holds in memory
// (docs/CLUSTER.md "Gateways"). A gateway has no log of its own; it follows
// the replicated stream and keeps its last events, bounded by count and by
// bytes, so that a reconnecting client's `since` and its `connected` balance
// are answered from memory whenever they fall inside the window, and a node
// is asked only when they do not.
//
// Per user the window indexes the seqs of the events that record its
// balance (transfers, for both parties; mints; its account opened), so a
// query costs at most a binary search plus its result.
//
// Thread-safety: none. The caller (the gateway's feed) holds a lock.
#ifndef SBD_ENGINE_EVENT_WINDOW_H_
#define SBD_ENGINE_EVENT_WINDOW_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/types/span.h"
#include "engine/event.h"

namespace sbd {

class EventWindow {
 public:
  // Both > 0. bytes_max bounds bytes(), the window's estimate of its memory.
  struct Limits {
    size_t events_max = 0;
    size_t bytes_max = 0;
  };

  // An empty window that has applied everything up to `applied_seq` (>= 0).
  EventWindow(Limits limits, int64_t applied_seq);

  EventWindow(const EventWindow&) = delete;
  EventWindow& operator=(const EventWindow&) = delete;

  // Appends one committed batch: not empty, in seq order, gapless, starting
  // at applied_seq() + 1. Then evicts the oldest events while either limit
  // is exceeded, but never the latest one: once a window has an event it
  // holds at least the latest, however large.
  void Append(absl::Span<const Event> events);

  // Forgets every event: the window is empty after `applied_seq` (>= 0), as
  // for a gateway that resumed the stream from another position.
  void Reset(int64_t applied_seq);

  // The last seq applied.
  int64_t applied_seq() const { return first_seq_ + static_cast<int64_t>(events_.size()) - 1; }
  // The lowest seq held; applied_seq() + 1 when empty.
  int64_t first_seq() const { return first_seq_; }
  size_t size() const { return events_.size(); }
  // The estimate of the memory the events and the index hold (see
  // event_window.cc for what it counts).
  size_t bytes() const { return bytes_; }

  // Whether every event with after < seq <= applied_seq() is held, so that
  // the queries below can answer for `after`. (Not `after + 1 >=`: a
  // client's `since` may be any int64_t.)
  bool Covers(int64_t after) const { return after >= first_seq_ - 1; }

  // `user`'s balance after its latest balance-bearing event with after < seq
  // <= applied_seq(): a transfer (from_balance for the sender, to_balance
  // for the recipient), a mint (to_balance), its account opened (0).
  // nullopt if it has none there. Requires Covers(after).
  std::optional<int64_t> LatestBalanceAfter(std::string_view user, int64_t after) const;

  // What Ledger::EventsAfter returns for the same arguments: `user`'s
  // transfers and mints with after < seq <= until, ascending, at most
  // `limit` of them; empty for a user it holds none of (where the Ledger
  // would say account_not_found of one it does not know). Requires
  // Covers(after).
  std::vector<Event> EventsAfter(std::string_view user, int64_t after, int64_t until,
                                 size_t limit) const;

 private:
  const Event& At(int64_t seq) const;
  // The estimate bytes() adds for `event` while it is held.
  static size_t EventBytes(const Event& event);
  // Adds `seq` (the newest) to `user`'s index; removes it (the oldest).
  void IndexSeq(const std::string& user, int64_t seq);
  void UnindexSeq(const std::string& user, int64_t seq);
  // Drops the oldest event and its index entries.
  void EvictOldest();

  const Limits limits_;
  int64_t first_seq_;
  // events_[i] has seq first_seq_ + i.
  std::deque<Event> events_;
  // user -> the held seqs of its balance-bearing events, ascending. A user
  // with none held has no entry.
  absl::flat_hash_map<std::string, std::deque<int64_t>> seqs_by_user_;
  size_t bytes_ = 0;
};

}  // namespace sbd

#endif  // SBD_ENGINE_EVENT_WINDOW_H_
