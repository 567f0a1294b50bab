#include "bench/server_under_test.h"

#include <cstdlib>
#include <ctime>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/absl_compat.h"

namespace sbd::bench {
namespace {

// A big log replays for seconds before the server listens.
constexpr std::chrono::seconds kStartTimeout{120};
constexpr std::chrono::seconds kStopTimeout{30};
// Tokens outlive any benchmark run.
constexpr int64_t kTokenTtlS = 24 * 3600;
constexpr std::string_view kListeningPrefix = "listening on ";

std::string RandomSecret() {
  std::random_device device;
  std::string secret;
  for (int i = 0; i < 4; ++i) secret += absl::StrFormat("%08x", device());
  return secret;
}

// `sbd-ledger serve` on options.directory's log (removed first if fresh).
std::vector<std::string> ServeCommand(const ServerOptions& options) {
  std::filesystem::create_directories(options.directory);
  const std::filesystem::path db = options.directory / options.db_name;
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    if (options.fresh_db) std::filesystem::remove(db.string() + suffix, ignored);
  }
  std::vector<std::string> argv = {options.binary, "serve",     "--listen",     "127.0.0.1:0",
                                   "--db",         db.string(), "--durability", options.durability};
  if (!options.access_log) argv.push_back("--no-access-log");
  if (options.threads > 0) argv.insert(argv.end(), {"--threads", std::to_string(options.threads)});
  if (options.connections_max > 0) {
    argv.insert(argv.end(), {"--connections-max", std::to_string(options.connections_max)});
  }
  argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
  return argv;
}

}  // namespace

absl::StatusOr<boost::asio::ip::tcp::endpoint> ParseEndpoint(const std::string& text) {
  const size_t colon = text.rfind(':');
  uint32_t port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(ToAbsl(text).substr(colon + 1), &port) ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("not HOST:PORT: '", text, "'"));
  }
  boost::system::error_code error;
  const auto address = boost::asio::ip::make_address(text.substr(0, colon), error);
  if (error) return absl::InvalidArgumentError(absl::StrCat("not an IP address: '", text, "'"));
  return boost::asio::ip::tcp::endpoint(address, static_cast<uint16_t>(port));
}

absl::StatusOr<std::unique_ptr<ServerUnderTest>> ServerUnderTest::Start(
    const ServerOptions& options) {
  std::string address = options.target;
  std::unique_ptr<ChildProcess> process;
  std::string secret;
  if (!options.target.empty() && !options.secret.empty()) {
    secret = options.secret;
  } else if (!options.target.empty()) {
    const char* from_environment = std::getenv("SBD_JWT_SECRET");
    if (from_environment == nullptr || *from_environment == '\0') {
      return absl::FailedPreconditionError(
          "--target needs SBD_JWT_SECRET set to the server's secret (to issue tokens)");
    }
    secret = from_environment;
  } else {
    if (options.command.empty() && options.binary.empty()) {
      return absl::FailedPreconditionError("no sbd-ledger binary: pass --server PATH");
    }
    secret = options.secret.empty() ? RandomSecret() : options.secret;
    ChildProcess::Options child;
    child.argv = options.command.empty() ? ServeCommand(options) : options.command;
    child.environment = {{"SBD_JWT_SECRET", secret}};
    absl::StatusOr<std::unique_ptr<ChildProcess>> started = ChildProcess::Start(child);
    if (!started.ok()) return started.status();
    process = *std::move(started);
    const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      absl::StatusOr<std::string> line = process->ReadLine(left);
      if (!line.ok()) {
        return absl::UnavailableError(absl::StrCat("the server did not say '",
                                                   ToAbsl(kListeningPrefix),
                                                   "HOST:PORT': ", line.status().message()));
      }
      if (absl::StartsWith(*line, ToAbsl(kListeningPrefix))) {
        address = line->substr(kListeningPrefix.size());
        break;
      }
    }
  }
  absl::StatusOr<boost::asio::ip::tcp::endpoint> endpoint = ParseEndpoint(address);
  if (!endpoint.ok()) return endpoint.status();
  if (endpoint->port() == 0)
    return absl::InvalidArgumentError(absl::StrCat("no port in '", address, "'"));
  auto server = std::unique_ptr<ServerUnderTest>(
      new ServerUnderTest(std::move(process), TokenAuthority(secret)));
  server->endpoint_ = *endpoint;
  server->host_ = address;
  return server;
}

ServerUnderTest::~ServerUnderTest() {
  if (process_ != nullptr) process_->Terminate(kStopTimeout).IgnoreError();
}

std::optional<pid_t> ServerUnderTest::pid() const {
  if (process_ == nullptr) return std::nullopt;
  return process_->pid();
}

absl::StatusOr<std::string> ServerUnderTest::Token(const std::string& user, bool admin) const {
  return tokens_.Issue(user, admin, kTokenTtlS, static_cast<int64_t>(std::time(nullptr)));
}

}  // namespace sbd::bench
