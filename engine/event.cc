#include "engine/event.h"

#include <chrono>
#include <cstdio>

namespace sbd {

std::string_view EventTypeName(EventType type) {
  switch (type) {
    case EventType::kAccountOpened:
      return "account_opened";
    case EventType::kTokensMinted:
      return "tokens_minted";
    case EventType::kTokensTransferred:
      return "tokens_transferred";
    case EventType::kTransactionNoteSet:
      return "transaction_note_set";
  }
  return "unknown";
}

std::string FormatTimestamp(int64_t timestamp_ms) {
  // Civil-date arithmetic (C++20 <chrono>) rather than absl::FormatTime: UTC
  // needs no time-zone lookup, and this runs for every message sent.
  using namespace std::chrono;
  const sys_time<milliseconds> time{milliseconds{timestamp_ms}};
  const sys_days day = floor<days>(time);
  const year_month_day date{day};
  const hh_mm_ss<milliseconds> clock{time - day};
  char text[40];
  const int length = std::snprintf(
      text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
      static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
      static_cast<int>(clock.seconds().count()), static_cast<int>(clock.subseconds().count()));
  return std::string(text, static_cast<size_t>(length));
}

}  // namespace sbd
