#include "bench/cluster_nodes.h"

#include <signal.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"

namespace sbd::bench {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

// How long a writer may take to appear, and one failover to complete,
// before the run fails: far past the 15 s CLUSTER.md allows.
constexpr std::chrono::seconds kFailoverMax{60};
// One HttpCall, connect to answer.
constexpr std::chrono::seconds kCallTimeout{3};

double Seconds(Clock::duration duration) { return std::chrono::duration<double>(duration).count(); }

}  // namespace

absl::StatusOr<std::pair<int, std::string>> HttpCall(const boost::asio::ip::tcp::endpoint& endpoint,
                                                     http::verb method, const std::string& target,
                                                     const std::string& body,
                                                     const std::string& token) {
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(kCallTimeout);
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

absl::Status ClusterNodes::Start(size_t i) {
  ServerOptions server;
  server.binary = options_.ledger_binary;
  server.directory = options_.directory / "nodes";
  server.db_name = absl::StrCat("node", i, ".db");
  server.fresh_db = nodes_.size() <= i;  // A restart keeps its log.
  server.secret = kSecret;
  server.connections_max = options_.connections_max;
  server.extra_args = {"--cluster",  options_.urls,
                       "--node-id",  absl::StrCat("node", i),
                       "--lease-ms", std::to_string(options_.lease_ms)};
  absl::StatusOr<std::unique_ptr<ServerUnderTest>> started = ServerUnderTest::Start(server);
  if (!started.ok()) return started.status();
  if (nodes_.size() <= i) nodes_.resize(i + 1);
  nodes_[i] = *std::move(started);
  return absl::OkStatus();
}

absl::StatusOr<size_t> ClusterNodes::AwaitWriter() {
  const auto until = Clock::now() + kFailoverMax;
  while (Clock::now() < until) {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i] == nullptr) continue;
      auto health = HttpCall(nodes_[i]->endpoint(), http::verb::get, "/healthz", "", "");
      if (health.ok() && health->second.find("\"role\":\"writer\"") != std::string::npos) {
        return i;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::DeadlineExceededError("no writer");
}

absl::StatusOr<double> ClusterNodes::KillAndTime(size_t victim, size_t serial) {
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
      auto answer = HttpCall(node->endpoint(), http::verb::post, "/admin/accounts", body, *token);
      if (answer.ok() && answer->first / 100 == 2) return Seconds(Clock::now() - killed);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return absl::DeadlineExceededError("no write was answered after the writer was killed");
}

ServerOptions ClusterNodes::Target(size_t i) const {
  ServerOptions target;
  target.target = address(i);
  target.secret = kSecret;
  return target;
}

}  // namespace sbd::bench
