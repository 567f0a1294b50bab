// The importer's parsing: Extended JSON scalars, ISO timestamps, document
// framing (JSON lines, --jsonArray) and per-document validation, with the
// line and reason of every refusal.
#include "tools/sbd-ledger/import/origin_export.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/sbd-ledger/import/export_documents.h"
#include "tools/sbd-ledger/import/extended_json.h"

namespace sbd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ParseDecimalInt64Test, DigitsWithinInt64Only) {
  EXPECT_EQ(ParseDecimalInt64("0"), 0);
  EXPECT_EQ(ParseDecimalInt64("120"), 120);
  EXPECT_EQ(ParseDecimalInt64("-5"), -5);
  EXPECT_EQ(ParseDecimalInt64("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(ParseDecimalInt64("-9223372036854775808"), INT64_MIN);
  for (const char* bad : {"", "-", "+1", "1.0", "1e3", " 1", "1 ", "0x10", "9223372036854775808",
                          "-9223372036854775809", "12a"}) {
    EXPECT_EQ(ParseDecimalInt64(bad), std::nullopt) << bad;
  }
}

TEST(ParseIsoTimestampUsTest, TheOriginsForms) {
  // 2024-05-01T12:00:00Z is 1714564800 s.
  constexpr int64_t kBase = 1714564800LL * 1'000'000;
  struct Case {
    const char* text;
    int64_t us;
  };
  for (const Case& c : std::vector<Case>{
           {"2024-05-01T12:00:00.123456+00:00", kBase + 123456},  // Python isoformat().
           {"2024-05-01T12:00:00+00:00", kBase},                  // isoformat() at .000000.
           {"2024-05-01T12:00:00.123Z", kBase + 123000},          // $date, relaxed.
           {"2024-05-01T12:00:00z", kBase},
           {"2024-05-01 12:00:00.5", kBase + 500000},  // str(datetime), naive: UTC.
           {"2024-05-01T12:00:00", kBase},
           {"2024-05-01T12:00:00.123456789Z", kBase + 123456},  // Truncated, not rounded.
           {"2024-05-01T14:30:00+02:30", kBase},
           {"2024-05-01T09:00:00-0300", kBase},
           {"2024-05-01T13:00:00+01", kBase},
           {"1970-01-01T00:00:00Z", 0},
           {"2024-02-29T00:00:00Z", 1709164800LL * 1'000'000},
       }) {
    absl::StatusOr<int64_t> us = ParseIsoTimestampUs(c.text);
    ASSERT_TRUE(us.ok()) << c.text << ": " << us.status();
    EXPECT_EQ(*us, c.us) << c.text;
  }
}

TEST(ParseIsoTimestampUsTest, RefusesWhatIsNotOne) {
  for (const char* bad :
       {"", "2024-05-01", "2024-05-01T12:00", "2024-5-01T12:00:00Z", "2024-05-01T12:00:00.Z",
        "2024-05-01T12:00:00.1234567890Z", "2024-05-01T12:00:00+0", "2024-05-01T12:00:00+00:00 ",
        "2024-05-01T12:00:00Zx", "2024-05-01X12:00:00Z", "yesterday", "1714564800"}) {
    absl::StatusOr<int64_t> us = ParseIsoTimestampUs(bad);
    EXPECT_FALSE(us.ok()) << bad;
    EXPECT_THAT(std::string(us.status().message()), HasSubstr("not ISO 8601")) << bad;
  }
  for (const char* impossible :
       {"2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "2024-05-01T24:00:00Z",
        "2024-05-01T12:60:00Z", "2024-05-01T12:00:60Z", "2024-05-01T12:00:00+24:00"}) {
    EXPECT_FALSE(ParseIsoTimestampUs(impossible).ok()) << impossible;
  }
  for (const char* outside : {"1969-12-31T23:59:59Z", "1970-01-01T00:00:00+00:01"}) {
    absl::StatusOr<int64_t> us = ParseIsoTimestampUs(outside);
    EXPECT_FALSE(us.ok()) << outside;
    EXPECT_THAT(std::string(us.status().message()), HasSubstr("outside the years")) << outside;
  }
}

TEST(SplitJsonLinesTest, OneDocumentPerNonBlankLine) {
  const std::string text = "\xef\xbb\xbf{\"a\":1}\n\n  \r\n{\"b\":2}\r\n{\"c\":3}";
  SplitDocuments split = SplitJsonLines(text);
  ASSERT_FALSE(split.error);
  ASSERT_EQ(split.documents.size(), 3u);
  EXPECT_EQ(split.documents[0].line, 1);
  EXPECT_EQ(text.substr(split.documents[0].offset, split.documents[0].size), "{\"a\":1}");
  EXPECT_EQ(split.documents[1].line, 4);
  EXPECT_EQ(text.substr(split.documents[1].offset, split.documents[1].size), "{\"b\":2}\r");
  EXPECT_EQ(split.documents[2].line, 5);
}

TEST(SplitJsonArrayTest, ElementsWithTheirStartLines) {
  // Pretty-printed, with brackets, braces and escaped quotes inside strings.
  const std::string text =
      "[\n"
      "  {\"username\": \"a\",\n"
      "   \"note\": \"} ] \\\" {\"},\n"
      "  {\"username\": \"b\"}\n"
      ",{\"x\": [1, {\"y\": 2}]}]\n";
  SplitDocuments split = SplitJsonArray(text);
  ASSERT_FALSE(split.error) << split.error->reason;
  ASSERT_EQ(split.documents.size(), 3u);
  EXPECT_EQ(split.documents[0].line, 2);
  EXPECT_EQ(text.substr(split.documents[0].offset, split.documents[0].size),
            "{\"username\": \"a\",\n   \"note\": \"} ] \\\" {\"}");
  EXPECT_EQ(split.documents[1].line, 4);
  EXPECT_EQ(split.documents[2].line, 5);
  EXPECT_EQ(text.substr(split.documents[2].offset, split.documents[2].size),
            "{\"x\": [1, {\"y\": 2}]}");
  EXPECT_TRUE(SplitJsonArray(" [ ] ").documents.empty());
  EXPECT_FALSE(SplitJsonArray(" [ ] ").error);
}

TEST(SplitJsonArrayTest, BrokenFramingNamesTheLine) {
  struct Case {
    const char* text;
    int64_t line;
    const char* reason;
  };
  for (const Case& c : std::vector<Case>{
           {"{\"a\":1}", 1, "does not start with '['"},
           {"\n\n", 3, "does not start with '['"},
           {"[{\"a\":1}", 1, "not closed with ']'"},
           {"[\n{\"a\":1},\n{\"b\":\n", 3, "starting on this line is not closed"},
           {"[{\"a\":1} {\"b\":2}]", 1, "expected ',' or ']'"},
           {"[{\"a\":1}]\n{\"b\":2}", 2, "content after the array"},
       }) {
    SplitDocuments split = SplitJsonArray(c.text);
    ASSERT_TRUE(split.error) << c.text;
    EXPECT_EQ(split.error->line, c.line) << c.text;
    EXPECT_THAT(split.error->reason, HasSubstr(c.reason)) << c.text;
  }
}

// A user document in the origin's real shapes: Extended JSON everywhere
// mongoexport puts it, fields the importer ignores, each timestamp form.
constexpr char kAlice[] =
    R"({"_id":{"$oid":"6630a1b2c3d4e5f601234567"},"username":"Alice","email":"alice@example.com",)"
    R"("sbd_tokens":{"$numberLong":"120"},"sbd_tokens_transactions":[)"
    R"({"type":"send","to":"Bob","amount":{"$numberInt":"50"},)"
    R"("timestamp":"2024-05-01T12:00:00.123456+00:00","transaction_id":"t-1","note":"café ☕ 日本"},)"
    R"({"type":"receive","from":"sbd_ads","amount":10,"timestamp":{"$date":"2024-05-02T08:00:00.5Z"},)"
    R"("transaction_id":"ad-1","family_member_id":"x"},)"
    R"({"type":"receive","from":"family_1","amount":{"$numberLong":"3"},)"
    R"("timestamp":{"$date":{"$numberLong":"1714737600000"}},"note":null}]})";

TEST(ParseOriginExportTest, ReadsTheOriginsShapes) {
  const std::string text = std::string(kAlice) + "\n" +
                           R"({"username":"carol","sbd_tokens":{"$numberInt":"7"}})" + "\n" +
                           R"({"username":"dave","sbd_tokens_transactions":null})" + "\n";
  ParsedExport parsed = ParseOriginExport(text, ExportFormat::kJsonLines);
  ASSERT_TRUE(parsed.errors.empty()) << parsed.errors[0].reason;
  ASSERT_EQ(parsed.data.users.size(), 3u);
  EXPECT_EQ(parsed.data.entry_count, 3u);
  const OriginUser& alice = parsed.data.users[0];
  EXPECT_EQ(alice.username, "alice");  // Canonical.
  EXPECT_EQ(alice.sbd_tokens, 120);
  EXPECT_EQ(alice.line, 1);
  ASSERT_EQ(alice.entries.size(), 3u);
  EXPECT_EQ(alice.entries[0],
            (OriginEntry{EntryType::kSend, "bob", 50, 1714564800LL * 1'000'000 + 123456, "t-1",
                         false, "café ☕ 日本", 0}));
  EXPECT_EQ(alice.entries[1],
            (OriginEntry{EntryType::kReceive, "sbd_ads", 10, 1714636800LL * 1'000'000 + 500000,
                         "ad-1", false, "", 1}));
  // No transaction_id: one made up from the user and the entry's position.
  EXPECT_EQ(alice.entries[2],
            (OriginEntry{EntryType::kReceive, "family_1", 3, 1714737600000LL * 1000,
                         "sbd-import:alice:2", true, "", 2}));
  EXPECT_EQ(parsed.data.users[1].sbd_tokens, 7);
  EXPECT_EQ(parsed.data.users[1].line, 2);
  EXPECT_TRUE(parsed.data.users[1].entries.empty());
  EXPECT_EQ(parsed.data.users[2].sbd_tokens, 0);  // Absent: 0, as the origin reads it.
}

TEST(ParseOriginExportTest, JsonArrayGivesTheSameUsers) {
  const std::string lines = std::string(kAlice) + "\n" + R"({"username":"carol"})" + "\n";
  const std::string array =
      "[\n" + std::string(kAlice) + ",\n" + R"({"username":"carol"})" + "\n]\n";
  ParsedExport from_lines = ParseOriginExport(lines, ExportFormat::kJsonLines);
  ParsedExport from_array = ParseOriginExport(array, ExportFormat::kJsonArray);
  ASSERT_TRUE(from_lines.errors.empty());
  ASSERT_TRUE(from_array.errors.empty()) << from_array.errors[0].reason;
  ASSERT_EQ(from_array.data.users.size(), 2u);
  EXPECT_EQ(from_array.data.users[0].entries, from_lines.data.users[0].entries);
  EXPECT_EQ(from_array.data.users[1].line, 3);
}

// Each malformed document is refused at its line, saying what is wrong.
TEST(ParseOriginExportTest, MalformedDocumentsAreRefusedAtTheirLine) {
  struct Case {
    std::string document;
    std::string reason;
  };
  const std::string entry_start = R"({"username":"eve","sbd_tokens_transactions":[)";
  auto entry = [&](const std::string& fields) { return entry_start + "{" + fields + "}]}"; };
  const std::string ok_fields =
      R"("type":"send","to":"bob","amount":5,"timestamp":"2024-05-01T12:00:00Z")";
  for (
      const Case& c : std::vector<Case>{
          {R"({"username":"eve",)", "not valid JSON"},
          {"{\"username\":\"eve\",\"note\":\"\xff\"}", "not valid JSON"},  // Bad UTF-8.
          {R"(["eve"])", "must be a JSON object, not an array"},
          {R"({"sbd_tokens":1})", "username: missing"},
          {R"({"username":7})", "username: must be a string, not 7"},
          {R"({"username":"eve smith"})", "username: 'eve smith' is not a username"},
          {R"({"username":""})", "is not a username"},
          {R"({"username":"eve","username":"eva"})", "username: the field appears twice"},
          {R"({"username":"eve","sbd_tokens":-1})", "sbd_tokens: must be an integer from 0"},
          {R"({"username":"eve","sbd_tokens":1.5})", "not the non-integer number 1.5"},
          {R"({"username":"eve","sbd_tokens":{"$numberDouble":"1.0"}})",
           "sbd_tokens: must be an integer"},
          {R"({"username":"eve","sbd_tokens":"12"})", "not the string '12'"},
          {R"({"username":"eve","sbd_tokens":{"$numberLong":"9007199254740992"}})",
           "to 9007199254740991"},
          {R"({"username":"eve","sbd_tokens_transactions":{}})",
           "sbd_tokens_transactions: must be an array, not an object"},
          {entry_start + "7]}", "sbd_tokens_transactions[0]: must be an object, not 7"},
          {entry(R"("to":"bob","amount":5,"timestamp":"2024-05-01T12:00:00Z")"),
           "sbd_tokens_transactions[0].type: missing"},
          {entry(R"("type":"mint","to":"bob","amount":5,"timestamp":"2024-05-01T12:00:00Z")"),
           "type: must be \"send\" or \"receive\", not 'mint'"},
          {entry(R"("type":"send","from":"bob","amount":5,"timestamp":"2024-05-01T12:00:00Z")"),
           "sbd_tokens_transactions[0].to: missing (a send names it)"},
          {entry(R"("type":"receive","to":"bob","amount":5,"timestamp":"2024-05-01T12:00:00Z")"),
           ".from: missing (a receive names it)"},
          {entry(R"("type":"send","to":"Eve","amount":5,"timestamp":"2024-05-01T12:00:00Z")"),
           ".to: the user itself"},
          {entry(R"("type":"send","to":"b b","amount":5,"timestamp":"2024-05-01T12:00:00Z")"),
           ".to: 'b b' is not a username"},
          {entry(R"("type":"send","to":"bob","amount":0,"timestamp":"2024-05-01T12:00:00Z")"),
           ".amount: must be an integer from 1 to 9007199254740991, not 0"},
          {entry(R"("type":"send","to":"bob","amount":5.0,"timestamp":"2024-05-01T12:00:00Z")"),
           ".amount: must be an integer"},
          {entry(R"("type":"send","to":"bob","timestamp":"2024-05-01T12:00:00Z")"),
           ".amount: missing"},
          {entry(R"("type":"send","to":"bob","amount":5)"), ".timestamp: missing"},
          {entry(R"("type":"send","to":"bob","amount":5,"timestamp":"May 1st")"),
           ".timestamp: timestamp 'May 1st' is not ISO 8601"},
          {entry(R"("type":"send","to":"bob","amount":5,"timestamp":1714564800)"),
           ".timestamp: must be an ISO 8601 string or {\"$date\": …}, not 1714564800"},
          {entry(
               R"("type":"send","to":"bob","amount":5,"timestamp":{"$date":{"$numberLong":"-1"}})"),
           "outside the years 1970 to 9999"},
          {entry(ok_fields + R"(,"transaction_id":5)"), ".transaction_id: must be a string"},
          {entry(ok_fields + R"(,"transaction_id":")" + std::string(129, 'x') + "\""),
           "transaction_id must be 1 to 128 characters"},
          {entry(ok_fields + R"(,"transaction_id":"a\tb")"), "must be printable ASCII"},
          {entry(ok_fields + R"(,"note":")" + std::string(501, 'n') + "\""),
           ".note: note is longer than 500 characters"},
          {entry(ok_fields + R"(,"note":["x"])"), ".note: must be a string, not an array"},
          {entry(ok_fields + R"(,"amount":6)"), ".amount: the field appears twice"},
      }) {
    const std::string text = R"({"username":"fine"})"
                             "\n\n" +
                             c.document + "\n";
    ParsedExport parsed = ParseOriginExport(text, ExportFormat::kJsonLines);
    ASSERT_EQ(parsed.errors.size(), 1u) << c.document;
    EXPECT_EQ(parsed.errors[0].line, 3) << c.document;
    EXPECT_THAT(parsed.errors[0].reason, HasSubstr(c.reason)) << c.document;
  }
}

TEST(ParseOriginExportTest, StopsAfterTheFirstErrors) {
  std::string text;
  for (int i = 0; i < 50; ++i) text += "not json\n";
  ParsedExport parsed = ParseOriginExport(text, ExportFormat::kJsonLines);
  ASSERT_EQ(parsed.errors.size(), kInputErrorsMax);
  EXPECT_EQ(parsed.errors.back().line, static_cast<int64_t>(kInputErrorsMax));
}

TEST(ParseOriginExportTest, AnArrayReadAsLinesIsOneErrorWithAHint) {
  ParsedExport parsed = ParseOriginExport("\n  [\n{\"username\":\"a\"},\n{\"username\":\"b\"}\n]\n",
                                          ExportFormat::kJsonLines);
  EXPECT_THAT(parsed.errors,
              ElementsAre(InputError{2,
                                     "this line starts a JSON array, not a user document (for "
                                     "mongoexport --jsonArray output, pass --jsonArray)"}));
}

TEST(ParseOriginExportTest, ArrayFramingErrorsAreInputErrors) {
  ParsedExport parsed = ParseOriginExport("{\"username\":\"a\"}\n", ExportFormat::kJsonArray);
  EXPECT_THAT(parsed.errors,
              ElementsAre(InputError{1,
                                     "a --jsonArray file holds one JSON array of user documents; "
                                     "this does not start with '['"}));
}

TEST(QuoteForReasonTest, ShortPrintableAndCutOnACharacter) {
  EXPECT_EQ(QuoteForReason("bob"), "'bob'");
  EXPECT_EQ(QuoteForReason("a\nb"), "'a?b'");
  // 63 ASCII bytes then a 3-byte character straddling byte 64: cut before it.
  const std::string long_text = std::string(63, 'x') + "日本";
  EXPECT_EQ(QuoteForReason(long_text), "'" + std::string(63, 'x') + "...'");
}

}  // namespace
}  // namespace sbd
