// End-to-end tests of the sbd-replay binary: each runs the real executable as
// a child process on a real log and checks its exit code, stdout and stderr.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/event_hash.h"
#include "store/sqlite_event_log.h"
#include "tests/store/test_ledger.h"
#include "tests/support/files.h"
#include "tests/support/temp_dir.h"

namespace sbd {
namespace {

using ::sbd::testing::ReadWholeFile;
using ::sbd::testing::TempDir;
using ::sbd::testing::TestLedger;
using ::testing::HasSubstr;
using ::testing::Not;

struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class SbdReplayTest : public ::testing::Test {
 protected:
  void SetUp() override { path_ = (dir_ / "ledger.db").string(); }

  // Runs `argv` with stdout and stderr captured in files; waits for it.
  ProcessResult Run(const std::vector<std::string>& argv) {
    const std::filesystem::path out = dir_ / "stdout";
    const std::filesystem::path err = dir_ / "stderr";
    const pid_t pid = fork();
    if (pid == 0) {
      const int out_fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      const int err_fd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (out_fd < 0 || err_fd < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) _exit(127);
      std::vector<char*> args;
      for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
    ProcessResult result;
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status)) << "status " << status;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = ReadWholeFile(out);
    result.err = ReadWholeFile(err);
    return result;
  }

  ProcessResult Replay(std::vector<std::string> flags) {
    flags.insert(flags.begin(), SBD_REPLAY_PATH);
    return Run(flags);
  }

  // Runs `sql` on the log with the sqlite3 CLI, append-only triggers dropped.
  void Tamper(const std::string& sql) {
    const ProcessResult result = Run(
        {"sqlite3", path_, "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete; " + sql});
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }

  void WriteLog(const std::vector<Event>& events) {
    auto log = SqliteEventLog::Open(path_, {});
    ASSERT_TRUE(log.ok()) << log.status();
    ASSERT_TRUE((*log)->Append(events).ok());
  }

  // alice and bob, 100 minted to alice, two transfers and a note.
  static TestLedger SmallLedger() {
    TestLedger ledger;
    ledger.Open("alice");                          // seq 1
    ledger.Open("bob");                            // seq 2
    ledger.Mint("alice", 100, "welcome");          // seq 3
    ledger.Transfer("alice", "bob", 30, "lunch");  // seq 4
    ledger.Transfer("bob", "alice", 5);            // seq 5
    ledger.SetNote("bob", "tx-4", "thanks");       // seq 6
    return ledger;
  }

  const TempDir temp_dir_{"sbd-replay-test"};
  const std::filesystem::path dir_{temp_dir_.path()};
  std::string path_;
};

TEST_F(SbdReplayTest, CleanLogExitsZeroWithTheBalancesAsATable) {
  WriteLog(SmallLedger().events());
  const ProcessResult result = Replay({"--db", path_});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("events verified 6\n"));
  EXPECT_THAT(result.out, HasSubstr("status          ok\n"));
  EXPECT_THAT(result.out, HasSubstr("total minted    100\n"));
  EXPECT_THAT(result.out, HasSubstr("total balance   100\n"));
  EXPECT_THAT(result.out, HasSubstr("\nalice                                           75\n"));
  EXPECT_THAT(result.out, HasSubstr("\nbob                                             25\n"));
  EXPECT_EQ(result.err, "");
}

TEST_F(SbdReplayTest, JsonSummaryHasTheRecomputedBalances) {
  TestLedger ledger;
  ledger.Open("carol");
  ledger.Open("dave");
  ledger.Open("erin");
  ledger.Mint("carol", 1000);
  ledger.Mint("dave", 7);
  for (int i = 0; i < 300; ++i) {
    ledger.Transfer(i % 3 ? "carol" : "dave", i % 2 ? "erin" : (i % 3 ? "dave" : "carol"),
                    1 + i % 3);
  }
  WriteLog(ledger.events());
  const ProcessResult result = Replay({"--db", path_, "--format", "json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const boost::json::object summary = boost::json::parse(result.out).as_object();
  EXPECT_EQ(summary.at("status"), "ok");
  EXPECT_EQ(summary.at("events_verified"), static_cast<int64_t>(ledger.events().size()));
  EXPECT_EQ(summary.at("accounts"), 3);
  EXPECT_EQ(summary.at("total_minted"), 1007);
  EXPECT_EQ(summary.at("total_balance"), 1007);
  EXPECT_FALSE(summary.contains("violation"));
  const boost::json::object& balances = summary.at("balances").as_object();
  ASSERT_EQ(balances.size(), 3u);
  for (const auto& [account, balance] : ledger.balances()) {
    EXPECT_EQ(balances.at(account), balance) << account;
  }
}

TEST_F(SbdReplayTest, CsvSummaryIsOneLongFormTable) {
  WriteLog(SmallLedger().events());
  const ProcessResult result = Replay({"--db", path_, "--format", "csv"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  // The last event's chain hash, as the log recorded it.
  absl::StatusOr<std::unique_ptr<SqliteEventLog>> log = SqliteEventLog::Open(path_, {});
  ASSERT_TRUE(log.ok());
  absl::StatusOr<EventHash> last_hash = (*log)->RecordedHash(6);
  ASSERT_TRUE(last_hash.ok());
  EXPECT_EQ(result.out,
            "kind,name,value\r\n"
            "summary,status,ok\r\n"
            "summary,events_verified,6\r\n"
            "summary,last_hash," +
                HashHex(*last_hash) +
                "\r\n"
                "summary,accounts,2\r\n"
                "summary,total_minted,100\r\n"
                "summary,total_balance,100\r\n"
                "balance,alice,75\r\n"
                "balance,bob,25\r\n");
}

TEST_F(SbdReplayTest, UntilSeqStopsThere) {
  WriteLog(SmallLedger().events());
  const ProcessResult result = Replay({"--db", path_, "--until-seq", "4", "--format", "csv"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("summary,events_verified,4\r\n"));
  EXPECT_THAT(result.out, HasSubstr("balance,alice,70\r\nbalance,bob,30\r\n"));
  // Past the end is the whole log.
  EXPECT_THAT(Replay({"--db", path_, "--until-seq", "99", "--format", "csv"}).out,
              HasSubstr("summary,events_verified,6\r\n"));
}

TEST_F(SbdReplayTest, AmountEditedWithSqlite3ExitsOneNamingThatSeq) {
  TestLedger ledger = SmallLedger();
  for (int i = 0; i < 10; ++i) ledger.Transfer("alice", "bob", 1);
  WriteLog(ledger.events());
  Tamper("UPDATE events SET amount = 2 WHERE seq = 9;");

  ProcessResult result = Replay({"--db", path_});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("violation at seq 9: hash chain broken at seq 9"));
  EXPECT_THAT(result.out, HasSubstr("VIOLATION at seq 9"));
  EXPECT_THAT(result.out, HasSubstr("events verified 8\n"));

  result = Replay({"--db", path_, "--format", "json"});
  EXPECT_EQ(result.exit_code, 1);
  const boost::json::object summary = boost::json::parse(result.out).as_object();
  EXPECT_EQ(summary.at("status"), "violation");
  EXPECT_EQ(summary.at("violation").at("seq"), 9);

  result = Replay({"--db", path_, "--format", "csv"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.out, HasSubstr("\r\nviolation,9,hash chain broken at seq 9"));

  // Stopping before the edit is clean.
  EXPECT_EQ(Replay({"--db", path_, "--until-seq", "8"}).exit_code, 0);
}

TEST_F(SbdReplayTest, WrongRecordedBalanceWithAValidChainExitsOneNamingThatSeq) {
  TestLedger ledger = SmallLedger();
  std::vector<Event> events = ledger.events();
  events[4].to_balance += 1;  // seq 5: alice's recorded balance is off by one.
  WriteLog(events);
  const ProcessResult result = Replay({"--db", path_, "--format", "json"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("violation at seq 5"));
  EXPECT_THAT(result.err, HasSubstr("recorded balances"));
  const boost::json::object summary = boost::json::parse(result.out).as_object();
  EXPECT_EQ(summary.at("violation").at("seq"), 5);
  EXPECT_EQ(summary.at("events_verified"), 4);
  EXPECT_EQ(summary.at("balances").at("alice"), 70);  // As of seq 4.
}

TEST_F(SbdReplayTest, OverdraftRecordedConsistentlyIsStillAViolation) {
  TestLedger ledger;
  ledger.Open("alice");
  ledger.Open("bob");
  ledger.Mint("alice", 10);
  ledger.Transfer("alice", "bob", 11);  // Records alice at -1.
  WriteLog(ledger.events());
  const ProcessResult result = Replay({"--db", path_});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("violation at seq 4"));
}

TEST_F(SbdReplayTest, MissingFileExitsTwoAndCreatesNothing) {
  const ProcessResult result = Replay({"--db", path_});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("no event log at"));
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(SbdReplayTest, FileThatIsNotALogExitsTwo) {
  std::ofstream(path_) << std::string(2048, 'z');
  ProcessResult result = Replay({"--db", path_});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("not an SQLite database"));

  std::filesystem::remove(path_);
  ASSERT_EQ(Run({"sqlite3", path_, "CREATE TABLE t (x); INSERT INTO t VALUES (1);"}).exit_code, 0);
  result = Replay({"--db", path_});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("not an sbd event log"));
}

TEST_F(SbdReplayTest, BadFlagsExitTwoWithUsage) {
  WriteLog(SmallLedger().events());
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"--db"},
      {"--db", path_, "--format", "xml"},
      {"--db", path_, "--until-seq", "-1"},
      {"--db", path_, "--until-seq", "ten"},
      {"--db", path_, "--no-such-flag"},
      {"--db", path_, "extra"},
  };
  for (const std::vector<std::string>& flags : bad) {
    const ProcessResult result = Replay(flags);
    EXPECT_EQ(result.exit_code, 2) << ::testing::PrintToString(flags);
    EXPECT_THAT(result.err, HasSubstr("Usage: sbd-replay")) << ::testing::PrintToString(flags);
    EXPECT_EQ(result.out, "");
  }
  const ProcessResult help = Replay({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("--notifications"));
}

TEST_F(SbdReplayTest, AccountStatementShowsTheRunningBalance) {
  WriteLog(SmallLedger().events());
  ProcessResult result = Replay({"--db", path_, "--account", "alice", "--format", "csv"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out,
            "seq,timestamp,type,counterparty,amount,balance,transaction_id,note\r\n"
            "1,2026-11-26T15:04:05.000Z,open,admin,0,0,,\r\n"
            "3,2026-11-26T15:04:07.000Z,mint,admin,100,100,tx-3,welcome\r\n"
            "4,2026-11-26T15:04:08.000Z,send,bob,30,70,tx-4,lunch\r\n"
            "5,2026-11-26T15:04:09.000Z,receive,bob,5,75,tx-5,\r\n");

  // Case-insensitive like the API; bob's statement includes his note.
  result = Replay({"--db", path_, "--account", "BOB", "--format", "json"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  const boost::json::object statement = boost::json::parse(result.out).as_object();
  EXPECT_EQ(statement.at("account"), "bob");
  EXPECT_EQ(statement.at("balance"), 25);
  EXPECT_EQ(statement.at("status"), "ok");
  const boost::json::array& entries = statement.at("entries").as_array();
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[1].at("type"), "receive");
  EXPECT_EQ(entries[1].at("counterparty"), "alice");
  EXPECT_EQ(entries[1].at("balance"), 30);
  EXPECT_EQ(entries[2].at("type"), "send");
  EXPECT_EQ(entries[2].at("balance"), 25);
  EXPECT_EQ(entries[3].at("type"), "note");
  EXPECT_EQ(entries[3].at("note"), "thanks");

  result = Replay({"--db", path_, "--account", "alice"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("send     bob"));
  EXPECT_THAT(result.out, HasSubstr("alice: balance 75 after seq 6\nstatus: ok\n"));
}

TEST_F(SbdReplayTest, UnknownAccountExitsTwo) {
  WriteLog(SmallLedger().events());
  const ProcessResult result = Replay({"--db", path_, "--account", "mallory"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("no account mallory"));
}

TEST_F(SbdReplayTest, NotificationsAreTheExactWebSocketMessagesPerUser) {
  WriteLog(SmallLedger().events());
  ProcessResult result = Replay({"--db", path_, "--notifications"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(
      result.out,
      R"({"to":"alice","message":{"type":"sbd_tokens_credited","seq":3,"data":{"amount":100,"new_balance":100,"reason":"welcome","transaction_id":"tx-3","timestamp":"2026-11-26T15:04:07.000Z"}}}
{"to":"alice","message":{"type":"sbd_tokens_sent","seq":4,"data":{"to_username":"bob","amount":30,"new_balance":70,"transaction_id":"tx-4","timestamp":"2026-11-26T15:04:08.000Z","note":"lunch"}}}
{"to":"bob","message":{"type":"sbd_tokens_received","seq":4,"data":{"from_username":"alice","amount":30,"new_balance":30,"transaction_id":"tx-4","timestamp":"2026-11-26T15:04:08.000Z","note":"lunch"}}}
{"to":"bob","message":{"type":"sbd_tokens_sent","seq":5,"data":{"to_username":"alice","amount":5,"new_balance":25,"transaction_id":"tx-5","timestamp":"2026-11-26T15:04:09.000Z"}}}
{"to":"alice","message":{"type":"sbd_tokens_received","seq":5,"data":{"from_username":"bob","amount":5,"new_balance":75,"transaction_id":"tx-5","timestamp":"2026-11-26T15:04:09.000Z"}}}
)");

  result = Replay({"--db", path_, "--notifications", "--account", "bob"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, Not(HasSubstr(R"({"to":"alice")")));
  EXPECT_EQ(std::count(result.out.begin(), result.out.end(), '\n'), 2);
}

TEST_F(SbdReplayTest, NotificationsEndWithTheViolation) {
  WriteLog(SmallLedger().events());
  Tamper("UPDATE events SET note = 'dinner' WHERE seq = 4;");
  const ProcessResult result = Replay({"--db", path_, "--notifications"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.out, HasSubstr(R"("seq":3)"));
  EXPECT_THAT(result.out, Not(HasSubstr(R"("seq":4,"data")")));
  EXPECT_THAT(result.out,
              HasSubstr(R"({"violation":{"seq":4,"detail":"hash chain broken at seq 4)"));
}

TEST_F(SbdReplayTest, ReadsALiveLogWithoutDisturbingTheWriter) {
  TestLedger ledger = SmallLedger();
  for (int i = 0; i < 20; ++i) ledger.Transfer("alice", "bob", 1);
  const std::vector<Event>& events = ledger.events();
  auto log = SqliteEventLog::Open(path_, {});
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_TRUE((*log)->Append(absl::MakeConstSpan(events).subspan(0, 10)).ok());

  ProcessResult result = Replay({"--db", path_, "--format", "csv"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("summary,events_verified,10\r\n"));

  ASSERT_TRUE((*log)->Append(absl::MakeConstSpan(events).subspan(10)).ok());
  result = Replay({"--db", path_, "--format", "csv"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("summary,events_verified,26\r\n"));
  EXPECT_EQ((*log)->LastSeq(), 26);
}

}  // namespace
}  // namespace sbd
