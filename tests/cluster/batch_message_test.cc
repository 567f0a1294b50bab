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

TEST(BatchMessageTest, RefusesWhatItDidNotWrite) {
  const std::vector<Event> events = SomeEvents();
  const std::string good = EncodeBatch(events, ChainOf(events));
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string body = good;
    const size_t at = body.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return body.replace(at, from.size(), to);
  };
  for (const std::string& body :
       {std::string("not json"), std::string("[]"), std::string("{}"),
        good.substr(0, good.size() / 2), replaced("\"first_seq\":1", "\"first_seq\":2"),
        replaced("\"last_seq\":4", "\"last_seq\":5"), replaced("\"seq\":2", "\"seq\":3"),
        replaced("\"type\":1", "\"type\":9"), replaced("\"actor\":\"admin\"", "\"actor\":7"),
        replaced("\"amount\":100", "\"amount\":\"100\""), replaced("\"hash\":\"", "\"hash\":\"zz"),
        replaced("\"to_balance\":100,", "")}) {
    absl::StatusOr<StreamBatch> batch = DecodeBatch(body);
    EXPECT_TRUE(absl::IsDataLoss(batch.status())) << body << ": " << batch.status();
  }
}

}  // namespace
}  // namespace sbd::testing
