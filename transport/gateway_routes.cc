#include "transport/gateway_routes.h"

#include <boost/asio/dispatch.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "engine/account_feed.h"
#include "transport/answers.h"
#include "transport/limits.h"
#include "transport/metrics.h"
#include "transport/rejection.h"
#include "transport/request_target.h"
#include "transport/websocket_request.h"

namespace sbd {

namespace http = boost::beast::http;

void GatewayRoutes::Handle(const HttpRequest& request, const SessionStrand& /*executor*/,
                           Respond respond) {
  std::optional<boost::urls::pct_string_view> path = EncodedPath(request);
  if (!path.has_value()) {
    return std::move(respond)(
        RejectRequest(context_.metrics, ErrorCode::kNotFound, "malformed request target"));
  }
  const bool health = **path == "/healthz";
  const bool metrics = **path == "/metrics";
  if (!health && !metrics && **path != kWebSocketPath) {
    return std::move(respond)(
        RejectRequest(context_.metrics, ErrorCode::kNotFound,
                      absl::StrCat("no such path on a gateway: ", Printable(path->decode()))));
  }
  // /ws itself only reaches here as a preflight (IsWebSocketRequest).
  if (request.method() != http::verb::get) {
    HttpResponse response = RejectRequest(context_.metrics, ErrorCode::kMethodNotAllowed,
                                          "this path allows GET");
    response.set(http::field::allow, "GET");
    return std::move(respond)(std::move(response));
  }
  std::move(respond)(health ? Health() : RenderMetrics());
}

HttpResponse GatewayRoutes::Health() const {
  return GatewayHealthAnswer(
      gateway_, gateway_.following() && gateway_.stream_lag() <= kGatewayLagMessagesMax);
}

HttpResponse GatewayRoutes::RenderMetrics() const {
  std::string text = context_.metrics.RenderPrometheus();
  Metrics::RenderGateway(gateway_, text);
  return MakeResponse(http::status::ok, "text/plain; version=0.0.4; charset=utf-8",
                      std::move(text));
}

void GatewayRoutes::AuthorizeWebSocket(const HttpRequest& request, const SessionStrand& executor,
                                       GrantDone done) {
  std::variant<WebSocketRequest, HttpResponse> checked = CheckWebSocketRequest(request, context_);
  if (HttpResponse* response = std::get_if<HttpResponse>(&checked)) {
    return std::move(done)(std::move(*response));
  }
  // Whether the account exists, as a node checks it before upgrading: the
  // answer comes from the window at once or from a node later, and the
  // handshake goes on on the session's executor either way.
  auto grant = std::make_shared<WebSocketGrant>(std::get<WebSocketRequest>(std::move(checked)).grant);
  const std::string username = grant->username;
  context_.feed.Snapshot(
      username, [this, &request, executor, grant = std::move(grant),
                 done = std::move(done)](absl::StatusOr<FeedSnapshot> snapshot) mutable {
        boost::asio::dispatch(executor, [this, &request, grant = std::move(grant),
                                         done = std::move(done),
                                         snapshot = std::move(snapshot)]() mutable {
          if (!snapshot.ok()) return std::move(done)(RejectFailure(context_.metrics, snapshot.status()));
          if (std::optional<HttpResponse> refused = CheckUpgrade(request, context_)) {
            return std::move(done)(*std::move(refused));
          }
          std::move(done)(std::move(*grant));
        });
      });
}

}  // namespace sbd
