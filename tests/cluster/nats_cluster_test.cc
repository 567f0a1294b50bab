// The NatsCluster harness against real JetStream, through the NATS C client
// the ledger's cluster mode uses: three servers come up clustered and store
// an R3 stream; killing the stream's leader loses no acknowledged message
// and publishing resumes after the election; with two of three servers dead
// a publish fails within a bounded time (no quorum, never a false ack), and
// works again once they are restarted; a paused (SIGSTOP) stream leader is
// replaced and rejoins when resumed.
#include "tests/support/nats_cluster.h"

#include <gtest/gtest.h>
#include <nats/nats.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/support/temp_dir.h"

namespace sbd::testing {
namespace {

using Clock = std::chrono::steady_clock;
constexpr char kStream[] = "LEDGER";
constexpr char kSubject[] = "ledger.batches";
// How long one publish waits for its ack.
constexpr int64_t kAckWaitMs = 2000;
// How long a publish is retried across an election: 2.9 elects a new
// stream leader in a few seconds.
constexpr std::chrono::seconds kFailoverBound{20};

// One publish's outcome: an ack (status NATS_OK) or why there was none.
struct Ack {
  natsStatus status = NATS_ERR;
  jsErrCode error_code = static_cast<jsErrCode>(0);
  std::string error;
  uint64_t seq = 0;
  bool duplicate = false;
};

// A connection to every server of the cluster and its JetStream context.
// It reconnects quickly to a surviving server, so a killed or paused server
// only costs the publishes in flight.
class JetStreamClient {
 public:
  // `urls` as NatsCluster::ClientUrls() gives them; with `in_order`, the
  // client connects to the first that answers rather than to a random one.
  explicit JetStreamClient(const std::string& urls, bool in_order = false) {
    std::vector<std::string> list = absl::StrSplit(urls, ',');
    std::vector<const char*> servers;
    for (const std::string& url : list) servers.push_back(url.c_str());
    natsOptions* options = nullptr;
    status_ = natsOptions_Create(&options);
    if (status_ == NATS_OK) {
      status_ = natsOptions_SetServers(options, servers.data(), static_cast<int>(servers.size()));
    }
    if (status_ == NATS_OK) status_ = natsOptions_SetNoRandomize(options, in_order);
    if (status_ == NATS_OK) status_ = natsOptions_SetTimeout(options, 2000);
    // Reconnect attempts over ~60 s, every 100 ms: longer than any test
    // keeps the cluster down, and bounded.
    if (status_ == NATS_OK) status_ = natsOptions_SetMaxReconnect(options, 600);
    if (status_ == NATS_OK) status_ = natsOptions_SetReconnectWait(options, 100);
    // A paused server keeps the connection open and answers nothing: only
    // unanswered pings tell, after interval x max pings out (~1.5 s here;
    // nats.c's defaults, 2 min x 2, would hang the client for minutes).
    if (status_ == NATS_OK) status_ = natsOptions_SetPingInterval(options, 500);
    if (status_ == NATS_OK) status_ = natsOptions_SetMaxPingsOut(options, 2);
    if (status_ == NATS_OK) status_ = natsConnection_Connect(&connection_, options);
    natsOptions_Destroy(options);
    jsOptions js_options;
    jsOptions_Init(&js_options);
    js_options.Wait = 10000;  // Stream management requests, across elections.
    if (status_ == NATS_OK) status_ = natsConnection_JetStream(&js_, connection_, &js_options);
    if (status_ != NATS_OK) error_ = nats_GetLastError(nullptr);
  }
  ~JetStreamClient() {
    jsCtx_Destroy(js_);
    natsConnection_Destroy(connection_);
  }
  JetStreamClient(const JetStreamClient&) = delete;
  JetStreamClient& operator=(const JetStreamClient&) = delete;

  bool ok() const { return status_ == NATS_OK; }
  std::string error() const { return absl::StrCat(natsStatus_GetText(status_), ": ", error_); }
  jsCtx* js() { return js_; }

  // Creates the R3 file stream the tests publish to. Its duplicates window
  // makes a retried publish (same message id) safe: if the first attempt
  // was stored after all, the retry gets that message's ack, duplicate.
  Ack AddStream() {
    const char* subjects[] = {kSubject};
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    config.Name = kStream;
    config.Subjects = subjects;
    config.SubjectsLen = 1;
    config.Storage = js_FileStorage;
    config.Replicas = 3;
    config.Duplicates = int64_t{120} * 1'000'000'000;  // Nanoseconds.
    Ack result;
    jsStreamInfo* info = nullptr;
    result.status = js_AddStream(&info, js_, &config, nullptr, &result.error_code);
    if (result.status != NATS_OK) result.error = nats_GetLastError(nullptr);
    jsStreamInfo_Destroy(info);
    return result;
  }

  // One publish of `data` with message id `id`, waiting kAckWaitMs for the
  // ack.
  Ack Publish(const std::string& id, const std::string& data) {
    jsPubOptions options;
    jsPubOptions_Init(&options);
    options.MsgId = id.c_str();
    options.MaxWait = kAckWaitMs;
    Ack result;
    jsPubAck* ack = nullptr;
    result.status = js_Publish(&ack, js_, kSubject, data.data(), static_cast<int>(data.size()),
                               &options, &result.error_code);
    if (result.status == NATS_OK) {
      result.seq = ack->Sequence;
      result.duplicate = ack->Duplicate;
    } else {
      result.error = nats_GetLastError(nullptr);
    }
    jsPubAck_Destroy(ack);
    return result;
  }

  // Publish, retried until acked or kFailoverBound has passed.
  Ack PublishUntilAcked(const std::string& id, const std::string& data) {
    const Clock::time_point deadline = Clock::now() + kFailoverBound;
    Ack result = Publish(id, data);
    while (result.status != NATS_OK && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      result = Publish(id, data);
    }
    return result;
  }

  // The stream's message count, or -1 (with `error` set) if it cannot be
  // read.
  int64_t MessageCount(std::string* error) {
    jsStreamInfo* info = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus status = js_GetStreamInfo(&info, js_, kStream, nullptr, &code);
    int64_t count = -1;
    if (status == NATS_OK) {
      count = static_cast<int64_t>(info->State.Msgs);
    } else {
      *error =
          absl::StrCat(natsStatus_GetText(status), " (", code, "): ", nats_GetLastError(nullptr));
    }
    jsStreamInfo_Destroy(info);
    return count;
  }

  // The data of the message at `seq`, or "(missing: why)".
  std::string MessageAt(uint64_t seq) {
    natsMsg* message = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus status = js_GetMsg(&message, js_, kStream, seq, nullptr, &code);
    // "JetStream system temporarily unavailable": the stream's leadership
    // is moving (a server just rejoined); the get is answered once it has
    // settled, which on a loaded machine takes a moment. Bounded.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (status != NATS_OK && code == JSClusterNotAvailErr &&
           std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      code = static_cast<jsErrCode>(0);
      status = js_GetMsg(&message, js_, kStream, seq, nullptr, &code);
    }
    std::string data = status == NATS_OK
                           ? std::string(natsMsg_GetData(message), natsMsg_GetDataLength(message))
                           : absl::StrCat("(missing: ", natsStatus_GetText(status), " ", code, ")");
    natsMsg_Destroy(message);
    return data;
  }

 private:
  natsStatus status_ = NATS_OK;
  std::string error_;
  natsConnection* connection_ = nullptr;
  jsCtx* js_ = nullptr;
};

std::string Describe(const Ack& ack) {
  return ack.status == NATS_OK
             ? absl::StrCat("acked seq ", ack.seq, ack.duplicate ? " (duplicate)" : "")
             : absl::StrCat(natsStatus_GetText(ack.status), " (JetStream error ", ack.error_code,
                            ")", ack.error.empty() ? "" : ": ", ack.error);
}

// Tears the NATS library down once all connections are gone, so that the
// leak checker of the sanitizer builds sees its memory freed.
class NatsLibraryEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { nats_CloseAndWait(5000); }
};
[[maybe_unused]] const ::testing::Environment* const kNatsLibrary =
    ::testing::AddGlobalTestEnvironment(new NatsLibraryEnvironment);

class NatsClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<NatsCluster>> started = NatsCluster::Start(dir_.path());
    ASSERT_TRUE(started.ok()) << started.status();
    cluster_ = *std::move(started);
    client_ = std::make_unique<JetStreamClient>(cluster_->ClientUrls());
    ASSERT_TRUE(client_->ok()) << client_->error();
    // A busy machine (the rest of the suite runs beside this) can make the
    // first stream's placement outlast one request: retry, bounded.
    Ack created;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    do {
      created = client_->AddStream();
    } while (created.status == NATS_TIMEOUT && std::chrono::steady_clock::now() < until);
    ASSERT_EQ(created.status, NATS_OK) << Describe(created);
  }

  // Publishes messages `first`..`last` (ids "m<n>", data "batch <n>") and
  // expects each acked at seq n: the stream holds nothing else.
  void PublishAcked(int first, int last) {
    for (int n = first; n <= last; ++n) {
      Ack ack = client_->Publish(absl::StrCat("m", n), absl::StrCat("batch ", n));
      ASSERT_EQ(ack.status, NATS_OK) << "message " << n << ": " << Describe(ack);
      EXPECT_EQ(ack.seq, static_cast<uint64_t>(n));
      EXPECT_FALSE(ack.duplicate);
    }
  }

  // Expects the stream to hold exactly messages 1..`count`, in order.
  void ExpectStreamHolds(int count) {
    std::string error;
    EXPECT_EQ(client_->MessageCount(&error), count) << error;
    for (int n = 1; n <= count; ++n) {
      EXPECT_EQ(client_->MessageAt(n), absl::StrCat("batch ", n)) << "seq " << n;
    }
  }

  TempDir dir_{"sbd-nats"};
  // Declared after dir_ and before client_: the client disconnects first,
  // then the servers die, then their directory goes.
  std::unique_ptr<NatsCluster> cluster_;
  std::unique_ptr<JetStreamClient> client_;
};

TEST_F(NatsClusterTest, ThreeServersStoreAnR3Stream) {
  ASSERT_EQ(cluster_->size(), 3);
  std::vector<std::string> urls;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(cluster_->Running(i));
    EXPECT_EQ(cluster_->Name(i), absl::StrCat("n", i));
    EXPECT_TRUE(cluster_->ClientUrl(i).starts_with("nats://127.0.0.1:")) << cluster_->ClientUrl(i);
    urls.push_back(cluster_->ClientUrl(i));
  }
  EXPECT_EQ(cluster_->ClientUrls(), absl::StrJoin(urls, ","));

  PublishAcked(1, 5);
  // A retry of an acked message is recognised, not stored twice.
  Ack again = client_->Publish("m3", "batch 3");
  ASSERT_EQ(again.status, NATS_OK) << Describe(again);
  EXPECT_EQ(again.seq, 3u);
  EXPECT_TRUE(again.duplicate);
  ExpectStreamHolds(5);

  absl::StatusOr<int> stream_leader = cluster_->StreamLeader(kStream);
  ASSERT_TRUE(stream_leader.ok()) << stream_leader.status();
  EXPECT_GE(*stream_leader, 0);
  EXPECT_LT(*stream_leader, 3);
  absl::StatusOr<int> meta_leader = cluster_->MetaLeader();
  ASSERT_TRUE(meta_leader.ok()) << meta_leader.status();
  EXPECT_GE(*meta_leader, 0);
  EXPECT_LT(*meta_leader, 3);
}

TEST_F(NatsClusterTest, KilledStreamLeaderLosesNoAckedMessage) {
  PublishAcked(1, 5);
  absl::StatusOr<int> leader = cluster_->StreamLeader(kStream);
  ASSERT_TRUE(leader.ok()) << leader.status();

  const Clock::time_point killed_at = Clock::now();
  cluster_->Kill(*leader);
  EXPECT_FALSE(cluster_->Running(*leader));
  for (int n = 6; n <= 10; ++n) {
    Ack ack = client_->PublishUntilAcked(absl::StrCat("m", n), absl::StrCat("batch ", n));
    ASSERT_EQ(ack.status, NATS_OK)
        << "message " << n << " after killing " << cluster_->Name(*leader) << ": " << Describe(ack);
    // A retried attempt that had been stored after all is acked as a
    // duplicate at the same seq: either way, message n is at seq n.
    EXPECT_EQ(ack.seq, static_cast<uint64_t>(n));
  }
  const auto failover =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed_at);
  std::printf("publishing resumed %lld ms after the stream leader was killed\n",
              static_cast<long long>(failover.count()));
  ExpectStreamHolds(10);

  absl::StatusOr<int> new_leader = cluster_->StreamLeader(kStream);
  ASSERT_TRUE(new_leader.ok()) << new_leader.status();
  EXPECT_NE(*new_leader, *leader);

  absl::Status restarted = cluster_->Restart(*leader);
  ASSERT_TRUE(restarted.ok()) << restarted;
  EXPECT_TRUE(cluster_->Running(*leader));
  PublishAcked(11, 11);
  ExpectStreamHolds(11);
}

TEST_F(NatsClusterTest, PublishFailsWithoutQuorumAndWorksAfterRestart) {
  PublishAcked(1, 1);
  cluster_->Kill(1);
  cluster_->Kill(2);

  const Clock::time_point start = Clock::now();
  Ack lost = client_->Publish("m2", "batch 2");
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  EXPECT_NE(lost.status, NATS_OK) << "acked with one server of three: " << Describe(lost);
  // The ack wait, plus slack for a busy machine.
  EXPECT_LT(took.count(), kAckWaitMs + 3000) << Describe(lost);
  std::printf("publish with one server of three: %s after %lld ms\n", Describe(lost).c_str(),
              static_cast<long long>(took.count()));

  for (int i : {1, 2}) {
    absl::Status restarted = cluster_->Restart(i);
    ASSERT_TRUE(restarted.ok()) << restarted;
    EXPECT_TRUE(cluster_->Running(i));
  }
  // The same message id again: had the failed attempt been stored after
  // all (the survivor may have taken it into its log before it lost its
  // followers), this is its duplicate; either way it is at seq 2.
  Ack retried = client_->PublishUntilAcked("m2", "batch 2");
  ASSERT_EQ(retried.status, NATS_OK) << Describe(retried);
  EXPECT_EQ(retried.seq, 2u);
  PublishAcked(3, 3);
  ExpectStreamHolds(3);
}

TEST_F(NatsClusterTest, PausedStreamLeaderIsReplacedAndRejoins) {
  PublishAcked(1, 2);
  absl::StatusOr<int> leader = cluster_->StreamLeader(kStream);
  ASSERT_TRUE(leader.ok()) << leader.status();

  // The client attached to the leader: pausing it also tests that the
  // client notices a server that stopped answering.
  std::vector<std::string> urls = {cluster_->ClientUrl(*leader)};
  for (int i = 0; i < cluster_->size(); ++i) {
    if (i != *leader) urls.push_back(cluster_->ClientUrl(i));
  }
  client_ = std::make_unique<JetStreamClient>(absl::StrJoin(urls, ","), /*in_order=*/true);
  ASSERT_TRUE(client_->ok()) << client_->error();

  // A stopped leader keeps its sockets open and still claims the lead when
  // it wakes: the others must elect a new one without it.
  cluster_->Pause(*leader);
  EXPECT_TRUE(cluster_->Running(*leader));
  Ack during = client_->PublishUntilAcked("m3", "batch 3");
  ASSERT_EQ(during.status, NATS_OK)
      << "with " << cluster_->Name(*leader) << " paused: " << Describe(during);
  EXPECT_EQ(during.seq, 3u);
  absl::StatusOr<int> new_leader = cluster_->StreamLeader(kStream);
  ASSERT_TRUE(new_leader.ok()) << new_leader.status();
  EXPECT_NE(*new_leader, *leader);

  cluster_->Resume(*leader);
  EXPECT_TRUE(cluster_->Running(*leader));
  PublishAcked(4, 4);
  ExpectStreamHolds(4);
  absl::StatusOr<int> after = cluster_->StreamLeader(kStream);
  ASSERT_TRUE(after.ok()) << after.status();
}

}  // namespace
}  // namespace sbd::testing
