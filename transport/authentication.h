// Authentication: who an HTTP request speaks for, from its
// `Authorization: Bearer <jwt>` header, and whether that caller may use a
// route (API.md "Authentication"). Failures come back as the ErrorCode the
// route answers with (unauthorized, forbidden, invalid_field,
// invalid_username, account_not_found).
//
// Thread-safety: pure functions of the request and the context (whose token
// authority is thread-safe) and of the ledger (whose reads are); call from any thread.
#ifndef SBD_TRANSPORT_AUTHENTICATION_H_
#define SBD_TRANSPORT_AUTHENTICATION_H_

#include <string>

#include "absl/status/statusor.h"
#include "engine/ledger.h"
#include "transport/http_message.h"
#include "transport/server_context.h"
#include "transport/token_authority.h"

namespace sbd {

// The bearer token's identity: invalid_field for two Authorization headers,
// unauthorized for a missing, malformed or bad token.
absl::StatusOr<Identity> Authenticate(const HttpRequest& request, const ServerContext& context);

// The caller's canonical account name: unauthorized, then invalid_username,
// then account_not_found (in `ledger`).
absl::StatusOr<std::string> AuthenticateAccount(const HttpRequest& request,
                                                const ServerContext& context, const Ledger& ledger);

// An admin's identity: unauthorized, then forbidden (a service token too).
absl::StatusOr<Identity> AuthenticateAdmin(const HttpRequest& request,
                                           const ServerContext& context);

// An admin's or a service's identity (POST /admin/transfer): unauthorized,
// then forbidden.
absl::StatusOr<Identity> AuthenticateTransferIssuer(const HttpRequest& request,
                                                    const ServerContext& context);

}  // namespace sbd

#endif  // SBD_TRANSPORT_AUTHENTICATION_H_
