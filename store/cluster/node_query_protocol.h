// The node query protocol: what a cluster gateway asks a node for when its
// window of the stream does not hold it (docs/CLUSTER.md "Gateways"), and
// what the node answers. NATS core request/reply on ClusterLayout's
// query_subject; the nodes answer in its query_queue group, so one node
// answers each query (node_query_responder.h; the gateway's end is
// node_query_client.h). These functions are the messages alone, encoded and
// decoded; every body is one JSON object:
//
//   queries  {"query":"snapshot","account":A}
//            {"query":"events_after","account":A,"after":N,"until":N,"limit":N}
//   replies  {"snapshot":{"seq":S,"balance":B}}
//            {"page":{"through":T,"columns":[...],"rows":[[...],...]}}
//            {"error":{"code":C,"message":M}}
//
// A query's fields are AccountFeed's (engine/account_feed.h): `account` as
// the session has it (the node canonicalises it, as Ledger does), events
// with after < seq <= until, at most `limit` (1 or more). A snapshot reply
// is FeedSnapshot, a page EventsPage with the same guarantee. A page's rows
// are the events in the stream's row form (event_rows.h: the `events`
// table's columns in order, `columns` naming them) without the chain hash:
// a page is an account's events, not a gapless run of the log, so there is
// no chain to check it against, and a gateway trusts a node's log as it
// trusts the stream. An error carries the API error code's name (API.md,
// "Errors") and the status's message, and decodes to MakeError of the same
// code and message: the very status the node's Ledger returned, so a
// gateway's sessions handle a node's errors as a server's sessions handle
// their Ledger's. A status without an API code (an internal error) travels
// as "unavailable", its absl code named in the message: to a gateway, the
// node could not answer.
//
// Unknown fields are ignored (a later version may add some). Anything else
// that is not a message as above, is a clear status, never a crash: a bad
// query is kInvalidArgument (the node answers it with an error), a bad
// reply kDataLoss (the node is not speaking this protocol), each saying
// what is wrong.
//
// Thread-safety: pure functions of their arguments.
#ifndef SBD_STORE_CLUSTER_NODE_QUERY_PROTOCOL_H_
#define SBD_STORE_CLUSTER_NODE_QUERY_PROTOCOL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "engine/account_feed.h"
#include "engine/event.h"

namespace sbd {

// The largest query a node reads: a query is an account name and three
// numbers, and an account name is a JWT subject, far shorter than this; a
// longer body is not a query of ours.
inline constexpr size_t kNodeQueryBytesMax = 64 * 1024;

struct SnapshotQuery {
  std::string account;

  friend bool operator==(const SnapshotQuery&, const SnapshotQuery&) = default;
};

struct EventsAfterQuery {
  std::string account;
  int64_t after = 0;  // 0 or more.
  int64_t until = 0;  // 0 or more; below `after` the page is empty.
  size_t limit = 0;   // 1 or more.

  friend bool operator==(const EventsAfterQuery&, const EventsAfterQuery&) = default;
};

using NodeQuery = std::variant<SnapshotQuery, EventsAfterQuery>;

// `query` must hold what DecodeQuery accepts (asserted).
std::string EncodeQuery(const NodeQuery& query);

// kInvalidArgument saying what is wrong with anything but a query
// EncodeQuery wrote (or one longer than kNodeQueryBytesMax).
absl::StatusOr<NodeQuery> DecodeQuery(std::string_view body);

std::string EncodeSnapshotReply(const FeedSnapshot& snapshot);

// The page of `events` (ascending, seq <= through) through `through`, in at
// most `body_bytes_max` bytes: when the whole does not fit, the longest
// prefix that does, with `through` lowered to its last event's seq, which
// keeps EventsPage's guarantee (every event up to there is in, none after
// it). A prefix is at least one event, however long (an event is a few KiB
// at most; a page that held none would never move its caller on).
std::string EncodePageReply(absl::Span<const Event> events, int64_t through,
                            size_t body_bytes_max);

// `status` (not OK) as an error reply.
std::string EncodeErrorReply(const absl::Status& status);

// The reply to a SnapshotQuery: the snapshot, or the status an error reply
// carries (as above), or kDataLoss for a body that is neither (a seq below
// 0, a balance outside 0..kAmountMax included).
absl::StatusOr<FeedSnapshot> DecodeSnapshotReply(std::string_view body);

// The reply to `query`: as DecodeSnapshotReply, and a page must answer
// `query`: at most query.limit events, seqs ascending with
// query.after < seq <= through, and query.after <= through <=
// max(query.after, query.until); else kDataLoss.
absl::StatusOr<EventsPage> DecodePageReply(std::string_view body, const EventsAfterQuery& query);

}  // namespace sbd

#endif  // SBD_STORE_CLUSTER_NODE_QUERY_PROTOCOL_H_
