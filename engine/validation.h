// Field validation shared by every command (API.md "Identity", "Amounts",
// "Errors"). Each function returns the canonical value or a MakeError status
// with the API's code. Thread-safe: pure functions.
#ifndef SBD_ENGINE_VALIDATION_H_
#define SBD_ENGINE_VALIDATION_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/command.h"

namespace sbd {

inline constexpr size_t kUsernameLengthMax = 64;        // API.md "Identity".
inline constexpr size_t kNoteLengthMax = 500;           // Unicode code points.
inline constexpr size_t kTransactionIdLengthMax = 128;  // Printable ASCII bytes.

// Lowercases, then requires 1..64 chars of [a-z0-9_.-]: invalid_username.
absl::StatusOr<std::string> CanonicalUsername(std::string_view name);

// CanonicalUsername in place, without allocating: on success `name` is the
// canonical form; on error (the same codes and messages) it is unspecified.
absl::Status CanonicalizeUsername(std::string& name);

// 1 <= amount <= 2^53-1 and a JSON integer: invalid_amount.
absl::StatusOr<int64_t> ValidateAmount(const AmountField& amount);

// Valid UTF-8 of at most 500 code points: invalid_field.
absl::Status ValidateNote(std::string_view note);

// 1..128 printable ASCII characters (0x20..0x7e): invalid_field.
// (An absent transaction_id is the empty string and is not validated.)
absl::Status ValidateTransactionId(std::string_view transaction_id);

}  // namespace sbd

#endif  // SBD_ENGINE_VALIDATION_H_
