#include "bench/cluster_bench.h"

#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bench/cluster_nodes.h"
#include "bench/e2e_bench.h"
#include "bench/engine_bench.h"
#include "bench/server_under_test.h"
#include "store/cluster/jetstream.h"
#include "store/cluster/replicated_event_log.h"
#include "tests/support/nats_cluster.h"

namespace sbd::bench {
namespace {

// The engine on the plain log, then on the replicated one (a fresh stream
// per run, so each run starts empty like its SQLite file).
absl::Status MeasureEngines(const ClusterBenchOptions& options, JetStream& jetstream,
                            Metrics& out) {
  EngineBenchOptions engine;
  engine.accounts = options.accounts;
  engine.transfers = options.transfers;
  engine.baselines = false;
  engine.directory = options.directory / "engine";
  absl::StatusOr<Metrics> single = RunEngineBench(engine);
  if (!single.ok()) return single.status();

  ClusterLayout layout;
  layout.stream = "BENCH_ENGINE";
  layout.subject = "bench.engine";
  if (absl::Status status = jetstream.EnsureLayout(layout, absl::Seconds(30)); !status.ok()) {
    return status;
  }
  engine.wrap_log =
      [&](std::unique_ptr<SqliteEventLog> local) -> absl::StatusOr<std::unique_ptr<EventLog>> {
    auto log = std::make_unique<ReplicatedEventLog>(std::move(local), jetstream, layout);
    log->BecomeWriter(1);  // The only writer: no lease in this measurement.
    return std::unique_ptr<EventLog>(std::move(log));
  };
  absl::StatusOr<Metrics> replicated = RunEngineBench(engine);
  if (!replicated.ok()) return replicated.status();

  const double single_rate = MetricValue(*single, "transfers_per_s");
  const double replicated_rate = MetricValue(*replicated, "transfers_per_s");
  out.push_back({"single_transfers_per_s", "engine, single node: transfers/s", single_rate, ""});
  out.push_back(
      {"replicated_transfers_per_s", "engine, replicated: transfers/s", replicated_rate, ""});
  out.push_back(
      {"replicated_vs_single", "replicated / single", replicated_rate / single_rate, "x"});
  for (const char* quantile : {"p50", "p99"}) {
    const std::string key = absl::StrCat("commit_", quantile, "_ms");
    const double plain = MetricValue(*single, key);
    const double with_stream = MetricValue(*replicated, key);
    out.push_back(
        {absl::StrCat("single_", key), absl::StrCat("single: commit ", quantile), plain, "ms"});
    out.push_back({absl::StrCat("replicated_", key), absl::StrCat("replicated: commit ", quantile),
                   with_stream, "ms"});
    out.push_back({absl::StrCat("replication_added_", key),
                   absl::StrCat("added by replication: commit ", quantile), with_stream - plain,
                   "ms"});
  }
  out.push_back({"replicated_batch_mean", "replicated: commands per batch",
                 MetricValue(*replicated, "batch_mean"), ""});
  return absl::OkStatus();
}

// The e2e workload against `server` (started, or a target), its receivers
// on `receivers` if set.
absl::StatusOr<Metrics> E2e(const ClusterBenchOptions& options, ServerOptions server,
                            std::optional<ServerOptions> receivers = std::nullopt) {
  E2eBenchOptions e2e;
  e2e.clients = options.clients;
  e2e.websockets = options.websockets;
  e2e.duration_s = options.e2e_duration_s;
  e2e.server = std::move(server);
  e2e.receivers_server = std::move(receivers);
  return RunE2eBench(e2e);
}

// Single node first (its own process, no cluster), then the cluster's
// writer and a follower, each on fresh users of its own.
absl::Status MeasureE2e(const ClusterBenchOptions& options, ClusterNodes& nodes, Metrics& out) {
  ServerOptions single;
  single.binary = options.ledger_binary;
  single.directory = options.directory / "single";
  absl::StatusOr<Metrics> alone = E2e(options, single);
  if (!alone.ok()) return alone.status();
  absl::StatusOr<size_t> writer = nodes.AwaitWriter();
  if (!writer.ok()) return writer.status();
  const double single_rate = MetricValue(*alone, "transfers_per_s");
  out.push_back({"e2e_single_transfers_per_s", "e2e, single node: transfers/s", single_rate, ""});
  out.push_back({"e2e_single_notify_p99_ms", "e2e, single node: notification p99",
                 MetricValue(*alone, "notify_p99_ms"), "ms"});
  for (const auto& [name, node] : {std::pair<std::string, size_t>{"writer", *writer},
                                   std::pair<std::string, size_t>{"follower", (*writer + 1) % 3}}) {
    absl::StatusOr<Metrics> measured = E2e(options, nodes.Target(node));
    if (!measured.ok()) return measured.status();
    const double rate = MetricValue(*measured, "transfers_per_s");
    out.push_back({absl::StrCat("e2e_", name, "_transfers_per_s"),
                   absl::StrCat("e2e, cluster via the ", name, ": transfers/s"), rate, ""});
    out.push_back({absl::StrCat("e2e_", name, "_vs_single"),
                   absl::StrCat("e2e via the ", name, " / single"), rate / single_rate, "x"});
    out.push_back({absl::StrCat("e2e_", name, "_notify_p99_ms"),
                   absl::StrCat("e2e via the ", name, ": notification p99"),
                   MetricValue(*measured, "notify_p99_ms"), "ms"});
  }
  // Writes on the writer, receivers on a follower: the notification latency
  // is the writer's answer -> the follower's message, its replication lag.
  absl::StatusOr<Metrics> lag =
      E2e(options, nodes.Target(*writer), nodes.Target((*writer + 1) % 3));
  if (!lag.ok()) return lag.status();
  for (const char* quantile : {"p50", "p99"}) {
    out.push_back({absl::StrCat("follower_lag_", quantile, "_ms"),
                   absl::StrCat("follower lag ", quantile,
                                " (writer's answer -> follower's WebSocket message)"),
                   MetricValue(*lag, absl::StrCat("notify_", quantile, "_ms")), "ms"});
  }
  return absl::OkStatus();
}

absl::Status MeasureFailovers(const ClusterBenchOptions& options, ClusterNodes& nodes,
                              Metrics& out) {
  std::vector<double> times;
  for (size_t kill = 0; kill < options.failovers; ++kill) {
    absl::StatusOr<size_t> writer = nodes.AwaitWriter();
    if (!writer.ok()) return writer.status();
    absl::StatusOr<double> took = nodes.KillAndTime(*writer, kill);
    if (!took.ok()) return took.status();
    times.push_back(*took);
    if (absl::Status status = nodes.Start(*writer); !status.ok()) return status;
  }
  out.push_back({"failover_median_s", "failover (kill -9 of the writer -> first 200), median",
                 Median(times), "s"});
  out.push_back(
      {"failover_max_s", "failover, slowest", *std::max_element(times.begin(), times.end()), "s"});
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Metrics> RunClusterBench(const ClusterBenchOptions& options) {
  std::filesystem::create_directories(options.directory / "nats");
  absl::StatusOr<std::unique_ptr<testing::NatsCluster>> nats =
      testing::NatsCluster::Start((options.directory / "nats").string());
  if (!nats.ok()) return nats.status();
  std::vector<std::string> urls;
  for (int i = 0; i < (*nats)->size(); ++i) urls.push_back((*nats)->ClientUrl(i));
  Metrics metrics;
  {
    absl::StatusOr<std::unique_ptr<JetStream>> jetstream = JetStream::Connect(urls, "sbd-bench");
    if (!jetstream.ok()) return jetstream.status();
    if (absl::Status status = MeasureEngines(options, **jetstream, metrics); !status.ok()) {
      return status;
    }
  }
  if (options.failovers > 0 || options.e2e_duration_s > 0) {
    ClusterNodes nodes({.ledger_binary = options.ledger_binary,
                        .directory = options.directory,
                        .urls = (*nats)->ClientUrls(),
                        .lease_ms = options.lease_ms});
    for (size_t i = 0; i < 3; ++i) {
      if (absl::Status status = nodes.Start(i); !status.ok()) return status;
    }
    if (options.e2e_duration_s > 0) {
      if (absl::Status status = MeasureE2e(options, nodes, metrics); !status.ok()) return status;
    }
    if (options.failovers > 0) {
      if (absl::Status status = MeasureFailovers(options, nodes, metrics); !status.ok()) {
        return status;
      }
    }
  }
  std::error_code ignored;
  std::filesystem::remove_all(options.directory, ignored);
  return metrics;
}

}  // namespace sbd::bench
