#include "tests/hardening/hardening_util.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/support/json_fields.h"

extern char** environ;

namespace sbd::testing {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

// The exit code of a reaped child: its status, or 128 + the signal.
int ExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

const char* ReplayBinaryPath() { return SBD_REPLAY_BINARY; }

absl::StatusOr<ProgramResult> RunProgram(const std::vector<std::string>& argv,
                                         const std::vector<std::string>& env,
                                         std::chrono::milliseconds timeout) {
  TempDir dir("sbd-hardening");
  const std::string out_path = dir.path() + "/out";
  const std::string err_path = dir.path() + "/err";
  // Everything the child needs is built before fork: after it, only
  // async-signal-safe calls.
  std::vector<std::string> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) environment.emplace_back(*entry);
  for (const std::string& extra : env) environment.push_back(extra);
  std::vector<char*> child_argv;
  for (const std::string& arg : argv) child_argv.push_back(const_cast<char*>(arg.c_str()));
  child_argv.push_back(nullptr);
  std::vector<char*> child_env;
  for (const std::string& entry : environment)
    child_env.push_back(const_cast<char*>(entry.c_str()));
  child_env.push_back(nullptr);
  const int out_fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int err_fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out_fd < 0 || err_fd < 0 || null_fd < 0) {
    return absl::InternalError(absl::StrCat("open: ", std::strerror(errno)));
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // Never outlive a crashed test.
    if (getppid() != parent) _exit(127);
    dup2(null_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    execve(child_argv[0], child_argv.data(), child_env.data());
    _exit(127);
  }
  close(out_fd);
  close(err_fd);
  close(null_fd);
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  const auto deadline = Clock::now() + timeout;
  int status = 0;
  while (true) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) {
      return absl::InternalError(absl::StrCat("waitpid: ", std::strerror(errno)));
    }
    if (Clock::now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return absl::DeadlineExceededError(
          absl::StrCat(argv[0], " still ran after ", timeout.count(), " ms; killed. stdout:\n",
                       ReadWholeFile(out_path), "\nstderr:\n", ReadWholeFile(err_path)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ProgramResult result;
  result.exit_code = ExitCode(status);
  result.out = ReadWholeFile(out_path);
  result.err = ReadWholeFile(err_path);
  return result;
}

absl::StatusOr<ReplaySummary> ReplayJson(const std::string& db_path) {
  absl::StatusOr<ProgramResult> run =
      RunProgram({ReplayBinaryPath(), "--db", db_path, "--format", "json"});
  if (!run.ok()) return run.status();
  ReplaySummary summary;
  summary.exit_code = run->exit_code;
  summary.raw = absl::StrCat(run->out, run->err);
  boost::system::error_code error;
  json::value parsed = json::parse(run->out, error);
  if (error || !parsed.is_object()) return summary;  // The exit code says why.
  const json::object& object = parsed.as_object();
  summary.status = JsonString(object, "status");
  summary.events_verified = JsonInt(object, "events_verified", -1);
  summary.total_minted = JsonInt(object, "total_minted", -1);
  summary.total_balance = JsonInt(object, "total_balance", -1);
  if (const json::value* balances = object.if_contains("balances");
      balances != nullptr && balances->is_object()) {
    for (const auto& [name, balance] : balances->as_object()) {
      summary.balances[std::string(name)] = balance.is_int64() ? balance.as_int64() : -1;
    }
  }
  return summary;
}

absl::StatusOr<ReplayNotifications> ReplayMessages(const std::string& db_path) {
  absl::StatusOr<ProgramResult> run =
      RunProgram({ReplayBinaryPath(), "--db", db_path, "--notifications"});
  if (!run.ok()) return run.status();
  ReplayNotifications result;
  result.exit_code = run->exit_code;
  result.err = run->err;
  for (absl::string_view piece : absl::StrSplit(run->out, '\n', absl::SkipEmpty())) {
    const std::string line(piece);
    boost::system::error_code error;
    json::value parsed = json::parse(line, error);
    if (error || !parsed.is_object()) {
      return absl::DataLossError(
          absl::StrCat("sbd-replay printed a line that is not JSON: ", line));
    }
    const json::object& object = parsed.as_object();
    if (object.contains("violation")) {
      result.violation = true;
      continue;
    }
    const std::string to = JsonString(object, "to");
    const json::value* message = object.if_contains("message");
    if (to.empty() || message == nullptr || !message->is_object()) {
      return absl::DataLossError(absl::StrCat("unexpected sbd-replay line: ", line));
    }
    const json::object& body = message->as_object();
    const int64_t seq = JsonInt(body, "seq", -1);
    result.by_user[to].push_back(LoggedMessage{seq, *message});
    const json::value* data = body.if_contains("data");
    if (data == nullptr || !data->is_object()) continue;
    const std::string type = JsonString(body, "type");
    const std::string transaction_id = JsonString(data->as_object(), "transaction_id");
    if (type == "sbd_tokens_sent") {
      result.transfers[transaction_id] =
          LoggedTransfer{seq, to, JsonString(data->as_object(), "to_username"),
                         JsonInt(data->as_object(), "amount", -1)};
    } else if (type == "sbd_tokens_credited") {
      result.transfers[transaction_id] =
          LoggedTransfer{seq, "", to, JsonInt(data->as_object(), "amount", -1)};
    }
  }
  return result;
}

absl::StatusOr<std::unique_ptr<Mount>> Mount::Tmpfs(const std::string& dir, int64_t size_bytes) {
  const std::string options = absl::StrCat("size=", size_bytes, ",mode=0755");
  if (mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        "mount -t tmpfs on ", dir, ": ", std::strerror(errno), " (needs root / CAP_SYS_ADMIN)"));
  }
  return std::unique_ptr<Mount>(new Mount(dir, options));
}

Mount::~Mount() { umount2(dir_.c_str(), MNT_DETACH); }

absl::Status Mount::RemountReadOnly() {
  if (mount(nullptr, dir_.c_str(), nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
            options_.c_str()) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("remount,ro ", dir_, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

::testing::AssertionResult IsApiError(const HttpResponse& response, int status,
                                      std::string_view code) {
  if (response.status != status) {
    return ::testing::AssertionFailure()
           << "status " << response.status << ", expected " << status << ": " << response.body;
  }
  const json::value body = response.Json();
  if (!body.is_object()) return ::testing::AssertionFailure() << "not JSON: " << response.body;
  const json::object& object = body.as_object();
  const json::value* detail = object.if_contains("detail");
  if (object.size() != 3 || JsonString(object, "status") != "error" ||
      JsonString(object, "code") != code || detail == nullptr || !detail->is_string() ||
      detail->as_string().empty()) {
    return ::testing::AssertionFailure() << "expected code " << code << ", got " << response.body;
  }
  if (response.Header("content-type").find("application/json") == std::string::npos) {
    return ::testing::AssertionFailure()
           << "content-type " << response.Header("content-type") << " for " << response.body;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace sbd::testing
