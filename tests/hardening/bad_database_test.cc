// `sbd-ledger serve` on a database it must not use: another program's SQLite
// file, a log of a newer schema or another application id, a file that is
// not SQLite, an edited log, a read-only directory (with and without a log)
// and a directory that cannot be made. Each time the server says why on
// stderr, naming the file, exits non-zero without listening, and leaves the
// file and its directory byte for byte as they were (same bytes, same mtime,
// no -wal/-shm/-journal left behind).
//
// Read-only directories are read-only mounts (a chmod does not stop root);
// those cases skip without CAP_SYS_ADMIN.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/hardening/hardening_util.h"
#include "tests/support/http_client.h"
#include "tests/support/server_process.h"
#include "tests/support/tokens.h"

namespace sbd::testing {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using ::testing::HasSubstr;

// The bytes and mtime of every file in a directory.
struct FileState {
  std::string bytes;
  int64_t mtime_ns = 0;
  bool operator==(const FileState&) const = default;
};
using DirectoryState = std::map<std::string, FileState>;

DirectoryState Snapshot(const std::string& dir) {
  DirectoryState state;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
    struct stat info {};
    stat(entry.path().c_str(), &info);
    state[entry.path().filename().string()] =
        FileState{ReadWholeFile(entry.path().string()),
                  int64_t{info.st_mtim.tv_sec} * 1'000'000'000 + info.st_mtim.tv_nsec};
  }
  return state;
}

std::string Names(const DirectoryState& state) {
  std::string names;
  for (const auto& [name, file] : state) absl::StrAppend(&names, name, " ");
  return names;
}

// Runs `sbd-ledger serve --db PATH` on a free port; it must not come up.
ToolResult ServeMustRefuse(const std::string& db_path, bool names_the_file = true) {
  absl::StatusOr<ToolResult> result =
      RunLedgerTool({"serve", "--db", db_path, "--listen", "127.0.0.1:0", "--no-access-log"},
                    {absl::StrCat("SBD_JWT_SECRET=", kTestSecret)}, std::chrono::seconds(15));
  EXPECT_TRUE(result.ok()) << "the server started on " << db_path << ": " << result.status();
  if (!result.ok()) return ToolResult{};
  EXPECT_NE(result->exit_code, 0) << result->err;
  EXPECT_EQ(result->out.find("listening on"), std::string::npos) << result->out;
  if (names_the_file) {
    EXPECT_THAT(result->err, HasSubstr(db_path));
  }
  return *result;
}

// Runs a real server on a fresh log, makes a few events, stops it cleanly
// and copies its log to `path`.
void MakeRealLog(const std::string& path) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> server = ServerProcess::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  {
    HttpClient http((*server)->port());
    const std::string admin = MakeToken("root", /*admin=*/true);
    for (const char* user : {"alice", "bob"}) {
      ASSERT_EQ(
          http.Post("/admin/accounts", json::serialize(json::object{{"username", user}}), admin)
              ->status,
          201);
    }
    ASSERT_EQ(http.Post("/admin/mint", R"({"username":"alice","amount":100})", admin)->status, 200);
    ASSERT_EQ(http.Post("/sbd_tokens/send", R"({"to_user":"bob","amount":30})", MakeToken("alice"))
                  ->status,
              200);
  }
  absl::StatusOr<int> stopped = (*server)->Stop();
  ASSERT_TRUE(stopped.ok() && *stopped == 0);
  ASSERT_FALSE(fs::exists((*server)->db_path() + "-wal")) << "the log was not checkpointed";
  fs::copy_file((*server)->db_path(), path);
}

class BadDatabaseTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }

  // The server refuses `path` with a message containing `reason`, and the
  // directory is exactly as before.
  void ExpectRefusedUntouched(const std::string& path, const std::string& reason,
                              bool names_the_file = true) {
    const DirectoryState before = Snapshot(dir_.path());
    ToolResult result = ServeMustRefuse(path, names_the_file);
    EXPECT_THAT(result.err, HasSubstr(reason));
    const DirectoryState after = Snapshot(dir_.path());
    EXPECT_EQ(Names(after), Names(before));
    EXPECT_TRUE(after == before) << "the server changed the file or its directory";
    std::printf("refused: %s", result.err.c_str());
  }

  TempDir dir_{"sbd-hardening"};
};

TEST_F(BadDatabaseTest, AnotherProgramsSqliteDatabase) {
  const std::string path = Path("ledger.db");
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)");
    db.exec("INSERT INTO notes (text) VALUES ('keep me')");
  }
  ExpectRefusedUntouched(path, "another application's SQLite database");
}

TEST_F(BadDatabaseTest, LogOfANewerSchema) {
  const std::string path = Path("ledger.db");
  MakeRealLog(path);
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("PRAGMA user_version=3");
  }
  ASSERT_FALSE(fs::exists(path + "-wal"));
  ExpectRefusedUntouched(path, "newer");
}

TEST_F(BadDatabaseTest, OtherApplicationId) {
  const std::string path = Path("ledger.db");
  MakeRealLog(path);
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("PRAGMA application_id=305419896");  // 0x12345678.
  }
  ExpectRefusedUntouched(path, "not an sbd event log");
}

TEST_F(BadDatabaseTest, FileThatIsNotSqlite) {
  const std::string path = Path("ledger.db");
  {
    std::mt19937 random(7);
    std::string bytes(8192, '\0');
    for (char& byte : bytes) byte = static_cast<char>(random());
    std::ofstream(path, std::ios::binary) << bytes;
  }
  ExpectRefusedUntouched(path, "not an SQLite database");
}

TEST_F(BadDatabaseTest, EditedLogNamesTheSeq) {
  const std::string path = Path("ledger.db");
  MakeRealLog(path);
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("DROP TRIGGER events_no_update");
    db.exec("UPDATE events SET amount = 31 WHERE seq = 4");  // The transfer of 30.
  }
  ASSERT_FALSE(fs::exists(path + "-wal"));
  // The message names the seq, not yet the file (see MessagesNameTheFileAndTheCause).
  ExpectRefusedUntouched(path, "hash chain broken at seq 4", /*names_the_file=*/false);
}

TEST_F(BadDatabaseTest, ReadOnlyDirectoryWithALog) {
  MakeRealLog(Path("ledger.db"));
  fs::create_directory(Path("ro"));
  absl::StatusOr<std::unique_ptr<Mount>> mount = Mount::Tmpfs(Path("ro"), 1 << 20);
  if (!mount.ok()) GTEST_SKIP() << mount.status().message();
  const std::string path = Path("ro/ledger.db");
  fs::copy_file(Path("ledger.db"), path);
  ASSERT_TRUE((*mount)->RemountReadOnly().ok());
  const DirectoryState before = Snapshot(Path("ro"));
  ToolResult result = ServeMustRefuse(path);
  EXPECT_TRUE(Snapshot(Path("ro")) == before);
  std::printf("refused: %s", result.err.c_str());
}

TEST_F(BadDatabaseTest, ReadOnlyDirectoryWithoutALog) {
  fs::create_directory(Path("ro"));
  absl::StatusOr<std::unique_ptr<Mount>> mount = Mount::Tmpfs(Path("ro"), 1 << 20);
  if (!mount.ok()) GTEST_SKIP() << mount.status().message();
  ASSERT_TRUE((*mount)->RemountReadOnly().ok());
  // Neither the file nor a missing directory under it can be made.
  for (const std::string& path : {Path("ro/ledger.db"), Path("ro/missing/ledger.db")}) {
    ToolResult result = ServeMustRefuse(path);
    std::printf("refused: %s", result.err.c_str());
  }
  EXPECT_TRUE(Snapshot(Path("ro")).empty()) << Names(Snapshot(Path("ro")));
}

TEST_F(BadDatabaseTest, DirectoryThatCannotBeMade) {
  // A path component is a regular file: no mount needed, root or not.
  std::ofstream(Path("plain-file")) << "not a directory\n";
  const DirectoryState before = Snapshot(dir_.path());
  ToolResult result = ServeMustRefuse(Path("plain-file/data/ledger.db"));
  EXPECT_TRUE(Snapshot(dir_.path()) == before);
  std::printf("refused: %s", result.err.c_str());
}

// The refusal names the file and the cause, not only SQLite's bare "unable
// to open database file".
TEST_F(BadDatabaseTest, MessagesNameTheFileAndTheCause) {
  const std::string edited = Path("ledger.db");
  MakeRealLog(edited);
  {
    SQLite::Database db(edited, SQLite::OPEN_READWRITE);
    db.exec("DROP TRIGGER events_no_update");
    db.exec("UPDATE events SET amount = 31 WHERE seq = 4");
  }
  EXPECT_THAT(ServeMustRefuse(edited).err, HasSubstr("seq 4"));
  EXPECT_THAT(ServeMustRefuse(edited).err, HasSubstr(edited));
  std::ofstream(Path("plain-file")) << "not a directory\n";
  EXPECT_THAT(ServeMustRefuse(Path("plain-file/data/ledger.db")).err, HasSubstr("Not a directory"));
  fs::create_directory(Path("ro"));
  absl::StatusOr<std::unique_ptr<Mount>> mount = Mount::Tmpfs(Path("ro"), 1 << 20);
  if (!mount.ok()) GTEST_SKIP() << mount.status().message();
  ASSERT_TRUE((*mount)->RemountReadOnly().ok());
  EXPECT_THAT(ServeMustRefuse(Path("ro/ledger.db")).err, HasSubstr("read-only"));
  EXPECT_THAT(ServeMustRefuse(Path("ro/missing/ledger.db")).err, HasSubstr("read-only"));
}

}  // namespace
}  // namespace sbd::testing
