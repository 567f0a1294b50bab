#include "transport/authentication.h"

#include <boost/beast/http/field.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "engine/absl_compat.h"
#include "engine/error_code.h"
#include "engine/validation.h"

namespace sbd {

namespace http = boost::beast::http;

absl::StatusOr<Identity> Authenticate(const HttpRequest& request, const ServerContext& context) {
  // Two credentials are ambiguous: a proxy in front of us may have checked
  // or logged the other one, so neither is picked.
  if (request.count(http::field::authorization) > 1) {
    return MakeError(ErrorCode::kInvalidField, "more than one Authorization header");
  }
  auto header = request.find(http::field::authorization);
  if (header == request.end()) {
    return MakeError(ErrorCode::kUnauthorized, "missing Authorization: Bearer token");
  }
  absl::string_view value =
      absl::StripAsciiWhitespace(absl::string_view(header->value().data(), header->value().size()));
  constexpr absl::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() || !absl::StartsWithIgnoreCase(value, kScheme)) {
    return MakeError(ErrorCode::kUnauthorized, "the Authorization header must be Bearer <token>");
  }
  value.remove_prefix(kScheme.size());
  return context.tokens.Verify(ToStd(absl::StripLeadingAsciiWhitespace(value)), context.now_s());
}

absl::StatusOr<std::string> AuthenticateAccount(const HttpRequest& request,
                                                const ServerContext& context,
                                                const Ledger& ledger) {
  absl::StatusOr<Identity> identity = Authenticate(request, context);
  if (!identity.ok()) return identity.status();
  absl::StatusOr<std::string> account = CanonicalUsername(identity->subject);
  if (!account.ok()) return account.status();
  absl::StatusOr<int64_t> balance = ledger.Balance(*account);
  if (!balance.ok()) return balance.status();
  return account;
}

absl::StatusOr<Identity> AuthenticateAdmin(const HttpRequest& request,
                                           const ServerContext& context) {
  absl::StatusOr<Identity> identity = Authenticate(request, context);
  if (!identity.ok()) return identity.status();
  if (!identity->admin) return MakeError(ErrorCode::kForbidden, "this route needs role admin");
  return identity;
}

absl::StatusOr<Identity> AuthenticateTransferIssuer(const HttpRequest& request,
                                                    const ServerContext& context) {
  absl::StatusOr<Identity> identity = Authenticate(request, context);
  if (!identity.ok()) return identity.status();
  if (!identity->admin && !identity->service) {
    return MakeError(ErrorCode::kForbidden, "this route needs role admin or service");
  }
  return identity;
}

}  // namespace sbd
