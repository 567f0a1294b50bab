// ClusterView: what the serving side needs to know of cluster mode
// (docs/CLUSTER.md): whether this node takes writes, who does, and the
// counts /metrics shows. store/cluster's ClusterNode implements it;
// transport reads it and never sees NATS. Single-node mode has none.
//
// Thread-safety: every method may be called from any thread.
#ifndef SBD_ENGINE_CLUSTER_VIEW_H_
#define SBD_ENGINE_CLUSTER_VIEW_H_

#include <cstdint>
#include <string>

namespace sbd {

class ClusterView {
 public:
  virtual ~ClusterView() = default;

  virtual const std::string& node_id() const = 0;
  // This node is the writer now: its Ledger's commands reach the stream.
  virtual bool writer() const = 0;
  // Where the writer takes HTTP requests ("http://host:port"), as the
  // writer lease names it; empty while no writer is known.
  virtual std::string writer_address() const = 0;
  // Times this node became the writer.
  virtual int64_t failovers() const = 0;
  // Stream messages this node has not applied yet (as of the last look).
  virtual int64_t stream_lag() const = 0;
};

}  // namespace sbd

#endif  // SBD_ENGINE_CLUSTER_VIEW_H_
