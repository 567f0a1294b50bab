// The node query protocol's messages (store/cluster/node_query_protocol.h),
// without a cluster: what one end encodes the other decodes to the same
// query, snapshot, page or status; a page too long for its reply is cut to
// a prefix that keeps EventsPage's guarantee; and anything that is not a
// message of the protocol, or a page that does not answer its query, is a
// clear status (kInvalidArgument for a query, kDataLoss for a reply), never
// a crash or a page taken on trust.
#include "store/cluster/node_query_protocol.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/absl_compat.h"
#include "engine/error_code.h"
#include "store/cluster/event_rows.h"
#include "tests/support/event_builders.h"

namespace sbd::testing {
namespace {

// An account's transfers and mints, ascending, with text that needs
// escaping (quotes, backslashes, control characters, UTF-8).
std::vector<Event> SomeEvents() {
  Event reasoned = Transferred(7, "alice", "bob", 3, 97, 3, "t-2", "tab\there");
  reasoned.actor = "service";
  reasoned.reason = "refund \"quoted\" \\ \x01\x1f";
  reasoned.timestamp_ms = 1767225600123;
  Event minted = Minted(3, "alice", 100, 100, "m-1", "seed ✓");
  minted.timestamp_ms = 1767225600000;
  return {minted, Transferred(5, "alice", "bob", 1, 99, 1, "t-1", ""), reasoned};
}

// A page body written by hand, so that a test can make one EncodePageReply
// would refuse to (events out of order, past `through`).
std::string PageBody(const std::vector<Event>& events, std::string_view through) {
  std::string body = absl::StrCat("{\"page\":{\"through\":", ToAbsl(through), ",\"columns\":[");
  AppendEventColumnNames(body);
  body.append("],\"rows\":[");
  for (size_t i = 0; i < events.size(); ++i) {
    if (i > 0) body.push_back(',');
    body.push_back('[');
    AppendEventCells(events[i], body);
    body.push_back(']');
  }
  body.append("]}}");
  return body;
}

std::string PageBody(const std::vector<Event>& events, int64_t through) {
  return PageBody(events, std::to_string(through));
}

// A page body whose rows are `rows` as given (JSON text), with the right
// columns.
std::string PageWithRows(std::string_view rows, int64_t through = 10) {
  std::string body = absl::StrCat("{\"page\":{\"through\":", through, ",\"columns\":[");
  AppendEventColumnNames(body);
  absl::StrAppend(&body, "],\"rows\":", ToAbsl(rows), "}}");
  return body;
}

// One good row, as JSON text, with `cell` (0-based) replaced by `with`.
std::string RowWithCell(size_t cell, std::string_view with) {
  std::vector<std::string> cells = {
      "5",  "3", "1767225600000", "\"alice\"", "\"alice\"", "\"bob\"", "1",
      "99", "1", "\"t-1\"",       "\"\"",      "\"\""};
  if (cell < cells.size()) cells[cell] = std::string(with);
  std::string row = "[";
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) row.push_back(',');
    row.append(cells[i]);
  }
  row.push_back(']');
  return row;
}

EventsAfterQuery Query(int64_t after, int64_t until, size_t limit) {
  return EventsAfterQuery{.account = "alice", .after = after, .until = until, .limit = limit};
}

// --- Round trips ---

TEST(NodeQueryProtocolTest, QueriesRoundTrip) {
  const std::vector<NodeQuery> queries = {
      SnapshotQuery{.account = "alice"},
      SnapshotQuery{.account = "Mixed.Case_42"},
      SnapshotQuery{.account =
                        std::string("quote\" back\\ nul") + std::string(1, '\0') + " \x7f ✓"},
      SnapshotQuery{.account = ""},  // The node's Ledger says what is wrong with it.
      EventsAfterQuery{.account = "bob", .after = 0, .until = 0, .limit = 1},
      EventsAfterQuery{.account = "bob", .after = 17, .until = 4, .limit = 1000},
      EventsAfterQuery{.account = "bob",
                       .after = std::numeric_limits<int64_t>::max(),
                       .until = std::numeric_limits<int64_t>::max(),
                       .limit = static_cast<size_t>(std::numeric_limits<int64_t>::max())},
  };
  for (const NodeQuery& query : queries) {
    const std::string body = EncodeQuery(query);
    absl::StatusOr<NodeQuery> decoded = DecodeQuery(body);
    ASSERT_TRUE(decoded.ok()) << body << ": " << decoded.status();
    EXPECT_EQ(*decoded, query) << body;
  }
}

TEST(NodeQueryProtocolTest, SnapshotRepliesRoundTrip) {
  for (const FeedSnapshot& snapshot :
       {FeedSnapshot{.seq = 0, .balance = 0}, FeedSnapshot{.seq = 42, .balance = 1000},
        FeedSnapshot{.seq = std::numeric_limits<int64_t>::max(), .balance = kAmountMax}}) {
    absl::StatusOr<FeedSnapshot> decoded = DecodeSnapshotReply(EncodeSnapshotReply(snapshot));
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->seq, snapshot.seq);
    EXPECT_EQ(decoded->balance, snapshot.balance);
  }
}

TEST(NodeQueryProtocolTest, PageRepliesRoundTrip) {
  const std::vector<Event> events = SomeEvents();
  absl::StatusOr<EventsPage> page =
      DecodePageReply(EncodePageReply(events, 9, 1 << 20), Query(2, 9, 3));
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->events, events);
  EXPECT_EQ(page->through, 9);

  // An empty page moves the caller on all the same, or (a node behind it)
  // answers through `after` itself.
  page = DecodePageReply(EncodePageReply({}, 50, 1 << 20), Query(10, 50, 5));
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_TRUE(page->events.empty());
  EXPECT_EQ(page->through, 50);
  page = DecodePageReply(EncodePageReply({}, 10, 1 << 20), Query(10, 50, 5));
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->through, 10);
  // until below after: the page is empty, through after.
  page = DecodePageReply(EncodePageReply({}, 10, 1 << 20), Query(10, 3, 5));
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_TRUE(page->events.empty());
  EXPECT_EQ(page->through, 10);
}

TEST(NodeQueryProtocolTest, ErrorRepliesDecodeToTheSameMakeError) {
  for (int i = 0; i <= static_cast<int>(ErrorCode::kUnavailable); ++i) {
    const auto code = static_cast<ErrorCode>(i);
    const absl::Status status = MakeError(code, "detail with \"quotes\", \\ and ✓");
    const std::string body = EncodeErrorReply(status);
    absl::StatusOr<FeedSnapshot> snapshot = DecodeSnapshotReply(body);
    ASSERT_FALSE(snapshot.ok()) << body;
    EXPECT_EQ(snapshot.status(), status) << body;
    EXPECT_EQ(ErrorCodeOf(snapshot.status()), code) << body;
    absl::StatusOr<EventsPage> page = DecodePageReply(body, Query(0, 10, 10));
    ASSERT_FALSE(page.ok()) << body;
    EXPECT_EQ(page.status(), status) << body;
  }
}

TEST(NodeQueryProtocolTest, StatusesWithoutAnApiCodeTravelAsUnavailable) {
  for (const absl::Status& status :
       {absl::InternalError("disk on fire"), absl::InvalidArgumentError("node query: not JSON"),
        absl::UnavailableError("no quorum"), absl::DataLossError("bad hash at 7"),
        absl::UnknownError("")}) {
    const std::string body = EncodeErrorReply(status);
    absl::StatusOr<FeedSnapshot> decoded = DecodeSnapshotReply(body);
    ASSERT_FALSE(decoded.ok()) << body;
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kUnavailable) << body;
    EXPECT_EQ(ErrorCodeOf(decoded.status()), ErrorCode::kUnavailable) << body;
    // The absl code and the message, for whoever reads the gateway's log.
    EXPECT_NE(decoded.status().message().find(absl::StatusCodeToString(status.code())),
              std::string::npos)
        << decoded.status();
    EXPECT_NE(decoded.status().message().find(status.message()), std::string::npos)
        << decoded.status();
  }
  // A MakeError whose message was changed after is no longer what the
  // message alone rebuilds, and keeps its absl code too.
  absl::Status annotated = MakeError(ErrorCode::kAccountNotFound, "no bob");
  annotated = absl::Status(annotated.code(), "no bob, said node 2");
  absl::StatusOr<FeedSnapshot> decoded = DecodeSnapshotReply(EncodeErrorReply(annotated));
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("no bob, said node 2"), std::string::npos);
}

// --- Pages cut to fit ---

TEST(NodeQueryProtocolTest, APageTooLongIsCutToAPrefixThroughItsLastEvent) {
  std::vector<Event> events;
  int64_t balance = 10000;
  for (int64_t seq = 10; seq < 110; seq += 2) {
    balance -= 1;
    events.push_back(Transferred(seq, "alice", "bob", 1, balance, 10000 - balance,
                                 absl::StrCat("t-", seq), std::string(100, 'n')));
  }
  constexpr int64_t kThrough = 150;
  const std::string whole = EncodePageReply(events, kThrough, 1 << 20);
  const EventsAfterQuery query = Query(5, 200, events.size());
  size_t cuts = 0;
  for (size_t max = 1; max <= whole.size() + 10; max += 37) {
    const std::string body = EncodePageReply(events, kThrough, max);
    absl::StatusOr<EventsPage> page = DecodePageReply(body, query);
    ASSERT_TRUE(page.ok()) << "max " << max << ": " << page.status();
    ASSERT_GE(page->events.size(), 1u) << "max " << max << ": a page moves its caller on";
    EXPECT_EQ(page->events,
              std::vector<Event>(events.begin(), events.begin() + page->events.size()))
        << "max " << max;
    if (page->events.size() == events.size()) {
      EXPECT_EQ(page->through, kThrough) << "max " << max;
      EXPECT_EQ(body, whole);
    } else {
      ++cuts;
      EXPECT_EQ(page->through, page->events.back().seq) << "max " << max;
    }
    // Only a page of one event may exceed the bound.
    if (page->events.size() > 1) {
      EXPECT_LE(body.size(), max) << "max " << max;
    }
    // The longest prefix that fits, but for the room the encoder keeps for
    // `through`'s digits (at most 20): one more event would not have.
    if (page->events.size() < events.size() && page->events.size() > 1) {
      const size_t longer = page->events.size() + 1;
      const std::string next = EncodePageReply(absl::MakeConstSpan(events).subspan(0, longer),
                                               events[longer - 1].seq, 1 << 20);
      EXPECT_GT(next.size() + 20, max) << "max " << max;
    }
  }
  EXPECT_GT(cuts, 10u);
  // A bound below one event still carries that one.
  absl::StatusOr<EventsPage> one = DecodePageReply(EncodePageReply(events, kThrough, 1), query);
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_EQ(one->events.size(), 1u);
  EXPECT_EQ(one->events[0], events[0]);
  EXPECT_EQ(one->through, events[0].seq);
}

// --- Pages that do not answer their query ---

TEST(NodeQueryProtocolTest, PagesThatDoNotAnswerTheQueryAreDataLoss) {
  const std::vector<Event> events = SomeEvents();  // Seqs 3, 5, 7.
  struct Case {
    std::string name;
    std::string body;
    EventsAfterQuery query;
  };
  std::vector<Event> reversed(events.rbegin(), events.rend());
  std::vector<Event> repeated = {events[0], events[1], events[1]};
  const std::vector<Case> cases = {
      {"more events than the limit", PageBody(events, 9), Query(2, 9, 2)},
      {"an event at after", PageBody(events, 9), Query(3, 9, 10)},
      {"an event below after", PageBody(events, 9), Query(4, 9, 10)},
      {"an event past through", PageBody(events, 6), Query(2, 9, 10)},
      {"through below after", PageBody({}, 4), Query(5, 9, 10)},
      {"through past until", PageBody(events, 10), Query(2, 9, 10)},
      {"through past after when until is below it", PageBody({}, 6), Query(5, 3, 10)},
      {"descending", PageBody(reversed, 9), Query(2, 9, 10)},
      {"a seq twice", PageBody(repeated, 9), Query(2, 9, 10)},
      {"a negative through", PageBody({}, -1), Query(0, 9, 10)},
  };
  for (const Case& c : cases) {
    absl::StatusOr<EventsPage> page = DecodePageReply(c.body, c.query);
    EXPECT_EQ(page.status().code(), absl::StatusCode::kDataLoss) << c.name << ": " << c.body;
  }
  // The same pages, asked as they answer, are fine: what was wrong above is
  // the query they were checked against.
  EXPECT_TRUE(DecodePageReply(PageBody(events, 9), Query(2, 9, 3)).ok());
  EXPECT_TRUE(DecodePageReply(PageBody(events, 7), Query(0, 7, 3)).ok());
  EXPECT_TRUE(DecodePageReply(PageBody({}, 5), Query(5, 3, 10)).ok());
}

// --- Hostile queries ---

TEST(NodeQueryProtocolTest, AnythingButAQueryIsInvalidArgument) {
  const std::vector<std::string> bodies = {
      "",
      "not json",
      "{",
      "{\"query\":\"snapshot\",\"account\":\"a\"",  // Truncated.
      "{\"query\":\"snapshot\",\"account\":\"a\"} trailing",
      "[]",
      "[{\"query\":\"snapshot\",\"account\":\"a\"}]",
      "42",
      "\"snapshot\"",
      "null",
      "{}",
      "{\"query\":\"snapshot\"}",
      "{\"account\":\"a\"}",
      "{\"query\":1,\"account\":\"a\"}",
      "{\"query\":null,\"account\":\"a\"}",
      "{\"query\":\"snapshot\",\"account\":7}",
      "{\"query\":\"snapshot\",\"account\":[\"a\"]}",
      "{\"query\":\"snapshot\",\"account\":null}",
      "{\"query\":\"drop_tables\",\"account\":\"a\"}",
      "{\"query\":\"Snapshot\",\"account\":\"a\"}",
      "{\"query\":\"events_after\",\"account\":\"a\"}",
      "{\"query\":\"events_after\",\"account\":\"a\",\"after\":0,\"until\":5}",
      "{\"query\":\"events_after\",\"account\":\"a\",\"after\":0,\"limit\":5}",
      "{\"query\":\"events_after\",\"account\":\"a\",\"until\":0,\"limit\":5}",
      "{\"query\":\"events_after\",\"account\":\"a\",\"after\":-1,\"until\":5,\"limit\":5}",
      "{\"query\":\"events_after\",\"account\":\"a\",\"after\":0,\"until\":-1,\"limit\":5}",
      "{\"query\":\"events_after\",\"account\":\"a\",\"after\":0,\"until\":5,\"limit\":0}",
      "{\"query\":\"events_after\",\"account\":\"a\",\"after\":0,\"until\":5,\"limit\":-5}",
      "{\"query\":\"events_after\",\"account\":\"a\",\"after\":1.5,\"until\":5,\"limit\":5}",
      "{\"query\":\"events_after\",\"account\":\"a\",\"after\":1e3,\"until\":5,\"limit\":5}",
      "{\"query\":\"events_after\",\"account\":\"a\",\"after\":\"1\",\"until\":5,\"limit\":5}",
      "{\"query\":\"events_after\",\"account\":\"a\",\"after\":true,\"until\":5,\"limit\":5}",
      "{\"query\":\"events_after\",\"account\":\"a\",\"after\":null,\"until\":5,\"limit\":5}",
      // Above int64: not a seq of ours.
      "{\"query\":\"events_after\",\"account\":\"a\",\"after\":18446744073709551615,"
      "\"until\":5,\"limit\":5}",
      "{\"query\":\"events_after\",\"account\":\"a\",\"after\":0,\"until\":5,"
      "\"limit\":99999999999999999999999}",
      "{\"query\":\"snapshot\",\"account\":\"\xff\xfe\"}",  // Not UTF-8.
      std::string(100000, '['),                             // Deeper than any parser goes.
      std::string(10000, '[') + std::string(10000, ']'),
  };
  for (const std::string& body : bodies) {
    absl::StatusOr<NodeQuery> query = DecodeQuery(body);
    EXPECT_EQ(query.status().code(), absl::StatusCode::kInvalidArgument)
        << body.substr(0, 200) << ": " << query.status();
    EXPECT_FALSE(query.status().message().empty());
  }
}

TEST(NodeQueryProtocolTest, AQueryLongerThanTheMaximumIsRefusedUnread) {
  const std::string prefix = "{\"query\":\"snapshot\",\"account\":\"";
  const std::string suffix = "\"}";
  // Exactly the maximum: a query (its Ledger will say the name is no user's).
  std::string body =
      prefix + std::string(kNodeQueryBytesMax - prefix.size() - suffix.size(), 'a') + suffix;
  ASSERT_EQ(body.size(), kNodeQueryBytesMax);
  absl::StatusOr<NodeQuery> query = DecodeQuery(body);
  ASSERT_TRUE(query.ok()) << query.status();
  // One byte more, or a great deal more: refused, however good the JSON.
  body = prefix + std::string(kNodeQueryBytesMax + 1 - prefix.size() - suffix.size(), 'a') + suffix;
  query = DecodeQuery(body);
  EXPECT_EQ(query.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(query.status().message().find("longer than"), std::string::npos) << query.status();
  query = DecodeQuery(std::string(16 * 1024 * 1024, ' '));
  EXPECT_EQ(query.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(NodeQueryProtocolTest, UnknownFieldsAreIgnored) {
  absl::StatusOr<NodeQuery> query = DecodeQuery(
      "{\"v\":2,\"query\":\"snapshot\",\"account\":\"alice\",\"trace\":{\"id\":[1,2]}}");
  ASSERT_TRUE(query.ok()) << query.status();
  EXPECT_EQ(*query, NodeQuery(SnapshotQuery{.account = "alice"}));
  query = DecodeQuery(
      "{\"query\":\"events_after\",\"account\":\"bob\",\"after\":1,\"until\":9,\"limit\":3,"
      "\"order\":\"desc\",\"after_ms\":-4}");
  ASSERT_TRUE(query.ok()) << query.status();
  EXPECT_EQ(*query,
            NodeQuery(EventsAfterQuery{.account = "bob", .after = 1, .until = 9, .limit = 3}));

  absl::StatusOr<FeedSnapshot> snapshot =
      DecodeSnapshotReply("{\"node\":\"n1\",\"snapshot\":{\"seq\":4,\"balance\":7,\"at\":\"x\"}}");
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  EXPECT_EQ(snapshot->seq, 4);
  EXPECT_EQ(snapshot->balance, 7);

  std::string body = PageBody(SomeEvents(), 9);
  body.insert(body.find("\"through\""), "\"cursor\":[null],");
  body.insert(1, "\"node\":\"n2\",");
  absl::StatusOr<EventsPage> page = DecodePageReply(body, Query(0, 9, 3));
  ASSERT_TRUE(page.ok()) << body << ": " << page.status();
  EXPECT_EQ(page->events, SomeEvents());

  absl::StatusOr<FeedSnapshot> error = DecodeSnapshotReply(
      "{\"error\":{\"code\":\"account_not_found\",\"message\":\"no bob\",\"node\":\"n3\"}}");
  EXPECT_EQ(error.status(), MakeError(ErrorCode::kAccountNotFound, "no bob"));
}

// --- Hostile replies ---

TEST(NodeQueryProtocolTest, AnythingButASnapshotReplyIsDataLoss) {
  const std::vector<std::string> bodies = {
      "",
      "not json",
      "{\"snapshot\":{\"seq\":1,\"balance\":2}",
      "[]",
      "7",
      "null",
      "{}",
      "{\"snapshot\":1}",
      "{\"snapshot\":[1,2]}",
      "{\"snapshot\":null}",
      "{\"snapshot\":{}}",
      "{\"snapshot\":{\"seq\":1}}",
      "{\"snapshot\":{\"balance\":1}}",
      "{\"snapshot\":{\"seq\":-1,\"balance\":2}}",
      "{\"snapshot\":{\"seq\":1,\"balance\":-2}}",
      absl::StrCat("{\"snapshot\":{\"seq\":1,\"balance\":", kAmountMax + 1, "}}"),
      "{\"snapshot\":{\"seq\":\"1\",\"balance\":2}}",
      "{\"snapshot\":{\"seq\":1,\"balance\":2.5}}",
      "{\"snapshot\":{\"seq\":18446744073709551615,\"balance\":2}}",
      "{\"Snapshot\":{\"seq\":1,\"balance\":2}}",
      // A page is no snapshot.
      EncodePageReply(SomeEvents(), 9, 1 << 20),
      // Errors that are not the protocol's.
      "{\"error\":1}",
      "{\"error\":\"account_not_found\"}",
      "{\"error\":{}}",
      "{\"error\":{\"code\":\"account_not_found\"}}",
      "{\"error\":{\"message\":\"no bob\"}}",
      "{\"error\":{\"code\":10,\"message\":\"no bob\"}}",
      "{\"error\":{\"code\":\"account_not_found\",\"message\":7}}",
      "{\"error\":{\"code\":\"no_such_code\",\"message\":\"m\"}}",
      "{\"error\":{\"code\":\"ACCOUNT_NOT_FOUND\",\"message\":\"m\"}}",
      "{\"error\":null,\"snapshot\":{\"seq\":1,\"balance\":2}}",
      "{\"snapshot\":{\"seq\":1,\"balance\":2},\"error\":[]}",
      std::string(100000, '['),
  };
  for (const std::string& body : bodies) {
    absl::StatusOr<FeedSnapshot> snapshot = DecodeSnapshotReply(body);
    EXPECT_EQ(snapshot.status().code(), absl::StatusCode::kDataLoss)
        << body.substr(0, 200) << ": " << snapshot.status();
    EXPECT_FALSE(snapshot.status().message().empty());
  }
}

TEST(NodeQueryProtocolTest, AnythingButAPageReplyIsDataLoss) {
  std::string columns;
  AppendEventColumnNames(columns);
  std::string eleven_columns;
  for (size_t i = 0; i + 1 < kEventColumns.size(); ++i) {
    if (i > 0) eleven_columns.push_back(',');
    AppendJsonString(kEventColumns[i], eleven_columns);
  }
  std::string renamed = columns;
  renamed.replace(renamed.find("\"amount\""), 8, "\"amounts\"");
  const std::string good_row = RowWithCell(99, "");
  const std::vector<std::string> bodies = {
      "",
      "not json",
      "[]",
      "{}",
      "{\"page\":1}",
      "{\"page\":[]}",
      "{\"page\":{}}",
      EncodeSnapshotReply(FeedSnapshot{.seq = 5, .balance = 1}),
      absl::StrCat("{\"page\":{\"columns\":[", columns, "],\"rows\":[]}}"),  // No through.
      absl::StrCat("{\"page\":{\"through\":\"9\",\"columns\":[", columns, "],\"rows\":[]}}"),
      absl::StrCat("{\"page\":{\"through\":9.0,\"columns\":[", columns, "],\"rows\":[]}}"),
      "{\"page\":{\"through\":9,\"rows\":[]}}",
      absl::StrCat("{\"page\":{\"through\":9,\"columns\":[", columns, "]}}"),
      absl::StrCat("{\"page\":{\"through\":9,\"columns\":[", columns, "],\"rows\":{}}}"),
      absl::StrCat("{\"page\":{\"through\":9,\"columns\":\"", "seq", "\",\"rows\":[]}}"),
      absl::StrCat("{\"page\":{\"through\":9,\"columns\":[", eleven_columns, "],\"rows\":[]}}"),
      absl::StrCat("{\"page\":{\"through\":9,\"columns\":[", renamed, "],\"rows\":[]}}"),
      absl::StrCat("{\"page\":{\"through\":9,\"columns\":[1,2,3],\"rows\":[]}}"),
      PageWithRows("[1]"),
      PageWithRows("[null]"),
      PageWithRows("[{}]"),
      PageWithRows("[[]]"),
      PageWithRows("[" + good_row + ",7]"),
      PageWithRows("[[5,3,1767225600000,\"alice\",\"alice\",\"bob\",1,99,1,\"t-1\",\"\"]]"),
      PageWithRows("[[5,3,1767225600000,\"alice\",\"alice\",\"bob\",1,99,1,\"t-1\",\"\",\"\","
                   "\"extra\"]]"),
      PageWithRows("[" + RowWithCell(0, "\"5\"") + "]"),         // seq a string.
      PageWithRows("[" + RowWithCell(0, "5.0") + "]"),           // seq a double.
      PageWithRows("[" + RowWithCell(1, "0") + "]"),             // Type unknown.
      PageWithRows("[" + RowWithCell(1, "5") + "]"),             // Type unknown.
      PageWithRows("[" + RowWithCell(1, "\"transfer\"") + "]"),  // Type a string.
      PageWithRows("[" + RowWithCell(2, "null") + "]"),
      PageWithRows("[" + RowWithCell(3, "1") + "]"),  // actor a number.
      PageWithRows("[" + RowWithCell(5, "null") + "]"),
      PageWithRows("[" + RowWithCell(6, "\"1\"") + "]"),
      PageWithRows("[" + RowWithCell(8, "18446744073709551615") + "]"),
      PageWithRows("[" + RowWithCell(9, "[]") + "]"),
      PageWithRows("[" + RowWithCell(11, "false") + "]"),
      "{\"error\":{\"code\":\"no_such_code\",\"message\":\"m\"}}",
  };
  for (const std::string& body : bodies) {
    absl::StatusOr<EventsPage> page = DecodePageReply(body, Query(0, 10, 10));
    EXPECT_EQ(page.status().code(), absl::StatusCode::kDataLoss)
        << body.substr(0, 300) << ": " << page.status();
    EXPECT_FALSE(page.status().message().empty());
  }
  // The good row in the same frame is a page: what was wrong above was
  // the one thing changed.
  absl::StatusOr<EventsPage> page =
      DecodePageReply(PageWithRows("[" + good_row + "]"), Query(0, 10, 10));
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->events.size(), 1u);
  EXPECT_EQ(page->events[0].seq, 5);
  EXPECT_EQ(page->events[0].type, EventType::kTokensTransferred);
  EXPECT_EQ(page->events[0].to_account, "bob");
}

}  // namespace
}  // namespace sbd::testing
