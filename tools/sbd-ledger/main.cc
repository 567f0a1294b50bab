// sbd-ledger: the SBD token ledger server (API.md).
//
//   sbd-ledger serve [--db PATH] [--listen HOST:PORT] [--demo] ...
//   sbd-ledger token --user NAME [--admin] [--ttl SECONDS]
//   sbd-ledger import --db PATH --users FILE [--dry-run] [--jsonArray]
//
// Flags and wiring only; the commands are in serve.h and import/.
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "tools/sbd-ledger/import/import_command.h"
#include "tools/sbd-ledger/serve.h"

namespace po = boost::program_options;

namespace {

constexpr char kUsage[] =
    "usage: sbd-ledger serve [options]   serve the HTTP API and WebSocket (see serve --help)\n"
    "       sbd-ledger token --user NAME [--admin] [--ttl SECONDS]\n"
    "                                    print a token signed with the configured secret\n"
    "       sbd-ledger import --db PATH --users FILE [--dry-run] [--jsonArray]\n"
    "                                    import Second Brain Database's users collection\n"
    "                                    (mongoexport output) into a new log (see import --help)\n"
    "The JWT secret comes from $SBD_JWT_SECRET or --secret-file.\n";

int Serve(const std::vector<std::string>& args) {
  sbd::ServeConfig config;
  sbd::ServerOptions& server = config.server;
  std::string durability = "full";
  int64_t idle_timeout_s = server.keep_alive_idle_timeout.count();
  int64_t read_timeout_s = server.request_read_timeout.count();
  po::options_description options("sbd-ledger serve options");
  options.add_options()("help", "print this help")(
      "db", po::value(&config.db_path)->default_value(config.db_path),
      "the event log (SQLite file; created with its directory if missing)")(
      "listen", po::value(&config.listen)->default_value(config.listen),
      "HOST:PORT to listen on; port 0 picks a free one (the real address is printed as "
      "'listening on HOST:PORT')")("threads", po::value(&config.threads)->default_value(0),
                                   "io threads; 0 = one per core")(
      "durability", po::value(&durability)->default_value(durability),
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
      "request line and header bytes before 431 (and close)")(
      "connections-max", po::value(&server.connections_max)->default_value(server.connections_max),
      "open HTTP connections; further ones are closed at once")(
      "idle-timeout", po::value(&idle_timeout_s)->default_value(idle_timeout_s),
      "seconds an idle keep-alive connection stays open")(
      "read-timeout", po::value(&read_timeout_s)->default_value(read_timeout_s),
      "seconds a started request may take to arrive whole (slowloris guard)")(
      "no-access-log",
      "do not write one line per request (method path status time) to "
      "stderr");
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
  if (durability != "full" && durability != "normal") {
    std::fprintf(stderr, "sbd-ledger serve: --durability must be full or normal\n");
    return 2;
  }
  if (idle_timeout_s <= 0 || read_timeout_s <= 0 || server.rate_limit_per_s < 0 ||
      server.request_body_bytes_max == 0 || server.request_header_bytes_max == 0 ||
      server.connections_max == 0 || server.websocket_backlog_messages_max == 0) {
    std::fprintf(stderr, "sbd-ledger serve: limits and timeouts must be positive\n");
    return 2;
  }
  config.durability_full = durability == "full";
  server.keep_alive_idle_timeout = std::chrono::seconds(idle_timeout_s);
  server.request_read_timeout = std::chrono::seconds(read_timeout_s);
  server.access_log = values.count("no-access-log") == 0;
  return sbd::RunServe(config);
}

int Token(const std::vector<std::string>& args) {
  std::string user;
  std::string secret_file;
  bool admin = false;
  int64_t ttl_s = 3600;
  po::options_description options("sbd-ledger token options");
  options.add_options()("help", "print this help")(
      "user", po::value(&user), "the token's sub (username)")("admin", po::bool_switch(&admin),
                                                              "add role: admin")(
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
    std::cout << "usage: sbd-ledger token --user NAME [--admin] [--ttl SECONDS]\n" << options;
    return 0;
  }
  if (user.empty()) {
    std::fprintf(stderr, "sbd-ledger token: --user is required\n");
    return 2;
  }
  return sbd::RunToken(secret_file, user, admin, ttl_s);
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
