// Three cluster nodes in one process (store/cluster/cluster_node.h), each
// with its own SQLite log, JetStream connection and Ledger, on a real
// 3-server JetStream cluster (tests/support/nats_cluster.h): one becomes
// the writer, the others follow it batch by batch, a new writer takes over
// when it goes, and a stale writer is fenced by the stream itself. After
// each test every node's log holds the same events with the same chain.
#include "store/cluster/cluster_node.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "engine/ledger.h"
#include "store/cluster/jetstream.h"
#include "store/cluster/replicated_event_log.h"
#include "store/cluster/stream_follower.h"
#include "store/sqlite_event_log.h"
#include "tests/support/nats_cluster.h"
#include "tests/support/temp_dir.h"

namespace sbd::testing {
namespace {

using std::chrono::steady_clock;

class NatsLibraryEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { nats_CloseAndWait(5000); }
};
[[maybe_unused]] const ::testing::Environment* const kNatsLibrary =
    ::testing::AddGlobalTestEnvironment(new NatsLibraryEnvironment);

// A short lease: failovers in seconds, not tens of them.
constexpr absl::Duration kLease = absl::Seconds(2);

// One node: what `sbd-ledger serve --cluster` wires, without HTTP.
struct Node {
  std::string name;
  std::string db_path;
  std::unique_ptr<JetStream> jetstream;
  ReplicatedEventLog* log = nullptr;  // The ledger's.
  std::unique_ptr<Ledger> ledger;
  std::unique_ptr<ClusterNode> cluster;
  std::atomic<bool> fatal{false};
  std::string fatal_message;

  absl::Status Open(const std::string& urls) {
    std::vector<std::string> list = absl::StrSplit(urls, ',');
    absl::StatusOr<std::unique_ptr<JetStream>> connected = JetStream::Connect(list, name);
    if (!connected.ok()) return connected.status();
    jetstream = *std::move(connected);
    if (absl::Status status = jetstream->EnsureLayout(ClusterLayout{}, absl::Seconds(30));
        !status.ok()) {
      return status;
    }
    absl::StatusOr<std::unique_ptr<SqliteEventLog>> local =
        SqliteEventLog::Open(db_path, SqliteEventLog::Options{});
    if (!local.ok()) return local.status();
    auto replicated =
        std::make_unique<ReplicatedEventLog>(*std::move(local), *jetstream, ClusterLayout{});
    log = replicated.get();
    Ledger::Options options;
    options.batch_size_max = 256;
    absl::StatusOr<std::unique_ptr<Ledger>> opened = Ledger::Open(std::move(replicated), options);
    if (!opened.ok()) return opened.status();
    ledger = *std::move(opened);
    ClusterNode::Options node;
    node.node_id = name;
    node.lease_duration = kLease;
    node.lease_renew_every = kLease / 5;
    node.on_fatal = [this](const absl::Status& status) {
      fatal_message = status.ToString();
      fatal = true;
    };
    cluster = std::make_unique<ClusterNode>(*ledger, *log, *jetstream, std::move(node));
    return cluster->Start(absl::StrCat("http://", name));
  }

  // The order a real shutdown takes: node, ledger, connection.
  void Close() {
    cluster.reset();
    ledger.reset();
    log = nullptr;
    jetstream.reset();
  }
};

class ClusterNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<NatsCluster>> started = NatsCluster::Start(dir_.path());
    ASSERT_TRUE(started.ok()) << started.status();
    nats_ = *std::move(started);
    for (int i = 0; i < 3; ++i) {
      auto node = std::make_unique<Node>();
      node->name = absl::StrCat("node", i);
      node->db_path = absl::StrCat(dir_.path(), "/", node->name, ".db");
      ASSERT_TRUE(node->Open(nats_->ClientUrls()).ok());
      nodes_.push_back(std::move(node));
    }
  }

  void TearDown() override {
    for (auto& node : nodes_) {
      EXPECT_FALSE(node->fatal) << node->name << ": " << node->fatal_message;
      node->Close();
    }
  }

  // The one writer among the open nodes, waited for (bounded).
  Node* AwaitWriter(std::chrono::seconds within = std::chrono::seconds(20)) {
    const auto until = steady_clock::now() + within;
    while (steady_clock::now() < until) {
      Node* writer = nullptr;
      int writers = 0;
      for (auto& node : nodes_) {
        if (node->cluster != nullptr && node->cluster->writer()) {
          writer = node.get();
          ++writers;
        }
      }
      EXPECT_LE(writers, 1) << "two writers at once";
      if (writers == 1) return writer;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return nullptr;
  }

  // Submits on `node` and waits for the answer.
  static absl::StatusOr<CommandResult> Run(Node& node, Command command) {
    return node.ledger->Submit(std::move(command)).get();
  }

  // Every open node has applied `seq` (bounded wait).
  void AwaitApplied(int64_t seq) {
    const auto until = steady_clock::now() + std::chrono::seconds(20);
    for (auto& node : nodes_) {
      if (node->ledger == nullptr) continue;
      while (node->ledger->LastSeq() < seq && steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      EXPECT_GE(node->ledger->LastSeq(), seq) << node->name;
    }
  }

  // Every node's log, read back (closed nodes from their files): the same
  // events, and the same balances in every open projection.
  void ExpectSameLogs() {
    std::vector<std::vector<Event>> logs;
    for (auto& node : nodes_) {
      std::vector<Event> events;
      absl::StatusOr<std::unique_ptr<SqliteEventLog>> read =
          SqliteEventLog::Open(node->db_path, SqliteEventLog::Options{.read_only = true});
      ASSERT_TRUE(read.ok()) << read.status();
      absl::Status status = (*read)->Read(1, (*read)->LastSeq(), [&](const Event& event) {
        events.push_back(event);
        return absl::OkStatus();
      });
      ASSERT_TRUE(status.ok()) << node->name << ": " << status;  // The chain verified.
      logs.push_back(std::move(events));
    }
    for (size_t i = 1; i < logs.size(); ++i) {
      EXPECT_EQ(logs[i], logs[0]) << nodes_[i]->name << " differs from " << nodes_[0]->name;
    }
    for (auto& node : nodes_) {
      if (node->ledger == nullptr) continue;
      EXPECT_EQ(node->ledger->TotalBalance(), node->ledger->TotalMinted()) << node->name;
      EXPECT_EQ(node->ledger->Balance("alice").value_or(-1),
                nodes_[0]->ledger != nullptr ? nodes_[0]->ledger->Balance("alice").value_or(-1)
                                             : node->ledger->Balance("alice").value_or(-1));
    }
  }

  static void Seed(Node& writer) {
    ASSERT_TRUE(Run(writer, OpenAccountCommand{"admin", "alice"}).ok());
    ASSERT_TRUE(Run(writer, OpenAccountCommand{"admin", "bob"}).ok());
    ASSERT_TRUE(
        Run(writer, MintCommand{"admin", "alice", AmountField::Integer(1000), "seed", "mint-1"})
            .ok());
  }

  TempDir dir_{"sbd-cluster-node"};
  std::unique_ptr<NatsCluster> nats_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

TEST_F(ClusterNodeTest, FollowersApplyEveryBatchOfTheOneWriter) {
  Node* writer = AwaitWriter();
  ASSERT_NE(writer, nullptr);
  Seed(*writer);
  // Many transfers at once, so batches hold many events.
  std::vector<std::future<absl::StatusOr<CommandResult>>> answers;
  for (int i = 0; i < 500; ++i) {
    answers.push_back(writer->ledger->Submit(
        TransferCommand{"alice", "bob", AmountField::Integer(1), "", absl::StrCat("t-", i)}));
  }
  for (auto& answer : answers) ASSERT_TRUE(answer.get().ok());
  EXPECT_EQ(writer->ledger->Balance("bob").value(), 500);
  AwaitApplied(writer->ledger->LastSeq());
  for (auto& node : nodes_) {
    EXPECT_EQ(node->ledger->Balance("bob").value_or(-1), 500) << node->name;
    if (node.get() != writer) {
      // A follower takes no command: its ledger's appends are refused.
      absl::StatusOr<CommandResult> refused =
          Run(*node, TransferCommand{"alice", "bob", AmountField::Integer(1), "", "t-follower"});
      EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable) << refused.status();
    }
  }
  ExpectSameLogs();
}

TEST_F(ClusterNodeTest, ANewWriterTakesOverWhenTheWriterStops) {
  Node* writer = AwaitWriter();
  ASSERT_NE(writer, nullptr);
  Seed(*writer);
  const std::string old_name = writer->name;
  writer->Close();  // Releases the lease: a clean handover.
  Node* next = AwaitWriter();
  ASSERT_NE(next, nullptr);
  EXPECT_NE(next->name, old_name);
  absl::StatusOr<CommandResult> sent =
      Run(*next, TransferCommand{"alice", "bob", AmountField::Integer(7), "", "after-failover"});
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(sent->event.to_balance, 7);
  AwaitApplied(sent->event.seq);
  // The old writer comes back as a follower and catches up.
  for (auto& node : nodes_) {
    if (node->name == old_name) {
      ASSERT_TRUE(node->Open(nats_->ClientUrls()).ok());
    }
  }
  AwaitApplied(sent->event.seq);
  EXPECT_NE(AwaitWriter(), nullptr);
  ExpectSameLogs();
}

// A writer whose renewals hang (every NATS server stopped, sockets open:
// each renewal waits out the client's 2 s request timeout) stops saying it
// writes by its own clock, within `duration - renew_every` of its last
// renewal, not when the hung renewal returns: by then another node that can
// reach the servers may have taken the lease, and two nodes would both say
// writer. Once the servers answer again there is one writer, and writes go on.
TEST_F(ClusterNodeTest, AWriterWhoseRenewalsHangStepsDownWithinItsLease) {
  Node* writer = AwaitWriter();
  ASSERT_NE(writer, nullptr);
  Seed(*writer);
  const auto paused_at = steady_clock::now();
  for (int i = 0; i < nats_->size(); ++i) nats_->Pause(i);
  while (writer->cluster->writer() && steady_clock::now() - paused_at < std::chrono::seconds(10)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto stepped_down_after = steady_clock::now() - paused_at;
  for (int i = 0; i < nats_->size(); ++i) nats_->Resume(i);
  EXPECT_FALSE(writer->cluster->writer());
  // Its last renewal started at most renew_every before the pause; the role
  // loop looks every 100 ms.
  EXPECT_LT(stepped_down_after, absl::ToChronoMilliseconds(kLease))
      << "stepped down after "
      << std::chrono::duration_cast<std::chrono::milliseconds>(stepped_down_after).count() << " ms";
  Node* next = AwaitWriter(std::chrono::seconds(30));
  ASSERT_NE(next, nullptr);
  absl::StatusOr<CommandResult> sent =
      Run(*next, TransferCommand{"alice", "bob", AmountField::Integer(3), "", "after-hang"});
  ASSERT_TRUE(sent.ok()) << sent.status();
  AwaitApplied(sent->event.seq);
  ExpectSameLogs();
}

// A writer the lease knows nothing of (one paused past its lease, say):
// it follows the stream to its end, then appends as if it were the writer.
// The stream takes its batch (it continues the stream), and the real
// writer's next publish is refused (fenced: the stream's last sequence is
// not the one it expects). It then catches up, the rogue's batch included,
// and writes on: one history, no fork.
TEST_F(ClusterNodeTest, AStaleWriterIsFencedByTheStreamAndCatchesUp) {
  Node* writer = AwaitWriter();
  ASSERT_NE(writer, nullptr);
  Seed(*writer);
  AwaitApplied(writer->ledger->LastSeq());

  Node rogue;
  rogue.name = "rogue";
  rogue.db_path = absl::StrCat(dir_.path(), "/rogue.db");
  {
    absl::StatusOr<std::unique_ptr<JetStream>> connected =
        JetStream::Connect(absl::StrSplit(nats_->ClientUrls(), ','), "rogue");
    ASSERT_TRUE(connected.ok());
    rogue.jetstream = *std::move(connected);
    auto local = SqliteEventLog::Open(rogue.db_path, SqliteEventLog::Options{});
    ASSERT_TRUE(local.ok());
    auto log =
        std::make_unique<ReplicatedEventLog>(*std::move(local), *rogue.jetstream, ClusterLayout{});
    rogue.log = log.get();
    auto opened = Ledger::Open(std::move(log), Ledger::Options{});
    ASSERT_TRUE(opened.ok());
    rogue.ledger = *std::move(opened);
  }
  {
    StreamFollower follower(
        *rogue.jetstream, ClusterLayout{}, 0,
        [&](StreamBatch batch, int64_t stream_seq) {
          std::promise<absl::Status> applied;
          rogue.ledger->SubmitReplicated(
              std::move(batch.events),
              [&, hashes = batch.hashes, stream_seq](absl::Span<const Event> events) {
                return rogue.log->AppendFollowed(events, hashes, stream_seq);
              },
              [&](absl::Status status) { applied.set_value(status); });
          return applied.get_future().get();
        },
        [](const absl::Status& status) { ADD_FAILURE() << status; });
    const auto until = steady_clock::now() + std::chrono::seconds(20);
    while (rogue.ledger->LastSeq() < writer->ledger->LastSeq() && steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  ASSERT_EQ(rogue.ledger->LastSeq(), writer->ledger->LastSeq());
  rogue.log->BecomeWriter(0);
  absl::StatusOr<CommandResult> rogue_sent =
      Run(rogue, TransferCommand{"alice", "bob", AmountField::Integer(5), "", "rogue-1"});
  ASSERT_TRUE(rogue_sent.ok()) << rogue_sent.status();

  absl::StatusOr<CommandResult> fenced =
      Run(*writer, TransferCommand{"alice", "bob", AmountField::Integer(9), "", "fenced-1"});
  EXPECT_EQ(fenced.status().code(), absl::StatusCode::kUnavailable) << fenced.status();
  EXPECT_FALSE(rogue.log->writer() && writer->log->writer());
  rogue.Close();

  // The lease is still the old writer's: it catches up and writes again.
  Node* again = AwaitWriter();
  ASSERT_NE(again, nullptr);
  absl::StatusOr<CommandResult> sent =
      Run(*again, TransferCommand{"alice", "bob", AmountField::Integer(9), "", "fenced-1"});
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_FALSE(sent->duplicate);          // The fenced attempt never reached the stream.
  EXPECT_EQ(sent->event.to_balance, 14);  // 5 from the rogue, 9 now.
  AwaitApplied(sent->event.seq);
  ExpectSameLogs();
}

}  // namespace
}  // namespace sbd::testing
