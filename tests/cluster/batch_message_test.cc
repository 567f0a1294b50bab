// The stream's batch message (store/cluster/batch_message.h): what the writer
// encodes decodes to the same events and hashes, and anything else is
// kDataLoss, never a half-read batch.
#include "store/cluster/batch_message.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/event_hash.h"
#include "tests/support/event_builders.h"

namespace sbd::testing {
namespace {

std::vector<Event> SomeEvents() {
  Event reasoned = Transferred(4, "alice", "bob", 3, 97, 3, "t-2", "");
  reasoned.actor = "service";
  reasoned.reason = "refund \"quoted\" \x01";
  return {Opened(1, "alice"), Opened(2, "bob"), Minted(3, "alice", 100, 100, "m-1", "seed ✓"),
          reasoned};
}

std::vector<EventHash> ChainOf(const std::vector<Event>& events) {
  std::vector<EventHash> hashes;
  EventHash hash = kGenesisHash;
  for (const Event& event : events) hashes.push_back(hash = ChainHash(hash, event));
  return hashes;
}

TEST(BatchMessageTest, DecodesWhatItEncodes) {
  const std::vector<Event> events = SomeEvents();
  const std::vector<EventHash> hashes = ChainOf(events);
  absl::StatusOr<StreamBatch> batch = DecodeBatch(EncodeBatch(events, hashes));
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(batch->events, events);
  EXPECT_EQ(batch->hashes, hashes);
}

TEST(BatchMessageTest, SlicesAreConsecutiveRunsThatEachFitAndDecode) {
  std::vector<Event> events;
  events.push_back(Opened(1, "alice"));
  events.push_back(Opened(2, "bob"));
  events.push_back(Minted(3, "alice", 1000, 1000));
  for (int64_t seq = 4; seq < 200; ++seq) {
    events.push_back(Transferred(seq, "alice", "bob", 1, 1000 - (seq - 3), seq - 3, "t"));
  }
  const std::vector<EventHash> hashes = ChainOf(events);
  constexpr size_t kMax = 2048;
  const std::vector<EncodedSlice> slices = EncodeSlices(events, hashes, kMax);
  ASSERT_GT(slices.size(), 5u);
  size_t next = 0;
  for (const EncodedSlice& slice : slices) {
    EXPECT_EQ(slice.begin, next);
    EXPECT_LT(slice.begin, slice.end);
    EXPECT_LE(slice.body.size(), kMax);
    absl::StatusOr<StreamBatch> batch = DecodeBatch(slice.body);
    ASSERT_TRUE(batch.ok()) << batch.status();
    EXPECT_EQ(batch->events,
              std::vector<Event>(events.begin() + slice.begin, events.begin() + slice.end));
    EXPECT_EQ(batch->hashes,
              std::vector<EventHash>(hashes.begin() + slice.begin, hashes.begin() + slice.end));
    next = slice.end;
  }
  EXPECT_EQ(next, events.size());
  // One slice when it fits, the same bytes as EncodeBatch.
  const std::vector<EncodedSlice> whole = EncodeSlices(events, hashes, 1 << 20);
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_EQ(whole[0].body, EncodeBatch(events, hashes));
}

TEST(BatchMessageTest, RefusesWhatItDidNotWrite) {
  const std::vector<Event> events = SomeEvents();
  const std::string good = EncodeBatch(events, ChainOf(events));
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string body = good;
    const size_t at = body.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return body.replace(at, from.size(), to);
  };
  const std::string first_hash = HashHex(ChainOf(events)[0]);
  for (const std::string& body :
       {std::string("not json"), std::string("[]"), std::string("{}"),
        good.substr(0, good.size() / 2), replaced("\"first_seq\":1", "\"first_seq\":2"),
        replaced("\"last_seq\":4", "\"last_seq\":5"), replaced("[2,1,", "[3,1,"),
        replaced("[1,1,", "[1,9,"), replaced("\"admin\"", "7"),
        replaced(",100,0,100,", ",\"100\",0,100,"),
        replaced(first_hash, "zz" + first_hash.substr(2)),
        replaced("\"reason\",\"hash\"", "\"hash\",\"reason\""), replaced(",\"m-1\",", ",")}) {
    absl::StatusOr<StreamBatch> batch = DecodeBatch(body);
    EXPECT_TRUE(absl::IsDataLoss(batch.status())) << body << ": " << batch.status();
  }
}

}  // namespace
}  // namespace sbd::testing
