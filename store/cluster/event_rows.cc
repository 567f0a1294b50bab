#include "store/cluster/event_rows.h"

#include <boost/json.hpp>
#include <cstdint>
#include <iterator>
#include <string>

#include "absl/strings/str_cat.h"

namespace sbd {
namespace json = boost::json;

void AppendJsonString(std::string_view text, std::string& out) {
  out.push_back('"');
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      constexpr char kHex[] = "0123456789abcdef";
      out.append("\\u00");
      out.push_back(kHex[(c >> 4) & 0xf]);
      out.push_back(kHex[c & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

void AppendEventColumnNames(std::string& out) {
  for (size_t i = 0; i < kEventColumns.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(kEventColumns[i], out);
  }
}

void AppendEventCells(const Event& event, std::string& out) {
  absl::StrAppend(&out, event.seq, ",", static_cast<int>(event.type), ",", event.timestamp_ms,
                  ",");
  for (const std::string* text : {&event.actor, &event.from_account, &event.to_account}) {
    AppendJsonString(*text, out);
    out.push_back(',');
  }
  absl::StrAppend(&out, event.amount, ",", event.from_balance, ",", event.to_balance);
  for (const std::string* text : {&event.transaction_id, &event.note, &event.reason}) {
    out.push_back(',');
    AppendJsonString(*text, out);
  }
}

bool StartsWithEventColumns(const json::array& names) {
  if (names.size() < kEventColumns.size()) return false;
  for (size_t i = 0; i < kEventColumns.size(); ++i) {
    if (!names[i].is_string() || names[i].as_string() != kEventColumns[i]) return false;
  }
  return true;
}

absl::Status ReadEventCells(const json::array& row, Event& event) {
  if (row.size() < kEventColumns.size()) {
    return absl::DataLossError(absl::StrCat("a row has fewer than ", kEventColumns.size(), " cells"));
  }
  int64_t* const integers[] = {&event.seq,          nullptr,
                               &event.timestamp_ms, &event.amount,
                               &event.from_balance, &event.to_balance};
  constexpr size_t kIntegerColumns[] = {0, 1, 2, 6, 7, 8};
  int64_t type = 0;
  for (size_t i = 0; i < std::size(kIntegerColumns); ++i) {
    const json::value& cell = row[kIntegerColumns[i]];
    if (!cell.is_int64()) {
      return absl::DataLossError(absl::StrCat(
          "column ", std::string(kEventColumns[kIntegerColumns[i]]), " is not an integer"));
    }
    *(integers[i] != nullptr ? integers[i] : &type) = cell.as_int64();
  }
  std::string* const strings[] = {&event.actor,          &event.from_account, &event.to_account,
                                  &event.transaction_id, &event.note,         &event.reason};
  constexpr size_t kStringColumns[] = {3, 4, 5, 9, 10, 11};
  for (size_t i = 0; i < std::size(kStringColumns); ++i) {
    const json::value& cell = row[kStringColumns[i]];
    if (!cell.is_string()) {
      return absl::DataLossError(absl::StrCat(
          "column ", std::string(kEventColumns[kStringColumns[i]]), " is not a string"));
    }
    *strings[i] = std::string(cell.as_string());
  }
  if (type < static_cast<int>(EventType::kAccountOpened) ||
      type > static_cast<int>(EventType::kTransactionNoteSet)) {
    return absl::DataLossError(absl::StrCat("event ", event.seq, " has unknown type ", type));
  }
  event.type = static_cast<EventType>(type);
  return absl::OkStatus();
}

}  // namespace sbd
