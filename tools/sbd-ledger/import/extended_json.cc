#include "tools/sbd-ledger/import/extended_json.h"

#include <chrono>
#include <limits>

#include "absl/strings/str_cat.h"
#include "engine/event.h"
#include "tools/sbd-ledger/import/input_error.h"

namespace sbd {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int kFractionDigitsMax = 9;  // Nanoseconds: the finest any writer emits.
constexpr int kMicrosecondDigits = 6;
constexpr int kYearMin = 1970;  // The log's timestamps start at the epoch.
constexpr int kYearMax = 9999;  // The wire form has a four-digit year.

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `count` digits at `*position`.
std::optional<int> Digits(std::string_view text, size_t* position, int count) {
  if (*position + static_cast<size_t>(count) > text.size()) return std::nullopt;
  int value = 0;
  for (int i = 0; i < count; ++i) {
    const char c = text[*position + static_cast<size_t>(i)];
    if (!IsDigit(c)) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  *position += static_cast<size_t>(count);
  return value;
}

bool Expect(std::string_view text, size_t* position, char c) {
  if (*position >= text.size() || text[*position] != c) return false;
  ++*position;
  return true;
}

absl::Status NotIso(std::string_view text) {
  return absl::InvalidArgumentError(
      absl::StrCat("timestamp ", QuoteForReason(text),
                   " is not ISO 8601 (YYYY-MM-DDTHH:MM:SS[.ffffff][Z|+HH:MM])"));
}

}  // namespace

std::optional<int64_t> ParseDecimalInt64(std::string_view text) {
  const bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  // Accumulate negatively: int64_t's range is one larger below zero.
  int64_t value = 0;
  for (char c : text) {
    if (!IsDigit(c)) return std::nullopt;
    const int digit = c - '0';
    if (value < (std::numeric_limits<int64_t>::min() + digit) / 10) return std::nullopt;
    value = value * 10 - digit;
  }
  if (negative) return value;
  if (value == std::numeric_limits<int64_t>::min()) return std::nullopt;
  return -value;
}

absl::StatusOr<int64_t> ParseIsoTimestampUs(std::string_view text) {
  size_t at = 0;
  const std::optional<int> year = Digits(text, &at, 4);
  if (!year || !Expect(text, &at, '-')) return NotIso(text);
  const std::optional<int> month = Digits(text, &at, 2);
  if (!month || !Expect(text, &at, '-')) return NotIso(text);
  const std::optional<int> day = Digits(text, &at, 2);
  if (!day || at >= text.size() || (text[at] != 'T' && text[at] != 't' && text[at] != ' ')) {
    return NotIso(text);
  }
  ++at;
  const std::optional<int> hour = Digits(text, &at, 2);
  if (!hour || !Expect(text, &at, ':')) return NotIso(text);
  const std::optional<int> minute = Digits(text, &at, 2);
  if (!minute || !Expect(text, &at, ':')) return NotIso(text);
  const std::optional<int> second = Digits(text, &at, 2);
  if (!second) return NotIso(text);
  int64_t micros = 0;
  if (at < text.size() && text[at] == '.') {
    ++at;
    int digits = 0;
    while (at < text.size() && IsDigit(text[at])) {
      if (++digits > kFractionDigitsMax) return NotIso(text);
      if (digits <= kMicrosecondDigits) micros = micros * 10 + (text[at] - '0');
      ++at;
    }
    if (digits == 0) return NotIso(text);
    for (int i = digits; i < kMicrosecondDigits; ++i) micros *= 10;
  }
  int64_t offset_s = 0;
  if (at < text.size()) {
    const char sign = text[at++];
    if (sign == 'Z' || sign == 'z') {
      if (at != text.size()) return NotIso(text);
    } else if (sign == '+' || sign == '-') {
      const std::optional<int> offset_hours = Digits(text, &at, 2);
      if (!offset_hours) return NotIso(text);
      int offset_minutes = 0;
      if (at < text.size()) {
        Expect(text, &at, ':');  // Optional: +HH:MM and +HHMM.
        const std::optional<int> minutes = Digits(text, &at, 2);
        if (!minutes || at != text.size()) return NotIso(text);
        offset_minutes = *minutes;
      }
      if (*offset_hours > 23 || offset_minutes > 59) return NotIso(text);
      offset_s = (int64_t{*offset_hours} * 60 + offset_minutes) * 60;
      if (sign == '-') offset_s = -offset_s;
    } else {
      return NotIso(text);
    }
  }
  using namespace std::chrono;
  const year_month_day date{std::chrono::year{*year},
                            std::chrono::month{static_cast<unsigned>(*month)},
                            std::chrono::day{static_cast<unsigned>(*day)}};
  if (!date.ok() || *hour > 23 || *minute > 59 || *second > 59) {
    return absl::InvalidArgumentError(
        absl::StrCat("timestamp ", QuoteForReason(text), " is not a valid date and time"));
  }
  const int64_t seconds = int64_t{sys_days(date).time_since_epoch().count()} * 86400 +
                          int64_t{*hour} * 3600 + int64_t{*minute} * 60 + *second - offset_s;
  const int64_t result = seconds * kMicrosPerSecond + micros;
  // The year as written and the instant in UTC must both be in range.
  constexpr int64_t kResultMax = (kTimestampMsMax + 1) * 1000 - 1;
  if (*year < kYearMin || *year > kYearMax || result < 0 || result > kResultMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("timestamp ", QuoteForReason(text), " is outside the years 1970 to 9999"));
  }
  return result;
}

}  // namespace sbd
