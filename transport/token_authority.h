// TokenAuthority: issues and verifies the API's JWTs (HS256, libjwt).
//
// Verify enforces: signature with the server's secret, alg HS256 only,
// `exp` present and in the future, `sub` present, `type` absent or "access".
// It does not canonicalise `sub`; the routes do (invalid_username).
//
// Thread-safety: immutable after construction; every method is thread-safe.
#ifndef SBD_TRANSPORT_TOKEN_AUTHORITY_H_
#define SBD_TRANSPORT_TOKEN_AUTHORITY_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sbd {

struct Identity {
  std::string subject;     // The `sub` claim as sent.
  bool admin = false;      // role == "admin".
  int64_t expires_at_s = 0;  // `exp`, Unix seconds.
};

class TokenAuthority {
 public:
  explicit TokenAuthority(std::string secret);

  // ErrorCode::kUnauthorized (via MakeError) for anything wrong with the token.
  absl::StatusOr<Identity> Verify(std::string_view token, int64_t now_s) const;

  // A signed token for `subject`, valid for ttl_s seconds from now_s.
  absl::StatusOr<std::string> Issue(std::string_view subject, bool admin, int64_t ttl_s,
                                    int64_t now_s) const;

 private:
  std::string secret_;
};

}  // namespace sbd

#endif  // SBD_TRANSPORT_TOKEN_AUTHORITY_H_
