#include "tools/sbd-ledger/cluster_mode.h"

#include <cassert>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace sbd {
namespace {

// How long a starting node waits for the NATS cluster to have a quorum (to
// create or find the stream) before it gives up.
constexpr absl::Duration kLayoutWait = absl::Seconds(30);

}  // namespace

absl::StatusOr<std::vector<std::string>> SplitClusterUrls(const std::string& list) {
  std::vector<std::string> urls = absl::StrSplit(list, ',');
  for (const std::string& url : urls) {
    if (url.empty()) return absl::InvalidArgumentError("--cluster: an empty URL in the list");
  }
  return urls;
}

absl::StatusOr<std::unique_ptr<ClusterMode>> ClusterMode::Connect(ClusterConfig config) {
  absl::StatusOr<std::unique_ptr<JetStream>> jetstream =
      JetStream::Connect(config.urls, absl::StrCat("sbd-ledger ", config.node_id));
  if (!jetstream.ok()) return jetstream.status();
  std::unique_ptr<ClusterMode> mode(new ClusterMode(std::move(config), *std::move(jetstream)));
  if (absl::Status status = mode->jetstream_->EnsureLayout(mode->layout_, kLayoutWait);
      !status.ok()) {
    return status;
  }
  return mode;
}

absl::StatusOr<std::unique_ptr<EventLog>> ClusterMode::WrapLog(
    std::unique_ptr<SqliteEventLog> local) {
  const SqliteEventLog::StreamPosition position = local->LastStreamPosition();
  if (position.last_seq != local->LastSeq()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "events ", position.last_seq + 1, "..", local->LastSeq(),
        " of this log were appended outside cluster mode: they are not in the cluster's stream "
        "(start the node from a copy of another node's log, docs/CLUSTER.md)"));
  }
  auto log = std::make_unique<ReplicatedEventLog>(std::move(local), *jetstream_, layout_);
  log_ = log.get();
  return std::unique_ptr<EventLog>(std::move(log));
}

void ClusterMode::Attach(Ledger& ledger, std::function<void(const absl::Status&)> on_fatal) {
  assert(log_ != nullptr && node_ == nullptr && "Attach once, after WrapLog");
  ClusterNode::Options options;
  options.node_id = config_.node_id;
  options.layout = layout_;
  options.lease_duration = config_.lease_duration;
  options.lease_renew_every = config_.lease_duration / 5;
  options.on_fatal = std::move(on_fatal);
  ledger_ = &ledger;
  node_ = std::make_unique<ClusterNode>(ledger, *log_, *jetstream_, std::move(options));
}

absl::Status ClusterMode::Start(const std::string& listen_address) {
  assert(node_ != nullptr && ledger_ != nullptr && "Start after Attach");
  queries_ = std::make_unique<NodeQueryResponder>(*jetstream_, layout_, *ledger_,
                                                  NodeQueryResponder::Options{});
  if (absl::Status status = queries_->Start(); !status.ok()) return status;
  if (!config_.advertise.empty()) return node_->Start(config_.advertise);
  // A wildcard address is no address to send writes to: followers would
  // forward to themselves.
  if (absl::StartsWith(listen_address, "0.0.0.0:") || absl::StartsWith(listen_address, "[::]:")) {
    return absl::InvalidArgumentError(
        absl::StrCat("listening on ", listen_address,
                     ": give --advertise http://HOST:PORT, where the other nodes reach this one"));
  }
  return node_->Start(absl::StrCat("http://", listen_address));
}

}  // namespace sbd
