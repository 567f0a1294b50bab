// BatchMessage: one committed batch as one message of the replicated stream
// (cluster mode, docs/CLUSTER.md "Change data capture"). The writer encodes
// each batch it publishes; followers, gateways and any other consumer of the
// stream decode it.
//
// The body is JSON: {"first_seq":F,"last_seq":L,"events":[...]} with every
// event as docs/EVENT_LOG.md's row (its column names, `type` as the number)
// plus "hash", the chain hash as 64 hex digits. Headers carry what a
// consumer needs without parsing the body (kHeader* below); the message id
// is the last event's hash, so a retried publish of the same batch is one
// message (JetStream's duplicate window).
//
// Thread-safety: pure functions of their arguments.
#ifndef SBD_STORE_CLUSTER_BATCH_MESSAGE_H_
#define SBD_STORE_CLUSTER_BATCH_MESSAGE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "engine/event.h"
#include "store/event_hash.h"

namespace sbd {

inline constexpr char kHeaderFirstSeq[] = "Sbd-First-Seq";
inline constexpr char kHeaderLastSeq[] = "Sbd-Last-Seq";
// The lease revision of the writer that published the batch (its term).
inline constexpr char kHeaderTerm[] = "Sbd-Term";

// A decoded batch: events in seq order and each one's chain hash.
struct StreamBatch {
  std::vector<Event> events;
  std::vector<EventHash> hashes;  // hashes[i] is events[i]'s.
};

// The body of the message for `events` (seq order, gapless, not empty) with
// their chain hashes.
std::string EncodeBatch(absl::Span<const Event> events, absl::Span<const EventHash> hashes);

// Parses a body EncodeBatch wrote. Anything else (bad JSON, a missing or
// mistyped field, seqs that are not first_seq..last_seq in order, a hash
// that is not 64 hex digits) is kDataLoss saying what.
absl::StatusOr<StreamBatch> DecodeBatch(std::string_view body);

}  // namespace sbd

#endif  // SBD_STORE_CLUSTER_BATCH_MESSAGE_H_
