// HttpStatusOf: the status API.md gives each error code.
#include "transport/http_status.h"

#include <gtest/gtest.h>

#include <iterator>
#include <utility>

namespace sbd {
namespace {

// Moved from tests/engine/validation_test.cc with the mapping itself.
TEST(HttpStatusOf, MapsEachCodeToItsApiStatus) {
  EXPECT_EQ(static_cast<int>(HttpStatusOf(ErrorCode::kInsufficientFunds)), 400);
  EXPECT_EQ(static_cast<int>(HttpStatusOf(ErrorCode::kAccountExists)), 409);
  EXPECT_EQ(static_cast<int>(HttpStatusOf(ErrorCode::kUnavailable)), 503);
}

// Every code of API.md "Errors", with its status.
TEST(HttpStatusOf, EveryCode) {
  const std::pair<ErrorCode, int> expected[] = {
      {ErrorCode::kInvalidJson, 400},     {ErrorCode::kMissingFields, 400},
      {ErrorCode::kInvalidAmount, 400},   {ErrorCode::kInvalidUsername, 400},
      {ErrorCode::kSelfTransfer, 400},    {ErrorCode::kInsufficientFunds, 400},
      {ErrorCode::kBalanceOverflow, 400}, {ErrorCode::kInvalidField, 400},
      {ErrorCode::kUnauthorized, 401},    {ErrorCode::kForbidden, 403},
      {ErrorCode::kAccountNotFound, 404}, {ErrorCode::kTransactionNotFound, 404},
      {ErrorCode::kNotFound, 404},        {ErrorCode::kMethodNotAllowed, 405},
      {ErrorCode::kAccountExists, 409},   {ErrorCode::kTransactionIdConflict, 409},
      {ErrorCode::kPayloadTooLarge, 413}, {ErrorCode::kRateLimited, 429},
      {ErrorCode::kUnavailable, 503},
  };
  static_assert(std::size(expected) == static_cast<size_t>(ErrorCode::kUnavailable) + 1);
  for (const auto& [code, status] : expected) {
    EXPECT_EQ(static_cast<int>(HttpStatusOf(code)), status) << ErrorCodeName(code);
  }
}

}  // namespace
}  // namespace sbd
