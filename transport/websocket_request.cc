#include "transport/websocket_request.h"

#include <boost/beast/http/verb.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <utility>

#include "engine/validation.h"
#include "transport/cors_policy.h"
#include "transport/rejection.h"
#include "transport/request_target.h"

namespace sbd {

namespace http = boost::beast::http;

bool IsWebSocketRequest(const HttpRequest& request) {
  if (request.method() == http::verb::options) return false;
  std::optional<boost::urls::pct_string_view> path = EncodedPath(request);
  return path.has_value() && **path == kWebSocketPath;
}

std::variant<WebSocketRequest, HttpResponse> CheckWebSocketRequest(const HttpRequest& request,
                                                                   const ServerContext& context) {
  // Cross-site WebSocket hijacking guard: a browser always sends Origin;
  // with a list configured, only listed origins and the server's own pass.
  if (const CorsPolicy& cors = context.options.cors; cors.enabled()) {
    auto origin = request.find(http::field::origin);
    auto host = request.find(http::field::host);
    if (origin != request.end() && !cors.Allows(origin->value()) &&
        !(host != request.end() && CorsPolicy::IsSameOrigin(origin->value(), host->value()))) {
      return RejectRequest(context.metrics, ErrorCode::kForbidden,
                           "this origin may not open a WebSocket");
    }
  }
  if (request.method() != http::verb::get) {
    HttpResponse response =
        RejectRequest(context.metrics, ErrorCode::kMethodNotAllowed, "/ws allows GET");
    response.set(http::field::allow, "GET");
    return response;
  }
  Query query = ParseQuery(request.target());
  // As with two Authorization headers: whatever sits in front of us may
  // have read the other one.
  if (query.Count("token") > 1) {
    return RejectRequest(context.metrics, ErrorCode::kInvalidField, "more than one token parameter");
  }
  std::optional<std::string> token = query.Get("token");
  if (!token.has_value() || token->empty()) {
    return RejectRequest(context.metrics, ErrorCode::kUnauthorized, "missing ?token=");
  }
  absl::StatusOr<Identity> identity = context.tokens.Verify(*token, context.now_s());
  if (!identity.ok()) return RejectFailure(context.metrics, identity.status());
  absl::StatusOr<std::string> account = CanonicalUsername(identity->subject);
  if (!account.ok()) return RejectFailure(context.metrics, account.status());
  WebSocketRequest checked;
  if (std::optional<std::string> since = query.Get("since")) {
    checked.grant.since = ParseNonNegative(*since);
    if (!checked.grant.since.has_value()) {
      return RejectRequest(context.metrics, ErrorCode::kInvalidField,
                           "since must be a non-negative integer");
    }
  }
  checked.grant.username = *std::move(account);
  checked.grant.identity = *std::move(identity);
  checked.token = *std::move(token);
  return checked;
}

std::optional<HttpResponse> CheckUpgrade(const HttpRequest& request, const ServerContext& context) {
  if (boost::beast::websocket::is_upgrade(request)) return std::nullopt;
  return RejectRequest(context.metrics, ErrorCode::kInvalidField,
                       "expected a WebSocket upgrade request");
}

}  // namespace sbd
