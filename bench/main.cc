// sbd-bench: the benchmark harness (docs/BENCHMARKS.md). Parses the
// subcommand and its flags, runs it, prints the table or JSON. The work is
// in *_bench.cc.
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "bench/bare_server.h"
#include "bench/bench_report.h"
#include "bench/cluster_bench.h"
#include "bench/e2e_bench.h"
#include "bench/engine_bench.h"
#include "bench/gateway_bench.h"
#include "bench/import_bench.h"
#include "bench/replay_bench.h"

namespace po = boost::program_options;

namespace sbd::bench {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

#ifdef SBD_LEDGER_BINARY
constexpr const char* kDefaultServerBinary = SBD_LEDGER_BINARY;
#else
constexpr const char* kDefaultServerBinary = "";
#endif

#ifdef SBD_REPLAY_BINARY
constexpr const char* kDefaultReplayBinary = SBD_REPLAY_BINARY;
#else
constexpr const char* kDefaultReplayBinary = "";
#endif

// This executable's path (the bare server is one of its commands).
std::string SelfPath() { return std::filesystem::read_symlink("/proc/self/exe").string(); }

// Flags every subcommand takes.
struct CommonFlags {
  bool json = false;
  size_t runs = 1;
  std::string directory;
  bool keep = false;
};

void AddCommonFlags(po::options_description& flags, CommonFlags& common) {
  flags.add_options()                                                           //
      ("help,h", "print this help")                                             //
      ("json", po::bool_switch(&common.json), "print JSON instead of a table")  //
      ("runs", po::value(&common.runs)->default_value(1),
       "repeat the measurement this many times and report medians")  //
      ("dir", po::value(&common.directory),
       "directory for the databases (default: a new one under $TMPDIR, removed after)")  //
      ("keep", po::bool_switch(&common.keep), "keep the databases and the directory");
}

// The working directory of a run: --dir, or a fresh temporary one that is
// removed at exit unless --keep.
class WorkDirectory {
 public:
  explicit WorkDirectory(const CommonFlags& common) {
    if (!common.directory.empty()) {
      path_ = common.directory;
      return;
    }
    path_ = std::filesystem::temp_directory_path() / ("sbd-bench-" + std::to_string(getpid()));
    remove_ = !common.keep;
  }
  ~WorkDirectory() {
    std::error_code ignored;
    if (remove_) std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  bool remove_ = false;
};

// Parses `args` against `flags`; false (after printing why) on a usage error
// or --help.
bool Parse(const std::vector<std::string>& args, const po::options_description& flags,
           const char* usage, int& exit_code) {
  try {
    po::variables_map values;
    const po::positional_options_description none;
    po::store(po::command_line_parser(args).options(flags).positional(none).run(), values);
    if (values.count("help") != 0) {
      std::cout << usage << "\n" << flags << "\n";
      exit_code = kExitOk;
      return false;
    }
    po::notify(values);
    return true;
  } catch (const po::error& error) {
    std::cerr << "sbd-bench: " << error.what() << "\n" << usage << "\n" << flags << "\n";
    exit_code = kExitUsage;
    return false;
  }
}

int Finish(const BenchReport& report, const CommonFlags& common) {
  if (common.json) {
    report.PrintJson(std::cout);
  } else {
    report.PrintTable(std::cout);
  }
  return kExitOk;
}

int Fail(const absl::Status& status) {
  std::cerr << "sbd-bench: " << status << "\n";
  return kExitFailed;
}

// common.runs measurements, each `measure_run(run)`, into `report`; the
// first failure ends the command.
template <typename MeasureRun>
int MeasureRuns(BenchReport& report, const CommonFlags& common, MeasureRun measure_run) {
  for (size_t run = 0; run < common.runs; ++run) {
    absl::StatusOr<Metrics> metrics = measure_run(run);
    if (!metrics.ok()) return Fail(metrics.status());
    report.AddRun(*std::move(metrics));
  }
  return Finish(report, common);
}

int RunEngine(const std::vector<std::string>& args) {
  constexpr const char* kUsage =
      "Usage: sbd-bench engine [--accounts N] [--transfers N] [--batch-max N] "
      "[--sync full|normal] [--rate R] ...";
  CommonFlags common;
  EngineBenchOptions options;
  std::string sync = "full";
  bool no_baselines = false;
  po::options_description flags("engine options");
  AddCommonFlags(flags, common);
  flags.add_options()  //
      ("accounts", po::value(&options.accounts)->default_value(options.accounts),
       "accounts opened and funded before the transfers")  //
      ("transfers", po::value(&options.transfers)->default_value(options.transfers),
       "transfers submitted")  //
      ("batch-max", po::value(&options.batch_size_max)->default_value(options.batch_size_max),
       "Ledger::Options::batch_size_max")                                            //
      ("sync", po::value(&sync)->default_value(sync), "durability: full or normal")  //
      ("rate", po::value(&options.rate)->default_value(0),
       "offered transfers/s (open loop); 0 = as fast as the in-flight window allows")  //
      ("threads", po::value(&options.client_threads)->default_value(options.client_threads),
       "client threads submitting")  //
      ("in-flight", po::value(&options.in_flight_max)->default_value(options.in_flight_max),
       "transfers submitted and not yet answered, over all client threads")  //
      ("naive-rows", po::value(&options.naive_rows)->default_value(options.naive_rows),
       "rows of baseline (b), one fsync'd transaction each")  //
      ("no-baselines", po::bool_switch(&no_baselines), "skip the SQLite baselines");
  int exit_code = kExitOk;
  if (!Parse(args, flags, kUsage, exit_code)) return exit_code;
  if (sync == "full") {
    options.durability = Durability::kFull;
  } else if (sync == "normal") {
    options.durability = Durability::kNormal;
  } else {
    std::cerr << "sbd-bench: --sync must be full or normal, not '" << sync << "'\n";
    return kExitUsage;
  }
  options.baselines = !no_baselines;
  WorkDirectory directory(common);
  options.directory = directory.path();

  BenchReport report("engine");
  report.AddParameter("accounts", std::to_string(options.accounts));
  report.AddParameter("transfers", std::to_string(options.transfers));
  report.AddParameter("batch-max", std::to_string(options.batch_size_max));
  report.AddParameter("sync", sync);
  if (options.rate > 0) report.AddParameter("rate", absl::StrCat(options.rate));
  report.AddParameter("threads", std::to_string(options.client_threads));
  report.AddParameter("in-flight", std::to_string(options.in_flight_max));
  return MeasureRuns(report, common, [&](size_t) { return RunEngineBench(options); });
}

int RunReplay(const std::vector<std::string>& args) {
  constexpr const char* kUsage =
      "Usage: sbd-bench replay [--events N] [--accounts N] [--replay-binary PATH] ...";
  CommonFlags common;
  ReplayBenchOptions options;
  po::options_description flags("replay options");
  AddCommonFlags(flags, common);
  flags.add_options()  //
      ("events", po::value(&options.events)->default_value(options.events),
       "events in the log (opens and mints of every account, then transfers)")  //
      ("accounts", po::value(&options.accounts)->default_value(options.accounts),
       "accounts in the log")  //
      ("replay-binary", po::value(&options.replay_binary)->default_value(kDefaultReplayBinary),
       "the sbd-replay to time; empty skips that row");
  int exit_code = kExitOk;
  if (!Parse(args, flags, kUsage, exit_code)) return exit_code;
  WorkDirectory directory(common);
  options.directory = directory.path();
  options.runs = common.runs;
  options.keep_log = common.keep || !common.directory.empty();

  BenchReport report("replay");
  report.AddParameter("events", std::to_string(options.events));
  report.AddParameter("accounts", std::to_string(options.accounts));
  absl::StatusOr<std::vector<Metrics>> runs = RunReplayBench(options);
  if (!runs.ok()) return Fail(runs.status());
  for (Metrics& run : *runs) report.AddRun(std::move(run));
  return Finish(report, common);
}

int RunImport(const std::vector<std::string>& args) {
  constexpr const char* kUsage = "Usage: sbd-bench import [--users N] [--entries N] ...";
  CommonFlags common;
  ImportBenchOptions options;
  po::options_description flags("import options");
  AddCommonFlags(flags, common);
  flags.add_options()  //
      ("users", po::value(&options.users)->default_value(options.users),
       "users in the synthetic export")  //
      ("entries", po::value(&options.entries)->default_value(options.entries),
       "history entries in it (sbd_tokens_transactions over all users)");
  int exit_code = kExitOk;
  if (!Parse(args, flags, kUsage, exit_code)) return exit_code;
  WorkDirectory directory(common);
  options.directory = directory.path();
  options.runs = common.runs;
  options.keep_export = common.keep || !common.directory.empty();

  BenchReport report("import");
  report.AddParameter("users", std::to_string(options.users));
  report.AddParameter("entries", std::to_string(options.entries));
  absl::StatusOr<std::vector<Metrics>> runs = RunImportBench(options);
  if (!runs.ok()) return Fail(runs.status());
  for (Metrics& run : *runs) report.AddRun(std::move(run));
  return Finish(report, common);
}

// Flags of the server the network benchmarks start (or target).
void AddServerFlags(po::options_description& flags, ServerOptions& server) {
  flags.add_options()  //
      ("server", po::value(&server.binary)->default_value(kDefaultServerBinary),
       "the sbd-ledger binary to start (serve --listen 127.0.0.1:0 on a fresh log)")  //
      ("target", po::value(&server.target),
       "HOST:PORT of a running server instead (SBD_JWT_SECRET must hold its secret)")  //
      ("server-threads", po::value(&server.threads)->default_value(0),
       "serve --threads for a started server (0: its default, one per core)")  //
      ("server-sync", po::value(&server.durability)->default_value(server.durability),
       "serve --durability for a started server: full or normal")  //
      ("access-log",
       po::value<std::string>()
           ->default_value(server.access_log ? "on" : "off")
           ->notifier([&server](const std::string& value) {
             if (value != "on" && value != "off") {
               throw po::validation_error(po::validation_error::invalid_option_value, "access-log",
                                          value);
             }
             server.access_log = value == "on";
           }),
       "the started server's access log: on (one line per request to the stderr it inherits "
       "from sbd-bench) or off (--no-access-log)");
}

void AddServerParameters(BenchReport& report, const ServerOptions& server) {
  if (!server.target.empty()) {
    report.AddParameter("target", server.target);
    return;
  }
  if (server.threads > 0) report.AddParameter("server-threads", std::to_string(server.threads));
  report.AddParameter("server-sync", server.durability);
  report.AddParameter("access-log", server.access_log ? "on" : "off");
}

int RunE2e(const std::vector<std::string>& args) {
  constexpr const char* kUsage =
      "Usage: sbd-bench e2e [--clients C] [--ws W] [--duration S] [--rate R] "
      "[--target HOST:PORT | --server PATH] ...";
  CommonFlags common;
  E2eBenchOptions options;
  bool baseline = false;
  po::options_description flags("e2e options");
  AddCommonFlags(flags, common);
  AddServerFlags(flags, options.server);
  flags.add_options()  //
      ("clients", po::value(&options.clients)->default_value(options.clients),
       "keep-alive HTTP connections sending transfers")  //
      ("ws", po::value(&options.websockets)->default_value(options.websockets),
       "users, each with one WebSocket receiver; transfers go between them")  //
      ("duration", po::value(&options.duration_s)->default_value(options.duration_s),
       "seconds of sending")  //
      ("rate", po::value(&options.rate)->default_value(0),
       "offered transfers/s over all senders (paced); 0 = as fast as answers come")  //
      ("baseline", po::bool_switch(&baseline),
       "also run the same load against the bare server (no ledger; docs/BENCHMARKS.md), "
       "alternating which goes first, and report sbd-ledger / bare");
  int exit_code = kExitOk;
  if (!Parse(args, flags, kUsage, exit_code)) return exit_code;
  if (baseline && !options.server.target.empty()) {
    std::cerr << "sbd-bench e2e: --baseline starts both servers itself; drop --target\n";
    return kExitUsage;
  }
  WorkDirectory directory(common);
  options.server.directory = directory.path();

  BenchReport report("e2e");
  report.AddParameter("clients", std::to_string(options.clients));
  report.AddParameter("ws", std::to_string(options.websockets));
  report.AddParameter("duration", absl::StrCat(options.duration_s));
  if (options.rate > 0) report.AddParameter("rate", absl::StrCat(options.rate));
  AddServerParameters(report, options.server);
  if (!baseline) return MeasureRuns(report, common, [&](size_t) { return RunE2eBench(options); });
  report.AddParameter("baseline", "bare server");
  ServerOptions bare;
  bare.command = {SelfPath(),    "bare-server", "--listen",
                  "127.0.0.1:0", "--threads",   std::to_string(options.server.threads)};
  return MeasureRuns(report, common, [&](size_t run) {
    return RunE2eBaselineBench(options, bare, /*bare_first=*/run % 2 == 0);
  });
}

// The bare server (bare_server.h), started by `e2e --baseline`; not listed
// in the usage, as nobody else needs it.
int RunBare(const std::vector<std::string>& args) {
  constexpr const char* kUsage = "Usage: sbd-bench bare-server [--listen HOST:PORT] [--threads N]";
  BareServerOptions options;
  po::options_description flags("bare-server options");
  flags.add_options()                                                                     //
      ("help", "this help")                                                               //
      ("listen", po::value(&options.listen)->default_value(options.listen), "HOST:PORT")  //
      ("threads", po::value(&options.threads)->default_value(0), "I/O threads (0: one per core)");
  int exit_code = kExitOk;
  if (!Parse(args, flags, kUsage, exit_code)) return exit_code;
  const char* secret = std::getenv("SBD_JWT_SECRET");
  options.secret = secret != nullptr ? secret : "";
  return RunBareServer(options);
}

int RunConnections(const std::vector<std::string>& args) {
  constexpr const char* kUsage = "Usage: sbd-bench connections [--ws N] [--server PATH] ...";
  CommonFlags common;
  ConnectionsBenchOptions options;
  po::options_description flags("connections options");
  AddCommonFlags(flags, common);
  AddServerFlags(flags, options.server);
  flags.add_options()  //
      ("ws", po::value(&options.websockets)->default_value(options.websockets),
       "idle WebSocket connections to open, one per user")  //
      ("senders", po::value(&options.senders)->default_value(options.senders),
       "HTTP connections sending the setup requests and the mints")  //
      ("connect-concurrency",
       po::value(&options.connect_concurrency)->default_value(options.connect_concurrency),
       "WebSocket handshakes in flight at once");
  int exit_code = kExitOk;
  if (!Parse(args, flags, kUsage, exit_code)) return exit_code;
  WorkDirectory directory(common);
  options.server.directory = directory.path();

  BenchReport report("connections");
  report.AddParameter("ws", std::to_string(options.websockets));
  AddServerParameters(report, options.server);
  return MeasureRuns(report, common, [&](size_t) { return RunConnectionsBench(options); });
}

#ifdef SBD_BENCH_CLUSTER
int RunCluster(const std::vector<std::string>& args) {
  constexpr const char* kUsage =
      "Usage: sbd-bench cluster [--accounts N] [--transfers N] [--failovers N] [--server PATH] ...";
  CommonFlags common;
  ClusterBenchOptions options;
  options.ledger_binary = kDefaultServerBinary;
  po::options_description flags("cluster options");
  AddCommonFlags(flags, common);
  flags.add_options()  //
      ("accounts", po::value(&options.accounts)->default_value(options.accounts),
       "accounts opened and funded before the transfers")  //
      ("transfers", po::value(&options.transfers)->default_value(options.transfers),
       "transfers of each engine measurement (single node, replicated)")  //
      ("failovers", po::value(&options.failovers)->default_value(options.failovers),
       "kills of the writer node whose failover is timed; 0 skips them")  //
      ("lease-ms", po::value(&options.lease_ms)->default_value(options.lease_ms),
       "the nodes' writer lease (serve --lease-ms)")  //
      ("clients", po::value(&options.clients)->default_value(options.clients),
       "end to end: keep-alive HTTP senders")  //
      ("ws", po::value(&options.websockets)->default_value(options.websockets),
       "end to end: users, each with one WebSocket receiver")  //
      ("duration", po::value(&options.e2e_duration_s)->default_value(options.e2e_duration_s),
       "end to end: seconds of sending per measurement; 0 skips it")  //
      ("server", po::value(&options.ledger_binary)->default_value(options.ledger_binary),
       "the sbd-ledger binary the nodes run");
  int exit_code = kExitOk;
  if (!Parse(args, flags, kUsage, exit_code)) return exit_code;
  WorkDirectory directory(common);
  BenchReport report("cluster");
  report.AddParameter("accounts", std::to_string(options.accounts));
  report.AddParameter("transfers", std::to_string(options.transfers));
  report.AddParameter("failovers", std::to_string(options.failovers));
  report.AddParameter("lease-ms", std::to_string(options.lease_ms));
  return MeasureRuns(report, common, [&](size_t run) {
    options.directory = directory.path() / absl::StrCat("run", run);
    return RunClusterBench(options);
  });
}

int RunGateway(const std::vector<std::string>& args) {
  constexpr const char* kUsage =
      "Usage: sbd-bench gateway [--connections N] [--fanout-accounts N] [--rate R] "
      "[--duration S] [--server PATH] ...";
  CommonFlags common;
  GatewayBenchOptions options;
  options.ledger_binary = kDefaultServerBinary;
  po::options_description flags("gateway options");
  AddCommonFlags(flags, common);
  flags.add_options()  //
      ("connections", po::value(&options.connections)->default_value(options.connections),
       "idle WebSockets on a gateway (and on a node), and the fan-out's over both gateways")  //
      ("fanout-accounts",
       po::value(&options.fanout_accounts)->default_value(options.fanout_accounts),
       "the accounts the fan-out's connections belong to, one mint each")  //
      ("rate", po::value(&options.rate)->default_value(options.rate),
       "latency: offered transfers/s")  //
      ("duration", po::value(&options.duration_s)->default_value(options.duration_s),
       "latency: seconds of sending per measurement; 0 skips it")  //
      ("clients", po::value(&options.clients)->default_value(options.clients),
       "latency: keep-alive HTTP senders")  //
      ("ws", po::value(&options.websockets)->default_value(options.websockets),
       "latency: users, each with one WebSocket receiver")  //
      ("lease-ms", po::value(&options.lease_ms)->default_value(options.lease_ms),
       "the nodes' writer lease (serve --lease-ms)")  //
      ("server", po::value(&options.ledger_binary)->default_value(options.ledger_binary),
       "the sbd-ledger binary the nodes and gateways run");
  int exit_code = kExitOk;
  if (!Parse(args, flags, kUsage, exit_code)) return exit_code;
  WorkDirectory directory(common);
  BenchReport report("gateway");
  report.AddParameter("connections", std::to_string(options.connections));
  report.AddParameter("fanout-accounts", std::to_string(options.fanout_accounts));
  report.AddParameter("rate", absl::StrCat(options.rate));
  return MeasureRuns(report, common, [&](size_t run) {
    options.directory = directory.path() / absl::StrCat("run", run);
    return RunGatewayBench(options);
  });
}
#endif

int Main(int argc, char** argv) {
  const std::map<std::string, std::function<int(const std::vector<std::string>&)>> commands = {
      {"engine", RunEngine},   {"replay", RunReplay},           {"import", RunImport},
      {"e2e", RunE2e},         {"connections", RunConnections}, {"bare-server", RunBare},
#ifdef SBD_BENCH_CLUSTER
      {"cluster", RunCluster}, {"gateway", RunGateway},
#endif
  };
  const std::string usage =
      "Usage: sbd-bench engine|replay|import|e2e|connections|cluster|gateway [flags]   (sbd-bench "
      "COMMAND --help for the flags)";
  if (argc < 2 || commands.count(argv[1]) == 0) {
    std::cerr << usage << "\n";
    return kExitUsage;
  }
  return commands.at(argv[1])(std::vector<std::string>(argv + 2, argv + argc));
}

}  // namespace
}  // namespace sbd::bench

int main(int argc, char** argv) { return sbd::bench::Main(argc, argv); }
