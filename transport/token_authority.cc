#include "transport/token_authority.h"

#include <jwt.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <cstdlib>
#include <memory>

#include "absl/strings/str_cat.h"
#include "engine/absl_compat.h"
#include "engine/error_code.h"

namespace sbd {
namespace {

struct JwtDeleter {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtDeleter>;

struct MallocDeleter {
  void operator()(char* p) const { std::free(p); }
};
using MallocString = std::unique_ptr<char, MallocDeleter>;

absl::Status Unauthorized(std::string_view detail) {
  return MakeError(ErrorCode::kUnauthorized, detail);
}

// Which way a fractional NumericDate is rounded to whole seconds: always
// toward the stricter side (an `exp` of 10.5 ends at 10, an `nbf` of 10.5
// starts at 11).
enum class Rounding { kDown, kUp };

// A NumericDate claim (RFC 7519 §2: a JSON number of seconds, possibly
// fractional) as Unix seconds; nullopt if it is not a number or is out of
// int64_t's range. A uint64 beyond INT64_MAX saturates (it is never reached).
std::optional<int64_t> NumericDate(const boost::json::value& value, Rounding rounding) {
  if (value.is_int64()) return value.get_int64();
  if (value.is_uint64()) return INT64_MAX;
  if (!value.is_double()) return std::nullopt;
  const double rounded =
      rounding == Rounding::kDown ? std::floor(value.get_double()) : std::ceil(value.get_double());
  if (!(rounded > -9.2e18 && rounded < 9.2e18)) return std::nullopt;
  return static_cast<int64_t>(rounded);
}

// Refuses every header but one naming exactly "HS256" and no `crit`. The
// header as libjwt read it (the values it checked the signature with):
// jwt_get_alg is no use here, libjwt maps the name case-insensitively.
absl::Status CheckHeader(jwt_t* jwt) {
  MallocString header_json(jwt_get_headers_json(jwt, nullptr));
  if (header_json == nullptr) return Unauthorized("token has no header");
  boost::system::error_code header_error;
  boost::json::value header = boost::json::parse(header_json.get(), header_error);
  if (header_error || !header.is_object()) return Unauthorized("token header is not an object");
  const boost::json::value* alg = header.get_object().if_contains("alg");
  if (alg == nullptr || !alg->is_string() || alg->get_string() != "HS256") {
    return Unauthorized("token algorithm must be HS256");
  }
  if (header.get_object().contains("crit")) {
    return Unauthorized("token header has crit: no extension is understood");
  }
  return absl::OkStatus();
}

// The claims, a JSON object.
absl::StatusOr<boost::json::value> Claims(jwt_t* jwt) {
  MallocString grants(jwt_get_grants_json(jwt, nullptr));
  if (grants == nullptr) return Unauthorized("token has no claims");
  boost::system::error_code parse_error;
  boost::json::value claims = boost::json::parse(grants.get(), parse_error);
  if (parse_error || !claims.is_object()) return Unauthorized("token claims are not an object");
  return claims;
}

// The origin's permanent tokens: token_type "permanent" and a token_id,
// `exp` optional. Whether they are accepted is Verify's rule.
absl::Status ReadPermanentTokenId(const boost::json::object& claims, Identity& identity) {
  if (const boost::json::value* token_type = claims.if_contains("token_type")) {
    if (token_type->is_string() && token_type->get_string() == "permanent") {
      const boost::json::value* token_id = claims.if_contains("token_id");
      if (token_id == nullptr || !token_id->is_string() || token_id->get_string().empty()) {
        return Unauthorized("permanent token has no token_id");
      }
      identity.permanent_token_id = std::string(token_id->get_string());
    }
  }
  return absl::OkStatus();
}

// `exp` (required but for a permanent token) and `nbf`, each rounded toward
// the stricter side.
absl::Status ReadValidity(const boost::json::object& claims, Identity& identity) {
  const boost::json::value* exp = claims.if_contains("exp");
  if (exp == nullptr && identity.permanent_token_id.empty()) {
    return Unauthorized("token has no exp claim");
  }
  identity.expires_at_s = kNeverExpires;
  if (exp != nullptr) {
    std::optional<int64_t> expires_at_s = NumericDate(*exp, Rounding::kDown);
    if (!expires_at_s) return Unauthorized("token exp is not a number in range");
    identity.expires_at_s = *expires_at_s;
  }
  if (const boost::json::value* nbf = claims.if_contains("nbf")) {
    std::optional<int64_t> not_before_s = NumericDate(*nbf, Rounding::kUp);
    if (!not_before_s) return Unauthorized("token nbf is not a number in range");
    identity.not_before_s = *not_before_s;
  }
  return absl::OkStatus();
}

// The identity the claims state, checked in order: sub, the permanent
// token's id, exp and nbf, type, role.
absl::StatusOr<Identity> IdentityOf(const boost::json::object& claims) {
  Identity identity;
  const boost::json::value* sub = claims.if_contains("sub");
  if (sub == nullptr || !sub->is_string() || sub->get_string().empty()) {
    return Unauthorized("token has no sub claim");
  }
  identity.subject = std::string(sub->get_string());
  if (absl::Status read = ReadPermanentTokenId(claims, identity); !read.ok()) return read;
  if (absl::Status read = ReadValidity(claims, identity); !read.ok()) return read;
  if (const boost::json::value* type = claims.if_contains("type")) {
    if (!type->is_string() || type->get_string() != "access") {
      return Unauthorized("token type must be access");
    }
  }
  if (const boost::json::value* role = claims.if_contains("role")) {
    identity.admin = role->is_string() && role->get_string() == "admin";
    identity.service = role->is_string() && role->get_string() == "service";
  }
  return identity;
}

}  // namespace

TokenAuthority::TokenAuthority(std::string secret, TokenRules rules)
    : secret_(std::move(secret)), rules_(rules) {}

bool TokenAuthority::IsRevoked(const Identity& identity) const {
  return !identity.permanent_token_id.empty() && rules_.revoked != nullptr &&
         rules_.revoked->IsRevoked(identity.permanent_token_id);
}

absl::StatusOr<Identity> TokenAuthority::Verify(std::string_view token, int64_t now_s) const {
  if (token.empty()) return Unauthorized("missing token");
  if (secret_.empty()) return Unauthorized("the server has no signing secret");
  std::optional<Identity> identity = Cached(token);
  if (!identity) {
    absl::StatusOr<Identity> decoded = Decode(token);
    if (!decoded.ok()) return decoded.status();
    identity = *decoded;
    Remember(token, *identity);
  }
  // Checked at every use, cached or not: a token is never good from `exp`
  // on (no leeway, see kNotBeforeLeewayS), nor before `nbf` less the leeway.
  if (identity->expires_at_s <= now_s) return Unauthorized("token expired");
  const int64_t latest_not_before_s =
      now_s > INT64_MAX - kNotBeforeLeewayS ? INT64_MAX : now_s + kNotBeforeLeewayS;
  if (identity->not_before_s > latest_not_before_s) return Unauthorized("token not yet valid");
  if (!identity->permanent_token_id.empty()) {
    if (!rules_.permanent_tokens) {
      return Unauthorized("permanent tokens are not accepted (see --permanent-tokens)");
    }
    if (IsRevoked(*identity)) return Unauthorized("token revoked");
  }
  return *identity;
}

std::optional<Identity> TokenAuthority::Cached(std::string_view token) const {
  MutexLock lock(cache_->mutex);
  auto it = cache_->identities.find(ToAbsl(token));
  if (it == cache_->identities.end()) return std::nullopt;
  return it->second;
}

void TokenAuthority::Remember(std::string_view token, const Identity& identity) const {
  MutexLock lock(cache_->mutex);
  // Crude but bounded: a full cache starts over. Only tokens whose signature
  // checked out get here, so a flood of forged tokens cannot grow it.
  if (cache_->identities.size() >= kVerifiedTokensCachedMax) cache_->identities.clear();
  cache_->identities.emplace(std::string(token), identity);
}

absl::StatusOr<Identity> TokenAuthority::Decode(std::string_view token) const {
  const std::string token_string(token);  // libjwt wants a NUL-terminated string.
  jwt_t* raw = nullptr;
  // With a key, libjwt checks the signature with the algorithm the header
  // names; CheckHeader then refuses anything but exactly "HS256" (alg
  // "none", "hs256", HS384/512 and the RSA/EC families alike).
  int error =
      jwt_decode(&raw, token_string.c_str(), reinterpret_cast<const unsigned char*>(secret_.data()),
                 static_cast<int>(secret_.size()));
  JwtPtr jwt(raw);
  if (error != 0 || jwt == nullptr) return Unauthorized("invalid token");
  if (absl::Status header = CheckHeader(jwt.get()); !header.ok()) return header;
  absl::StatusOr<boost::json::value> claims = Claims(jwt.get());
  if (!claims.ok()) return claims.status();
  return IdentityOf(claims->get_object());
}

absl::StatusOr<std::string> TokenAuthority::Issue(std::string_view subject, Role role,
                                                  int64_t ttl_s, int64_t now_s) const {
  if (secret_.empty()) return absl::FailedPreconditionError("no signing secret");
  if (subject.empty()) return absl::InvalidArgumentError("empty subject");
  // libjwt takes C strings: a NUL would sign a token for a prefix.
  if (subject.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError("subject contains a NUL byte");
  }
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) return absl::ResourceExhaustedError("jwt_new failed");
  JwtPtr jwt(raw);
  const std::string subject_string(subject);
  bool ok =
      jwt_set_alg(jwt.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret_.data()),
                  static_cast<int>(secret_.size())) == 0;
  ok = ok && jwt_add_grant(jwt.get(), "sub", subject_string.c_str()) == 0;
  ok = ok && jwt_add_grant_int(jwt.get(), "iat", static_cast<long>(now_s)) == 0;
  ok = ok && jwt_add_grant_int(jwt.get(), "exp", static_cast<long>(now_s + ttl_s)) == 0;
  ok = ok && jwt_add_grant(jwt.get(), "type", "access") == 0;
  if (role != Role::kUser) {
    ok = ok && jwt_add_grant(jwt.get(), "role", role == Role::kAdmin ? "admin" : "service") == 0;
  }
  if (!ok) return absl::InternalError("could not build the token");
  MallocString encoded(jwt_encode_str(jwt.get()));
  if (encoded == nullptr) return absl::InternalError("could not sign the token");
  return std::string(encoded.get());
}

}  // namespace sbd
