#include "transport/metrics.h"

#include <array>
#include <atomic>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "engine/absl_compat.h"
#include "engine/limits.h"

namespace sbd {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

// Every ErrorCode, in enum order, for the rejection counters.
constexpr std::array kErrorCodes = {
    ErrorCode::kInvalidJson,     ErrorCode::kMissingFields,
    ErrorCode::kInvalidAmount,   ErrorCode::kInvalidUsername,
    ErrorCode::kSelfTransfer,    ErrorCode::kInsufficientFunds,
    ErrorCode::kBalanceOverflow, ErrorCode::kInvalidField,
    ErrorCode::kUnauthorized,    ErrorCode::kForbidden,
    ErrorCode::kAccountNotFound, ErrorCode::kTransactionNotFound,
    ErrorCode::kNotFound,        ErrorCode::kMethodNotAllowed,
    ErrorCode::kAccountExists,   ErrorCode::kTransactionIdConflict,
    ErrorCode::kPayloadTooLarge, ErrorCode::kRateLimited,
    ErrorCode::kUnavailable,
};
static_assert(static_cast<size_t>(ErrorCode::kUnavailable) + 1 == kErrorCodes.size(),
              "add the new ErrorCode to kErrorCodes");

// Batch sizes: powers of two up to the ledger's batch_size_max.
constexpr std::array<double, 13> kBatchSizeBuckets = {1,   2,   4,   8,    16,   32,  64,
                                                      128, 256, 512, 1024, 2048, 4096};
static_assert(kBatchSizeBuckets.back() >= kBatchSizeMax,
              "the batch-size buckets must reach the engine's default batch limit");
// Commit latency, seconds: 50 us (a batch without fsync) to 1 s (a stalled
// disk).
constexpr std::array<double, 14> kCommitLatencyBuckets = {
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0};

// A Prometheus histogram with fixed bucket bounds. Observations go into the
// first bucket whose bound is >= the value (cumulated at render time).
template <size_t N>
class Histogram {
 public:
  explicit Histogram(const std::array<double, N>& bounds) : bounds_(bounds) {}

  void Observe(double value) {
    size_t i = 0;
    while (i < N && value > bounds_[i]) ++i;
    counts_[i].fetch_add(1, kRelaxed);
    // The sum in micro-units keeps it an integer atomic.
    sum_micros_.fetch_add(static_cast<int64_t>(value * 1e6), kRelaxed);
  }

  void Render(absl::string_view name, absl::string_view help, std::string& out) const {
    absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " histogram\n");
    uint64_t cumulative = 0;
    for (size_t i = 0; i < N; ++i) {
      cumulative += counts_[i].load(kRelaxed);
      absl::StrAppend(&out, name, "_bucket{le=\"", absl::StrFormat("%g", bounds_[i]), "\"} ",
                      cumulative, "\n");
    }
    cumulative += counts_[N].load(kRelaxed);
    absl::StrAppend(&out, name, "_bucket{le=\"+Inf\"} ", cumulative, "\n");
    absl::StrAppend(&out, name, "_sum ", absl::StrFormat("%.6f", sum_micros_.load(kRelaxed) / 1e6),
                    "\n");
    absl::StrAppend(&out, name, "_count ", cumulative, "\n");
  }

 private:
  const std::array<double, N> bounds_;
  std::array<std::atomic<uint64_t>, N + 1> counts_{};  // The last is +Inf.
  std::atomic<int64_t> sum_micros_{0};
};

void RenderCounter(absl::string_view name, absl::string_view help, uint64_t value,
                   std::string& out) {
  absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " counter\n", name, " ",
                  value, "\n");
}

void RenderGauge(absl::string_view name, absl::string_view help, int64_t value, std::string& out) {
  absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " gauge\n", name, " ", value,
                  "\n");
}

}  // namespace

struct Metrics::State {
  std::atomic<uint64_t> transfers{0};
  std::array<std::atomic<uint64_t>, kErrorCodes.size()> rejections{};
  std::atomic<uint64_t> commits_failed{0};
  Histogram<kBatchSizeBuckets.size()> batch_size{kBatchSizeBuckets};
  Histogram<kCommitLatencyBuckets.size()> commit_latency{kCommitLatencyBuckets};
  std::atomic<int64_t> websockets_open{0};
  std::atomic<uint64_t> websockets_opened{0};
  std::atomic<uint64_t> messages_sent{0};
  std::atomic<uint64_t> slow_consumer_disconnects{0};
  std::atomic<uint64_t> resumes{0};
  std::atomic<uint64_t> http_requests{0};
  std::atomic<uint64_t> access_log_dropped{0};
};

Metrics::Metrics() : state_(new State) {}
Metrics::~Metrics() { delete state_; }

void Metrics::CountTransfer() { state_->transfers.fetch_add(1, kRelaxed); }

void Metrics::CountRejection(ErrorCode code) {
  const size_t index = static_cast<size_t>(code);
  if (index < state_->rejections.size()) state_->rejections[index].fetch_add(1, kRelaxed);
}

void Metrics::ObserveCommit(size_t batch_size, absl::Duration latency, bool ok) {
  if (!ok) state_->commits_failed.fetch_add(1, kRelaxed);
  state_->batch_size.Observe(static_cast<double>(batch_size));
  state_->commit_latency.Observe(absl::ToDoubleSeconds(latency));
}

void Metrics::WebSocketOpened() {
  state_->websockets_open.fetch_add(1, kRelaxed);
  state_->websockets_opened.fetch_add(1, kRelaxed);
}
void Metrics::WebSocketClosed() { state_->websockets_open.fetch_sub(1, kRelaxed); }
void Metrics::CountMessagesSent(size_t count) { state_->messages_sent.fetch_add(count, kRelaxed); }
void Metrics::CountSlowConsumerDisconnect() {
  state_->slow_consumer_disconnects.fetch_add(1, kRelaxed);
}
void Metrics::CountResume() { state_->resumes.fetch_add(1, kRelaxed); }
void Metrics::CountHttpRequest() { state_->http_requests.fetch_add(1, kRelaxed); }
void Metrics::CountAccessLogDropped(uint64_t lines) {
  state_->access_log_dropped.fetch_add(lines, kRelaxed);
}

std::string Metrics::RenderPrometheus() const {
  std::string out;
  out.reserve(4096);
  RenderCounter("sbd_transfers_total", "Transfers committed (idempotent replays excluded).",
                state_->transfers.load(kRelaxed), out);
  absl::StrAppend(&out,
                  "# HELP sbd_rejections_total Requests answered with an API error, by code.\n"
                  "# TYPE sbd_rejections_total counter\n");
  for (ErrorCode code : kErrorCodes) {
    absl::StrAppend(&out, "sbd_rejections_total{code=\"", ToAbsl(ErrorCodeName(code)), "\"} ",
                    state_->rejections[static_cast<size_t>(code)].load(kRelaxed), "\n");
  }
  RenderCounter("sbd_commits_failed_total", "Batches the event log could not append.",
                state_->commits_failed.load(kRelaxed), out);
  state_->batch_size.Render("sbd_commit_batch_size", "Commands per group commit.", out);
  state_->commit_latency.Render("sbd_commit_latency_seconds", "Time to append and fsync one batch.",
                                out);
  RenderGauge("sbd_websocket_connections", "Open WebSocket connections.",
              state_->websockets_open.load(kRelaxed), out);
  RenderCounter("sbd_websocket_connections_total", "WebSocket connections accepted.",
                state_->websockets_opened.load(kRelaxed), out);
  RenderCounter("sbd_websocket_messages_sent_total", "WebSocket messages written.",
                state_->messages_sent.load(kRelaxed), out);
  RenderCounter("sbd_websocket_slow_consumer_disconnects_total",
                "Connections closed with 1013 for an unsent backlog over the limit.",
                state_->slow_consumer_disconnects.load(kRelaxed), out);
  RenderCounter("sbd_websocket_resumes_total", "WebSocket connections opened with since=S.",
                state_->resumes.load(kRelaxed), out);
  RenderCounter("sbd_http_requests_total", "HTTP requests handled.",
                state_->http_requests.load(kRelaxed), out);
  RenderCounter("sbd_access_log_dropped_total",
                "Access-log lines dropped because stderr was not draining.",
                state_->access_log_dropped.load(kRelaxed), out);
  return out;
}

void Metrics::RenderCluster(const ClusterView& cluster, int64_t applied_seq, std::string& out) {
  const std::string node = cluster.node_id();
  absl::StrAppend(&out,
                  "# HELP sbd_cluster_role This node's role: 1 for the one it has now.\n"
                  "# TYPE sbd_cluster_role gauge\n"
                  "sbd_cluster_role{node=\"",
                  node, "\",role=\"writer\"} ", cluster.writer() ? 1 : 0,
                  "\nsbd_cluster_role{node=\"", node, "\",role=\"follower\"} ",
                  cluster.writer() ? 0 : 1, "\n");
  RenderGauge("sbd_cluster_applied_seq", "The last seq this node has applied.", applied_seq, out);
  RenderGauge("sbd_cluster_replication_lag_messages",
              "Stream messages this node had not applied yet at its last look.",
              cluster.stream_lag(), out);
  RenderCounter("sbd_cluster_failovers_total", "Times this node became the writer.",
                static_cast<uint64_t>(cluster.failovers()), out);
}

void Metrics::RenderGateway(const GatewayView& gateway, std::string& out) {
  RenderGauge("sbd_gateway_applied_seq", "The last event seq this gateway has fanned out.",
              gateway.applied_seq(), out);
  RenderGauge("sbd_gateway_stream_lag_messages",
              "Stream messages this gateway had not applied yet at its last look.",
              gateway.stream_lag(), out);
  RenderGauge("sbd_gateway_following", "1 while connected to the stream and reading it.",
              gateway.following() ? 1 : 0, out);
  RenderGauge("sbd_gateway_window_events", "Recent events held in memory for resumes.",
              static_cast<int64_t>(gateway.window_events()), out);
  RenderGauge("sbd_gateway_window_bytes", "The window's estimated size in bytes.",
              static_cast<int64_t>(gateway.window_bytes()), out);
}

}  // namespace sbd
