// BatchMessage: one committed batch as one message of the replicated stream
// (cluster mode, docs/CLUSTER.md "Change data capture"). The writer encodes
// each batch it publishes; followers, gateways and any other consumer of the
// stream decode it.
//
// The body is JSON, the batch's events in their row form (docs/EVENT_LOG.md):
// {"first_seq":F,"last_seq":L,"columns":[...],"rows":[[...],...]} with one
// array per event holding the `events` row's columns in their order, `type`
// as the number, then "hash", the chain hash as 64 hex digits; `columns`
// names them once per message. Rows rather than objects: the names would be
// a third of every message's bytes, and bytes are what a replicated publish
// costs. Headers carry what a consumer needs without parsing the body
// (kHeader* below); the message id is the last event's hash, so a retried
// publish of the same batch is one message (JetStream's duplicate window).
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

// `events` cut into consecutive runs, each encoded as one message body of at
// most `body_bytes_max` bytes (a single event longer than that alone in its
// own): what a writer publishes for a batch larger than a stream message.
struct EncodedSlice {
  size_t begin = 0;  // events[begin, end).
  size_t end = 0;
  std::string body;
};
std::vector<EncodedSlice> EncodeSlices(absl::Span<const Event> events,
                                       absl::Span<const EventHash> hashes, size_t body_bytes_max);

// Parses a body EncodeBatch wrote. Anything else (bad JSON, a missing or
// mistyped field, seqs that are not first_seq..last_seq in order, a hash
// that is not 64 hex digits) is kDataLoss saying what.
absl::StatusOr<StreamBatch> DecodeBatch(std::string_view body);

}  // namespace sbd

#endif  // SBD_STORE_CLUSTER_BATCH_MESSAGE_H_
