// NatsCluster: a real NATS JetStream cluster of `servers` nats-server
// processes on 127.0.0.1, for the cluster-mode tests (tests/cluster/): the
// replicated stream the ledger commits to, with servers a test can kill,
// pause and restart to make elections and lost quorums happen.
//
// Start() picks free loopback ports (client, cluster route and monitoring
// HTTP per server), writes one config file per server into `dir` (server
// names n0, n1, ...; JetStream stores in dir/nI; every server routes to all
// others), starts `nats-server -c FILE` for each with its output in
// dir/nI.log, and returns once JetStream is ready cluster-wide: every
// server's GET /healthz answers 200 (in 2.9 that means it is current with
// the meta leader and with every stream and consumer it holds) and a quorum
// of the servers agrees on a meta leader. Every wait is bounded: a cluster
// that does not come up is an error naming the server and quoting the end of
// its log, never a hang.
//
// The destructor SIGKILLs and reaps every server still running, paused ones
// too, as does a Start that fails half-way: no nats-server outlives its
// NatsCluster (and each dies with the test process, by PR_SET_PDEATHSIG).
// `dir` itself is the caller's (a TempDir) and is left as it is.
//
// Thread-safety: none; one test thread drives a NatsCluster. (A client such
// as nats.c may use the servers from any thread.)
#ifndef SBD_TESTS_SUPPORT_NATS_CLUSTER_H_
#define SBD_TESTS_SUPPORT_NATS_CLUSTER_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace boost::json {
class value;
}  // namespace boost::json

namespace sbd::testing {

// The nats-server binary the cluster runs (found when the build was
// configured).
const char* NatsServerBinaryPath();

class NatsCluster {
 public:
  // How long Start and Restart wait for JetStream to be ready, and the
  // leader queries for a leader a quorum agrees on. JetStream elections in
  // 2.9 take a few seconds; the bound is several times that.
  static constexpr std::chrono::seconds kReadyTimeout{20};

  static absl::StatusOr<std::unique_ptr<NatsCluster>> Start(const std::string& dir,
                                                            int servers = 3);

  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;
  ~NatsCluster();

  int size() const { return static_cast<int>(servers_.size()); }
  // "n0", "n1", ...: the server_name, as the monitoring endpoints name it.
  std::string Name(int i) const;
  // "nats://127.0.0.1:PORT" of server i.
  std::string ClientUrl(int i) const;
  // Every server's URL, comma-separated (what `--cluster` takes).
  std::string ClientUrls() const;

  // Whether server i's process is alive (paused or not): started, not
  // killed, not exited by itself.
  bool Running(int i) const;
  // SIGKILL and reap: a crash. Nothing if it is not running.
  void Kill(int i);
  // SIGSTOP / SIGCONT: a server that hangs, its sockets open. Each returns
  // once the kernel reports the process stopped / continued.
  void Pause(int i);
  void Resume(int i);
  // Kills server i if it is running, then starts it again with the same
  // config (same ports, same store dir) and waits, bounded, until its
  // /healthz says JetStream is healthy (caught up with the meta leader and
  // its streams).
  absl::Status Restart(int i);

  // The index of the server that leads the Raft group of stream `stream`
  // (meta group: of the JetStream meta group), retried until a leader is
  // agreed on or kReadyTimeout passes. Agreed means: the server claims the
  // lead itself and a quorum of the servers (itself included) names it,
  // each asked on its monitoring endpoint; a dead or paused server's claim
  // never counts, and neither does a stale view a follower keeps for
  // seconds after the leader died.
  absl::StatusOr<int> StreamLeader(const std::string& stream);
  absl::StatusOr<int> MetaLeader();

  // Where server i writes its output (every launch appended), and its end.
  std::string LogPath(int i) const;
  std::string LogTail(int i) const;

 private:
  struct Server {
    std::string name;
    uint16_t client_port = 0;
    uint16_t route_port = 0;
    uint16_t http_port = 0;
    std::string config_path;
    std::string log_path;
    pid_t pid = -1;  // -1 when not running.
    bool paused = false;
  };
  // What a server's /jsz answer says the leader is ("" for none).
  using LeaderOf = std::function<std::string(const boost::json::value& jsz)>;

  NatsCluster(std::string dir, std::vector<Server> servers);
  absl::Status WriteConfig(int i) const;
  absl::Status Launch(int i);
  // Waits until server i's /healthz answers 200; an error if the process
  // exits first or `deadline` passes.
  absl::Status WaitHealthy(int i, std::chrono::steady_clock::time_point deadline);
  absl::StatusOr<int> AgreedLeader(const std::string& what, const std::string& jsz_target,
                                   const LeaderOf& leader_of);
  // An error about server i: `message`, then the end of its log.
  absl::Status ServerError(int i, const std::string& message) const;

  std::string dir_;
  std::vector<Server> servers_;
};

}  // namespace sbd::testing

#endif  // SBD_TESTS_SUPPORT_NATS_CLUSTER_H_
