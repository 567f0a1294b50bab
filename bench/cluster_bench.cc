#include "bench/cluster_bench.h"

#include <signal.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bench/e2e_bench.h"
#include "bench/engine_bench.h"
#include "bench/server_under_test.h"
#include "store/cluster/jetstream.h"
#include "store/cluster/replicated_event_log.h"
#include "tests/support/nats_cluster.h"

namespace sbd::bench {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

// How long one failover may take before the run fails: far past the 15 s
// CLUSTER.md allows.
constexpr std::chrono::seconds kFailoverMax{60};

double Seconds(Clock::duration duration) { return std::chrono::duration<double>(duration).count(); }

double ValueOf(const Metrics& metrics, const std::string& key) {
  for (const Metric& metric : metrics) {
    if (metric.key == key) return metric.value;
  }
  return 0;
}

// One request on a fresh connection to 127.0.0.1; its status and body.
absl::StatusOr<std::pair<int, std::string>> Call(const boost::asio::ip::tcp::endpoint& endpoint,
                                                 http::verb method, const std::string& target,
                                                 const std::string& body,
                                                 const std::string& token) {
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::seconds(3));
  beast::error_code error;
  stream.socket().connect(endpoint, error);
  if (error) return absl::UnavailableError(error.message());
  http::request<http::string_body> request(method, target, 11);
  request.set(http::field::host, "127.0.0.1");
  if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
  if (!body.empty()) request.set(http::field::content_type, "application/json");
  request.body() = body;
  request.prepare_payload();
  http::write(stream, request, error);
  if (error) return absl::UnavailableError(error.message());
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response, error);
  if (error) return absl::UnavailableError(error.message());
  return std::make_pair(static_cast<int>(response.result_int()), response.body());
}

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

  const double single_rate = ValueOf(*single, "transfers_per_s");
  const double replicated_rate = ValueOf(*replicated, "transfers_per_s");
  out.push_back({"single_transfers_per_s", "engine, single node: transfers/s", single_rate, ""});
  out.push_back(
      {"replicated_transfers_per_s", "engine, replicated: transfers/s", replicated_rate, ""});
  out.push_back(
      {"replicated_vs_single", "replicated / single", replicated_rate / single_rate, "x"});
  for (const char* quantile : {"p50", "p99"}) {
    const std::string key = absl::StrCat("commit_", quantile, "_ms");
    const double plain = ValueOf(*single, key);
    const double with_stream = ValueOf(*replicated, key);
    out.push_back(
        {absl::StrCat("single_", key), absl::StrCat("single: commit ", quantile), plain, "ms"});
    out.push_back({absl::StrCat("replicated_", key), absl::StrCat("replicated: commit ", quantile),
                   with_stream, "ms"});
    out.push_back({absl::StrCat("replication_added_", key),
                   absl::StrCat("added by replication: commit ", quantile), with_stream - plain,
                   "ms"});
  }
  out.push_back({"replicated_batch_mean", "replicated: commands per batch",
                 ValueOf(*replicated, "batch_mean"), ""});
  return absl::OkStatus();
}

class Nodes {
 public:
  static constexpr char kSecret[] = "sbd-bench-cluster-secret-0123456789abcdef";

  Nodes(const ClusterBenchOptions& options, std::string urls)
      : options_(options), urls_(std::move(urls)) {}

  absl::Status Start(size_t i) {
    ServerOptions server;
    server.binary = options_.ledger_binary;
    server.directory = options_.directory / "nodes";
    server.db_name = absl::StrCat("node", i, ".db");
    server.fresh_db = nodes_.size() <= i;  // A restart keeps its log.
    server.secret = kSecret;
    server.extra_args = {"--cluster",  urls_,
                         "--node-id",  absl::StrCat("node", i),
                         "--lease-ms", std::to_string(options_.lease_ms)};
    absl::StatusOr<std::unique_ptr<ServerUnderTest>> started = ServerUnderTest::Start(server);
    if (!started.ok()) return started.status();
    if (nodes_.size() <= i) nodes_.resize(i + 1);
    nodes_[i] = *std::move(started);
    return absl::OkStatus();
  }

  // The node whose /healthz says writer, waited for.
  absl::StatusOr<size_t> AwaitWriter() {
    const auto until = Clock::now() + kFailoverMax;
    while (Clock::now() < until) {
      for (size_t i = 0; i < nodes_.size(); ++i) {
        if (nodes_[i] == nullptr) continue;
        auto health = Call(nodes_[i]->endpoint(), http::verb::get, "/healthz", "", "");
        if (health.ok() && health->second.find("\"role\":\"writer\"") != std::string::npos) {
          return i;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return absl::DeadlineExceededError("no writer");
  }

  // kill -9 of node i, then the time until a survivor answers a write.
  absl::StatusOr<double> KillAndTime(size_t victim, size_t serial) {
    const pid_t pid = *nodes_[victim]->pid();
    kill(pid, SIGKILL);
    const auto killed = Clock::now();
    nodes_[victim].reset();  // Reaps it.
    absl::StatusOr<std::string> token = nodes_[(victim + 1) % nodes_.size()]->Token("admin", true);
    if (!token.ok()) return token.status();
    const std::string body = absl::StrCat(R"({"username":"failover-)", serial, R"("})");
    while (Clock::now() - killed < kFailoverMax) {
      for (auto& node : nodes_) {
        if (node == nullptr) continue;
        auto answer = Call(node->endpoint(), http::verb::post, "/admin/accounts", body, *token);
        if (answer.ok() && answer->first / 100 == 2) return Seconds(Clock::now() - killed);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return absl::DeadlineExceededError("no write was answered after the writer was killed");
  }

  const std::string& address(size_t i) const { return nodes_[i]->host(); }

 private:
  const ClusterBenchOptions& options_;
  const std::string urls_;
  std::vector<std::unique_ptr<ServerUnderTest>> nodes_;
};

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

ServerOptions NodeTarget(const Nodes& nodes, size_t node) {
  ServerOptions target;
  target.target = nodes.address(node);
  target.secret = Nodes::kSecret;
  return target;
}

// Single node first (its own process, no cluster), then the cluster's
// writer and a follower, each on fresh users of its own.
absl::Status MeasureE2e(const ClusterBenchOptions& options, Nodes& nodes, Metrics& out) {
  ServerOptions single;
  single.binary = options.ledger_binary;
  single.directory = options.directory / "single";
  absl::StatusOr<Metrics> alone = E2e(options, single);
  if (!alone.ok()) return alone.status();
  absl::StatusOr<size_t> writer = nodes.AwaitWriter();
  if (!writer.ok()) return writer.status();
  const double single_rate = ValueOf(*alone, "transfers_per_s");
  out.push_back({"e2e_single_transfers_per_s", "e2e, single node: transfers/s", single_rate, ""});
  out.push_back({"e2e_single_notify_p99_ms", "e2e, single node: notification p99",
                 ValueOf(*alone, "notify_p99_ms"), "ms"});
  for (const auto& [name, node] : {std::pair<std::string, size_t>{"writer", *writer},
                                   std::pair<std::string, size_t>{"follower", (*writer + 1) % 3}}) {
    absl::StatusOr<Metrics> measured = E2e(options, NodeTarget(nodes, node));
    if (!measured.ok()) return measured.status();
    const double rate = ValueOf(*measured, "transfers_per_s");
    out.push_back({absl::StrCat("e2e_", name, "_transfers_per_s"),
                   absl::StrCat("e2e, cluster via the ", name, ": transfers/s"), rate, ""});
    out.push_back({absl::StrCat("e2e_", name, "_vs_single"),
                   absl::StrCat("e2e via the ", name, " / single"), rate / single_rate, "x"});
    out.push_back({absl::StrCat("e2e_", name, "_notify_p99_ms"),
                   absl::StrCat("e2e via the ", name, ": notification p99"),
                   ValueOf(*measured, "notify_p99_ms"), "ms"});
  }
  // Writes on the writer, receivers on a follower: the notification latency
  // is the writer's answer -> the follower's message, its replication lag.
  absl::StatusOr<Metrics> lag =
      E2e(options, NodeTarget(nodes, *writer), NodeTarget(nodes, (*writer + 1) % 3));
  if (!lag.ok()) return lag.status();
  for (const char* quantile : {"p50", "p99"}) {
    out.push_back({absl::StrCat("follower_lag_", quantile, "_ms"),
                   absl::StrCat("follower lag ", quantile,
                                " (writer's answer -> follower's WebSocket message)"),
                   ValueOf(*lag, absl::StrCat("notify_", quantile, "_ms")), "ms"});
  }
  return absl::OkStatus();
}

absl::Status MeasureFailovers(const ClusterBenchOptions& options, Nodes& nodes, Metrics& out) {
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
    Nodes nodes(options, (*nats)->ClientUrls());
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
