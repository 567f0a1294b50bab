// ErrorCode: the API's error codes (API.md, "Errors"), carried inside an
// absl::Status so they cross module boundaries the house way.
//
// The engine produces the domain codes; the transport produces the
// transport-level ones (invalid_json, unauthorized, ...) and says how HTTP
// shows each (transport/http_status.h). Thread-safe: pure functions.
#ifndef SBD_ENGINE_ERROR_CODE_H_
#define SBD_ENGINE_ERROR_CODE_H_

#include <optional>
#include <string_view>

#include "absl/status/status.h"

namespace sbd {

enum class ErrorCode {
  kInvalidJson,
  kMissingFields,
  kInvalidAmount,
  kInvalidUsername,
  kSelfTransfer,
  kInsufficientFunds,
  kBalanceOverflow,
  kInvalidField,
  kUnauthorized,
  kForbidden,
  kAccountNotFound,
  kTransactionNotFound,
  kNotFound,
  kMethodNotAllowed,
  kAccountExists,
  kTransactionIdConflict,
  kPayloadTooLarge,
  kRateLimited,
  kUnavailable,
};

// The wire name: "insufficient_funds", ...
std::string_view ErrorCodeName(ErrorCode code);

// A Status with the most specific absl code for `code`, `detail` as its
// message and `code` attached as a payload.
absl::Status MakeError(ErrorCode code, std::string_view detail);

// The ErrorCode attached by MakeError. A status without one maps by its absl
// code: kUnavailable / kResourceExhausted / kDataLoss -> kUnavailable (the log
// cannot be written), anything else -> nullopt (an internal error).
std::optional<ErrorCode> ErrorCodeOf(const absl::Status& status);

}  // namespace sbd

#endif  // SBD_ENGINE_ERROR_CODE_H_
