#include "store/cluster/node_query_protocol.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cassert>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/absl_compat.h"
#include "engine/error_code.h"
#include "store/cluster/event_rows.h"

namespace sbd {
namespace json = boost::json;
namespace {

constexpr std::string_view kSnapshotQueryName = "snapshot";
constexpr std::string_view kEventsAfterQueryName = "events_after";

absl::Status BadQuery(std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("node query: ", std::string(what)));
}

absl::Status BadReply(std::string_view what) {
  return absl::DataLossError(absl::StrCat("node query reply: ", std::string(what)));
}

absl::StatusOr<json::object> ParseObject(std::string_view body) {
  boost::system::error_code error;
  json::value parsed = json::parse(json::string_view(body.data(), body.size()), error);
  if (error) return absl::InvalidArgumentError(absl::StrCat("not JSON: ", error.message()));
  if (!parsed.is_object()) return absl::InvalidArgumentError("not a JSON object");
  return std::move(parsed.as_object());
}

std::string_view View(const json::string& text) { return {text.data(), text.size()}; }

// object[key] if it is an integer >= `min`.
std::optional<int64_t> IntegerAtLeast(const json::object& object, std::string_view key,
                                      int64_t min) {
  const json::value* value = object.if_contains(json::string_view(key.data(), key.size()));
  if (value == nullptr || !value->is_int64() || value->as_int64() < min) return std::nullopt;
  return value->as_int64();
}

std::optional<ErrorCode> ErrorCodeNamed(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(ErrorCode::kUnavailable); ++i) {
    const auto code = static_cast<ErrorCode>(i);
    if (ErrorCodeName(code) == name) return code;
  }
  return std::nullopt;
}

// What a reply's "error" member carries, as the status it stands for; a
// malformed one is kDataLoss.
absl::Status DecodeError(const json::value& value) {
  if (!value.is_object()) return BadReply("error is not an object");
  const json::object& error = value.as_object();
  const json::value* code = error.if_contains("code");
  const json::value* message = error.if_contains("message");
  if (code == nullptr || !code->is_string() || message == nullptr || !message->is_string()) {
    return BadReply("an error needs a code and a message, both strings");
  }
  const std::optional<ErrorCode> known = ErrorCodeNamed(View(code->as_string()));
  if (!known) return BadReply(absl::StrCat("unknown error code ", std::string(code->as_string())));
  return MakeError(*known, View(message->as_string()));
}

// The member of a reply that is not an error: `member`'s value, or the
// status an error reply stands for, or kDataLoss.
absl::StatusOr<json::object> ReplyMember(std::string_view body, std::string_view member) {
  absl::StatusOr<json::object> reply = ParseObject(body);
  if (!reply.ok()) return BadReply(ToStd(reply.status().message()));
  if (const json::value* error = reply->if_contains("error")) return DecodeError(*error);
  json::value* value = reply->if_contains(json::string_view(member.data(), member.size()));
  if (value == nullptr || !value->is_object()) {
    return BadReply(absl::StrCat("neither error nor ", std::string(member), " is an object"));
  }
  return std::move(value->as_object());
}

}  // namespace

std::string EncodeQuery(const NodeQuery& query) {
  json::object object;
  if (const auto* snapshot = std::get_if<SnapshotQuery>(&query)) {
    object["query"] = json::string_view(kSnapshotQueryName.data(), kSnapshotQueryName.size());
    object["account"] = snapshot->account;
  } else {
    const auto& page = std::get<EventsAfterQuery>(query);
    assert(page.after >= 0 && page.until >= 0 && page.limit >= 1 &&
           page.limit <= static_cast<size_t>(std::numeric_limits<int64_t>::max()) && "a query DecodeQuery accepts");
    object["query"] = json::string_view(kEventsAfterQueryName.data(), kEventsAfterQueryName.size());
    object["account"] = page.account;
    object["after"] = page.after;
    object["until"] = page.until;
    object["limit"] = static_cast<int64_t>(page.limit);
  }
  return json::serialize(object);
}

absl::StatusOr<NodeQuery> DecodeQuery(std::string_view body) {
  if (body.size() > kNodeQueryBytesMax) {
    return BadQuery(absl::StrCat("longer than ", kNodeQueryBytesMax, " bytes"));
  }
  absl::StatusOr<json::object> object = ParseObject(body);
  if (!object.ok()) return BadQuery(ToStd(object.status().message()));
  const json::value* kind = object->if_contains("query");
  const json::value* account = object->if_contains("account");
  if (kind == nullptr || !kind->is_string() || account == nullptr || !account->is_string()) {
    return BadQuery("query and account are required, both strings");
  }
  if (kind->as_string() == kSnapshotQueryName) {
    return SnapshotQuery{.account = std::string(account->as_string())};
  }
  if (kind->as_string() != kEventsAfterQueryName) {
    return BadQuery(absl::StrCat("unknown query ", std::string(kind->as_string())));
  }
  const std::optional<int64_t> after = IntegerAtLeast(*object, "after", 0);
  const std::optional<int64_t> until = IntegerAtLeast(*object, "until", 0);
  const std::optional<int64_t> limit = IntegerAtLeast(*object, "limit", 1);
  if (!after || !until || !limit) {
    return BadQuery("events_after needs after and until (integers, 0 or more) and limit (1 or more)");
  }
  return EventsAfterQuery{.account = std::string(account->as_string()),
                          .after = *after,
                          .until = *until,
                          .limit = static_cast<size_t>(*limit)};
}

std::string EncodeSnapshotReply(const FeedSnapshot& snapshot) {
  return json::serialize(
      json::object{{"snapshot", json::object{{"seq", snapshot.seq}, {"balance", snapshot.balance}}}});
}

std::string EncodePageReply(absl::Span<const Event> events, int64_t through,
                            size_t body_bytes_max) {
  assert((events.empty() || events.back().seq <= through) && "no event past through");
  std::string head = "{\"page\":{\"through\":";
  std::string columns = ",\"columns\":[";
  AppendEventColumnNames(columns);
  columns.append("],\"rows\":[");
  constexpr absl::string_view kTail = "]}}";
  // What a body holds besides its rows: `through` (at most 20 digits), the
  // names, the brackets.
  const size_t frame_bytes = head.size() + 20 + columns.size() + kTail.size();
  std::string rows;
  std::string row;
  for (size_t i = 0; i < events.size(); ++i) {
    assert((i == 0 || events[i - 1].seq < events[i].seq) && "ascending");
    row.assign("[");
    AppendEventCells(events[i], row);
    row.push_back(']');
    if (i > 0 && frame_bytes + rows.size() + 1 + row.size() > body_bytes_max) {
      through = events[i - 1].seq;  // Cut here: all up to it are in, none after.
      break;
    }
    if (i > 0) rows.push_back(',');
    rows.append(row);
  }
  absl::StrAppend(&head, through, columns, rows, kTail);
  return head;
}

std::string EncodeErrorReply(const absl::Status& status) {
  assert(!status.ok());
  const std::optional<ErrorCode> code = ErrorCodeOf(status);
  // Exactly what MakeError made: the message alone rebuilds it. Anything
  // else keeps its absl code in the message, for whoever reads the log.
  const bool rebuilt = code && MakeError(*code, ToStd(status.message())) == status;
  const std::string message =
      rebuilt ? std::string(status.message())
              : absl::StrCat(absl::StatusCodeToString(status.code()), ": ", status.message());
  const std::string_view name = ErrorCodeName(code.value_or(ErrorCode::kUnavailable));
  return json::serialize(json::object{
      {"error", json::object{{"code", json::string_view(name.data(), name.size())},
                             {"message", message}}}});
}

absl::StatusOr<FeedSnapshot> DecodeSnapshotReply(std::string_view body) {
  absl::StatusOr<json::object> snapshot = ReplyMember(body, "snapshot");
  if (!snapshot.ok()) return snapshot.status();
  const std::optional<int64_t> seq = IntegerAtLeast(*snapshot, "seq", 0);
  const std::optional<int64_t> balance = IntegerAtLeast(*snapshot, "balance", 0);
  if (!seq || !balance || *balance > kAmountMax) {
    return BadReply("a snapshot needs seq (0 or more) and balance (0 to 2^53 - 1)");
  }
  return FeedSnapshot{.seq = *seq, .balance = *balance};
}

absl::StatusOr<EventsPage> DecodePageReply(std::string_view body, const EventsAfterQuery& query) {
  absl::StatusOr<json::object> page = ReplyMember(body, "page");
  if (!page.ok()) return page.status();
  const std::optional<int64_t> through = IntegerAtLeast(*page, "through", query.after);
  if (!through || *through > std::max(query.after, query.until)) {
    return BadReply(absl::StrCat("through must be from ", query.after, " to ",
                                 std::max(query.after, query.until)));
  }
  const json::value* columns = page->if_contains("columns");
  const json::value* rows = page->if_contains("rows");
  if (columns == nullptr || !columns->is_array() || rows == nullptr || !rows->is_array()) {
    return BadReply("a page needs columns and rows, both arrays");
  }
  if (columns->as_array().size() != kEventColumns.size() ||
      !StartsWithEventColumns(columns->as_array())) {
    return BadReply("unknown columns");
  }
  const json::array& array = rows->as_array();
  if (array.size() > query.limit) {
    return BadReply(absl::StrCat(array.size(), " events where at most ", query.limit, " belong"));
  }
  EventsPage result;
  result.through = *through;
  result.events.resize(array.size());
  int64_t previous = query.after;
  for (size_t i = 0; i < array.size(); ++i) {
    if (!array[i].is_array() || array[i].as_array().size() != kEventColumns.size()) {
      return BadReply(absl::StrCat("a row is not an array of ", kEventColumns.size()));
    }
    Event& event = result.events[i];
    if (absl::Status status = ReadEventCells(array[i].as_array(), event); !status.ok()) {
      return BadReply(ToStd(status.message()));
    }
    if (event.seq <= previous || event.seq > *through) {
      return BadReply(absl::StrCat("event seq ", event.seq, " after ", previous, " is not in (",
                                   query.after, ", ", *through, "] ascending"));
    }
    previous = event.seq;
  }
  return result;
}

}  // namespace sbd
