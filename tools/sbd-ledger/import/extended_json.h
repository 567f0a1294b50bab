// The scalar forms of MongoDB Extended JSON (v2, relaxed and canonical, as
// `mongoexport` writes them) and of the origin's string timestamps, parsed
// without simdjson so they can be tested as plain strings.
//
// Thread-safety: pure functions.
#ifndef SBD_TOOLS_SBD_LEDGER_IMPORT_EXTENDED_JSON_H_
#define SBD_TOOLS_SBD_LEDGER_IMPORT_EXTENDED_JSON_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sbd {

// The digits of a `$numberInt` / `$numberLong`: an optional '-' and 1 or more
// decimal digits, nothing else, within int64_t. nullopt otherwise.
std::optional<int64_t> ParseDecimalInt64(std::string_view text);

// An ISO 8601 date-time as the origin writes them, in microseconds since the
// Unix epoch (UTC):
//   2024-05-01T12:00:00.123456+00:00   (Python's datetime.isoformat())
//   2024-05-01T12:00:00Z               ($date, relaxed)
//   2024-05-01 12:00:00.5              ('T' or a space; no offset = UTC)
// Fractions of 1 to 9 digits are truncated to microseconds; offsets are
// Z, +HH:MM, -HH:MM, +HHMM or +HH. kInvalidArgument (the message says why)
// for anything else, for an impossible date or time, or a year before 1970
// or after 9999.
absl::StatusOr<int64_t> ParseIsoTimestampUs(std::string_view text);

}  // namespace sbd

#endif  // SBD_TOOLS_SBD_LEDGER_IMPORT_EXTENDED_JSON_H_
