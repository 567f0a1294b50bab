// `sbd-ledger import` end to end: the real binary imports a generated export
// in the origin's shapes, then the real server serves the imported log
// (GET /sbd_tokens, GET /sbd_tokens/transactions, idempotent sends) and the
// real sbd-replay verifies it. Also: --dry-run writes nothing, a log with
// events is refused, malformed input is refused at FILE:LINE with nothing
// written, and a --jsonArray file imports the same.
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/sqlite_event_log.h"
#include "tests/support/files.h"
#include "tests/support/http_client.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tokens.h"

namespace sbd {
namespace {

namespace json = boost::json;
using ::sbd::testing::HttpClient;
using ::sbd::testing::MakeToken;
using ::sbd::testing::ReadWholeFile;
using ::sbd::testing::RunLedgerTool;
using ::sbd::testing::RunTool;
using ::sbd::testing::ServerProcess;
using ::sbd::testing::TempDir;
using ::sbd::testing::ToolResult;
using ::testing::HasSubstr;
using ::testing::Not;

// One history entry: how the export spells it, and what the API must show.
struct FixtureEntry {
  std::string type;  // "send" | "receive"
  std::string party;
  std::string amount_json;
  int64_t amount = 0;
  std::string timestamp_json;
  std::string timestamp;  // The API's form, to the millisecond.
  std::string id;         // Empty: the export has none (one is made up).
  std::string note;
};

struct FixtureUser {
  std::string username_json;  // As the document spells it.
  std::string username;       // Canonical.
  std::string tokens_json;    // Empty: no sbd_tokens field.
  int64_t tokens = 0;
  std::vector<FixtureEntry> entries;
};

std::string Quoted(const std::string& text) {
  return absl::StrCat("\"", absl::StrReplaceAll(text, {{"\\", "\\\\"}, {"\"", "\\\""}}), "\"");
}

// The users collection of a small origin: a paired transfer with a Unicode
// note, a send whose receive half is missing, shop and ad entries, a user
// whose sbd_tokens disagree with the history, a user with no history, an
// entry without a transaction_id, and every number and date form.
std::vector<FixtureUser> Fixture() {
  const std::string note = "café ☕ 日本 — \"merci\"";
  return {
      {"\"Alice\"",
       "alice",
       R"({"$numberLong":"120"})",
       120,
       {
           {"send", "bob", R"({"$numberInt":"50"})", 50, "\"2024-05-01T12:00:00.123456+00:00\"",
            "2024-05-01T12:00:00.123Z", "0b6f4c4e-6a43-4c3e-9d5e-3f1b2a7c9e01", note},
           {"send", "emotion_tracker_shop", "30", 30, R"({"$date":"2024-05-02T08:00:00.250Z"})",
            "2024-05-02T08:00:00.250Z", "5d1c2e3f-0000-4000-8000-000000000002",
            "Checkout cart for emotion_tracker_shop"},
           {"receive", "sbd_ads", R"({"$numberInt":"10"})", 10,
            R"({"$date":{"$numberLong":"1714737600777"}})", "2024-05-03T12:00:00.777Z", "ad-1", ""},
           {"send", "carol", "5", 5, "\"2024-05-03T09:30:00.000999+00:00\"",
            "2024-05-03T09:30:00.000Z", "6e2d3f40-1111-4111-8111-000000000003", ""},
       }},
      // bob's sbd_tokens are 10 short of his history; his copy of the note
      // was edited (the origin's PATCH sets only the caller's half).
      {"\"bob\"",
       "bob",
       "40",
       40,
       {
           {"receive", "Alice", "50", 50, "\"2024-05-01T12:00:00.123456+00:00\"",
            "2024-05-01T12:00:00.123Z", "0b6f4c4e-6a43-4c3e-9d5e-3f1b2a7c9e01", "merci 🙏"},
       }},
      // carol's receive of alice's 5 is missing from her history.
      {"\"carol\"", "carol", R"({"$numberInt":"7"})", 7, {}},
      // dave's sbd_tokens (1000) are far from his history (+3): an ad reward
      // without a transaction_id, as the origin's family refunds are.
      {"\"dave\"",
       "dave",
       R"({"$numberLong":"1000"})",
       1000,
       {
           {"receive", "sbd_ads", "3", 3, "\"2024-04-30T23:59:59.999999+00:00\"",
            "2024-04-30T23:59:59.999Z", "", "🎉 reward"},
       }},
      {"\"Erin\"", "erin", "25", 25, {}},
      // frank spent more than he ever had (a lost receive): his sbd_tokens are 0.
      {"\"frank\"",
       "frank",
       "",
       0,
       {
           {"send", "emotion_tracker_shop", "40", 40, "\"2024-05-04T10:00:00+00:00\"",
            "2024-05-04T10:00:00.000Z", "7f3e4051-2222-4222-8222-000000000004", "Checkout"},
       }},
  };
}

std::string DocumentJson(const FixtureUser& user, size_t index) {
  std::string entries;
  for (const FixtureEntry& entry : user.entries) {
    if (!entries.empty()) entries += ",";
    absl::StrAppend(&entries, "{\"type\":", Quoted(entry.type), ",\"",
                    entry.type == "send" ? "to" : "from", "\":", Quoted(entry.party),
                    ",\"amount\":", entry.amount_json, ",\"timestamp\":", entry.timestamp_json);
    if (!entry.id.empty()) absl::StrAppend(&entries, ",\"transaction_id\":", Quoted(entry.id));
    if (!entry.note.empty()) absl::StrAppend(&entries, ",\"note\":", Quoted(entry.note));
    entries += "}";
  }
  std::string document =
      absl::StrCat(R"({"_id":{"$oid":"6630a1b2c3d4e5f60123456)", index, R"("},"username":)",
                   user.username_json, R"(,"email":")", user.username, R"(@example.com")");
  if (!user.tokens_json.empty()) absl::StrAppend(&document, ",\"sbd_tokens\":", user.tokens_json);
  if (!user.entries.empty() || index % 2 == 0) {
    absl::StrAppend(&document, ",\"sbd_tokens_transactions\":[", entries, "]");
  }
  return document + "}";
}

std::string JsonLines(const std::vector<FixtureUser>& users) {
  std::string text;
  for (size_t i = 0; i < users.size(); ++i) text += DocumentJson(users[i], i) + "\n";
  return text;
}

std::string JsonArray(const std::vector<FixtureUser>& users) {
  std::string text = "[\n";
  for (size_t i = 0; i < users.size(); ++i) {
    text += "  " + DocumentJson(users[i], i) + (i + 1 < users.size() ? ",\n" : "\n");
  }
  return text + "]\n";
}

class ImportE2eTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  static ToolResult Import(const std::vector<std::string>& flags) {
    std::vector<std::string> args = {"import"};
    args.insert(args.end(), flags.begin(), flags.end());
    absl::StatusOr<ToolResult> result = RunLedgerTool(args, {}, std::chrono::seconds(60));
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : ToolResult{};
  }

  static ToolResult Replay(const std::vector<std::string>& flags) {
    absl::StatusOr<ToolResult> result =
        RunTool(SBD_REPLAY_PATH, flags, {}, std::chrono::seconds(60));
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : ToolResult{};
  }

  // The report without its first line (which names the files) and the dry
  // run's line.
  static std::string ReportBody(const std::string& report) {
    std::vector<std::string> lines = absl::StrSplit(report, '\n');
    std::string body;
    for (size_t i = 1; i < lines.size(); ++i) {
      if (lines[i] != "dry run: nothing was written") absl::StrAppend(&body, lines[i], "\n");
    }
    return body;
  }

  const TempDir temp_dir_{"sbd-import-e2e"};
  const std::filesystem::path dir_{temp_dir_.path()};
};

TEST_F(ImportE2eTest, EveryPropertyHoldsThroughTheHttpApiAndSbdReplay) {
  const std::vector<FixtureUser> users = Fixture();
  const std::string users_path = Write("users.json", JsonLines(users));
  // The server makes its log (empty) and stops; the import fills it.
  absl::StatusOr<std::unique_ptr<ServerProcess>> server = ServerProcess::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*server)->Stop().ok());
  const std::string db = (*server)->db_path();

  ToolResult imported = Import({"--db", db, "--users", users_path});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_THAT(imported.out, HasSubstr("users                       6\n"));
  EXPECT_THAT(imported.out, HasSubstr("history entries             7 (1 without a transaction_id"));
  EXPECT_THAT(imported.out, HasSubstr("  paired (both halves)      1\n"));
  EXPECT_THAT(imported.out, HasSubstr("  counterparty not a user   4\n"));
  EXPECT_THAT(imported.out, HasSubstr("notes set                   1 "));
  EXPECT_THAT(imported.out, HasSubstr("  other user's half missing 1\n"));
  EXPECT_THAT(imported.out,
              HasSubstr("6e2d3f40-1111-4111-8111-000000000003: alice -> carol, 5: the send is on "
                        "line 1, carol's receive is missing"));
  EXPECT_THAT(imported.out,
              HasSubstr("3 others: emotion_tracker_shop, sbd_ads, sbd_reconciliation"));
  // What the history cannot explain, per user, with the amounts.
  EXPECT_THAT(imported.out,
              HasSubstr("credit 997 to dave: reconciliation: dave's history does not explain an "
                        "opening balance of 997 (sbd_tokens 1000, imported transfers net 3)"));
  EXPECT_THAT(imported.out,
              HasSubstr("debit 10 from bob: reconciliation: bob ends the imported history with 50 "
                        "but has sbd_tokens 40; debited the 10 the history does not explain"));
  EXPECT_THAT(imported.out, HasSubstr("credit 25 to erin: reconciliation: erin has sbd_tokens 25 "
                                      "and no history entry explains them"));
  EXPECT_THAT(imported.out, HasSubstr("credit 40 to frank: reconciliation: frank's history does "
                                      "not explain an opening balance of 40"));
  EXPECT_THAT(imported.out,
              HasSubstr("credit 2 to carol: reconciliation: carol's history does not explain an "
                        "opening balance of 2 (sbd_tokens 7, imported transfers net 5); 1 transfer "
                        "is in the counterparty's history only: "
                        "6e2d3f40-1111-4111-8111-000000000003"));

  ASSERT_TRUE((*server)->StartAgain().ok());
  HttpClient client((*server)->port());
  std::map<std::string, int64_t> balances;
  for (const FixtureUser& user : users) {
    SCOPED_TRACE(user.username);
    const std::string token = MakeToken(user.username);
    absl::StatusOr<testing::HttpResponse> balance = client.Get("/sbd_tokens", token);
    ASSERT_TRUE(balance.ok()) << balance.status();
    ASSERT_EQ(balance->status, 200) << balance->body;
    EXPECT_EQ(balance->Json().at("sbd_tokens").as_int64(), user.tokens);
    balances[user.username] = user.tokens;

    absl::StatusOr<testing::HttpResponse> history =
        client.Get("/sbd_tokens/transactions?limit=100", token);
    ASSERT_TRUE(history.ok()) << history.status();
    ASSERT_EQ(history->status, 200) << history->body;
    const json::value body = history->Json();
    const json::array& entries = body.at("transactions").as_array();
    std::map<std::string, json::object> by_id;
    for (const json::value& entry : entries) {
      by_id[json::value_to<std::string>(entry.at("transaction_id"))] = entry.as_object();
    }
    for (size_t i = 0; i < user.entries.size(); ++i) {
      const FixtureEntry& origin = user.entries[i];
      const std::string id =
          origin.id.empty() ? absl::StrCat("sbd-import:", user.username, ":", i) : origin.id;
      SCOPED_TRACE(id);
      ASSERT_TRUE(by_id.count(id)) << history->body;
      const json::object& entry = by_id[id];
      EXPECT_EQ(std::string(entry.at("type").as_string()), origin.type);
      EXPECT_EQ(std::string(entry.at(origin.type == "send" ? "to" : "from").as_string()),
                absl::AsciiStrToLower(origin.party));
      EXPECT_EQ(entry.at("amount").as_int64(), origin.amount);
      EXPECT_EQ(std::string(entry.at("timestamp").as_string()), origin.timestamp);
      if (origin.note.empty()) {
        EXPECT_FALSE(entry.contains("note")) << json::serialize(entry);
      } else {
        EXPECT_EQ(std::string(entry.at("note").as_string()), origin.note);
      }
      EXPECT_GE(entry.at("new_balance").as_int64(), 0);
      by_id.erase(id);
    }
    // Whatever else is in the history is a reconciliation or (carol) the
    // transfer whose half her history lacked.
    for (const auto& [id, entry] : by_id) {
      const bool reconciliation = absl::StartsWith(id, "sbd-import-reconciliation:");
      const bool carols = user.username == "carol" && id == "6e2d3f40-1111-4111-8111-000000000003";
      EXPECT_TRUE(reconciliation || carols) << json::serialize(entry);
      if (reconciliation) {
        EXPECT_THAT(std::string(entry.at("note").as_string()), HasSubstr("reconciliation: "));
      }
    }
  }
  // The non-user counterparties are accounts of their own.
  absl::StatusOr<testing::HttpResponse> shop =
      client.Get("/sbd_tokens", MakeToken("emotion_tracker_shop"));
  ASSERT_TRUE(shop.ok());
  EXPECT_EQ(shop->Json().at("sbd_tokens").as_int64(), 70);
  absl::StatusOr<testing::HttpResponse> ads = client.Get("/sbd_tokens", MakeToken("sbd_ads"));
  ASSERT_TRUE(ads.ok());
  EXPECT_EQ(ads->Json().at("sbd_tokens").as_int64(), 0);

  // An imported transaction_id is an idempotency key like any other.
  const std::string alice = MakeToken("alice");
  absl::StatusOr<testing::HttpResponse> replayed = client.Post(
      "/sbd_tokens/send",
      R"({"to_user":"bob","amount":50,"transaction_id":"0b6f4c4e-6a43-4c3e-9d5e-3f1b2a7c9e01"})",
      alice);
  ASSERT_TRUE(replayed.ok());
  EXPECT_EQ(replayed->status, 200) << replayed->body;
  EXPECT_TRUE(replayed->Json().at("duplicate").as_bool());
  EXPECT_EQ(std::string(replayed->Json().at("timestamp").as_string()), "2024-05-01T12:00:00.123Z");
  absl::StatusOr<testing::HttpResponse> conflict = client.Post(
      "/sbd_tokens/send",
      R"({"to_user":"bob","amount":51,"transaction_id":"0b6f4c4e-6a43-4c3e-9d5e-3f1b2a7c9e01"})",
      alice);
  ASSERT_TRUE(conflict.ok());
  EXPECT_EQ(conflict->status, 409) << conflict->body;
  EXPECT_EQ(std::string(conflict->Json().at("code").as_string()), "transaction_id_conflict");
  // No request can give its event a time: a "timestamp" field is ignored.
  absl::StatusOr<testing::HttpResponse> sent = client.Post(
      "/sbd_tokens/send",
      R"({"to_user":"bob","amount":1,"timestamp":"2020-01-01T00:00:00Z","timestamp_ms":0,"given_timestamp_ms":0})",
      alice);
  ASSERT_TRUE(sent.ok());
  ASSERT_EQ(sent->status, 200) << sent->body;
  EXPECT_FALSE(absl::StartsWith(std::string(sent->Json().at("timestamp").as_string()), "2020-"));
  balances["alice"] -= 1;
  balances["bob"] += 1;
  ASSERT_TRUE((*server)->Stop().ok());

  // sbd-replay verifies the imported log like any other: chain, recorded
  // balances, never below 0, total = minted; and finds the same balances.
  ToolResult replay = Replay({"--db", db, "--format", "json"});
  ASSERT_EQ(replay.exit_code, 0) << replay.out << replay.err;
  const json::value audit = json::parse(replay.out);
  EXPECT_EQ(std::string(audit.at("status").as_string()), "ok");
  for (const auto& [name, balance] : balances) {
    EXPECT_EQ(audit.at("balances").at(name).as_int64(), balance) << name;
  }
  EXPECT_EQ(audit.at("total_minted").as_int64(), audit.at("total_balance").as_int64());
}

TEST_F(ImportE2eTest, DryRunWritesNothingAndReportsTheSame) {
  const std::string users_path = Write("users.json", JsonLines(Fixture()));
  const std::string missing = (dir_ / "new" / "ledger.db").string();
  ToolResult dry = Import({"--db", missing, "--users", users_path, "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_THAT(dry.out, HasSubstr("dry run: nothing was written\n"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "new"));  // Not even the directory.

  // On an existing empty log: not a byte changes.
  absl::StatusOr<std::unique_ptr<ServerProcess>> server = ServerProcess::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*server)->Stop().ok());
  const std::string db = (*server)->db_path();
  // (The empty log's schema may still be in its WAL; the -shm index is
  // shared memory that any reader touches.)
  const std::string db_before = ReadWholeFile(db);
  const std::string wal_before = ReadWholeFile(db + "-wal");
  ToolResult dry_on_empty = Import({"--db", db, "--users", users_path, "--dry-run"});
  ASSERT_EQ(dry_on_empty.exit_code, 0) << dry_on_empty.err;
  EXPECT_EQ(ReadWholeFile(db), db_before);
  EXPECT_EQ(ReadWholeFile(db + "-wal"), wal_before);
  ToolResult empty = Replay({"--db", db, "--format", "json"});
  ASSERT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_EQ(json::parse(empty.out).at("events_verified").as_int64(), 0);

  ToolResult real = Import({"--db", missing, "--users", users_path});
  ASSERT_EQ(real.exit_code, 0) << real.err;
  EXPECT_THAT(real.out, Not(HasSubstr("dry run")));
  EXPECT_EQ(ReportBody(dry.out), ReportBody(real.out));
  EXPECT_EQ(Replay({"--db", missing}).exit_code, 0);
}

TEST_F(ImportE2eTest, ALogThatHoldsEventsIsRefused) {
  const std::string users_path = Write("users.json", JsonLines(Fixture()));
  const std::string db = (dir_ / "ledger.db").string();
  ASSERT_EQ(Import({"--db", db, "--users", users_path}).exit_code, 0);
  ToolResult replay = Replay({"--db", db, "--format", "json"});
  ASSERT_EQ(replay.exit_code, 0);
  const int64_t events = json::parse(replay.out).at("events_verified").as_int64();
  for (bool dry_run : {false, true}) {
    std::vector<std::string> flags = {"--db", db, "--users", users_path};
    if (dry_run) flags.push_back("--dry-run");
    ToolResult again = Import(flags);
    EXPECT_EQ(again.exit_code, 1);
    EXPECT_THAT(again.err, HasSubstr(absl::StrCat(db, " already holds ", events, " events")));
    EXPECT_TRUE(again.out.empty()) << again.out;
  }
  ToolResult after = Replay({"--db", db, "--format", "json"});
  EXPECT_EQ(json::parse(after.out).at("events_verified").as_int64(), events);
}

TEST_F(ImportE2eTest, MalformedInputIsRefusedAtFileAndLineWithNothingWritten) {
  std::string text = JsonLines(Fixture());
  // Line 7: an entry whose amount is a float.
  text +=
      R"({"username":"gina","sbd_tokens_transactions":[{"type":"send","to":"bob","amount":2.5,"timestamp":"2024-05-01T12:00:00Z"}]})";
  text += "\n";
  const std::string users_path = Write("users.json", text);
  const std::string db = (dir_ / "ledger.db").string();
  ToolResult refused = Import({"--db", db, "--users", users_path});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr(absl::StrCat(
                               users_path,
                               ":7: sbd_tokens_transactions[0].amount: must be an integer "
                               "from 1 to 9007199254740991, not the non-integer number 2.5")));
  EXPECT_THAT(refused.err, HasSubstr("nothing was written"));
  EXPECT_FALSE(std::filesystem::exists(db));

  // Two documents with one canonical username: both lines named.
  const std::string twice =
      Write("twice.json", JsonLines(Fixture()) + R"({"username":"ALICE","sbd_tokens":1})" + "\n");
  refused = Import({"--db", db, "--users", twice});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr(absl::StrCat(twice,
                                                  ":7: username 'alice' is also the username of "
                                                  "the document on line 1")));
  EXPECT_FALSE(std::filesystem::exists(db));

  // A file that cannot be read at all.
  refused = Import({"--db", db, "--users", (dir_ / "nope.json").string()});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.err, HasSubstr("cannot read the users file"));
  EXPECT_FALSE(std::filesystem::exists(db));
}

// The same file imported twice writes the same events (and so the same
// hash chain): every timestamp comes from the input.
TEST_F(ImportE2eTest, AnImportIsReproducible) {
  const std::string users_path = Write("users.json", JsonLines(Fixture()));
  std::vector<std::vector<Event>> logs;
  for (const char* name : {"first.db", "second.db"}) {
    const std::string db = (dir_ / name).string();
    ASSERT_EQ(Import({"--db", db, "--users", users_path}).exit_code, 0);
    SqliteEventLog::Options options;
    options.read_only = true;
    absl::StatusOr<std::unique_ptr<SqliteEventLog>> log = SqliteEventLog::Open(db, options);
    ASSERT_TRUE(log.ok()) << log.status();
    std::vector<Event>& events = logs.emplace_back();
    ASSERT_TRUE((*log)
                    ->Read(1, (*log)->LastSeq(),
                           [&events](const Event& event) {
                             events.push_back(event);
                             return absl::OkStatus();
                           })
                    .ok());
  }
  ASSERT_FALSE(logs[0].empty());
  EXPECT_EQ(logs[0], logs[1]);
}

TEST_F(ImportE2eTest, AJsonArrayFileImportsTheSame) {
  const std::string lines = Write("users.json", JsonLines(Fixture()));
  const std::string array = Write("users-array.json", JsonArray(Fixture()));
  ToolResult from_lines = Import({"--db", (dir_ / "a.db").string(), "--users", lines, "--dry-run"});
  ToolResult from_array =
      Import({"--db", (dir_ / "b.db").string(), "--users", array, "--jsonArray"});
  ASSERT_EQ(from_lines.exit_code, 0) << from_lines.err;
  ASSERT_EQ(from_array.exit_code, 0) << from_array.err;
  // Same report but for the line numbers (the array's documents start a line later).
  EXPECT_EQ(ReportBody(absl::StrReplaceAll(from_lines.out, {{"on line 1", "on line 2"}})),
            ReportBody(from_array.out));
  // Without --jsonArray the array file is refused with a hint.
  ToolResult wrong = Import({"--db", (dir_ / "c.db").string(), "--users", array});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_THAT(wrong.err, HasSubstr("pass --jsonArray"));
}

}  // namespace
}  // namespace sbd
