// sbd-ledger: the SBD token ledger server (API.md).
//
//   sbd-ledger serve [--db PATH] [--listen HOST:PORT] [--demo] ...
//   sbd-ledger gateway --cluster URLS --node-id NAME [--listen HOST:PORT] ...
//   sbd-ledger token --user NAME [--admin | --service] [--ttl SECONDS]
//   sbd-ledger import --db PATH --users FILE [--dry-run] [--jsonArray]
//
// Flags and wiring only; the commands are in serve.h, gateway.h and import/.
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "tools/sbd-ledger/gateway.h"
#include "tools/sbd-ledger/import/import_command.h"
#include "tools/sbd-ledger/serve.h"
#include "transport/access_log.h"

namespace po = boost::program_options;

namespace {

constexpr char kUsage[] =
    "usage: sbd-ledger serve [options]   serve the HTTP API and WebSocket (see serve --help)\n"
    "       sbd-ledger gateway --cluster URLS --node-id NAME [options]\n"
    "                                    serve /ws from a cluster's stream (see gateway --help)\n"
    "       sbd-ledger token --user NAME [--admin | --service] [--ttl SECONDS]\n"
    "                                    print a token signed with the configured secret\n"
    "       sbd-ledger import --db PATH --users FILE [--dry-run] [--jsonArray]\n"
    "                                    import Second Brain Database's users collection\n"
    "                                    (mongoexport output) into a new log (see import --help)\n"
    "The JWT secret comes from $SBD_JWT_SECRET or --secret-file.\n";

// The flags `serve` and `gateway` share (their HTTP and WebSocket front), as
// boost::program_options writes them: the config itself, and the ones
// CheckServingFlags turns into its types (seconds into durations, origins
// into a CorsPolicy).
struct ServingFlags {
  sbd::ServingConfig config;
  int64_t idle_timeout_s = config.server.keep_alive_idle_timeout.count();
  int64_t read_timeout_s = config.server.request_read_timeout.count();
  std::string cors_origins;
  int64_t ws_close_timeout_s = config.server.websocket_close_timeout.count();
};

// `serve`'s flags: the shared ones, its log's, and cluster mode's.
struct ServeFlags {
  sbd::ServeConfig config;
  ServingFlags serving;
  std::string durability = "full";
  std::string cluster_urls;
  int64_t lease_ms = absl::ToInt64Milliseconds(config.cluster.lease_duration);
};

// `gateway`'s flags: the shared ones and the stream's.
struct GatewayFlags {
  sbd::GatewayConfig config;
  ServingFlags serving;
  std::string cluster_urls;
};

// The shared flags, writing into `flags`. One table: its order is the order
// --help prints.
void AddServingOptions(po::options_description& options, ServingFlags& flags) {
  sbd::ServingConfig& config = flags.config;
  sbd::ServerOptions& server = config.server;
  const std::string ws_close_timeout_help =
      "seconds a WebSocket close the server starts (1001, 1003, 1008, 1011, 1013) waits for "
      "the client's close frame before the connection is dropped; 1.." +
      std::to_string(sbd::kWebSocketCloseTimeoutMax.count());
  options.add_options()(
      "listen", po::value(&config.listen)->default_value(config.listen),
      "HOST:PORT to listen on; port 0 picks a free one (the real address is printed as "
      "'listening on HOST:PORT')")("threads", po::value(&config.threads)->default_value(0),
                                   "io threads; 0 = one per core")(
      "secret-file", po::value(&config.secret_file),
      "read the HS256 JWT secret from this file (default: $SBD_JWT_SECRET)")(
      "backlog-limit",
      po::value(&server.websocket_backlog_messages_max)
          ->default_value(server.websocket_backlog_messages_max),
      "unsent WebSocket messages per connection before it is closed with 1013")(
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
}

// The flags of `serve` alone.
void AddServeOptions(po::options_description& options, ServeFlags& flags) {
  sbd::ServeConfig& config = flags.config;
  sbd::ServerOptions& server = flags.serving.config.server;
  options.add_options()("help", "print this help")(
      "db", po::value(&config.db_path)->default_value(config.db_path),
      "the event log (SQLite file; created with its directory if missing)")(
      "durability", po::value(&flags.durability)->default_value(flags.durability),
      "full: fsync every group commit (survives power loss); normal: survives a crash of the "
      "process, the last commits may be lost on power loss")(
      "demo", po::bool_switch(&config.demo),
      "on a fresh log open alice, bob and carol with 1000 tokens each; print a token and the "
      "wallet URL for each; without a secret, make a random one and print it")(
      "rate-limit", po::value(&server.rate_limit_per_s)->default_value(0),
      "sends per second per user (burst 2N) before 429 rate_limited; 0 = off")(
      "body-limit",
      po::value(&server.request_body_bytes_max)->default_value(server.request_body_bytes_max),
      "request body bytes before 413 payload_too_large")(
      "open-accounts-on-first-use", po::bool_switch(&server.open_accounts_on_first_use),
      "a user token whose sub has no account opens it (balance 0) before its first request "
      "(GET /sbd_tokens, the history, a send, a note, /ws) is served; without it that request "
      "is 404 account_not_found. A recipient is never opened, nor an admin's or service's "
      "account");
  AddServingOptions(options, flags.serving);
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

// The flags of `gateway`.
void AddGatewayOptions(po::options_description& options, GatewayFlags& flags) {
  sbd::GatewayConfig& config = flags.config;
  options.add_options()("help", "print this help")(
      "cluster", po::value(&flags.cluster_urls),
      "the NATS servers of the cluster (docs/CLUSTER.md), nats://HOST:PORT comma-separated "
      "(required); the gateway finds the nodes through them")("node-id", po::value(&config.node_id),
                    "this gateway's name in /healthz and /metrics (default: gateway-HOSTNAME)")(
      "window-events", po::value(&config.window_events)->default_value(config.window_events),
      "recent events held in memory: a `since` they cover is served from memory, an older one "
      "is paged from a node")(
      "window-bytes", po::value(&config.window_bytes)->default_value(config.window_bytes),
      "the window's bound in bytes (estimated): the oldest events go first past either bound");
  AddServingOptions(options, flags.serving);
}

// Checks the shared flags and completes flags.config from them; false (the
// reason printed, after `command`) if one is out of range.
bool CheckServingFlags(const char* command, ServingFlags& flags, bool access_log) {
  sbd::ServerOptions& server = flags.config.server;
  if (flags.idle_timeout_s <= 0 || flags.read_timeout_s <= 0 || server.rate_limit_per_s < 0 ||
      server.request_body_bytes_max == 0 || server.request_header_bytes_max == 0 ||
      server.connections_max == 0 || server.websocket_backlog_messages_max == 0) {
    std::fprintf(stderr, "%s: limits and timeouts must be positive\n", command);
    return false;
  }
  if (server.access_log_buffer_bytes_max < sbd::AccessLog::kLineBytesMax) {
    std::fprintf(stderr, "%s: --access-log-limit must be at least %zu\n", command,
                 sbd::AccessLog::kLineBytesMax);
    return false;
  }
  absl::StatusOr<sbd::CorsPolicy> cors = sbd::CorsPolicy::Parse(flags.cors_origins);
  if (!cors.ok()) {
    std::fprintf(stderr, "%s: --cors-origins: %s\n", command,
                 std::string(cors.status().message()).c_str());
    return false;
  }
  server.cors = *std::move(cors);
  if (flags.ws_close_timeout_s < 1 ||
      flags.ws_close_timeout_s > sbd::kWebSocketCloseTimeoutMax.count()) {
    std::fprintf(stderr, "%s: --ws-close-timeout must be 1..%lld seconds\n", command,
                 static_cast<long long>(sbd::kWebSocketCloseTimeoutMax.count()));
    return false;
  }
  server.keep_alive_idle_timeout = std::chrono::seconds(flags.idle_timeout_s);
  server.request_read_timeout = std::chrono::seconds(flags.read_timeout_s);
  server.websocket_close_timeout = std::chrono::seconds(flags.ws_close_timeout_s);
  server.access_log = access_log;
  return true;
}

// Checks serve's flags and completes flags.config from them; false (the
// reason printed) if one is out of range.
bool CheckServeFlags(ServeFlags& flags, bool access_log) {
  if (!CheckServingFlags("sbd-ledger serve", flags.serving, access_log)) return false;
  flags.config.serving = flags.serving.config;
  if (flags.durability != "full" && flags.durability != "normal") {
    std::fprintf(stderr, "sbd-ledger serve: --durability must be full or normal\n");
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
  return true;
}

// This machine's name (a gateway's default --node-id); "unknown" if the
// system will not say.
std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "unknown";
  return name;
}

// Checks gateway's flags and completes flags.config from them.
bool CheckGatewayFlags(GatewayFlags& flags, bool access_log) {
  if (!CheckServingFlags("sbd-ledger gateway", flags.serving, access_log)) return false;
  flags.config.serving = flags.serving.config;
  absl::StatusOr<std::vector<std::string>> urls =
      flags.cluster_urls.empty()
          ? absl::InvalidArgumentError("--cluster is required")
          : sbd::SplitClusterUrls(flags.cluster_urls);
  if (!urls.ok() || flags.config.window_events == 0 || flags.config.window_bytes == 0) {
    std::fprintf(stderr,
                 "sbd-ledger gateway: --cluster nats://HOST:PORT,... is required; "
                 "--window-events and --window-bytes must be positive\n");
    return false;
  }
  flags.config.cluster_urls = *std::move(urls);
  if (flags.config.node_id.empty()) flags.config.node_id = "gateway-" + HostName();
  return true;
}

// Parses `args` into `options`' targets; nullopt (and the exit code in
// `exit_code`) when the command is done already: a bad flag (2) or --help
// (0: `help` printed, then the options).
std::optional<po::variables_map> ParseFlags(const char* command, const char* help,
                                            const std::vector<std::string>& args,
                                            const po::options_description& options,
                                            int& exit_code) {
  po::variables_map values;
  try {
    po::store(po::command_line_parser(args).options(options).run(), values);
    po::notify(values);
  } catch (const po::error& error) {
    std::fprintf(stderr, "%s: %s\n%s", command, error.what(), kUsage);
    exit_code = 2;
    return std::nullopt;
  }
  if (values.count("help")) {
    std::cout << help << options;
    exit_code = 0;
    return std::nullopt;
  }
  return values;
}

// $SBD_CORS_ORIGINS, the default of --cors-origins.
std::string CorsOriginsFromEnvironment() {
  // Read once at start-up, before any thread exists.
  const char* cors_env = std::getenv("SBD_CORS_ORIGINS");  // NOLINT(concurrency-mt-unsafe)
  return cors_env != nullptr ? cors_env : "";
}

int Serve(const std::vector<std::string>& args) {
  ServeFlags flags;
  flags.serving.cors_origins = CorsOriginsFromEnvironment();
  po::options_description options("sbd-ledger serve options");
  AddServeOptions(options, flags);
  int exit_code = 0;
  std::optional<po::variables_map> values =
      ParseFlags("sbd-ledger serve", "usage: sbd-ledger serve [options]\n", args, options, exit_code);
  if (!values) return exit_code;
  if (!CheckServeFlags(flags, values->count("no-access-log") == 0)) return 2;
  return sbd::RunServe(flags.config);
}

int Gateway(const std::vector<std::string>& args) {
  GatewayFlags flags;
  flags.serving.cors_origins = CorsOriginsFromEnvironment();
  po::options_description options("sbd-ledger gateway options");
  AddGatewayOptions(options, flags);
  int exit_code = 0;
  std::optional<po::variables_map> values =
      ParseFlags("sbd-ledger gateway",
                 "usage: sbd-ledger gateway --cluster URLS --node-id NAME [options]\n", args,
                 options, exit_code);
  if (!values) return exit_code;
  if (!CheckGatewayFlags(flags, values->count("no-access-log") == 0)) return 2;
  return sbd::RunGateway(flags.config);
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
  int exit_code = 0;
  if (!ParseFlags("sbd-ledger token",
                  "usage: sbd-ledger token --user NAME [--admin | --service] [--ttl SECONDS]\n",
                  args, options, exit_code)) {
    return exit_code;
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
  int exit_code = 0;
  if (!ParseFlags("sbd-ledger import",
                  "usage: sbd-ledger import --db PATH --users FILE [--dry-run] [--jsonArray]\n"
                  "Writes every user, balance and history entry into the log through the "
                  "ledger, adding\nreconciliation events for what the history does not "
                  "explain, and prints a report.\nMalformed input is refused (FILE:LINE: "
                  "reason) with nothing written. docs/IMPORT.md has the rules.\n",
                  args, options, exit_code)) {
    return exit_code;
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
  if (command == "gateway") return Gateway(args);
  if (command == "token") return Token(args);
  if (command == "import") return Import(args);
  std::fprintf(stderr, "sbd-ledger: unknown command '%s'\n%s", command.c_str(), kUsage);
  return 2;
}
