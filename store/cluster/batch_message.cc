#include "store/cluster/batch_message.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cassert>
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "engine/absl_compat.h"
#include "store/cluster/event_rows.h"

namespace sbd {
namespace json = boost::json;
namespace {

// The hash's column, after the event's (event_rows.h).
constexpr std::string_view kHashColumn = "hash";
constexpr size_t kRowCells = kEventColumns.size() + 1;

absl::Status Malformed(std::string_view what) {
  return absl::DataLossError(absl::StrCat("stream batch message: ", std::string(what)));
}

void AppendRow(const Event& event, const EventHash& hash, std::string& out) {
  out.push_back('[');
  AppendEventCells(event, out);
  absl::StrAppend(&out, ",\"", HashHex(hash), "\"]");
}

absl::Status ReadHash(const json::value& value, EventHash& hash) {
  if (!value.is_string()) return Malformed("an event hash is not a string");
  const json::string& hex = value.as_string();
  if (hex.size() != 2 * hash.size() ||
      std::string_view(hex).find_first_not_of("0123456789abcdef") != std::string_view::npos) {
    return Malformed("an event hash is not 64 lowercase hex digits");
  }
  const std::string bytes = absl::HexStringToBytes(std::string(hex));
  assert(bytes.size() == hash.size());
  std::copy(bytes.begin(), bytes.end(), hash.begin());
  return absl::OkStatus();
}

absl::Status ReadRow(const json::value& value, Event& event, EventHash& hash) {
  if (!value.is_array() || value.as_array().size() != kRowCells) {
    return Malformed(absl::StrCat("a row is not an array of ", kRowCells));
  }
  const json::array& row = value.as_array();
  if (absl::Status status = ReadEventCells(row, event); !status.ok()) {
    return Malformed(ToStd(status.message()));
  }
  return ReadHash(row[kEventColumns.size()], hash);
}

}  // namespace

std::vector<EncodedSlice> EncodeSlices(absl::Span<const Event> events,
                                       absl::Span<const EventHash> hashes, size_t body_bytes_max) {
  assert(!events.empty() && events.size() == hashes.size() && "one hash per event, at least one");
  std::string header_columns = ",\"columns\":[";
  AppendEventColumnNames(header_columns);
  header_columns.push_back(',');
  AppendJsonString(kHashColumn, header_columns);
  header_columns.append("],\"rows\":[");
  // What a body holds besides its rows: the two seqs (at most 20 digits
  // each), the names, the brackets.
  const size_t frame_bytes = header_columns.size() + 64;
  std::vector<EncodedSlice> slices;
  std::string rows;
  std::string row;
  size_t begin = 0;
  auto finish = [&](size_t end) {
    EncodedSlice& slice = slices.emplace_back();
    slice.begin = begin;
    slice.end = end;
    absl::StrAppend(&slice.body, "{\"first_seq\":", events[begin].seq,
                    ",\"last_seq\":", events[end - 1].seq, header_columns, rows, "]}");
    assert(slice.body.size() <= std::max(body_bytes_max, frame_bytes + rows.size()));
    rows.clear();
    begin = end;
  };
  for (size_t i = 0; i < events.size(); ++i) {
    assert(events[i].seq == events.front().seq + static_cast<int64_t>(i) && "gapless seqs");
    row.clear();
    AppendRow(events[i], hashes[i], row);
    if (!rows.empty() && frame_bytes + rows.size() + 1 + row.size() > body_bytes_max) finish(i);
    if (!rows.empty()) rows.push_back(',');
    rows.append(row);
  }
  finish(events.size());
  return slices;
}

std::string EncodeBatch(absl::Span<const Event> events, absl::Span<const EventHash> hashes) {
  std::vector<EncodedSlice> one = EncodeSlices(events, hashes, std::numeric_limits<size_t>::max());
  assert(one.size() == 1);
  return std::move(one.front().body);
}

absl::StatusOr<StreamBatch> DecodeBatch(std::string_view body) {
  boost::system::error_code error;
  json::value parsed = json::parse(json::string_view(body.data(), body.size()), error);
  if (error) return Malformed(absl::StrCat("not JSON: ", error.message()));
  if (!parsed.is_object()) return Malformed("not a JSON object");
  const json::object& object = parsed.as_object();
  const json::value* first = object.if_contains("first_seq");
  const json::value* last = object.if_contains("last_seq");
  const json::value* columns = object.if_contains("columns");
  const json::value* rows = object.if_contains("rows");
  if (first == nullptr || !first->is_int64() || last == nullptr || !last->is_int64() ||
      columns == nullptr || !columns->is_array() || rows == nullptr || !rows->is_array()) {
    return Malformed("first_seq, last_seq, columns and rows are required");
  }
  const json::array& names = columns->as_array();
  if (names.size() != kRowCells || !StartsWithEventColumns(names) ||
      !names.back().is_string() || names.back().as_string() != kHashColumn) {
    return Malformed("unknown columns");
  }
  const json::array& array = rows->as_array();
  const int64_t first_seq = first->as_int64();
  if (first_seq < 1 || array.empty() ||
      last->as_int64() != first_seq + static_cast<int64_t>(array.size()) - 1) {
    return Malformed("first_seq..last_seq does not match the rows");
  }
  StreamBatch batch;
  batch.events.resize(array.size());
  batch.hashes.resize(array.size());
  for (size_t i = 0; i < array.size(); ++i) {
    if (absl::Status status = ReadRow(array[i], batch.events[i], batch.hashes[i]); !status.ok()) {
      return status;
    }
    if (batch.events[i].seq != first_seq + static_cast<int64_t>(i)) {
      return Malformed(absl::StrCat("event seq ", batch.events[i].seq, " where ",
                                    first_seq + static_cast<int64_t>(i), " belongs"));
    }
  }
  return batch;
}

}  // namespace sbd
