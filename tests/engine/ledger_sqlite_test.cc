// The Ledger on the real SQLite log.
// Crash: a child runs the Ledger and reports every acknowledged transfer
// through a pipe; the parent SIGKILLs it at a random moment, reopens the log
// and checks that every acknowledged event is there, unchanged, and that the
// log replays clean. Tamper: an amount edited with the sqlite3 CLI makes the
// ledger refuse to open, naming the seq.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "engine/absl_compat.h"
#include "engine/ledger.h"
#include "engine/projector.h"
#include "gtest/gtest.h"
#include "store/sqlite_event_log.h"

namespace sbd {
namespace {

constexpr int kAccounts = 20;
constexpr int64_t kInitialBalance = 1'000'000;

std::string AccountName(int i) { return "user" + std::to_string(i); }

absl::StatusOr<std::unique_ptr<Ledger>> OpenLedger(const std::string& path) {
  absl::StatusOr<std::unique_ptr<SqliteEventLog>> log = SqliteEventLog::Open(path, {});
  if (!log.ok()) return log.status();
  return Ledger::Open(std::move(*log), {});
}

// The child: sends transfers as fast as the ledger takes them and writes
// "seq transaction_id amount" for each acknowledgement. It never returns.
[[noreturn]] void RunChild(const std::string& path, int ack_fd, unsigned seed) {
  absl::StatusOr<std::unique_ptr<Ledger>> ledger = OpenLedger(path);
  if (!ledger.ok()) {
    std::fprintf(stderr, "child: %s\n", ledger.status().ToString().c_str());
    _exit(3);
  }
  if ((*ledger)->LastSeq() == 0) {  // First run: open and fund the accounts.
    for (int i = 0; i < kAccounts; ++i) {
      (void)(*ledger)->Submit(OpenAccountCommand{"admin", AccountName(i)}).get();
      (void)(*ledger)
          ->Submit(
              MintCommand{"admin", AccountName(i), AmountField::Integer(kInitialBalance), "", ""})
          .get();
    }
  }
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> account(0, kAccounts - 1);
  // Bounded even if the parent never kills us.
  for (int round = 0; round < 100'000; ++round) {
    std::vector<std::future<absl::StatusOr<CommandResult>>> window;
    for (int i = 0; i < 64; ++i) {
      const int from = account(random);
      const int to = (from + 1 + account(random) % (kAccounts - 1)) % kAccounts;
      window.push_back((*ledger)->Submit(TransferCommand{
          AccountName(from), AccountName(to), AmountField::Integer(1 + account(random)), "", ""}));
    }
    for (auto& future : window) {
      absl::StatusOr<CommandResult> result = future.get();
      if (!result.ok()) continue;
      const std::string line = std::to_string(result->event.seq) + " " +
                               result->event.transaction_id + " " +
                               std::to_string(result->event.amount) + "\n";
      if (write(ack_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(4);
    }
  }
  _exit(0);
}

struct Ack {
  std::string transaction_id;
  int64_t amount = 0;
};

// Reads acknowledgement lines until `wanted` arrived, the child died, or a
// bounded time passed; then SIGKILLs the child and drains what it had written.
std::map<int64_t, Ack> KillAfterAcks(pid_t child, int ack_fd, int wanted) {
  std::map<int64_t, Ack> acks;
  std::string buffer;
  auto consume = [&] {
    size_t newline;
    while ((newline = buffer.find('\n')) != std::string::npos) {
      std::vector<std::string> parts = absl::StrSplit(buffer.substr(0, newline), ' ');
      buffer.erase(0, newline + 1);
      int64_t seq = 0;
      Ack ack;
      if (parts.size() == 3 && absl::SimpleAtoi(parts[0], &seq) &&
          absl::SimpleAtoi(parts[2], &ack.amount)) {
        ack.transaction_id = parts[1];
        acks[seq] = ack;
      } else {
        ADD_FAILURE() << "malformed ack line";
      }
    }
  };
  char chunk[4096];
  for (int waited_ms = 0; static_cast<int>(acks.size()) < wanted && waited_ms < 60'000;) {
    pollfd fd{ack_fd, POLLIN, 0};
    if (poll(&fd, 1, 100) <= 0) {
      waited_ms += 100;
      continue;
    }
    const ssize_t n = read(ack_fd, chunk, sizeof chunk);
    if (n <= 0) break;  // The child exited.
    buffer.append(chunk, static_cast<size_t>(n));
    consume();
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  // Acks written before the kill are acknowledgements too.
  for (ssize_t n; (n = read(ack_fd, chunk, sizeof chunk)) > 0;) {
    buffer.append(chunk, static_cast<size_t>(n));
    consume();
  }
  return acks;
}

TEST(LedgerCrash, EveryAcknowledgedTransferSurvivesSigkill) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("sbd_crash_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "ledger.db").string();
  std::mt19937 random(std::random_device{}());
  std::map<int64_t, Ack> all_acks;

  for (int run = 0; run < 5; ++run) {
    int pipe_fds[2];
    ASSERT_EQ(pipe(pipe_fds), 0);
    const unsigned seed = random();
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(pipe_fds[0]);
      RunChild(path, pipe_fds[1], seed);
    }
    close(pipe_fds[1]);
    const int wanted = std::uniform_int_distribution<int>(50, 3000)(random);
    std::map<int64_t, Ack> acks = KillAfterAcks(child, pipe_fds[0], wanted);
    close(pipe_fds[0]);
    EXPECT_GT(acks.size(), 0u) << "run " << run << " acknowledged nothing";
    all_acks.insert(acks.begin(), acks.end());

    // Reopening replays the whole log, verifying the chain and every recorded
    // balance; then every acknowledged transfer must be there, unchanged.
    absl::StatusOr<std::unique_ptr<Ledger>> ledger = OpenLedger(path);
    ASSERT_TRUE(ledger.ok()) << "run " << run << ": " << ledger.status();
    std::vector<int64_t> seqs;
    for (const auto& [seq, ack] : all_acks) seqs.push_back(seq);
    ASSERT_LE(seqs.back(), (*ledger)->LastSeq());
    absl::StatusOr<std::vector<Event>> events = (*ledger)->log().ReadSeqs(seqs);
    ASSERT_TRUE(events.ok()) << events.status();
    for (const Event& event : *events) {
      const Ack& ack = all_acks.at(event.seq);
      EXPECT_EQ(event.transaction_id, ack.transaction_id) << "seq " << event.seq;
      EXPECT_EQ(event.amount, ack.amount) << "seq " << event.seq;
    }
    EXPECT_EQ((*ledger)->TotalBalance(), absl::int128(kAccounts) * kInitialBalance);
    EXPECT_EQ((*ledger)->TotalBalance(), (*ledger)->TotalMinted());
  }
  std::filesystem::remove_all(dir);
}

TEST(LedgerTamper, RefusesToOpenAnEditedLogNamingTheSeq) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("sbd_tamper_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "ledger.db").string();
  {
    absl::StatusOr<std::unique_ptr<Ledger>> ledger = OpenLedger(path);
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    for (const char* name : {"alice", "bob"}) {
      ASSERT_TRUE((*ledger)->Submit(OpenAccountCommand{"admin", name}).get().ok());
    }
    ASSERT_TRUE((*ledger)
                    ->Submit(MintCommand{"admin", "alice", AmountField::Integer(100), "", ""})
                    .get()
                    .ok());
    for (int i = 0; i < 5; ++i) {  // seqs 4..8
      ASSERT_TRUE((*ledger)
                      ->Submit(TransferCommand{"alice", "bob", AmountField::Integer(10), "", ""})
                      .get()
                      .ok());
    }
  }
  // What an attacker with the file would do: drop the guard, edit a row.
  const std::string command = "sqlite3 '" + path +
                              "' \"DROP TRIGGER IF EXISTS events_no_update; "
                              "UPDATE events SET amount = 1000 WHERE seq = 6;\"";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  absl::StatusOr<std::unique_ptr<Ledger>> reopened = OpenLedger(path);
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), absl::StatusCode::kDataLoss) << reopened.status();
  EXPECT_NE(reopened.status().message().find("seq 6"), absl::string_view::npos)
      << reopened.status();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sbd
