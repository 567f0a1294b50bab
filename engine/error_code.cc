#include "engine/error_code.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "engine/absl_compat.h"

namespace sbd {
namespace {

// The payload key under which MakeError records the API code.
constexpr std::string_view kPayloadUrl = "sbd.ledger/error_code";

struct CodeInfo {
  std::string_view name;
  absl::StatusCode status_code;
};

// One row per ErrorCode, in enum order (API.md, "Errors").
constexpr CodeInfo kCodes[] = {
    {"invalid_json", absl::StatusCode::kInvalidArgument},
    {"missing_fields", absl::StatusCode::kInvalidArgument},
    {"invalid_amount", absl::StatusCode::kInvalidArgument},
    {"invalid_username", absl::StatusCode::kInvalidArgument},
    {"self_transfer", absl::StatusCode::kInvalidArgument},
    {"insufficient_funds", absl::StatusCode::kFailedPrecondition},
    {"balance_overflow", absl::StatusCode::kFailedPrecondition},
    {"invalid_field", absl::StatusCode::kInvalidArgument},
    {"unauthorized", absl::StatusCode::kUnauthenticated},
    {"forbidden", absl::StatusCode::kPermissionDenied},
    {"account_not_found", absl::StatusCode::kNotFound},
    {"transaction_not_found", absl::StatusCode::kNotFound},
    {"not_found", absl::StatusCode::kNotFound},
    {"method_not_allowed", absl::StatusCode::kUnimplemented},
    {"account_exists", absl::StatusCode::kAlreadyExists},
    {"transaction_id_conflict", absl::StatusCode::kAlreadyExists},
    {"payload_too_large", absl::StatusCode::kResourceExhausted},
    {"rate_limited", absl::StatusCode::kResourceExhausted},
    {"unavailable", absl::StatusCode::kUnavailable},
};
static_assert(std::size(kCodes) == static_cast<size_t>(ErrorCode::kUnavailable) + 1,
              "kCodes must have one row per ErrorCode");

const CodeInfo& Info(ErrorCode code) { return kCodes[static_cast<size_t>(code)]; }

}  // namespace

std::string_view ErrorCodeName(ErrorCode code) { return Info(code).name; }

absl::Status MakeError(ErrorCode code, std::string_view detail) {
  absl::Status status(Info(code).status_code, ToAbsl(detail));
  status.SetPayload(ToAbsl(kPayloadUrl), absl::Cord(std::to_string(static_cast<int>(code))));
  return status;
}

std::optional<ErrorCode> ErrorCodeOf(const absl::Status& status) {
  if (status.ok()) return std::nullopt;
  if (absl::optional<absl::Cord> payload = status.GetPayload(ToAbsl(kPayloadUrl))) {
    int value = -1;
    if (absl::SimpleAtoi(std::string(*payload), &value) && value >= 0 &&
        static_cast<size_t>(value) < std::size(kCodes)) {
      return static_cast<ErrorCode>(value);
    }
  }
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kDataLoss:
      return ErrorCode::kUnavailable;
    default:
      return std::nullopt;
  }
}

}  // namespace sbd
