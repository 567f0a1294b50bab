#include "tests/cluster/cluster_load.h"

#include <boost/json.hpp>
#include <cassert>
#include <map>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tests/support/http_client.h"
#include "tests/support/tokens.h"
#include "tests/support/websocket_client.h"

namespace sbd::testing {
namespace {

// Between a failed attempt and the retry: a failover takes seconds, so
// this only keeps a sender from spinning on a node that refuses at once.
constexpr std::chrono::milliseconds kRetryPause{100};
// A receiver's read: how soon it notices StopReceivers.
constexpr std::chrono::milliseconds kReadSlice{200};
constexpr std::chrono::seconds kConnectTimeout{10};

}  // namespace

// A receiver's connection and the thread reading it.
struct ClusterLoad::Connection {
  size_t index = 0;  // Into receivers_.
  std::unique_ptr<WebSocketClient> socket;
  std::thread thread;
};

ClusterLoad::ClusterLoad(Options options) : options_(std::move(options)) {
  assert(options_.accounts.size() >= 2 && !options_.ports.empty());
  MutexLock lock(mutex_);
  ports_ = options_.ports;
}

ClusterLoad::~ClusterLoad() {
  StopSenders();
  StopReceivers();
}

absl::Status ClusterLoad::AddReceiver(int node, const std::string& account) {
  absl::StatusOr<std::unique_ptr<WebSocketClient>> socket =
      WebSocketClient::Connect(Port(node), absl::StrCat("/ws?token=", MakeToken(account)));
  if (!socket.ok()) return socket.status();
  absl::StatusOr<boost::json::value> connected = (*socket)->ReadJson(kConnectTimeout);
  if (!connected.ok()) return connected.status();
  if (!connected->is_object() || connected->at("type") != "connected") {
    return absl::InternalError(
        absl::StrCat("not a connected message: ", boost::json::serialize(*connected)));
  }
  auto connection = std::make_unique<Connection>();
  connection->socket = *std::move(socket);
  {
    MutexLock lock(mutex_);
    connection->index = receivers_.size();
    Receiver receiver;
    receiver.node = node;
    receiver.account = account;
    receiver.connected_seq = connected->at("seq").to_number<int64_t>();
    receivers_.push_back(std::move(receiver));
  }
  Connection* raw = connection.get();
  connection->thread = std::thread([this, raw] { Receive(raw); });
  connections_.push_back(std::move(connection));
  return absl::OkStatus();
}

void ClusterLoad::SetPort(int node, uint16_t port) {
  MutexLock lock(mutex_);
  assert(node >= 0 && static_cast<size_t>(node) <= ports_.size());
  if (static_cast<size_t>(node) == ports_.size()) {
    ports_.push_back(port);
  } else {
    ports_[node] = port;
  }
}

uint16_t ClusterLoad::Port(int node) const {
  MutexLock lock(mutex_);
  return ports_.at(node);
}

void ClusterLoad::StartSenders() {
  assert(senders_.empty());
  stop_senders_ = false;
  const int generation = generation_++;
  for (int i = 0; i < options_.senders; ++i) {
    senders_.emplace_back([this, generation, i] { SendLoop(generation, i); });
  }
}

void ClusterLoad::StopSenders() {
  stop_senders_ = true;
  for (std::thread& sender : senders_) sender.join();
  senders_.clear();
}

void ClusterLoad::StopReceivers() {
  stop_receivers_ = true;
  for (const std::unique_ptr<Connection>& connection : connections_) {
    if (connection->thread.joinable()) connection->thread.join();
  }
}

void ClusterLoad::SendLoop(int generation, int sender) {
  std::mt19937 random(options_.seed + static_cast<uint32_t>(100 * generation + sender));
  const size_t accounts = options_.accounts.size();
  // One keep-alive connection per node port; a failed one is dropped.
  std::map<uint16_t, std::unique_ptr<HttpClient>> clients;
  size_t nodes;
  {
    MutexLock lock(mutex_);
    nodes = ports_.size();
  }
  int node = sender % static_cast<int>(nodes);
  for (int n = 0; !stop_senders_; ++n) {
    Send send;
    send.transaction_id =
        absl::StrCat(options_.transaction_prefix, "-", generation, "-", sender, "-", n);
    const size_t from = random() % accounts;
    const size_t to = (from + 1 + random() % (accounts - 1)) % accounts;
    send.from = options_.accounts[from];
    send.to = options_.accounts[to];
    send.amount = 1 + static_cast<int64_t>(random() % 5);
    const std::string body = boost::json::serialize(boost::json::object{
        {"to_user", send.to}, {"amount", send.amount}, {"transaction_id", send.transaction_id}});
    const std::string token = MakeToken(send.from);
    const auto give_up = Clock::now() + options_.retry_for;
    for (;;) {
      {
        MutexLock lock(mutex_);
        nodes = ports_.size();
      }
      node %= static_cast<int>(nodes);
      const uint16_t port = Port(node);
      std::unique_ptr<HttpClient>& client = clients[port];
      if (client == nullptr) client = std::make_unique<HttpClient>(port, options_.request_timeout);
      ++send.attempts;
      send.attempt_started = Clock::now();
      absl::StatusOr<HttpResponse> answer = client->Post("/sbd_tokens/send", body, token);
      if (answer.ok() && answer->status != 503) {
        send.status = answer->status;
        send.node = node;
        send.answered_at = Clock::now();
        boost::json::value json = answer->Json();
        if (json.is_object()) send.answer = std::move(json.as_object());
        break;
      }
      // 503 or no answer: whether it committed is unknown to the client,
      // which retries it, the same transaction_id, on the next node.
      send.retried = true;
      send.status = answer.ok() ? 503 : 0;
      send.node = answer.ok() ? node : -1;
      if (!answer.ok()) clients.erase(port);
      node = (node + 1) % static_cast<int>(nodes);
      if (Clock::now() >= give_up) break;
      std::this_thread::sleep_for(kRetryPause);
    }
    // `retried` means a failed attempt came before the last one.
    if (send.attempts == 1) send.retried = false;
    {
      MutexLock lock(mutex_);
      sends_.push_back(std::move(send));
    }
    std::this_thread::sleep_for(options_.pace);
  }
}

void ClusterLoad::Receive(Connection* connection) {
  while (!stop_receivers_) {
    absl::StatusOr<boost::json::value> message = connection->socket->ReadJson(kReadSlice);
    if (absl::IsDeadlineExceeded(message.status())) continue;
    MutexLock lock(mutex_);
    Receiver& receiver = receivers_[connection->index];
    if (!message.ok() || !message->is_object()) {
      receiver.closed = true;
      return;
    }
    receiver.messages.push_back(std::move(message->as_object()));
  }
}

std::vector<ClusterLoad::Send> ClusterLoad::Sends() const {
  MutexLock lock(mutex_);
  return sends_;
}

std::vector<ClusterLoad::Receiver> ClusterLoad::Receivers() const {
  MutexLock lock(mutex_);
  return receivers_;
}

int64_t ClusterLoad::AckedSince(Clock::time_point since) const {
  MutexLock lock(mutex_);
  int64_t acked = 0;
  for (const Send& send : sends_) acked += send.status == 200 && send.attempt_started >= since;
  return acked;
}

bool ClusterLoad::AwaitAcked(int64_t count, Clock::time_point since,
                             std::chrono::milliseconds within) const {
  const auto until = Clock::now() + within;
  while (AckedSince(since) < count) {
    if (Clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

std::optional<ClusterLoad::Clock::time_point> ClusterLoad::FirstAckSince(
    Clock::time_point since) const {
  MutexLock lock(mutex_);
  std::optional<Clock::time_point> first;
  for (const Send& send : sends_) {
    if (send.status != 200 || send.attempt_started < since) continue;
    if (!first || send.answered_at < *first) first = send.answered_at;
  }
  return first;
}

bool ClusterLoad::AwaitReceived(size_t index, size_t count,
                                std::chrono::milliseconds within) const {
  const auto until = Clock::now() + within;
  for (;;) {
    {
      MutexLock lock(mutex_);
      const Receiver& receiver = receivers_.at(index);
      if (receiver.messages.size() >= count) return true;
      if (receiver.closed) return false;
    }
    if (Clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace sbd::testing
