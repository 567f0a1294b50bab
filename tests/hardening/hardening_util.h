// What the hardening tests share: running a program with a time bound
// (sbd-replay, sbd-ledger), reading sbd-replay's verdict and notifications,
// tmpfs mounts for full and read-only file systems, and the exact error
// body check of API.md.
//
// Thread-safety: pure functions, except that a Mount is driven by one thread.
#ifndef SBD_TESTS_HARDENING_HARDENING_UTIL_H_
#define SBD_TESTS_HARDENING_HARDENING_UTIL_H_

#include <gtest/gtest.h>

#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/support/files.h"
#include "tests/support/http_client.h"
#include "tests/support/temp_dir.h"

namespace sbd::testing {

// The sbd-replay binary of this build.
const char* ReplayBinaryPath();

struct ProgramResult {
  int exit_code = -1;  // 128 + signal if killed.
  std::string out;
  std::string err;
};

// Runs argv[0] with `argv` (and this process's environment plus `env`,
// "NAME=value" each), stdout and stderr captured. A program still running
// after `timeout` is killed and the answer is kDeadlineExceeded.
absl::StatusOr<ProgramResult> RunProgram(
    const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
    std::chrono::milliseconds timeout = std::chrono::seconds(60));

// `sbd-replay --db PATH --format json`: the exit code and the summary.
struct ReplaySummary {
  int exit_code = -1;
  std::string status;  // "ok" or "violation".
  int64_t events_verified = -1;
  int64_t total_minted = -1;
  int64_t total_balance = -1;
  std::map<std::string, int64_t> balances;
  std::string raw;  // stdout + stderr, for failure messages.
};
absl::StatusOr<ReplaySummary> ReplayJson(const std::string& db_path);

// `sbd-replay --db PATH --notifications`: every WebSocket message the log
// produced, per user in seq order, and the transfers and mints by
// transaction_id.
struct LoggedMessage {
  int64_t seq = 0;
  boost::json::value message;  // The message as the server sends it.
};
struct LoggedTransfer {
  int64_t seq = 0;
  std::string from;
  std::string to;
  int64_t amount = 0;
};
struct ReplayNotifications {
  int exit_code = -1;
  std::map<std::string, std::vector<LoggedMessage>> by_user;
  std::map<std::string, LoggedTransfer> transfers;  // By transaction_id.
  bool violation = false;
  std::string err;
};
absl::StatusOr<ReplayNotifications> ReplayMessages(const std::string& db_path);

// A tmpfs mounted on an existing directory (needs CAP_SYS_ADMIN: root in
// most CI containers; tests skip with the reason otherwise). Unmounted
// (lazily, so a process still holding files cannot make it fail) by the
// destructor.
class Mount {
 public:
  static absl::StatusOr<std::unique_ptr<Mount>> Tmpfs(const std::string& dir, int64_t size_bytes);
  ~Mount();
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;

  // Remounts read-only (every write then fails with EROFS, even for root).
  absl::Status RemountReadOnly();
  const std::string& dir() const { return dir_; }

 private:
  Mount(std::string dir, std::string options)
      : dir_(std::move(dir)), options_(std::move(options)) {}
  std::string dir_;
  std::string options_;
};

// The body is exactly API.md's error shape with `code`:
// {"status":"error","code":<code>,"detail":<non-empty string>}.
::testing::AssertionResult IsApiError(const HttpResponse& response, int status,
                                      std::string_view code);

}  // namespace sbd::testing

#endif  // SBD_TESTS_HARDENING_HARDENING_UTIL_H_
