// Metrics: the server's counters and histograms, rendered for GET /metrics in
// the Prometheus text exposition format.
//
// Thread-safety: every method is thread-safe (relaxed atomics); Render reads a
// consistent-enough snapshot for monitoring, not an atomic one.
#ifndef SBD_TRANSPORT_METRICS_H_
#define SBD_TRANSPORT_METRICS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "engine/cluster_view.h"
#include "engine/error_code.h"
#include "engine/gateway_view.h"

namespace sbd {

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  void CountTransfer();
  void CountRejection(ErrorCode code);
  // Ledger::Options::on_commit feeds this.
  void ObserveCommit(size_t batch_size, absl::Duration latency, bool ok);
  void WebSocketOpened();
  void WebSocketClosed();
  void CountMessagesSent(size_t count);
  void CountSlowConsumerDisconnect();
  void CountResume();
  void CountHttpRequest();
  // Access-log lines dropped because stderr was not draining (AccessLog).
  void CountAccessLogDropped(uint64_t lines);

  std::string RenderPrometheus() const;
  // Cluster mode's lines, appended to `out`: the node's role, the seq it has
  // applied, its replication lag and its failovers (docs/CLUSTER.md).
  static void RenderCluster(const ClusterView& cluster, int64_t applied_seq, std::string& out);
  // A gateway's lines, appended to `out`: the seq it has applied, its lag,
  // whether it follows the stream, and its window (docs/CLUSTER.md).
  static void RenderGateway(const GatewayView& gateway, std::string& out);

 private:
  struct State;
  State* state_;  // Owned; a pointer so the atomics stay out of this header.
};

}  // namespace sbd

#endif  // SBD_TRANSPORT_METRICS_H_
