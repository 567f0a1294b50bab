#include "tests/support/server_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "tests/support/files.h"
#include "tests/support/http_client.h"

extern char** environ;

namespace sbd::testing {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kPollInterval{10};

// The end of `text`, enough to show what a test waited for.
std::string Tail(const std::string& text) {
  constexpr size_t kTailBytes = 2048;
  return text.size() <= kTailBytes ? text
                                   : absl::StrCat("...", text.substr(text.size() - kTailBytes));
}

// The environment for a child: ours, minus SBD_JWT_SECRET, plus `extra`.
std::vector<std::string> ChildEnvironment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    if (absl::StartsWith(*entry, "SBD_JWT_SECRET=")) continue;
    env.emplace_back(*entry);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> result;
  for (std::string& s : strings) result.push_back(s.data());
  result.push_back(nullptr);
  return result;
}

// Forks and execs `args` (args[0] the program's path) with stdout and stderr
// to the given files (or stderr to `err_fd` if it is not -1; it is closed
// here either way), in `working_dir` if not empty.
absl::StatusOr<pid_t> Spawn(std::vector<std::string> args, std::vector<std::string> env,
                            const std::string& out_path, const std::string& err_path,
                            int64_t file_size_limit_bytes = 0, int err_fd = -1,
                            const std::string& working_dir = "") {
  std::vector<char*> argv = CStrings(args);
  std::vector<char*> envp = CStrings(env);
  int out_fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (err_fd < 0) err_fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out_fd < 0 || err_fd < 0 || null_fd < 0) {
    return absl::InternalError(absl::StrCat("open output files: ", std::strerror(errno)));
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    // Child: only async-signal-safe calls from here on.
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // Never outlive a crashed test.
    if (getppid() != parent) _exit(127);
    if (file_size_limit_bytes > 0) {
      // An ignored signal stays ignored across execve.
      signal(SIGXFSZ, SIG_IGN);
      struct rlimit limit;
      limit.rlim_cur = static_cast<rlim_t>(file_size_limit_bytes);
      limit.rlim_max = static_cast<rlim_t>(file_size_limit_bytes);
      setrlimit(RLIMIT_FSIZE, &limit);
    }
    dup2(null_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    if (!working_dir.empty() && chdir(working_dir.c_str()) != 0) _exit(127);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(out_fd);
  close(err_fd);
  close(null_fd);
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  return pid;
}

// Waits up to `timeout` for `pid` to exit; its exit code, or nullopt.
std::optional<int> WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return -1;
    }
    if (done < 0 && errno != EINTR) return -1;
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace

const char* LedgerBinaryPath() { return SBD_LEDGER_BINARY; }

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(ServerProcessOptions options) {
  const char* base = getenv("TMPDIR");
  std::string pattern =
      absl::StrCat(base != nullptr && *base != '\0' ? base : "/tmp", "/sbd-ledger-test-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp: ", std::strerror(errno)));
  }
  std::unique_ptr<ServerProcess> server(new ServerProcess(std::move(options), pattern));
  absl::Status launched = server->Launch();
  if (!launched.ok()) return launched;
  return server;
}

ServerProcess::ServerProcess(ServerProcessOptions options, std::string dir)
    : options_(std::move(options)), dir_(std::move(dir)) {}

ServerProcess::~ServerProcess() {
  Kill();
  if (stderr_pipe_fd_ >= 0) close(stderr_pipe_fd_);
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

absl::Status ServerProcess::Launch() {
  ++launches_;
  port_ = 0;
  std::vector<std::string> args = {LedgerBinaryPath(), options_.command};
  if (!options_.shell_command.empty()) {
    // bash -c 'exec COMMAND "$@"' bash ARGS...: the command line as a user
    // types it, the arguments passed through unquoted-proof.
    args = {"/bin/bash", "-c", absl::StrCat("exec ", options_.shell_command, " \"$@\""), "bash"};
  }
  // A gateway has no database.
  if (options_.command == "serve" || !options_.shell_command.empty()) {
    args.insert(args.end(), {"--db", db_path()});
  }
  args.insert(args.end(), {"--listen", "127.0.0.1:0"});
  if (options_.quiet) args.push_back("--no-access-log");
  args.insert(args.end(), options_.args.begin(), options_.args.end());
  std::vector<std::string> extra_env = options_.env;
  if (options_.with_secret) extra_env.push_back(absl::StrCat("SBD_JWT_SECRET=", kTestSecret));
  int err_fd = -1;
  if (options_.stderr_pipe) {
    if (stderr_pipe_fd_ >= 0) close(stderr_pipe_fd_);
    stderr_pipe_fd_ = -1;
    stderr_piped_.clear();
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
    }
    stderr_pipe_fd_ = fds[0];
    err_fd = fds[1];
  }
  // Stdout()/Stderr() read the latest launch's files.
  absl::StatusOr<pid_t> pid =
      Spawn(args, ChildEnvironment(extra_env), dir_ + "/stdout.log", dir_ + "/stderr.log",
            options_.file_size_limit_bytes, err_fd, options_.working_dir);
  if (!pid.ok()) return pid.status();
  pid_ = *pid;

  const auto deadline = Clock::now() + options_.start_timeout;
  // 1. The "listening on HOST:PORT" line.
  while (port_ == 0) {
    for (absl::string_view line : absl::StrSplit(Stdout(), '\n')) {
      if (!absl::ConsumePrefix(&line, "listening on ")) continue;
      size_t colon = line.rfind(':');
      uint32_t port = 0;
      if (colon != absl::string_view::npos && absl::SimpleAtoi(line.substr(colon + 1), &port) &&
          port > 0 && port < 65536) {
        host_ = std::string(line.substr(0, colon));
        port_ = static_cast<uint16_t>(port);
        break;
      }
    }
    if (port_ != 0) break;
    if (std::optional<int> code = WaitExit(pid_, std::chrono::milliseconds(0))) {
      pid_ = -1;
      return absl::FailedPreconditionError(
          absl::StrCat("sbd-ledger exited with ", *code, " before listening; stderr:\n", Stderr()));
    }
    if (Clock::now() >= deadline) {
      Kill();
      return absl::DeadlineExceededError(
          absl::StrCat("sbd-ledger did not print its address; stderr:\n", Stderr()));
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  // 2. GET /healthz answers 200.
  while (true) {
    HttpClient client(port_, std::chrono::milliseconds(1000));
    absl::StatusOr<HttpResponse> health = client.Get("/healthz");
    if (health.ok() && health->status == 200) return absl::OkStatus();
    if (Clock::now() >= deadline) {
      Kill();
      return absl::DeadlineExceededError(
          absl::StrCat("sbd-ledger /healthz never answered 200; stderr:\n", Stderr()));
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

absl::StatusOr<int> ServerProcess::Stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return absl::FailedPreconditionError("not running");
  kill(pid_, SIGTERM);
  std::optional<int> code = WaitExit(pid_, timeout);
  if (!code.has_value()) {
    Kill();
    return absl::DeadlineExceededError("sbd-ledger did not exit after SIGTERM; killed");
  }
  pid_ = -1;
  return *code;
}

void ServerProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);  // A stopped process dies of it too.
  WaitExit(pid_, std::chrono::seconds(10));
  pid_ = -1;
  paused_ = false;
}

void ServerProcess::Pause() {
  assert(running() && !paused_);
  kill(pid_, SIGSTOP);
  int status = 0;
  while (waitpid(pid_, &status, WUNTRACED) < 0 && errno == EINTR) {
  }
  if (WIFSTOPPED(status)) {
    paused_ = true;
  } else {
    pid_ = -1;  // It died instead, and waitpid reaped it.
  }
}

void ServerProcess::Resume() {
  assert(running() && paused_);
  kill(pid_, SIGCONT);
  int status = 0;
  while (waitpid(pid_, &status, WCONTINUED) < 0 && errno == EINTR) {
  }
  if (!WIFCONTINUED(status)) pid_ = -1;  // It died instead, and waitpid reaped it.
  paused_ = false;
}

absl::StatusOr<int> ServerProcess::AwaitExit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return absl::FailedPreconditionError("not running");
  std::optional<int> code = WaitExit(pid_, timeout);
  if (!code.has_value()) return absl::DeadlineExceededError("sbd-ledger is still running");
  pid_ = -1;
  return *code;
}

absl::Status ServerProcess::Restart() {
  if (pid_ > 0) {
    absl::StatusOr<int> code = Stop();
    if (!code.ok()) return code.status();
    if (*code != 0) return absl::InternalError(absl::StrCat("sbd-ledger exited with ", *code));
  }
  return Launch();
}

absl::Status ServerProcess::StartAgain() {
  if (pid_ > 0) return absl::FailedPreconditionError("still running");
  return Launch();
}

std::string ServerProcess::Stdout() const { return ReadWholeFile(dir_ + "/stdout.log"); }
std::string ServerProcess::Stderr() const {
  return options_.stderr_pipe ? stderr_piped_ : ReadWholeFile(dir_ + "/stderr.log");
}

absl::StatusOr<std::string> ServerProcess::ReadStderrPipeUntil(std::string_view needle,
                                                               std::chrono::milliseconds timeout) {
  if (stderr_pipe_fd_ < 0) return absl::FailedPreconditionError("stderr is not a pipe");
  const auto deadline = Clock::now() + timeout;
  std::array<char, 4096> buffer;
  while (stderr_piped_.find(needle) == std::string::npos) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      return absl::DeadlineExceededError(absl::StrCat(
          "'", std::string(needle), "' not on the server's stderr; read:\n", Tail(stderr_piped_)));
    }
    pollfd poll_fd{stderr_pipe_fd_, POLLIN, 0};
    const int ready = poll(&poll_fd, 1, static_cast<int>(std::min<int64_t>(left.count(), 100)));
    if (ready < 0 && errno != EINTR) {
      return absl::InternalError(absl::StrCat("poll: ", std::strerror(errno)));
    }
    if (ready <= 0) continue;
    const ssize_t got = read(stderr_pipe_fd_, buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      return absl::UnavailableError(absl::StrCat("the server's stderr closed before '",
                                                 std::string(needle), "'; read:\n",
                                                 Tail(stderr_piped_)));
    }
    stderr_piped_.append(buffer.data(), static_cast<size_t>(got));
  }
  return stderr_piped_;
}

absl::StatusOr<ToolResult> RunLedgerTool(const std::vector<std::string>& args,
                                         const std::vector<std::string>& env,
                                         std::chrono::milliseconds timeout) {
  return RunTool(LedgerBinaryPath(), args, env, timeout);
}

absl::StatusOr<ToolResult> RunTool(const std::string& binary, const std::vector<std::string>& args,
                                   const std::vector<std::string>& env,
                                   std::chrono::milliseconds timeout) {
  char dir[] = "/tmp/sbd-ledger-tool-XXXXXX";
  if (mkdtemp(dir) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp: ", std::strerror(errno)));
  }
  const std::string out_path = absl::StrCat(dir, "/out");
  const std::string err_path = absl::StrCat(dir, "/err");
  std::vector<std::string> argv = {binary};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<pid_t> pid = Spawn(std::move(argv), ChildEnvironment(env), out_path, err_path);
  ToolResult result;
  absl::Status status = pid.status();
  if (pid.ok()) {
    std::optional<int> code = WaitExit(*pid, timeout);
    if (!code.has_value()) {
      kill(*pid, SIGKILL);
      WaitExit(*pid, std::chrono::seconds(10));
      status = absl::DeadlineExceededError(absl::StrCat(binary, " did not exit in time"));
    } else {
      result.exit_code = *code;
    }
    result.out = ReadWholeFile(out_path);
    result.err = ReadWholeFile(err_path);
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  if (!status.ok()) return status;
  return result;
}

}  // namespace sbd::testing
