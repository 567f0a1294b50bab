// TokenAuthority: issues and verifies the API's JWTs (HS256, libjwt).
//
// Verify enforces (docs/ARCHITECTURE.md "Tokens" lists the same rules):
//  - the signature, with the server's secret;
//  - the header's `alg` is exactly "HS256" (RFC 7515 names are
//    case-sensitive; libjwt alone would take "hs256"), and the header has no
//    `crit` (RFC 7515 §4.1.11: we understand no extension, so any `crit`,
//    even an empty or malformed one, is refused);
//  - `exp` present, a number, and later than now (no leeway, see Verify);
//  - `nbf`, if present, a number no later than now + kNotBeforeLeewayS;
//  - `sub` present, `type` absent or "access" (the origin's refresh tokens
//    say "refresh" and are refused); other claims (the origin's
//    `token_version`, `user_id`, `tenant_memberships`, ...) are ignored;
//  - a permanent token (`token_type: "permanent"` with a `token_id`; the
//    origin's long-lived API tokens, which may carry no `exp`) only with
//    TokenRules::permanent_tokens, and never once its `token_id` is in the
//    revocation list (checked at every use, like `exp`).
// It does not canonicalise `sub`; the routes do (invalid_username). It does
// not bound the token's size either: the caller's request header limit does
// (`--header-limit`; the origin's tokens grow with `tenant_memberships`).
//
// Verifying a signature (libjwt's HMAC and claim parsing) was ~11% of the
// server's CPU with a request per keep-alive round trip, so decoded tokens
// are cached by their exact text (bounded; `exp` and `nbf` are still
// checked against the clock on every use).
//
// Thread-safety: every method is thread-safe (the cache has its own mutex).
#ifndef SBD_TRANSPORT_TOKEN_AUTHORITY_H_
#define SBD_TRANSPORT_TOKEN_AUTHORITY_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "engine/mutex.h"
#include "transport/revoked_tokens.h"

namespace sbd {

// `exp` of a permanent token that has none.
inline constexpr int64_t kNeverExpires = INT64_MAX;

struct Identity {
  std::string subject;       // The `sub` claim as sent.
  bool admin = false;        // role == "admin".
  int64_t expires_at_s = 0;  // `exp`, Unix seconds; kNeverExpires if none.
  // `nbf`, Unix seconds; INT64_MIN when the token has none.
  int64_t not_before_s = INT64_MIN;
  // role == "service": of the admin routes, POST /admin/transfer only.
  bool service = false;
  // A permanent token's `token_id` (what the revocation list names); empty
  // for an access token.
  std::string permanent_token_id = {};
};

// The `role` claim a token is issued with.
enum class Role { kUser, kAdmin, kService };

// How far ahead of our clock a token's `nbf` may be. The issuer's clock may
// run ahead of ours: a token it mints "now" with nbf = now would otherwise be
// refused here for the few seconds the clocks differ. 30 s covers NTP-synced
// hosts with room to spare and lets no token in meaningfully early. `exp`
// gets no leeway: API.md enforces it and closes a WebSocket with 1008 *at*
// expiry, so HTTP must refuse the token from that same second on.
inline constexpr int64_t kNotBeforeLeewayS = 30;

// Verified tokens remembered: far more than the users active at once.
inline constexpr size_t kVerifiedTokensCachedMax = 4096;

// What the server accepts beyond access tokens (`sbd-ledger serve` flags).
struct TokenRules {
  bool permanent_tokens = false;  // --permanent-tokens.
  // --revoked-tokens; null: none revoked. Must outlive the authority.
  const RevokedTokens* revoked = nullptr;
};

class TokenAuthority {
 public:
  explicit TokenAuthority(std::string secret, TokenRules rules = {});

  // Whether `identity` is a permanent token now revoked (an open WebSocket
  // re-checks with this after the list is reloaded).
  bool IsRevoked(const Identity& identity) const;

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
  // Everything but the `exp` and `nbf` checks against the clock.
  absl::StatusOr<Identity> Decode(std::string_view token) const;
  std::optional<Identity> Cached(std::string_view token) const;
  void Remember(std::string_view token, const Identity& identity) const;

  struct VerifiedCache {
    Mutex mutex;
    absl::flat_hash_map<std::string, Identity> identities ABSL_GUARDED_BY(mutex);
  };

  std::string secret_;
  TokenRules rules_;
  // Behind a pointer so a TokenAuthority stays movable.
  std::unique_ptr<VerifiedCache> cache_ = std::make_unique<VerifiedCache>();
};

}  // namespace sbd

#endif  // SBD_TRANSPORT_TOKEN_AUTHORITY_H_
