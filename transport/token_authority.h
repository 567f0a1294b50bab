// TokenAuthority: issues and verifies the API's JWTs (HS256, libjwt).
//
// Verify enforces: signature with the server's secret, alg HS256 only,
// `exp` present and in the future, `sub` present, `type` absent or "access".
// It does not canonicalise `sub`; the routes do (invalid_username).
//
// Verifying a signature (libjwt's HMAC and claim parsing) was ~11% of the
// server's CPU with a request per keep-alive round trip, so decoded tokens
// are cached by their exact text (bounded; `exp` is still checked on every
// use).
//
// Thread-safety: every method is thread-safe (the cache has its own mutex).
#ifndef SBD_TRANSPORT_TOKEN_AUTHORITY_H_
#define SBD_TRANSPORT_TOKEN_AUTHORITY_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace sbd {

struct Identity {
  std::string subject;       // The `sub` claim as sent.
  bool admin = false;        // role == "admin".
  int64_t expires_at_s = 0;  // `exp`, Unix seconds.
  // role == "service": of the admin routes, POST /admin/transfer only. Last,
  // so `Identity{sub, admin, exp}` still reads as it did.
  bool service = false;
};

// The `role` claim a token is issued with.
enum class Role { kUser, kAdmin, kService };

// Verified tokens remembered: far more than the users active at once.
inline constexpr size_t kVerifiedTokensCachedMax = 4096;

class TokenAuthority {
 public:
  explicit TokenAuthority(std::string secret);

  // ErrorCode::kUnauthorized (via MakeError) for anything wrong with the token.
  absl::StatusOr<Identity> Verify(std::string_view token, int64_t now_s) const;

  // A signed token for `subject`, valid for ttl_s seconds from now_s, with
  // `role` "admin" or "service" (none for kUser).
  absl::StatusOr<std::string> Issue(std::string_view subject, Role role, int64_t ttl_s,
                                    int64_t now_s) const;
  absl::StatusOr<std::string> Issue(std::string_view subject, bool admin, int64_t ttl_s,
                                    int64_t now_s) const {
    return Issue(subject, admin ? Role::kAdmin : Role::kUser, ttl_s, now_s);
  }

 private:
  // Everything but the `exp` check against the clock.
  absl::StatusOr<Identity> Decode(std::string_view token) const;
  std::optional<Identity> Cached(std::string_view token) const;
  void Remember(std::string_view token, const Identity& identity) const;

  struct VerifiedCache {
    std::mutex mutex;
    absl::flat_hash_map<std::string, Identity> identities ABSL_GUARDED_BY(mutex);
  };

  std::string secret_;
  // Behind a pointer so a TokenAuthority stays movable.
  std::unique_ptr<VerifiedCache> cache_ = std::make_unique<VerifiedCache>();
};

}  // namespace sbd

#endif  // SBD_TRANSPORT_TOKEN_AUTHORITY_H_
