#include "tests/support/tokens.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cassert>
#include <chrono>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "tests/support/server_process.h"
#include "transport/token_authority.h"

namespace sbd::testing {

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string MakeTokenWithSecret(std::string_view secret, std::string_view user, bool admin,
                                int64_t ttl_s) {
  TokenAuthority authority{std::string(secret)};
  absl::StatusOr<std::string> token = authority.Issue(user, admin, ttl_s, NowSeconds());
  assert(token.ok());
  return token.ok() ? *token : std::string();
}

std::string MakeToken(std::string_view user, bool admin, int64_t ttl_s) {
  return MakeTokenWithSecret(kTestSecret, user, admin, ttl_s);
}

std::string MakeServiceToken(std::string_view user, int64_t ttl_s) {
  TokenAuthority authority{std::string(kTestSecret)};
  absl::StatusOr<std::string> token = authority.Issue(user, Role::kService, ttl_s, NowSeconds());
  assert(token.ok());
  return token.ok() ? *token : std::string();
}

std::string MakeRawToken(std::string_view header_json, std::string_view payload_json,
                         std::string_view secret, bool sign) {
  std::string signing_input = absl::StrCat(absl::WebSafeBase64Escape(std::string(header_json)), ".",
                                           absl::WebSafeBase64Escape(std::string(payload_json)));
  if (!sign) return absl::StrCat(signing_input, ".");
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac,
       &mac_size);
  return absl::StrCat(
      signing_input, ".",
      absl::WebSafeBase64Escape(std::string(reinterpret_cast<const char*>(mac), mac_size)));
}

}  // namespace sbd::testing
