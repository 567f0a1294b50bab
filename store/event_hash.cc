#include "store/event_hash.h"

#include <openssl/sha.h>

#include <string_view>

namespace sbd {
namespace {

// Fixed-width little-endian, so the bytes (and every recorded hash) are the
// same on any host.
void AppendInt(int64_t value, std::string& out) {
  auto bits = static_cast<uint64_t>(value);
  for (int i = 0; i < 8; ++i) {
    out.push_back(static_cast<char>(bits & 0xff));
    bits >>= 8;
  }
}

// Length-prefixed, so no two different field splits give the same bytes.
void AppendString(std::string_view value, std::string& out) {
  AppendInt(static_cast<int64_t>(value.size()), out);
  out.append(value);
}

// Appends the canonical bytes of `event` to `out`.
void AppendCanonicalBytes(const Event& event, std::string& out) {
  out.reserve(out.size() + 8 * 11 + event.actor.size() + event.from_account.size() +
              event.to_account.size() + event.transaction_id.size() + event.note.size());
  AppendInt(event.seq, out);
  AppendInt(static_cast<int64_t>(event.type), out);
  AppendInt(event.timestamp_ms, out);
  AppendString(event.actor, out);
  AppendString(event.from_account, out);
  AppendString(event.to_account, out);
  AppendInt(event.amount, out);
  AppendInt(event.from_balance, out);
  AppendInt(event.to_balance, out);
  AppendString(event.transaction_id, out);
  AppendString(event.note, out);
}

}  // namespace

std::string CanonicalEventBytes(const Event& event) {
  std::string out;
  AppendCanonicalBytes(event, out);
  return out;
}

EventHash ChainHash(const EventHash& previous, const Event& event) {
  // One buffer and OpenSSL's one-shot SHA256(): no context to allocate and
  // no failure path, on a function that runs for every appended and read event.
  std::string input(reinterpret_cast<const char*>(previous.data()), previous.size());
  AppendCanonicalBytes(event, input);
  EventHash hash;
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), hash.data());
  return hash;
}

std::string HashHex(const EventHash& hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(hash.size() * 2);
  for (uint8_t byte : hash) {
    hex.push_back(kDigits[byte >> 4]);
    hex.push_back(kDigits[byte & 0x0f]);
  }
  return hex;
}

}  // namespace sbd
