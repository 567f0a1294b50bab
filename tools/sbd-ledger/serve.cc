#include "tools/sbd-ledger/serve.h"

#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/ledger.h"
#include "engine/ledger_account_feed.h"
#include "store/sqlite_event_log.h"
#include "tools/sbd-ledger/demo_secret.h"
#include "transport/access_log.h"
#include "transport/http_server.h"
#include "transport/metrics.h"
#include "transport/notifier.h"
#include "transport/revocation_watcher.h"
#include "transport/revoked_tokens.h"
#include "transport/routes.h"
#include "transport/token_authority.h"

namespace sbd {
namespace {

constexpr std::string_view kCommand = "sbd-ledger serve";

// An OS error in words, saying plainly when the file system is read-only
// (its own message, "Read-only file system", is easy to misread as a
// permission problem).
std::string DescribeFileError(const std::error_code& error) {
  if (error == std::errc::read_only_file_system) return "the file system is read-only";
  return error.message();
}

// Why SQLite may have failed to open a log in `dir` (it needs to create the
// -wal and -shm files beside it), or "" if the directory looks writable.
std::string DirectoryProblem(const std::filesystem::path& dir) {
  const std::string path = dir.empty() ? "." : dir.string();
  if (access(path.c_str(), W_OK) == 0) return "";
  return absl::StrCat(" (the directory ", path, " is not writable: ",
                      DescribeFileError(std::error_code(errno, std::generic_category())), ")");
}

// The accounts `--demo` opens on a fresh log, and what each gets.
constexpr std::array<std::string_view, 3> kDemoAccounts = {"alice", "bob", "carol"};
constexpr int64_t kDemoBalance = 1000;
constexpr char kDemoActor[] = "demo";
// The tokens --demo prints are for trying the wallet: one day.
constexpr int64_t kDemoTokenTtlS = 24 * 60 * 60;

std::string Message(const absl::Status& status) { return std::string(status.message()); }

// Opens and funds the demo accounts on a fresh log.
absl::Status SeedDemo(Ledger& ledger) {
  for (std::string_view name : kDemoAccounts) {
    auto opened = ledger.Submit(OpenAccountCommand{kDemoActor, std::string(name)}).get();
    if (!opened.ok()) return opened.status();
    MintCommand mint;
    mint.actor = kDemoActor;
    mint.account = std::string(name);
    mint.amount = AmountField::Integer(kDemoBalance);
    mint.reason = "demo";
    auto minted = ledger.Submit(std::move(mint)).get();
    if (!minted.ok()) return minted.status();
  }
  return absl::OkStatus();
}

// The signing secret, and the file it is kept in when --demo made it.
struct SigningSecret {
  std::string value;
  std::string demo_path;  // Empty: the configured secret (--secret-file or $SBD_JWT_SECRET).
};

// The configured secret, or with --demo and none configured, a SigningSecret
// naming the demo secret's file (read or made by LoadDemoSecret once the
// log's directory exists). nullopt (the reason printed) without either.
std::optional<SigningSecret> ChooseSecret(const ServeConfig& config) {
  absl::StatusOr<std::string> secret = LoadSecret(config.serving.secret_file);
  if (secret.ok()) return SigningSecret{*std::move(secret), ""};
  if (config.demo && config.serving.secret_file.empty()) {
    return SigningSecret{"", DemoSecretPath(config.db_path)};
  }
  std::fprintf(stderr,
               "sbd-ledger serve: %s (refusing to start without a signing secret; "
               "--demo makes one and keeps it beside the log)\n",
               Message(secret.status()).c_str());
  return std::nullopt;
}

// Reads the demo secret at secret.demo_path, or makes it there, into
// secret.value; false (the reason printed) if neither works.
bool LoadDemoSecret(SigningSecret& secret) {
  absl::StatusOr<std::string> loaded = LoadOrCreateDemoSecret(secret.demo_path);
  if (!loaded.ok()) {
    std::fprintf(stderr, "sbd-ledger serve: --demo secret: %s\n", Message(loaded.status()).c_str());
    return false;
  }
  secret.value = *std::move(loaded);
  return true;
}

// Creates the directory of the log at `db_path` if missing; false (the
// reason printed) if it cannot.
bool CreateLogDirectory(const std::string& db_path) {
  const std::filesystem::path db_dir = std::filesystem::path(db_path).parent_path();
  if (db_dir.empty()) return true;
  std::error_code dir_error;
  std::filesystem::create_directories(db_dir, dir_error);
  if (dir_error) {
    std::fprintf(stderr, "sbd-ledger serve: cannot create the directory %s for %s: %s\n",
                 db_dir.c_str(), db_path.c_str(), DescribeFileError(dir_error).c_str());
    return false;
  }
  return true;
}

// Null (the reason printed) if the log cannot be opened.
std::unique_ptr<SqliteEventLog> OpenLog(const ServeConfig& config) {
  SqliteEventLog::Options log_options;
  log_options.durability = config.durability_full ? Durability::kFull : Durability::kNormal;
  auto log = SqliteEventLog::Open(config.db_path, log_options);
  if (!log.ok()) {
    const std::filesystem::path db_dir = std::filesystem::path(config.db_path).parent_path();
    std::fprintf(stderr, "sbd-ledger serve: cannot open %s: %s%s\n", config.db_path.c_str(),
                 log.status().ToString().c_str(), DirectoryProblem(db_dir).c_str());
    return nullptr;
  }
  return *std::move(log);
}

// Cluster mode: the connection to the NATS cluster, and the log wrapped for
// replication. Null (the reason printed) if either fails.
std::unique_ptr<ClusterMode> ConnectCluster(const ClusterConfig& config,
                                            std::unique_ptr<SqliteEventLog> local,
                                            std::unique_ptr<EventLog>& log) {
  absl::StatusOr<std::unique_ptr<ClusterMode>> mode = ClusterMode::Connect(config);
  if (!mode.ok()) {
    std::fprintf(stderr, "sbd-ledger serve: --cluster: %s\n", Message(mode.status()).c_str());
    return nullptr;
  }
  absl::StatusOr<std::unique_ptr<EventLog>> wrapped = (*mode)->WrapLog(std::move(local));
  if (!wrapped.ok()) {
    std::fprintf(stderr, "sbd-ledger serve: --cluster: %s\n", Message(wrapped.status()).c_str());
    return nullptr;
  }
  log = *std::move(wrapped);
  return *std::move(mode);
}

// The ledger on `log` (its replay verifies the whole log), reporting each
// commit to `metrics`. Null (the reason printed) if the log does not verify.
std::unique_ptr<Ledger> OpenLedger(std::unique_ptr<EventLog> log, const std::string& db_path,
                                   bool cluster, Metrics& metrics) {
  Ledger::Options ledger_options;
  if (cluster) ledger_options.batch_size_max = kClusterBatchSizeMax;
  ledger_options.on_commit = [&metrics](size_t batch_size, absl::Duration latency, bool ok) {
    metrics.ObserveCommit(batch_size, latency, ok);
  };
  auto ledger = Ledger::Open(std::move(log), std::move(ledger_options));
  if (!ledger.ok()) {
    std::fprintf(stderr, "sbd-ledger serve: cannot open the ledger in %s: %s\n", db_path.c_str(),
                 ledger.status().ToString().c_str());
    return nullptr;
  }
  return *std::move(ledger);
}

// --demo on a fresh log: SeedDemo; false (the reason printed) if it failed.
bool SeedDemoAccounts(Ledger& ledger) {
  if (absl::Status seeded = SeedDemo(ledger); !seeded.ok()) {
    std::fprintf(stderr, "sbd-ledger serve: --demo: %s\n", seeded.ToString().c_str());
    return false;
  }
  return true;
}

// "listening on HOST:PORT", and with --demo a token and wallet link per demo
// account (and the secret, when --demo made it).
void PrintServing(const std::string& address, const ServeConfig& config,
                  const SigningSecret& secret, const TokenAuthority& tokens) {
  std::printf("listening on %s\n", address.c_str());
  if (config.demo) {
    if (!secret.demo_path.empty()) {
      std::printf("demo secret (SBD_JWT_SECRET): %s (kept in %s)\n", secret.value.c_str(),
                  secret.demo_path.c_str());
    }
    for (std::string_view name : kDemoAccounts) {
      absl::StatusOr<std::string> token =
          tokens.Issue(name, /*admin=*/false, kDemoTokenTtlS, NowSeconds());
      if (!token.ok()) continue;
      std::printf("%-6s token: %s\n", std::string(name).c_str(), token->c_str());
      std::printf("%-6s wallet: http://%s/#token=%s\n", std::string(name).c_str(), address.c_str(),
                  token->c_str());
    }
  }
  std::fflush(stdout);
}

// After `signal`: stops taking work, lets the ledger finish what it has,
// closes every connection, then takes the server, the watcher and the
// ledger down in that order.
void ShutDown(int signal, std::unique_ptr<HttpServer>& server, AcceptedTokens& tokens,
              std::unique_ptr<Ledger>& ledger,
              ClusterMode* cluster, Notifier& notifier, AccessLog& access_log) {
  access_log.Append(absl::StrCat("sbd-ledger: signal ", signal, ", shutting down"));
  server->StopAccepting();
  ledger->Stop();       // Finishes every queued command; answers are posted.
  notifier.CloseAll();  // WebSockets close with 1001.
  server->CloseConnections();
  server->Join(kShutdownGrace);
  server.reset();
  if (cluster != nullptr) cluster->Stop();  // Hands the writer lease over; before the ledger.
  tokens.StopWatching();                    // Before the notifier it calls into.
  ledger->RemoveSubscriber(&notifier);
  ledger.reset();  // Closes the log.
  access_log.Append("sbd-ledger: stopped");
}

}  // namespace

int RunToken(const std::string& secret_file, const std::string& user, Role role, int64_t ttl_s) {
  absl::StatusOr<std::string> secret = LoadSecret(secret_file);
  if (!secret.ok()) {
    std::fprintf(stderr, "sbd-ledger token: %s\n", Message(secret.status()).c_str());
    return 2;
  }
  if (user.empty() || ttl_s <= 0) {
    std::fprintf(stderr, "sbd-ledger token: --user must be set and --ttl positive\n");
    return 2;
  }
  TokenAuthority tokens(*secret);
  absl::StatusOr<std::string> token = tokens.Issue(user, role, ttl_s, NowSeconds());
  if (!token.ok()) {
    std::fprintf(stderr, "sbd-ledger token: %s\n", Message(token.status()).c_str());
    return 1;
  }
  std::printf("%s\n", token->c_str());
  return 0;
}

int RunServe(const ServeConfig& config) {
  if (!ListenIsHostPort(kCommand, config.serving)) return 2;
  std::optional<SigningSecret> secret = ChooseSecret(config);
  if (!secret.has_value()) return 2;

  // The log's directory (where the demo secret is kept too), the log, then
  // the ledger on it.
  if (!CreateLogDirectory(config.db_path)) return 1;
  if (!secret->demo_path.empty() && !LoadDemoSecret(*secret)) return 1;
  std::unique_ptr<SqliteEventLog> local_log = OpenLog(config);
  if (local_log == nullptr) return 1;
  // Cluster mode: declared before the ledger, which it outlives (the log
  // publishes through its connection).
  std::unique_ptr<EventLog> log;
  std::unique_ptr<ClusterMode> cluster;
  if (config.cluster.urls.empty()) {
    log = std::move(local_log);
  } else {
    cluster = ConnectCluster(config.cluster, std::move(local_log), log);
    if (cluster == nullptr) return 1;
  }
  Metrics metrics;
  // Once serving, every line for stderr goes through the AccessLog (access
  // log, accept errors, the shutdown messages): a stderr nobody reads (a
  // stalled log collector) then costs dropped lines, never a blocked thread.
  // Declared before the ledger and the server, so it outlives both.
  AccessLog access_log({.fd = STDERR_FILENO,
                        .buffer_bytes_max = config.serving.server.access_log_buffer_bytes_max,
                        .metrics = &metrics});
  std::unique_ptr<Ledger> ledger =
      OpenLedger(std::move(log), config.db_path, cluster != nullptr, metrics);
  if (ledger == nullptr) return 1;
  // A node that cannot go on (a batch from the stream that does not verify)
  // stops as SIGTERM would, and exits with 1.
  std::atomic<bool> cluster_failed{false};
  if (cluster != nullptr) {
    cluster->Attach(*ledger, [&cluster_failed, &access_log](const absl::Status& status) {
      access_log.Append(absl::StrCat("sbd-ledger: cluster: ", Message(status), "; stopping"));
      cluster_failed = true;
      std::raise(SIGTERM);
    });
  }
  Notifier notifier(metrics);
  ledger->AddSubscriber(&notifier);
  if (config.demo && ledger->LastSeq() == 0 && !SeedDemoAccounts(*ledger)) return 1;

  // The server's context: the tokens it accepts, and everything above.
  std::unique_ptr<AcceptedTokens> tokens =
      AcceptedTokens::Open(kCommand, secret->value, config.serving, access_log, notifier);
  if (tokens == nullptr) return 2;
  const LedgerAccountFeed feed(*ledger);
  const ServerContext context{.feed = feed,
                              .notifier = notifier,
                              .metrics = metrics,
                              .tokens = tokens->authority(),
                              .log = &access_log,
                              .options = config.serving.server,
                              .cluster = cluster != nullptr ? &cluster->view() : nullptr,
                              .now_s = NowSeconds};

  std::unique_ptr<HttpServer> server = StartServer(
      kCommand, context, std::make_unique<Routes>(*ledger, context), config.serving, *tokens);
  if (server == nullptr) return 1;
  if (cluster != nullptr) {
    if (absl::Status started = cluster->Start(server->address()); !started.ok()) {
      std::fprintf(stderr, "sbd-ledger serve: --cluster: %s\n", Message(started).c_str());
      cluster_failed = true;
      std::raise(SIGTERM);
    }
  }
  PrintServing(server->address(), config, *secret, tokens->authority());
  const int signal = server->WaitForSignal();
  ShutDown(signal, server, *tokens, ledger, cluster.get(), notifier, access_log);
  return cluster_failed ? 1 : 0;  // ~AccessLog flushes, for a bounded time.
}

}  // namespace sbd
