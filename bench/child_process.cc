#include "bench/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "engine/absl_compat.h"

extern char** environ;

namespace sbd::bench {
namespace {

// How often Wait polls for the child's exit: small against any timed run.
constexpr std::chrono::milliseconds kWaitPollInterval{1};

// The child's exit code when it could not run the program (as a shell's).
constexpr int kExecFailedExitCode = 127;

absl::Status ErrnoError(std::string_view what, int error) {
  return absl::InternalError(absl::StrCat(ToAbsl(what), ": ", std::strerror(error)));
}

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Start(const Options& options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("no program to start");
  std::map<std::string, std::string> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text = *entry;
    const size_t equals = text.find('=');
    if (equals != std::string::npos) environment[text.substr(0, equals)] = text.substr(equals + 1);
  }
  for (const auto& [name, value] : options.environment) environment[name] = value;
  std::vector<std::string> environment_strings;
  for (const auto& [name, value] : environment) environment_strings.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (std::string& entry : environment_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<std::string> arguments = options.argv;
  std::vector<char*> argv;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);

  int pipe_fds[2] = {-1, -1};
  int stdout_fd = -1;
  if (options.stdout_path.empty()) {
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) return ErrnoError("pipe", errno);
    stdout_fd = pipe_fds[1];
  } else {
    stdout_fd = open(options.stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (stdout_fd < 0) return ErrnoError(absl::StrCat("open ", options.stdout_path), errno);
  }
  const pid_t parent = getpid();
  // fork + exec rather than posix_spawn, for PR_SET_PDEATHSIG: a benchmark
  // that crashes must not leave a server running. Between fork and exec
  // only async-signal-safe calls.
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(kExecFailedExitCode);  // The parent died already.
    if (dup2(stdout_fd, STDOUT_FILENO) < 0) _exit(kExecFailedExitCode);
    execve(argv[0], argv.data(), envp.data());
    _exit(kExecFailedExitCode);
  }
  const int fork_error = errno;
  close(stdout_fd);
  if (pid < 0) {
    if (pipe_fds[0] >= 0) close(pipe_fds[0]);
    return ErrnoError(absl::StrCat("start ", options.argv[0]), fork_error);
  }
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid, pipe_fds[0]));
}

ChildProcess::~ChildProcess() {
  if (!reaped_) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

absl::StatusOr<std::string> ChildProcess::ReadLine(std::chrono::milliseconds timeout) {
  if (stdout_fd_ < 0) return absl::FailedPreconditionError("stdout is not a pipe");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const size_t newline = buffered_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffered_.substr(0, newline);
      buffered_.erase(0, newline + 1);
      return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return absl::DeadlineExceededError("no line from the child in time");
    pollfd readable{stdout_fd_, POLLIN, 0};
    const int ready = poll(&readable, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) return ErrnoError("poll", errno);
    if (ready <= 0) continue;
    char chunk[4096];
    const ssize_t got = read(stdout_fd_, chunk, sizeof(chunk));
    if (got < 0 && errno != EINTR) return ErrnoError("read", errno);
    if (got == 0) return absl::UnavailableError("the child closed its stdout");
    if (got > 0) buffered_.append(chunk, static_cast<size_t>(got));
  }
}

absl::StatusOr<int> ChildProcess::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      reaped_ = true;
      return ExitCodeOf(status);
    }
    if (done < 0 && errno != EINTR) return ErrnoError("waitpid", errno);
    if (std::chrono::steady_clock::now() >= deadline) {
      return absl::DeadlineExceededError("the child did not exit in time");
    }
    std::this_thread::sleep_for(kWaitPollInterval);
  }
}

absl::StatusOr<int> ChildProcess::Terminate(std::chrono::milliseconds timeout) {
  if (reaped_) return absl::FailedPreconditionError("the child has exited already");
  kill(pid_, SIGTERM);
  absl::StatusOr<int> code = Wait(timeout);
  if (code.ok() || code.status().code() != absl::StatusCode::kDeadlineExceeded) return code;
  kill(pid_, SIGKILL);
  return Wait(timeout);
}

}  // namespace sbd::bench
