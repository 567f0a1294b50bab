// Setting up accounts on a running server the way a client would: over HTTP,
// with an admin token signed with the test secret.
//
// Thread-safety: as the HttpClient used.
#ifndef SBD_TESTS_SUPPORT_ACCOUNTS_H_
#define SBD_TESTS_SUPPORT_ACCOUNTS_H_

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "tests/support/http_client.h"

namespace sbd::testing {

// POST /admin/accounts for `name`, then, if `amount` > 0, POST /admin/mint of
// `amount` to it. An error naming the answer if either is not 201 / 200.
absl::Status OpenFundedAccount(HttpClient& client, std::string_view name, int64_t amount);

}  // namespace sbd::testing

#endif  // SBD_TESTS_SUPPORT_ACCOUNTS_H_
