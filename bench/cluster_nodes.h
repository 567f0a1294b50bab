// ClusterNodes: the `sbd-ledger serve --cluster` nodes a cluster benchmark
// runs as child processes on 127.0.0.1 (`sbd-bench cluster`, `sbd-bench
// gateway`), all signing tokens with kSecret: started, restarted on their own
// log, killed, and asked over HTTP which one is the writer. HttpCall is the
// one-request client those checks use.
//
// Thread-safety: none; owned by the benchmark's main thread.
#ifndef SBD_BENCH_CLUSTER_NODES_H_
#define SBD_BENCH_CLUSTER_NODES_H_

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/verb.hpp>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/server_under_test.h"

namespace sbd::bench {

// One request on a fresh connection to `endpoint` (3 s bound on the whole
// exchange); its status and body. `token` empty: no Authorization.
absl::StatusOr<std::pair<int, std::string>> HttpCall(const boost::asio::ip::tcp::endpoint& endpoint,
                                                     boost::beast::http::verb method,
                                                     const std::string& target,
                                                     const std::string& body,
                                                     const std::string& token);

struct ClusterNodesOptions {
  std::string ledger_binary;
  std::filesystem::path directory;  // The nodes' logs go to directory/nodes.
  std::string urls;                 // The nats-servers, comma-separated (--cluster).
  int64_t lease_ms = 2000;          // serve --lease-ms.
  size_t connections_max = 0;       // serve --connections-max; 0: its default.
};

class ClusterNodes {
 public:
  // The nodes' (and a benchmark's gateways') signing secret.
  static constexpr char kSecret[] = "sbd-bench-cluster-secret-0123456789abcdef";

  explicit ClusterNodes(ClusterNodesOptions options) : options_(std::move(options)) {}

  // Starts node i ("nodeI"); a restart of a node that ran before keeps its
  // log.
  absl::Status Start(size_t i);
  // The node whose /healthz says writer, waited for (at most a minute).
  absl::StatusOr<size_t> AwaitWriter();
  // kill -9 of node `victim`, then the seconds until a survivor answers a
  // write (POST /admin/accounts "failover-SERIAL") with 2xx.
  absl::StatusOr<double> KillAndTime(size_t victim, size_t serial);

  size_t size() const { return nodes_.size(); }
  const ServerUnderTest& node(size_t i) const { return *nodes_[i]; }
  const std::string& address(size_t i) const { return nodes_[i]->host(); }
  // Node i as a --target for the e2e workload (its address and kSecret).
  ServerOptions Target(size_t i) const;

 private:
  const ClusterNodesOptions options_;
  std::vector<std::unique_ptr<ServerUnderTest>> nodes_;
};

}  // namespace sbd::bench

#endif  // SBD_BENCH_CLUSTER_NODES_H_
