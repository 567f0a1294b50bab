// WriteForwarder: cluster mode's follower side of a write (docs/CLUSTER.md
// "Nodes"). A follower does not decide commands; it sends the request as it
// came (method, target, headers, body) to the writer's HTTP address, which
// the writer lease names, waits until it has applied the seq the writer's
// answer carries (X-SBD-Seq), so that the client's next read here sees its
// write, and answers with the writer's response unchanged.
//
// A forwarded request is marked (kForwardedHeader) and a node that is not
// the writer either refuses it with 503 instead of forwarding it again, so
// a stale lease can never bounce a request around. No writer known, or one
// that cannot be reached, is 503 unavailable with Retry-After, and nothing
// was applied — or, if the writer applied it and its answer was lost, the
// client's retry with the same transaction_id is answered duplicate:true.
//
// Thread-safety: one WriteForwarder serves every session; Forward may be
// called from any io thread. Each forward runs on the calling session's
// strand and answers there.
#ifndef SBD_TRANSPORT_WRITE_FORWARDER_H_
#define SBD_TRANSPORT_WRITE_FORWARDER_H_

#include <chrono>
#include <cstdint>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "engine/cluster_view.h"
#include "engine/ledger.h"
#include "transport/http_message.h"
#include "transport/session_strand.h"

namespace sbd {

// Set on a request a follower forwards (its value: the follower's node id).
inline constexpr char kForwardedHeader[] = "X-SBD-Forwarded-By";
// The seq this node had applied when it answered (every answer in cluster
// mode carries it).
inline constexpr char kSeqHeader[] = "X-SBD-Seq";

class WriteForwarder {
 public:
  // The writer's answer, or kUnavailable saying why there is none.
  using Done = absl::AnyInvocable<void(absl::StatusOr<HttpResponse>) &&>;

  WriteForwarder(const ClusterView& cluster, const Ledger& ledger);

  // Forwards a copy of `request` and calls `done` on `executor`.
  void Forward(const HttpRequest& request, const SessionStrand& executor, Done done) const;

 private:
  const ClusterView& cluster_;
  const Ledger& ledger_;
};

}  // namespace sbd

#endif  // SBD_TRANSPORT_WRITE_FORWARDER_H_
