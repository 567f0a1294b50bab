#include "engine/event_window.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "engine/absl_compat.h"

namespace sbd {
namespace {

// bytes() is an estimate, not an allocator's count: what an event holds
// (the struct, its strings' heap blocks, its seqs in the index) and what a
// user's index entry holds (its map slot, the heap block of a long name, and
// what a std::deque allocates as soon as it is built: in libstdc++ a map of
// 8 block pointers and one 512-byte block). It leaves out malloc's headers,
// the hash map's control bytes and empty slots, and the event deque's
// partly filled blocks. Each amount depends only on what never changes
// while the event or the entry is held (a held event is never modified), so
// evicting subtracts exactly what appending added.
constexpr size_t kDequeFirstAllocationBytes = 8 * sizeof(void*) + 512;

// A std::string's heap block: none while it fits in the string itself.
size_t StringHeapBytes(size_t capacity) {
  static const size_t kInlineCapacity = std::string().capacity();
  return capacity > kInlineCapacity ? capacity + 1 : 0;
}

// Calls visit(user) for each user whose balance `event` records: both
// parties of a transfer, the account of a mint or an open. A note records
// none, and neither query needs it.
template <typename Visit>
void ForEachBalanceHolder(const Event& event, Visit visit) {
  switch (event.type) {
    case EventType::kTokensTransferred:
      assert(event.from_account != event.to_account && "a transfer moves between two accounts");
      visit(event.from_account);
      visit(event.to_account);
      return;
    case EventType::kTokensMinted:
    case EventType::kAccountOpened:
      visit(event.to_account);
      return;
    case EventType::kTransactionNoteSet:
      return;
  }
  assert(false && "a committed event has a known type");
}

size_t UserEntryBytes(const std::string& user) {
  // By the name's size, not its capacity: the entry is added for one event's
  // copy of the name and removed for another's.
  return sizeof(std::pair<const std::string, std::deque<int64_t>>) + kDequeFirstAllocationBytes +
         StringHeapBytes(user.size());
}

}  // namespace

EventWindow::EventWindow(Limits limits, int64_t applied_seq)
    : limits_(limits), first_seq_(applied_seq + 1) {
  assert(limits_.events_max > 0 && limits_.bytes_max > 0 && "a window has room for an event");
  assert(applied_seq >= 0 && "seqs start at 1");
}

size_t EventWindow::EventBytes(const Event& event) {
  size_t index_entries = 0;
  ForEachBalanceHolder(event, [&](const std::string&) { ++index_entries; });
  return sizeof(Event) + StringHeapBytes(event.actor.capacity()) +
         StringHeapBytes(event.from_account.capacity()) +
         StringHeapBytes(event.to_account.capacity()) +
         StringHeapBytes(event.transaction_id.capacity()) + StringHeapBytes(event.note.capacity()) +
         StringHeapBytes(event.reason.capacity()) + index_entries * sizeof(int64_t);
}

void EventWindow::Append(absl::Span<const Event> events) {
  assert(!events.empty() && "a committed batch is not empty");
  for (const Event& event : events) {
    assert(event.seq == applied_seq() + 1 && "a batch continues the window, gapless");
    const Event& held = events_.emplace_back(event);
    ForEachBalanceHolder(held, [&](const std::string& user) { IndexSeq(user, held.seq); });
    bytes_ += EventBytes(held);
    // Evicting as each event arrives keeps the same events as evicting after
    // the batch (the bytes of a run of events only grow with the run), and
    // holds at most one event over the limits meanwhile.
    while (events_.size() > 1 &&
           (events_.size() > limits_.events_max || bytes_ > limits_.bytes_max)) {
      EvictOldest();
    }
  }
  assert(applied_seq() == events.back().seq && "the window has applied the batch");
}

void EventWindow::Reset(int64_t applied_seq) {
  assert(applied_seq >= 0 && "seqs start at 1");
  events_.clear();
  seqs_by_user_.clear();
  bytes_ = 0;
  first_seq_ = applied_seq + 1;
}

std::optional<int64_t> EventWindow::LatestBalanceAfter(std::string_view user, int64_t after) const {
  assert(Covers(after) && "the window holds every event after `after`");
  auto found = seqs_by_user_.find(ToAbsl(user));
  if (found == seqs_by_user_.end()) return std::nullopt;
  // Every indexed event records the user's balance: the newest is the one.
  const int64_t seq = found->second.back();
  if (seq <= after) return std::nullopt;
  const Event& event = At(seq);
  if (event.type == EventType::kTokensTransferred && event.from_account == user) {
    return event.from_balance;
  }
  return event.to_balance;
}

std::vector<Event> EventWindow::EventsAfter(std::string_view user, int64_t after, int64_t until,
                                            size_t limit) const {
  assert(Covers(after) && "the window holds every event after `after`");
  std::vector<Event> events;
  auto found = seqs_by_user_.find(ToAbsl(user));
  if (found == seqs_by_user_.end()) return events;
  const std::deque<int64_t>& seqs = found->second;
  for (auto it = std::upper_bound(seqs.begin(), seqs.end(), after);
       it != seqs.end() && *it <= until && events.size() < limit; ++it) {
    const Event& event = At(*it);
    // Indexed for LatestBalanceAfter; Ledger::EventsAfter returns transfers
    // and mints only. An account is opened once, so this skips at most one.
    if (event.type == EventType::kAccountOpened) continue;
    events.push_back(event);
  }
  return events;
}

const Event& EventWindow::At(int64_t seq) const {
  assert(seq >= first_seq_ && seq <= applied_seq() && "the seq is held");
  const Event& event = events_[static_cast<size_t>(seq - first_seq_)];
  assert(event.seq == seq);
  return event;
}

void EventWindow::IndexSeq(const std::string& user, int64_t seq) {
  auto [entry, added] = seqs_by_user_.try_emplace(user);
  if (added) bytes_ += UserEntryBytes(user);
  assert((entry->second.empty() || entry->second.back() < seq) && "seqs are indexed in order");
  entry->second.push_back(seq);
}

void EventWindow::UnindexSeq(const std::string& user, int64_t seq) {
  auto entry = seqs_by_user_.find(user);
  assert(entry != seqs_by_user_.end() && entry->second.front() == seq &&
         "the oldest event is the first indexed for each of its users");
  entry->second.pop_front();
  if (entry->second.empty()) {
    bytes_ -= UserEntryBytes(user);
    seqs_by_user_.erase(entry);
  }
}

void EventWindow::EvictOldest() {
  assert(events_.size() > 1 && "the latest event is never evicted");
  const Event& oldest = events_.front();
  const size_t event_bytes = EventBytes(oldest);
  assert(bytes_ >= event_bytes);
  bytes_ -= event_bytes;
  ForEachBalanceHolder(oldest, [&](const std::string& user) { UnindexSeq(user, oldest.seq); });
  events_.pop_front();
  ++first_seq_;
}

}  // namespace sbd
