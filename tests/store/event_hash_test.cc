#include "store/event_hash.h"

#include <openssl/sha.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sbd {
namespace {

// Move-assigned std::string literals: assigning a char* trips GCC 12's
// -Wrestrict false positive at -O3.
using namespace std::string_literals;

Event SampleTransfer() {
  Event event;
  event.seq = 2;
  event.type = EventType::kTokensTransferred;
  event.timestamp_ms = 258;  // 0x0102
  event.actor = "al"s;
  event.from_account = "al"s;
  event.to_account = "bo"s;
  event.amount = 5;
  event.from_balance = 1;
  event.to_balance = 5;
  event.transaction_id = "t"s;
  event.note = ""s;
  return event;
}

// Appends to a string in place (chains of operator+ trip GCC 12's -Wrestrict).
class Bytes {
 public:
  Bytes& Int64Le(uint64_t value) {
    for (int i = 0; i < 8; ++i) bytes_.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
    return *this;
  }
  Bytes& Text(const std::string& text) {
    bytes_.append(text);
    return *this;
  }
  const std::string& str() const { return bytes_; }

 private:
  std::string bytes_;
};

TEST(EventHashTest, CanonicalBytesAreFieldsInRowOrderLittleEndianLengthPrefixed) {
  Bytes expected;
  expected.Int64Le(2).Int64Le(3).Int64Le(258);           // seq, type, timestamp_ms
  expected.Int64Le(2).Text("al").Int64Le(2).Text("al");  // actor, from_account
  expected.Int64Le(2).Text("bo");                        // to_account
  expected.Int64Le(5).Int64Le(1).Int64Le(5);             // amount, balances
  expected.Int64Le(1).Text("t").Int64Le(0);              // transaction_id, note
  EXPECT_EQ(CanonicalEventBytes(SampleTransfer()), expected.str());
}

// Pinned from the schema-1 code (before `reason` existed): every hash a v1
// log recorded must still verify, so an event without a reason hashes
// exactly as it did then.
TEST(EventHashTest, AnEventWithoutAReasonHashesAsInSchemaVersionOne) {
  EXPECT_EQ(HashHex(ChainHash(kGenesisHash, SampleTransfer())),
            "e60fd5af96443b32e57ed8a4d8934ecbc1848a61fb39dcadfb6a2d20fb879630");
}

TEST(EventHashTest, AReasonIsAppendedLengthPrefixedAfterTheNote) {
  Event event = SampleTransfer();
  event.reason = "refund"s;
  Bytes expected;
  expected.Text(CanonicalEventBytes(SampleTransfer())).Int64Le(6).Text("refund");
  EXPECT_EQ(CanonicalEventBytes(event), expected.str());
}

TEST(EventHashTest, AReasonAndANoteOfTheSameTextHashApart) {
  // The reason has its own slot after the note: a log cannot turn one into
  // the other without breaking the chain.
  Event with_reason = SampleTransfer();
  with_reason.reason = "x"s;
  Event with_note = SampleTransfer();
  with_note.note = "x"s;
  EXPECT_NE(CanonicalEventBytes(with_reason), CanonicalEventBytes(with_note));
  EXPECT_NE(ChainHash(kGenesisHash, with_reason), ChainHash(kGenesisHash, with_note));
}

TEST(EventHashTest, NegativeIntegersAreTwosComplement) {
  Event event = SampleTransfer();
  event.amount = -1;
  EXPECT_EQ(CanonicalEventBytes(event).substr(8 * 3 + (8 + 2) * 3, 8), std::string(8, '\xff'));
}

TEST(EventHashTest, ChainHashIsSha256OfPreviousThenCanonicalBytes) {
  EventHash previous;
  for (size_t i = 0; i < previous.size(); ++i) previous[i] = static_cast<uint8_t>(i);
  std::string input(previous.begin(), previous.end());
  input.append(CanonicalEventBytes(SampleTransfer()));
  EventHash expected;
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), expected.data());
  EXPECT_EQ(ChainHash(previous, SampleTransfer()), expected);
}

TEST(EventHashTest, GenesisIsAllZero) { EXPECT_EQ(HashHex(kGenesisHash), std::string(64, '0')); }

TEST(EventHashTest, HashHexOfPublishedSha256Vector) {
  // SHA-256 of "abc", a published test vector, through HashHex.
  EventHash digest;
  SHA256(reinterpret_cast<const unsigned char*>("abc"), 3, digest.data());
  EXPECT_EQ(HashHex(digest), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(EventHashTest, EveryFieldAndThePreviousHashChangeTheHash) {
  const Event base = SampleTransfer();
  const EventHash base_hash = ChainHash(kGenesisHash, base);
  std::vector<Event> variants(12, base);
  variants[0].seq += 1;
  variants[1].type = EventType::kTokensMinted;
  variants[2].timestamp_ms += 1;
  variants[3].actor = "bo"s;
  variants[4].from_account = "a"s;
  variants[5].to_account = "b"s;
  variants[6].amount += 1;
  variants[7].from_balance += 1;
  variants[8].to_balance += 1;
  variants[9].transaction_id = "u"s;
  variants[10].note = "x"s;
  variants[11].reason = "x"s;
  for (size_t i = 0; i < variants.size(); ++i) {
    EXPECT_NE(ChainHash(kGenesisHash, variants[i]), base_hash) << "field " << i;
  }
  EventHash other_previous = kGenesisHash;
  other_previous[31] = 1;
  EXPECT_NE(ChainHash(other_previous, base), base_hash);
}

TEST(EventHashTest, LengthPrefixSeparatesAdjacentStrings) {
  Event a = SampleTransfer();
  Event b = SampleTransfer();
  a.actor = "ab"s;
  a.from_account = "c"s;
  b.actor = "a"s;
  b.from_account = "bc"s;
  EXPECT_NE(ChainHash(kGenesisHash, a), ChainHash(kGenesisHash, b));
}

}  // namespace
}  // namespace sbd
