// LedgerCluster: cluster mode as a user runs it, for the end-to-end cluster
// tests: a real 3-server JetStream cluster (NatsCluster) and three real
// sbd-ledger processes (`serve --cluster ... --node-id nodeI`), each on its
// own database and port, plus what the tests ask of them: which node is the
// writer (GET /healthz), a node paused or joining from a seed copy of
// another's log, and the same log on every node (sbd-replay); and gateways
// on the same stream (StartGateway).
//
// Thread-safety: none; one test thread drives it.
#ifndef SBD_TESTS_CLUSTER_LEDGER_CLUSTER_H_
#define SBD_TESTS_CLUSTER_LEDGER_CLUSTER_H_

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
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
  // Running and not paused: it answers.
  bool Up(int i) const { return nodes_[i]->running() && !nodes_[i]->paused(); }

  // Starts one more node on `db_path` (empty: a new, empty database in the
  // node's own directory); it catches up from the stream.
  absl::Status AddNode(std::string db_path = "") {
    ServerProcessOptions options;
    options.args = {"--cluster",      nats_->ClientUrls(), "--node-id",
                    NodeName(size()), "--lease-ms",        std::to_string(kLeaseMs)};
    options.args.insert(options.args.end(), extra_args_.begin(), extra_args_.end());
    options.start_timeout = std::chrono::seconds(40);
    options.db_path = std::move(db_path);
    absl::StatusOr<std::unique_ptr<ServerProcess>> started = ServerProcess::Start(options);
    if (!started.ok()) return started.status();
    nodes_.push_back(*std::move(started));
    return absl::OkStatus();
  }

  // Starts a gateway (`sbd-ledger gateway --cluster URLS --node-id NAME`
  // plus `extra_args`), returned once it prints its address and its
  // /healthz answers 200 (it follows the stream). The caller owns it; it is
  // no node of this cluster (size(), Up() and AwaitApplied ignore it).
  absl::StatusOr<std::unique_ptr<ServerProcess>> StartGateway(
      std::string name, std::vector<std::string> extra_args = {}) {
    ServerProcessOptions options;
    options.command = "gateway";
    options.args = {"--cluster", nats_->ClientUrls(), "--node-id", std::move(name)};
    options.args.insert(options.args.end(), extra_args.begin(), extra_args.end());
    options.start_timeout = std::chrono::seconds(40);
    return ServerProcess::Start(options);
  }

  // Starts one more node on a seed copy of node `from`'s log, taken while
  // it runs (`sqlite3 SRC ".backup DST"`, docs/CLUSTER.md: how a node joins).
  absl::Status AddNodeFromCopyOf(int from) {
    const std::string seed = absl::StrCat(dir_.path(), "/", NodeName(size()), "-seed.db");
    absl::StatusOr<ToolResult> copied =
        RunTool(SBD_SQLITE3_BINARY, {nodes_[from]->db_path(), absl::StrCat(".backup ", seed)});
    if (!copied.ok()) return copied.status();
    if (copied->exit_code != 0) {
      return absl::InternalError(
          absl::StrCat("sqlite3 .backup exited ", copied->exit_code, ": ", copied->err));
    }
    return AddNode(seed);
  }

  // GET /healthz of node i: its JSON, or an error (at once for a node that
  // is down or paused).
  absl::StatusOr<boost::json::object> Health(int i) {
    if (!Up(i)) return absl::UnavailableError("not running");
    HttpClient client(nodes_[i]->port(), std::chrono::seconds(2));
    absl::StatusOr<HttpResponse> answer = client.Get("/healthz");
    if (!answer.ok()) return answer.status();
    boost::json::value json = answer->Json();
    if (!json.is_object()) return absl::InternalError("healthz is not an object");
    return json.as_object();
  }

  // The seq node i has applied (its /healthz).
  absl::StatusOr<int64_t> Seq(int i) {
    absl::StatusOr<boost::json::object> health = Health(i);
    if (!health.ok()) return health.status();
    return health->at("seq").to_number<int64_t>();
  }

  // Whether node i's /healthz says `role` ("writer", "follower") within
  // `within`.
  bool AwaitRole(int i, std::string_view role, std::chrono::milliseconds within) {
    const auto until = std::chrono::steady_clock::now() + within;
    for (;;) {
      absl::StatusOr<boost::json::object> health = Health(i);
      if (health.ok() && health->contains("role") && health->at("role").is_string() &&
          health->at("role").as_string() == role) {
        return true;
      }
      if (std::chrono::steady_clock::now() >= until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  // The index of the one answering node that says it is the writer, waited
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

  // sbd-replay --format json of node i's log up to `seq`: its summary. The
  // node may be running (the tool reads the log read-only) or not.
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

  // sbd-replay --notifications of node i's log up to `seq`: one
  // {"to":ACCOUNT,"message":{...}} per WebSocket message the log's events
  // produced, in seq order (sender's message before the receiver's).
  absl::StatusOr<std::vector<boost::json::object>> Notifications(int i, int64_t seq) {
    absl::StatusOr<ToolResult> ran = RunTool(
        SBD_REPLAY_BINARY,
        {"--db", nodes_[i]->db_path(), "--until-seq", std::to_string(seq), "--notifications"});
    if (!ran.ok()) return ran.status();
    if (ran->exit_code != 0) {
      return absl::InternalError(
          absl::StrCat(NodeName(i), ": sbd-replay exited ", ran->exit_code, ": ", ran->err));
    }
    std::vector<boost::json::object> lines;
    for (absl::string_view line : absl::StrSplit(ran->out, '\n', absl::SkipEmpty())) {
      boost::system::error_code error;
      boost::json::value parsed =
          boost::json::parse(boost::json::string_view(line.data(), line.size()), error);
      if (error || !parsed.is_object() || !parsed.as_object().contains("message")) {
        return absl::InternalError(
            absl::StrCat(NodeName(i), ": not a notification line: ", std::string(line)));
      }
      lines.push_back(std::move(parsed.as_object()));
    }
    return lines;
  }

  // Every answering node has applied `seq` (bounded); false if one has not.
  bool AwaitApplied(int64_t seq, std::chrono::milliseconds within = std::chrono::seconds(20)) {
    const auto until = std::chrono::steady_clock::now() + within;
    for (int i = 0; i < size(); ++i) {
      if (!Up(i)) continue;
      for (;;) {
        absl::StatusOr<int64_t> applied = Seq(i);
        if (applied.ok() && *applied >= seq) break;
        if (std::chrono::steady_clock::now() >= until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    return true;
  }

  // What each node says (/healthz) and the end of its stderr: for a failure
  // message.
  std::string Describe() {
    std::string text;
    for (int i = 0; i < size(); ++i) {
      absl::StatusOr<boost::json::object> health = Health(i);
      const std::string said = nodes_[i]->Stderr();
      constexpr size_t kTail = 1500;
      absl::StrAppend(&text, NodeName(i), ": ",
                      health.ok() ? boost::json::serialize(*health) : health.status().ToString(),
                      "\n", said.size() > kTail ? said.substr(said.size() - kTail) : said, "\n");
    }
    return text;
  }

  // Every answering node has applied `seq`, and sbd-replay on each agrees:
  // the log verifies, with the same balances and last hash at `seq`.
  void ExpectSameLogsAt(int64_t seq) {
    ASSERT_TRUE(AwaitApplied(seq)) << "not every node applied seq " << seq << ":\n" << Describe();
    std::optional<boost::json::object> first;
    for (int i = 0; i < size(); ++i) {
      if (!Up(i)) continue;
      absl::StatusOr<boost::json::object> summary = Replay(i, seq);
      ASSERT_TRUE(summary.ok()) << summary.status();
      EXPECT_EQ(summary->at("status"), "ok") << NodeName(i);
      EXPECT_EQ(summary->at("events_verified").to_number<int64_t>(), seq) << NodeName(i);
      if (!first) {
        first = *summary;
        continue;
      }
      EXPECT_EQ(summary->at("last_hash"), first->at("last_hash")) << NodeName(i);
      EXPECT_EQ(summary->at("balances"), first->at("balances")) << NodeName(i);
    }
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
