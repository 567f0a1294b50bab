// sbd-ledger: the SBD token ledger server (API.md).
//
//   sbd-ledger serve [--db PATH] [--listen HOST:PORT] [--demo] ...
//   sbd-ledger token --user NAME [--admin | --service] [--ttl SECONDS]
//   sbd-ledger import --db PATH --users FILE [--dry-run] [--jsonArray]
//
// Flags and wiring only; the commands are in serve.h and import/.
#include <boost/program_options.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "tools/sbd-ledger/import/import_command.h"
#include "tools/sbd-ledger/serve.h"
#include "transport/access_log.h"

namespace po = boost::program_options;

namespace {

constexpr char kUsage[] =
    "usage: sbd-ledger serve [options]   serve the HTTP API and WebSocket (see serve --help)\n"
    "       sbd-ledger token --user NAME [--admin | --service] [--ttl SECONDS]\n"
    "                                    print a token signed with the configured secret\n"
    "       sbd-ledger import --db PATH --users FILE [--dry-run] [--jsonArray]\n"
    "                                    import Second Brain Database's users collection\n"
    "                                    (mongoexport output) into a new log (see import --help)\n"
    "The JWT secret comes from $SBD_JWT_SECRET or --secret-file.\n";

// `serve`'s flags as boost::program_options writes them: the config itself,
// and the ones CheckServeFlags turns into its types (a name into a bool,
// seconds into durations, origins into a CorsPolicy).
struct ServeFlags {
  sbd::ServeConfig config;
  std::string durability = "full";
  int64_t idle_timeout_s = config.server.keep_alive_idle_timeout.count();
  int64_t read_timeout_s = config.server.request_read_timeout.count();
  std::string cors_origins;
  int64_t ws_close_timeout_s = config.server.websocket_close_timeout.count();
  std::string cluster_urls;
  int64_t lease_ms = absl::ToInt64Milliseconds(config.cluster.lease_duration);
};

// The flags of `serve`, writing into `flags`. One table: its order is the
// order --help prints.
void AddServeOptions(po::options_description& options, ServeFlags& flags) {
  sbd::ServeConfig& config = flags.config;
  sbd::ServerOptions& server = config.server;
  const std::string ws_close_timeout_help =
      "seconds a WebSocket close the server starts (1001, 1003, 1008, 1011, 1013) waits for "
      "the client's close frame before the connection is dropped; 1.." +
      std::to_string(sbd::kWebSocketCloseTimeoutMax.count());
  options.add_options()("help", "print this help")(
      "db", po::value(&config.db_path)->default_value(config.db_path),
      "the event log (SQLite file; created with its directory if missing)")(
      "listen", po::value(&config.listen)->default_value(config.listen),
      "HOST:PORT to listen on; port 0 picks a free one (the real address is printed as "
      "'listening on HOST:PORT')")("threads", po::value(&config.threads)->default_value(0),
                                   "io threads; 0 = one per core")(
      "durability", po::value(&flags.durability)->default_value(flags.durability),
      "full: fsync every group commit (survives power loss); normal: survives a crash of the "
      "process, the last commits may be lost on power loss")(
      "demo", po::bool_switch(&config.demo),
      "on a fresh log open alice, bob and carol with 1000 tokens each; print a token and the "
      "wallet URL for each; without a secret, make a random one and print it")(
      "secret-file", po::value(&config.secret_file),
      "read the HS256 JWT secret from this file (default: $SBD_JWT_SECRET)")(
      "rate-limit", po::value(&server.rate_limit_per_s)->default_value(0),
      "sends per second per user (burst 2N) before 429 rate_limited; 0 = off")(
      "backlog-limit",
      po::value(&server.websocket_backlog_messages_max)
          ->default_value(server.websocket_backlog_messages_max),
      "unsent WebSocket messages per connection before it is closed with 1013")(
      "body-limit",
      po::value(&server.request_body_bytes_max)->default_value(server.request_body_bytes_max),
      "request body bytes before 413 payload_too_large")(
      "header-limit",
      po::value(&server.request_header_bytes_max)->default_value(server.request_header_bytes_max),
      "request line and header bytes before 431 (and close); also the only bound on a "
      "token's size (on /ws the token is in the request line)")(
      "connections-max", po::value(&server.connections_max)->default_value(server.connections_max),
      "open HTTP connections; further ones are closed at once")(
      "idle-timeout", po::value(&flags.idle_timeout_s)->default_value(flags.idle_timeout_s),
      "seconds an idle keep-alive connection stays open")(
      "read-timeout", po::value(&flags.read_timeout_s)->default_value(flags.read_timeout_s),
      "seconds a started request may take to arrive whole (slowloris guard)")(
      "permanent-tokens", po::bool_switch(&config.permanent_tokens),
      "accept the origin's permanent tokens (token_type \"permanent\", a token_id, no exp) "
      "unless revoked")(
      "revoked-tokens", po::value(&config.revoked_tokens_path),
      "file of revoked permanent token ids, one a line, # comments; re-read on SIGHUP and when "
      "it changes; a revoked token's open WebSockets close with 1008")(
      "open-accounts-on-first-use", po::bool_switch(&server.open_accounts_on_first_use),
      "a user token whose sub has no account opens it (balance 0) before its first request "
      "(GET /sbd_tokens, the history, a send, a note, /ws) is served; without it that request "
      "is 404 account_not_found. A recipient is never opened, nor an admin's or service's "
      "account")(
      "cors-origins", po::value(&flags.cors_origins)->default_value(flags.cors_origins),
      "browser origins allowed to call the API cross-origin: comma-separated exact origins "
      "(http://localhost:3000) or *; empty = CORS off (default: $SBD_CORS_ORIGINS)")(
      "ws-close-timeout",
      po::value(&flags.ws_close_timeout_s)->default_value(flags.ws_close_timeout_s),
      ws_close_timeout_help.c_str())(
      "no-access-log",
      "do not write one line per request (method path status time) to "
      "stderr")("access-log-limit",
                po::value(&server.access_log_buffer_bytes_max)
                    ->default_value(server.access_log_buffer_bytes_max),
                "bytes of log lines held in memory while stderr is not draining (at least 4096); "
                "further lines are dropped and counted (sbd_access_log_dropped_total), never "
                "waited for");
  options.add_options()(
      "cluster", po::value(&flags.cluster_urls),
      "cluster mode (docs/CLUSTER.md): the NATS servers, nats://HOST:PORT comma-separated; "
      "the log is replicated through their JetStream stream and one node at a time writes")(
      "node-id", po::value(&config.cluster.node_id),
      "cluster mode: this node's name, unique in the cluster (required with --cluster)")(
      "advertise", po::value(&config.cluster.advertise),
      "cluster mode: the http://HOST:PORT other nodes forward writes to while this node is the "
      "writer (default: http:// and the address it listens on)")(
      "lease-ms", po::value(&flags.lease_ms)->default_value(flags.lease_ms),
      "cluster mode: the writer lease; a writer that stops renewing it is replaced this long "
      "after its last renewal (at least 1000)");
}

// Checks the parsed flags and completes flags.config from them; false (the
// reason printed) if one is out of range.
bool CheckServeFlags(ServeFlags& flags, bool access_log) {
  sbd::ServerOptions& server = flags.config.server;
  if (flags.durability != "full" && flags.durability != "normal") {
    std::fprintf(stderr, "sbd-ledger serve: --durability must be full or normal\n");
    return false;
  }
  if (flags.idle_timeout_s <= 0 || flags.read_timeout_s <= 0 || server.rate_limit_per_s < 0 ||
      server.request_body_bytes_max == 0 || server.request_header_bytes_max == 0 ||
      server.connections_max == 0 || server.websocket_backlog_messages_max == 0) {
    std::fprintf(stderr, "sbd-ledger serve: limits and timeouts must be positive\n");
    return false;
  }
  if (server.access_log_buffer_bytes_max < sbd::AccessLog::kLineBytesMax) {
    std::fprintf(stderr, "sbd-ledger serve: --access-log-limit must be at least %zu\n",
                 sbd::AccessLog::kLineBytesMax);
    return false;
  }
  absl::StatusOr<sbd::CorsPolicy> cors = sbd::CorsPolicy::Parse(flags.cors_origins);
  if (!cors.ok()) {
    std::fprintf(stderr, "sbd-ledger serve: --cors-origins: %s\n",
                 std::string(cors.status().message()).c_str());
    return false;
  }
  server.cors = *std::move(cors);
  if (flags.ws_close_timeout_s < 1 ||
      flags.ws_close_timeout_s > sbd::kWebSocketCloseTimeoutMax.count()) {
    std::fprintf(stderr, "sbd-ledger serve: --ws-close-timeout must be 1..%lld seconds\n",
                 static_cast<long long>(sbd::kWebSocketCloseTimeoutMax.count()));
    return false;
  }
  if (!flags.cluster_urls.empty()) {
    absl::StatusOr<std::vector<std::string>> urls = sbd::SplitClusterUrls(flags.cluster_urls);
    // A 200 in cluster mode includes the writer's own fsync (docs/CLUSTER.md):
    // --durability normal would quietly weaken it.
    if (!urls.ok() || flags.config.cluster.node_id.empty() || flags.lease_ms < 1000 ||
        flags.config.demo || flags.durability != "full") {
      std::fprintf(stderr,
                   "sbd-ledger serve: --cluster takes nats://HOST:PORT,... with --node-id NAME and "
                   "--lease-ms of 1000 or more; not --demo, nor --durability normal\n");
      return false;
    }
    flags.config.cluster.urls = *std::move(urls);
    flags.config.cluster.lease_duration = absl::Milliseconds(flags.lease_ms);
  }
  flags.config.durability_full = flags.durability == "full";
  server.keep_alive_idle_timeout = std::chrono::seconds(flags.idle_timeout_s);
  server.request_read_timeout = std::chrono::seconds(flags.read_timeout_s);
  server.websocket_close_timeout = std::chrono::seconds(flags.ws_close_timeout_s);
  server.access_log = access_log;
  return true;
}

int Serve(const std::vector<std::string>& args) {
  ServeFlags flags;
  // Read once at start-up, before any thread exists.
  const char* cors_env = std::getenv("SBD_CORS_ORIGINS");  // NOLINT(concurrency-mt-unsafe)
  flags.cors_origins = cors_env != nullptr ? cors_env : "";
  po::options_description options("sbd-ledger serve options");
  AddServeOptions(options, flags);
  po::variables_map values;
  try {
    po::store(po::command_line_parser(args).options(options).run(), values);
    po::notify(values);
  } catch (const po::error& error) {
    std::fprintf(stderr, "sbd-ledger serve: %s\n%s", error.what(), kUsage);
    return 2;
  }
  if (values.count("help")) {
    std::cout << "usage: sbd-ledger serve [options]\n" << options;
    return 0;
  }
  if (!CheckServeFlags(flags, values.count("no-access-log") == 0)) return 2;
  return sbd::RunServe(flags.config);
}

int Token(const std::vector<std::string>& args) {
  std::string user;
  std::string secret_file;
  bool admin = false;
  bool service = false;
  int64_t ttl_s = 3600;
  po::options_description options("sbd-ledger token options");
  options.add_options()("help", "print this help")(
      "user", po::value(&user), "the token's sub (username)")("admin", po::bool_switch(&admin),
                                                              "add role: admin")(
      "service", po::bool_switch(&service),
      "add role: service (may call POST /admin/transfer, no other admin route)")(
      "ttl", po::value(&ttl_s)->default_value(ttl_s), "seconds until the token expires")(
      "secret-file", po::value(&secret_file),
      "read the HS256 JWT secret from this file (default: $SBD_JWT_SECRET)");
  po::variables_map values;
  try {
    po::store(po::command_line_parser(args).options(options).run(), values);
    po::notify(values);
  } catch (const po::error& error) {
    std::fprintf(stderr, "sbd-ledger token: %s\n%s", error.what(), kUsage);
    return 2;
  }
  if (values.count("help")) {
    std::cout << "usage: sbd-ledger token --user NAME [--admin | --service] [--ttl SECONDS]\n"
              << options;
    return 0;
  }
  if (user.empty()) {
    std::fprintf(stderr, "sbd-ledger token: --user is required\n");
    return 2;
  }
  if (admin && service) {
    std::fprintf(stderr, "sbd-ledger token: --admin and --service exclude each other\n");
    return 2;
  }
  const sbd::Role role = admin     ? sbd::Role::kAdmin
                         : service ? sbd::Role::kService
                                   : sbd::Role::kUser;
  return sbd::RunToken(secret_file, user, role, ttl_s);
}

int Import(const std::vector<std::string>& args) {
  sbd::ImportConfig config;
  bool json_array = false;
  po::options_description options("sbd-ledger import options");
  options.add_options()("help", "print this help")(
      "db", po::value(&config.db_path)->default_value(config.db_path),
      "the event log to write: a new file, or a log without events (created with its directory "
      "if missing); a log that holds events is refused")(
      "users", po::value(&config.users_path),
      "the origin's users collection as mongoexport writes it (Extended JSON, one document a "
      "line)")("jsonArray", po::bool_switch(&json_array),
               "the users file is one JSON array (mongoexport --jsonArray)")(
      "dry-run", po::bool_switch(&config.dry_run),
      "run the whole import through an in-memory ledger and print the report; write nothing");
  po::variables_map values;
  try {
    po::store(po::command_line_parser(args).options(options).run(), values);
    po::notify(values);
  } catch (const po::error& error) {
    std::fprintf(stderr, "sbd-ledger import: %s\n%s", error.what(), kUsage);
    return 2;
  }
  if (values.count("help")) {
    std::cout << "usage: sbd-ledger import --db PATH --users FILE [--dry-run] [--jsonArray]\n"
                 "Writes every user, balance and history entry into the log through the "
                 "ledger, adding\nreconciliation events for what the history does not "
                 "explain, and prints a report.\nMalformed input is refused (FILE:LINE: "
                 "reason) with nothing written. docs/IMPORT.md has the rules.\n"
              << options;
    return 0;
  }
  if (config.users_path.empty()) {
    std::fprintf(stderr, "sbd-ledger import: --users is required\n");
    return 2;
  }
  config.format = json_array ? sbd::ExportFormat::kJsonArray : sbd::ExportFormat::kJsonLines;
  return sbd::RunImport(config);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  if (command == "serve") return Serve(args);
  if (command == "token") return Token(args);
  if (command == "import") return Import(args);
  std::fprintf(stderr, "sbd-ledger: unknown command '%s'\n%s", command.c_str(), kUsage);
  return 2;
}
