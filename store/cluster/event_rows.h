// Event rows in JSON: an event as one array of the `events` table's columns
// in their order (docs/EVENT_LOG.md), `type` as its number. The stream's
// batch messages (batch_message.h) are built of these rows with the chain
// hash appended as a 13th cell; a node's replies to gateways
// (node_query_protocol.h) carry them as they are. One writer and one reader
// for both, so the two forms cannot drift apart. Internal to store/cluster/.
//
// Thread-safety: pure functions of their arguments.
#ifndef SBD_STORE_CLUSTER_EVENT_ROWS_H_
#define SBD_STORE_CLUSTER_EVENT_ROWS_H_

#include <array>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "engine/event.h"

namespace boost::json {
class array;
}  // namespace boost::json

namespace sbd {

// The cells of a row, in order.
inline constexpr std::array<std::string_view, 12> kEventColumns = {
    "seq",          "type",       "timestamp_ms",   "actor", "from_account", "to_account", "amount",
    "from_balance", "to_balance", "transaction_id", "note",  "reason"};

// Appends `text` as a JSON string: quotes, backslashes and control
// characters escaped, every other byte (UTF-8 included) as it is.
void AppendJsonString(std::string_view text, std::string& out);

// Appends the kEventColumns names as JSON strings, comma-separated, without
// brackets: a message's "columns" array, or its first cells.
void AppendEventColumnNames(std::string& out);

// Appends `event`'s cells, comma-separated, without brackets: the caller
// closes the row (or adds cells of its own first).
void AppendEventCells(const Event& event, std::string& out);

// Whether names[0, kEventColumns.size()) are kEventColumns (and there are
// that many).
bool StartsWithEventColumns(const boost::json::array& names);

// Reads row[0, kEventColumns.size()) into `event`; cells after them are the
// caller's. kDataLoss saying which cell is wrong (a missing one, a string
// where an integer belongs, an unknown type), without a prefix: the caller
// says which message it was.
absl::Status ReadEventCells(const boost::json::array& row, Event& event);

}  // namespace sbd

#endif  // SBD_STORE_CLUSTER_EVENT_ROWS_H_
