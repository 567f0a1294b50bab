// GatewayRoutes: the HTTP side of a cluster gateway (docs/CLUSTER.md
// "Gateways"): GET /ws exactly as a node serves it (the same checks, the
// same session), GET /healthz with the seq the gateway has applied and its
// lag (503 while it does not follow the stream or lags past
// kGatewayLagMessagesMax), GET /metrics; every other path is 404
// not_found, and a known path asked with another method 405.
//
// A gateway has no ledger: whether a /ws caller's account exists is asked
// of the context's feed (the window, else a node), asynchronously.
//
// Thread-safety: as RequestHandler; the context and the view must outlive
// every pending answer.
#ifndef SBD_TRANSPORT_GATEWAY_ROUTES_H_
#define SBD_TRANSPORT_GATEWAY_ROUTES_H_

#include "engine/gateway_view.h"
#include "transport/request_handler.h"
#include "transport/server_context.h"

namespace sbd {

class GatewayRoutes : public RequestHandler {
 public:
  GatewayRoutes(const ServerContext& context, const GatewayView& gateway)
      : context_(context), gateway_(gateway) {}
  GatewayRoutes(const GatewayRoutes&) = delete;
  GatewayRoutes& operator=(const GatewayRoutes&) = delete;

  void Handle(const HttpRequest& request, const SessionStrand& executor, Respond respond) override;
  void AuthorizeWebSocket(const HttpRequest& request, const SessionStrand& executor,
                          GrantDone done) override;

 private:
  HttpResponse Health() const;
  HttpResponse RenderMetrics() const;

  const ServerContext& context_;
  const GatewayView& gateway_;
};

}  // namespace sbd

#endif  // SBD_TRANSPORT_GATEWAY_ROUTES_H_
