// GatewayView: what a cluster gateway's serving side needs to know of the
// stream it follows (docs/CLUSTER.md "Gateways"): how far it has applied,
// how far behind it is, whether it is following at all, and the window of
// recent events it holds. store/cluster's GatewayFeed implements it;
// transport reads it (/healthz, /metrics) and never sees NATS.
//
// Thread-safety: every method may be called from any thread.
#ifndef SBD_ENGINE_GATEWAY_VIEW_H_
#define SBD_ENGINE_GATEWAY_VIEW_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace sbd {

class GatewayView {
 public:
  virtual ~GatewayView() = default;

  // --node-id: the gateway's name in /healthz and /metrics.
  virtual const std::string& node_id() const = 0;
  // The last event seq fanned out to the connections.
  virtual int64_t applied_seq() const = 0;
  // Stream messages not applied yet, as of the last look at the stream.
  virtual int64_t stream_lag() const = 0;
  // Connected to NATS and reading the stream.
  virtual bool following() const = 0;
  // The window of recent events: how many, and their estimated bytes.
  virtual size_t window_events() const = 0;
  virtual size_t window_bytes() const = 0;
};

}  // namespace sbd

#endif  // SBD_ENGINE_GATEWAY_VIEW_H_
