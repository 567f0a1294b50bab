#include "transport/token_authority.h"

#include <jwt.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstdlib>
#include <memory>

#include "absl/strings/str_cat.h"
#include "engine/absl_compat.h"
#include "engine/error_code.h"

namespace sbd {
namespace {

// A token longer than this is refused before it reaches libjwt: ours are
// ~250 bytes, and the request header limit bounds it anyway.
constexpr size_t kTokenBytesMax = 4096;

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

}  // namespace

TokenAuthority::TokenAuthority(std::string secret) : secret_(std::move(secret)) {}

absl::StatusOr<Identity> TokenAuthority::Verify(std::string_view token, int64_t now_s) const {
  if (token.empty()) return Unauthorized("missing token");
  if (token.size() > kTokenBytesMax) return Unauthorized("token too long");
  if (secret_.empty()) return Unauthorized("the server has no signing secret");
  std::optional<Identity> identity = Cached(token);
  if (!identity) {
    absl::StatusOr<Identity> decoded = Decode(token);
    if (!decoded.ok()) return decoded.status();
    identity = *decoded;
    Remember(token, *identity);
  }
  // Checked at every use, cached or not: a token is never good past `exp`.
  if (identity->expires_at_s <= now_s) return Unauthorized("token expired");
  return *identity;
}

std::optional<Identity> TokenAuthority::Cached(std::string_view token) const {
  std::lock_guard lock(cache_->mutex);
  auto it = cache_->identities.find(ToAbsl(token));
  if (it == cache_->identities.end()) return std::nullopt;
  return it->second;
}

void TokenAuthority::Remember(std::string_view token, const Identity& identity) const {
  std::lock_guard lock(cache_->mutex);
  // Crude but bounded: a full cache starts over. Only tokens whose signature
  // checked out get here, so a flood of forged tokens cannot grow it.
  if (cache_->identities.size() >= kVerifiedTokensCachedMax) cache_->identities.clear();
  cache_->identities.emplace(std::string(token), identity);
}

absl::StatusOr<Identity> TokenAuthority::Decode(std::string_view token) const {
  const std::string token_string(token);  // libjwt wants a NUL-terminated string.
  jwt_t* raw = nullptr;
  // With a key, libjwt checks the signature with the algorithm the header
  // names; the alg check below then refuses anything but HS256 (alg "none",
  // HS384/512 and the RSA/EC families alike).
  int error =
      jwt_decode(&raw, token_string.c_str(), reinterpret_cast<const unsigned char*>(secret_.data()),
                 static_cast<int>(secret_.size()));
  JwtPtr jwt(raw);
  if (error != 0 || jwt == nullptr) return Unauthorized("invalid token");
  if (jwt_get_alg(jwt.get()) != JWT_ALG_HS256) return Unauthorized("token algorithm must be HS256");

  MallocString grants(jwt_get_grants_json(jwt.get(), nullptr));
  if (grants == nullptr) return Unauthorized("token has no claims");
  boost::system::error_code parse_error;
  boost::json::value claims = boost::json::parse(grants.get(), parse_error);
  if (parse_error || !claims.is_object()) return Unauthorized("token claims are not an object");
  const boost::json::object& object = claims.get_object();

  Identity identity;
  const boost::json::value* sub = object.if_contains("sub");
  if (sub == nullptr || !sub->is_string() || sub->get_string().empty()) {
    return Unauthorized("token has no sub claim");
  }
  identity.subject = std::string(sub->get_string());

  const boost::json::value* exp = object.if_contains("exp");
  if (exp == nullptr) return Unauthorized("token has no exp claim");
  if (exp->is_int64()) {
    identity.expires_at_s = exp->get_int64();
  } else if (exp->is_uint64()) {
    identity.expires_at_s = INT64_MAX;
  } else if (exp->is_double()) {
    const double value = exp->get_double();
    if (!(value > -9.2e18 && value < 9.2e18)) return Unauthorized("token exp is out of range");
    identity.expires_at_s = static_cast<int64_t>(value);
  } else {
    return Unauthorized("token exp is not a number");
  }
  if (const boost::json::value* type = object.if_contains("type")) {
    if (!type->is_string() || type->get_string() != "access") {
      return Unauthorized("token type must be access");
    }
  }
  if (const boost::json::value* role = object.if_contains("role")) {
    identity.admin = role->is_string() && role->get_string() == "admin";
    identity.service = role->is_string() && role->get_string() == "service";
  }
  return identity;
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
