#include "transport/http_status.h"

#include <cassert>

namespace sbd {

namespace http = boost::beast::http;

http::status HttpStatusOf(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidJson:
    case ErrorCode::kMissingFields:
    case ErrorCode::kInvalidAmount:
    case ErrorCode::kInvalidUsername:
    case ErrorCode::kSelfTransfer:
    case ErrorCode::kInsufficientFunds:
    case ErrorCode::kBalanceOverflow:
    case ErrorCode::kInvalidField:
      return http::status::bad_request;
    case ErrorCode::kUnauthorized:
      return http::status::unauthorized;
    case ErrorCode::kForbidden:
      return http::status::forbidden;
    case ErrorCode::kAccountNotFound:
    case ErrorCode::kTransactionNotFound:
    case ErrorCode::kNotFound:
      return http::status::not_found;
    case ErrorCode::kMethodNotAllowed:
      return http::status::method_not_allowed;
    case ErrorCode::kAccountExists:
    case ErrorCode::kTransactionIdConflict:
      return http::status::conflict;
    case ErrorCode::kPayloadTooLarge:
      return http::status::payload_too_large;
    case ErrorCode::kRateLimited:
      return http::status::too_many_requests;
    case ErrorCode::kUnavailable:
      return http::status::service_unavailable;
  }
  // Every enumerator is handled above (-Wswitch says so when one is added);
  // only a value cast from outside the enum gets here.
  assert(false && "not an ErrorCode");
  return http::status::internal_server_error;
}

}  // namespace sbd
