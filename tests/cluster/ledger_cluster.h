// LedgerCluster: cluster mode as a user runs it, for the end-to-end cluster
// tests: a real 3-server JetStream cluster (NatsCluster) and three real
// sbd-ledger processes (`serve --cluster ... --node-id nodeI`), each on its
// own database and port, plus what the tests ask of them: which node is the
// writer (GET /healthz), and the same log on every node (sbd-replay).
//
// Thread-safety: none; one test thread drives it.
#ifndef SBD_TESTS_CLUSTER_LEDGER_CLUSTER_H_
#define SBD_TESTS_CLUSTER_LEDGER_CLUSTER_H_

#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "tests/support/http_client.h"
#include "tests/support/nats_cluster.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"

namespace sbd::testing {

class LedgerCluster {
 public:
  // The writer lease the nodes run with: short, so a failover is seconds.
  static constexpr int kLeaseMs = 2000;

  // `extra_args`: more `serve` flags for every node.
  static absl::StatusOr<std::unique_ptr<LedgerCluster>> Start(
      int nodes = 3, std::vector<std::string> extra_args = {}) {
    auto cluster = std::unique_ptr<LedgerCluster>(new LedgerCluster());
    cluster->extra_args_ = std::move(extra_args);
    absl::StatusOr<std::unique_ptr<NatsCluster>> nats = NatsCluster::Start(cluster->dir_.path());
    if (!nats.ok()) return nats.status();
    cluster->nats_ = *std::move(nats);
    for (int i = 0; i < nodes; ++i) {
      if (absl::Status started = cluster->AddNode(); !started.ok()) return started;
    }
    return cluster;
  }

  NatsCluster& nats() { return *nats_; }
  int size() const { return static_cast<int>(nodes_.size()); }
  ServerProcess& node(int i) { return *nodes_[i]; }
  std::string NodeName(int i) const { return absl::StrCat("node", i); }

  // Starts one more node (a new, empty database: it catches up from the
  // stream).
  absl::Status AddNode() {
    ServerProcessOptions options;
    options.args = {"--cluster",      nats_->ClientUrls(), "--node-id",
                    NodeName(size()), "--lease-ms",        std::to_string(kLeaseMs)};
    options.args.insert(options.args.end(), extra_args_.begin(), extra_args_.end());
    options.start_timeout = std::chrono::seconds(40);
    absl::StatusOr<std::unique_ptr<ServerProcess>> started = ServerProcess::Start(options);
    if (!started.ok()) return started.status();
    nodes_.push_back(*std::move(started));
    return absl::OkStatus();
  }

  // GET /healthz of node i: its JSON, or an error.
  absl::StatusOr<boost::json::object> Health(int i) {
    if (!nodes_[i]->running()) return absl::UnavailableError("not running");
    HttpClient client(nodes_[i]->port(), std::chrono::seconds(2));
    absl::StatusOr<HttpResponse> answer = client.Get("/healthz");
    if (!answer.ok()) return answer.status();
    boost::json::value json = answer->Json();
    if (!json.is_object()) return absl::InternalError("healthz is not an object");
    return json.as_object();
  }

  // The index of the one running node that says it is the writer, waited
  // for up to `within`; nullopt if none (or, at any look, two) did.
  std::optional<int> AwaitWriter(std::chrono::milliseconds within = std::chrono::seconds(20)) {
    const auto until = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < until) {
      std::vector<int> writers;
      for (int i = 0; i < size(); ++i) {
        absl::StatusOr<boost::json::object> health = Health(i);
        if (health.ok() && health->contains("role") && health->at("role") == "writer") {
          writers.push_back(i);
        }
      }
      if (writers.size() > 1) return std::nullopt;
      if (writers.size() == 1) return writers[0];
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return std::nullopt;
  }

  // sbd-replay --format json of node i's log up to `seq`: its summary.
  absl::StatusOr<boost::json::object> Replay(int i, int64_t seq) {
    absl::StatusOr<ToolResult> ran = RunTool(
        SBD_REPLAY_BINARY,
        {"--db", nodes_[i]->db_path(), "--until-seq", std::to_string(seq), "--format", "json"});
    if (!ran.ok()) return ran.status();
    if (ran->exit_code != 0) {
      return absl::InternalError(
          absl::StrCat(NodeName(i), ": sbd-replay exited ", ran->exit_code, ": ", ran->err));
    }
    boost::json::value summary = boost::json::parse(ran->out);
    return summary.as_object();
  }

  // Every running node has applied `seq` (bounded); false if one has not.
  bool AwaitApplied(int64_t seq, std::chrono::milliseconds within = std::chrono::seconds(20)) {
    const auto until = std::chrono::steady_clock::now() + within;
    for (int i = 0; i < size(); ++i) {
      if (!nodes_[i]->running()) continue;
      for (;;) {
        absl::StatusOr<boost::json::object> health = Health(i);
        if (health.ok() && health->at("seq").to_number<int64_t>() >= seq) break;
        if (std::chrono::steady_clock::now() >= until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    return true;
  }

 private:
  LedgerCluster() = default;

  TempDir dir_{"sbd-ledger-cluster"};
  std::vector<std::string> extra_args_;
  std::unique_ptr<NatsCluster> nats_;
  std::vector<std::unique_ptr<ServerProcess>> nodes_;
};

}  // namespace sbd::testing

#endif  // SBD_TESTS_CLUSTER_LEDGER_CLUSTER_H_
