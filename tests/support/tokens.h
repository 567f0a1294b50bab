// Token helpers for end-to-end tests: tokens signed with the test server's
// secret (kTestSecret), and deliberately broken ones.
//
// Thread-safety: pure functions.
#ifndef SBD_TESTS_SUPPORT_TOKENS_H_
#define SBD_TESTS_SUPPORT_TOKENS_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace sbd::testing {

// A valid token for `user`, signed with kTestSecret (or `secret`), expiring
// ttl_s seconds from now (negative: already expired).
std::string MakeToken(std::string_view user, bool admin = false, int64_t ttl_s = 3600);
std::string MakeTokenWithSecret(std::string_view secret, std::string_view user, bool admin = false,
                                int64_t ttl_s = 3600);
// A valid token for `user` with `role: "service"` (POST /admin/transfer).
std::string MakeServiceToken(std::string_view user, int64_t ttl_s = 3600);

// A token with exactly the given header and payload JSON, signed HS256 with
// `secret` (the header's `alg` is not looked at: this forges e.g. "none" or
// "HS512" headers, or payloads without `exp` or `sub`). With sign = false the
// signature part is empty (an `alg: none` token).
std::string MakeRawToken(std::string_view header_json, std::string_view payload_json,
                         std::string_view secret, bool sign = true);

// Unix seconds now.
int64_t NowSeconds();

}  // namespace sbd::testing

#endif  // SBD_TESTS_SUPPORT_TOKENS_H_
