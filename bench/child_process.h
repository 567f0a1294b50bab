// ChildProcess: a program the benchmark starts (sbd-replay, the sbd-ledger
// server), with its stdout readable line by line through a pipe or sent to a
// file. The child is killed (SIGKILL) and reaped if still running when the
// ChildProcess is destroyed, and killed by the kernel if this process dies
// (PR_SET_PDEATHSIG), so a failed benchmark leaves nothing behind.
//
// Thread-safety: none; one thread owns a ChildProcess.
#ifndef SBD_BENCH_CHILD_PROCESS_H_
#define SBD_BENCH_CHILD_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace sbd::bench {

class ChildProcess {
 public:
  struct Options {
    std::vector<std::string> argv;  // argv[0] is the program's path.
    // Added to (or replacing in) this process's environment.
    std::vector<std::pair<std::string, std::string>> environment;
    // Empty: stdout is a pipe read by ReadLine. Else stdout goes to this file.
    std::string stdout_path;
  };

  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(const Options& options);

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }

  // The next line of the child's stdout (without the newline);
  // kDeadlineExceeded after `timeout`, kUnavailable at end of output.
  absl::StatusOr<std::string> ReadLine(std::chrono::milliseconds timeout);

  // Waits for the child to exit; its exit code (128 + signal if killed).
  absl::StatusOr<int> Wait(std::chrono::milliseconds timeout);

  // SIGTERM, then Wait(timeout); SIGKILL if it has not exited by then.
  absl::StatusOr<int> Terminate(std::chrono::milliseconds timeout);

 private:
  ChildProcess(pid_t pid, int stdout_fd) : pid_(pid), stdout_fd_(stdout_fd) {}

  pid_t pid_;
  int stdout_fd_;  // -1 when stdout went to a file.
  bool reaped_ = false;
  std::string buffered_;  // Read from the pipe, not yet returned.
};

}  // namespace sbd::bench

#endif  // SBD_BENCH_CHILD_PROCESS_H_
