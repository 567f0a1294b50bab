// ServerProcess: the real sbd-ledger binary, run by an end-to-end test.
//
// Start() makes a fresh temporary directory for the database, runs
// `sbd-ledger serve --db DIR/ledger.db --listen 127.0.0.1:0 ARGS...` with the
// test secret in SBD_JWT_SECRET, reads the "listening on HOST:PORT" line from
// its stdout and waits until GET /healthz answers (options.command
// "gateway" runs `sbd-ledger gateway --listen 127.0.0.1:0 ARGS...` instead,
// with no database). Every wait is bounded: a
// server that does not come up is an error, never a hang.
//
// The server's stdout and stderr are kept in files in the temporary
// directory (Stdout(), Stderr()), so a test can read the access log or the
// --demo output. The directory is removed by the destructor, which also
// kills a server that is still running.
//
// Thread-safety: none; one test thread drives a ServerProcess.
#ifndef SBD_TESTS_SUPPORT_SERVER_PROCESS_H_
#define SBD_TESTS_SUPPORT_SERVER_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sbd::testing {

// The secret every test server signs and verifies tokens with.
inline constexpr char kTestSecret[] = "sbd-test-secret-0123456789abcdef0123456789abcdef";

// The path of the sbd-ledger binary under test.
const char* LedgerBinaryPath();

struct ServerProcessOptions {
  // The sbd-ledger command: "serve" (`serve --db ... --listen 127.0.0.1:0`)
  // or "gateway" (`gateway --listen 127.0.0.1:0`: no database; a gateway's
  // /healthz is 200 once it follows the stream). Not used with
  // `shell_command`, which names its own.
  std::string command = "serve";
  // Extra arguments after `serve --db ... --listen 127.0.0.1:0` (or
  // `gateway --listen 127.0.0.1:0`).
  std::vector<std::string> args;
  // What starts the server, if not the binary under test: a shell command
  // line (run by bash, from `working_dir` if set) that takes
  // `--db ... --listen 127.0.0.1:0` and `args` as the arguments of
  // `sbd-ledger serve` — the README's first command, for one. The process it
  // starts must exec the server, so that Stop and Kill reach it.
  std::string shell_command;
  std::string working_dir;
  // Extra environment, "NAME=value" each (SBD_JWT_SECRET is set unless
  // `with_secret` is false).
  std::vector<std::string> env;
  bool with_secret = true;
  // Adds --no-access-log unless false (keeps test output small).
  bool quiet = true;
  // If > 0, the server's RLIMIT_FSIZE (with SIGXFSZ ignored): writes past
  // this many bytes in any file fail with EFBIG, as on a full disk.
  int64_t file_size_limit_bytes = 0;
  // The server's stderr goes into a pipe that nothing reads until
  // ReadStderrPipeUntil: a stalled log collector (a 64 KiB pipe fills after
  // ~1,600 access-log lines). Stderr() is then what was read from it.
  bool stderr_pipe = false;
  // How long Start waits for the listening line and a healthy /healthz.
  std::chrono::milliseconds start_timeout{15000};
  // The database the server runs on; empty: DIR/ledger.db in the server's
  // own temporary directory. A node of a cluster joins from a seed copy of
  // another node's log this way (tests/cluster/).
  std::string db_path;
};

class ServerProcess {
 public:
  // Starts a server on a fresh database.
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(ServerProcessOptions options = {});

  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess();  // Kill() if running, then removes the temporary directory.

  uint16_t port() const { return port_; }
  const std::string& host() const { return host_; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  // Between Pause and Resume (still running: its sockets stay open).
  bool paused() const { return paused_; }
  // The temporary directory, and the database file (in it unless
  // options.db_path named another).
  const std::string& dir() const { return dir_; }
  std::string db_path() const {
    return options_.db_path.empty() ? dir_ + "/ledger.db" : options_.db_path;
  }

  // SIGTERM, then waits up to `timeout` for the exit; returns the exit code
  // (128 + signal number if a signal ended it). kDeadlineExceeded (after a
  // SIGKILL) if it did not exit in time.
  absl::StatusOr<int> Stop(std::chrono::milliseconds timeout = std::chrono::seconds(15));

  // SIGKILL and reap (a crash).
  void Kill();

  // SIGSTOP / SIGCONT: a server that hangs with its sockets open (a stalled
  // machine). Each returns once the kernel reports the process stopped /
  // continued.
  void Pause();
  void Resume();

  // Waits up to `timeout` for the server to exit by itself (no signal
  // sent); its exit code (128 + signal number if a signal ended it), or
  // kDeadlineExceeded while it still runs.
  absl::StatusOr<int> AwaitExit(std::chrono::milliseconds timeout);

  // Stops (SIGTERM) if running, then starts again on the same database with
  // the same options; the port may change.
  absl::Status Restart();

  // Starts again on the same database with the same options after Stop/Kill.
  absl::Status StartAgain();

  // Everything the server wrote so far.
  std::string Stdout() const;
  std::string Stderr() const;

  // With stderr_pipe: reads the pipe until what was read from it so far
  // contains `needle`; kDeadlineExceeded after `timeout`. Returns everything
  // read from the pipe so far.
  absl::StatusOr<std::string> ReadStderrPipeUntil(std::string_view needle,
                                                  std::chrono::milliseconds timeout);

 private:
  ServerProcess(ServerProcessOptions options, std::string dir);
  absl::Status Launch();

  ServerProcessOptions options_;
  std::string dir_;
  std::string host_ = "127.0.0.1";
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  bool paused_ = false;
  int launches_ = 0;
  int stderr_pipe_fd_ = -1;   // The read end, with stderr_pipe.
  std::string stderr_piped_;  // Read from it so far (this launch).
};

// Runs the sbd-ledger binary with `args` (e.g. {"token", "--user", "alice"})
// and the given extra environment, waiting at most `timeout`.
struct ToolResult {
  int exit_code = -1;  // 128 + signal if killed.
  std::string out;
  std::string err;
};
absl::StatusOr<ToolResult> RunLedgerTool(
    const std::vector<std::string>& args, const std::vector<std::string>& env = {},
    std::chrono::milliseconds timeout = std::chrono::seconds(15));

// The same for any program (`binary` a path), e.g. sbd-replay.
absl::StatusOr<ToolResult> RunTool(const std::string& binary, const std::vector<std::string>& args,
                                   const std::vector<std::string>& env = {},
                                   std::chrono::milliseconds timeout = std::chrono::seconds(15));

}  // namespace sbd::testing

#endif  // SBD_TESTS_SUPPORT_SERVER_PROCESS_H_
